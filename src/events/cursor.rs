//! Event cursors: opaque, strictly increasing (the journal row id).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("ev:{id}"))
}

pub fn decode(text: &str) -> Option<i64> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    raw.strip_prefix("ev:")?.parse().ok().filter(|id: &i64| *id >= 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        assert_eq!(super::decode(&super::encode(42)), Some(42));
        assert_eq!(super::decode("bogus"), None);
    }
}
