//! Answers written as JSON by hand, and answers that arrive written.
//!
//! async-graphql builds an answer as a tree of `Value`s (an index map per
//! object, a `String` per text) that serde then writes out. On the board
//! (50 jobs with their parties) building, writing and dropping that tree
//! was over a third of the server's instructions. Objects answered from
//! values at hand (`at_hand.rs`) are written as JSON text directly instead,
//! and travel through async-graphql as `Value::Binary` holding that text.
//!
//! That is a convention between this module and whoever encodes the
//! response: [`encode`] splices such text in as it stands. Only a request
//! marked [`Spliced`] (the HTTP transport, which encodes with [`encode`])
//! gets written text; any other (websockets, tests that call the schema)
//! gets it read back into a tree, so no other encoder ever sees a `Binary`.
//! No type of this schema answers bytes of its own.

use async_graphql::{BatchResponse, ContextBase, Response, ServerError, Value};
use chrono::{DateTime, Datelike, Timelike, Utc};

/// Request data: this request's answer is encoded by [`encode`], so it may
/// carry JSON text already written.
#[derive(Clone, Copy, Debug)]
pub struct Spliced;

/// An answer written as JSON text, as it goes into the response.
pub fn written<T>(ctx: &ContextBase<'_, T>, text: Vec<u8>) -> Result<Value, ServerError> {
    if ctx.data_opt::<Spliced>().is_some() {
        return Ok(Value::Binary(text.into()));
    }
    serde_json::from_slice(&text)
        .map_err(|err| ServerError::new(format!("an answer written here is not JSON: {err}"), None))
}

/// The response as JSON, or `None` when it passes `cap` bytes: written out
/// only that far, not built whole.
pub fn encode(response: &BatchResponse, cap: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((1024 + written_len(response)).min(cap.saturating_add(1)));
    match response {
        BatchResponse::Single(response) => one(&mut out, response, cap)?,
        BatchResponse::Batch(responses) => {
            out.push(b'[');
            for (at, response) in responses.iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                one(&mut out, response, cap)?;
            }
            out.push(b']');
        }
    }
    (out.len() <= cap).then_some(out)
}

/// How many bytes of the response were written already (`Binary`s).
fn written_len(response: &BatchResponse) -> usize {
    fn within(value: &Value) -> usize {
        match value {
            Value::Binary(written) => written.len(),
            Value::List(items) => items.iter().map(within).sum(),
            Value::Object(fields) => fields.values().map(within).sum(),
            _ => 0,
        }
    }
    match response {
        BatchResponse::Single(response) => within(&response.data),
        BatchResponse::Batch(responses) => responses.iter().map(|response| within(&response.data)).sum(),
    }
}

/// As async-graphql's `Response` serialises: `data`, then `extensions` and
/// `errors` when there are any.
fn one(out: &mut Vec<u8>, response: &Response, cap: usize) -> Option<()> {
    out.extend_from_slice(b"{\"data\":");
    value(out, &response.data, cap)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut *out, &response.extensions).ok()?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors).ok()?;
    }
    out.push(b'}');
    (out.len() <= cap).then_some(())
}

/// A value as serde writes it, with `Binary` spliced in as written JSON.
/// `None` once the output passes `cap`.
pub fn value(out: &mut Vec<u8>, value: &Value, cap: usize) -> Option<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => serde_json::to_writer(&mut *out, number).ok()?,
        Value::String(text) => string(out, text),
        Value::Enum(name) => string(out, name),
        Value::Binary(written) => out.extend_from_slice(written),
        Value::List(items) => {
            out.push(b'[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                self::value(out, item, cap)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (at, (key, field)) in fields.iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                string(out, key);
                out.push(b':');
                self::value(out, field, cap)?;
            }
            out.push(b'}');
        }
    }
    (out.len() <= cap).then_some(())
}

/// A JSON string, escaped as serde_json escapes it: `"` and `\`, and the
/// control characters below U+0020 (`\b \t \n \f \r` by name, the rest as
/// `\u00XX`). Most text has nothing to escape: it is looked through eight
/// bytes at a time and copied whole.
pub fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if to_escape(bytes) {
        escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Whether any byte of `bytes` is escaped in a JSON string.
fn to_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let in_words = words.by_ref().any(|word| any_to_escape(u64::from_le_bytes(word.try_into().unwrap_or_default())));
    in_words || words.remainder().iter().any(|&byte| ESCAPE[byte as usize] != 0)
}

/// `bytes` with its escapes, runs with nothing to escape copied whole.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        match ESCAPE[byte as usize] {
            0 => continue,
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&bytes[start..at]);
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xf) as usize],
                ]);
            }
            named => {
                out.extend_from_slice(&bytes[start..at]);
                out.extend_from_slice(&[b'\\', named]);
            }
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A response key and its colon: `"key":`. A key is a GraphQL name (a
/// field's or an alias, `[_A-Za-z][_0-9A-Za-z]*`, as the parser takes
/// them): nothing in it to escape.
pub fn key(out: &mut Vec<u8>, key: &str) {
    debug_assert!(!to_escape(key.as_bytes()), "{key:?} is no GraphQL name");
    out.reserve(key.len() + 3);
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A UTC time as async-graphql's `DateTime` scalar serves it (chrono's
/// `to_rfc3339`): `2026-12-07T09:00:00+00:00`, with `.fff`, `.ffffff` or
/// `.fffffffff` when it has a fraction. Years outside 0..=9999 and leap
/// seconds are left to chrono.
pub fn rfc3339(out: &mut Vec<u8>, at: &DateTime<Utc>) {
    let nanos = at.nanosecond();
    let (date, time) = (at.date_naive(), at.time());
    let Ok(year) = u32::try_from(date.year()) else { return string(out, &at.to_rfc3339()) };
    if year > 9999 || nanos >= 1_000_000_000 {
        return string(out, &at.to_rfc3339());
    }
    let mut text = *b"\"0000-00-00T00:00:00";
    put_digits(&mut text[1..5], year);
    put_digits(&mut text[6..8], date.month());
    put_digits(&mut text[9..11], date.day());
    put_digits(&mut text[12..14], time.hour());
    put_digits(&mut text[15..17], time.minute());
    put_digits(&mut text[18..20], time.second());
    out.extend_from_slice(&text);
    if nanos > 0 {
        let mut fraction = *b".000000000";
        let width = match nanos {
            _ if nanos.is_multiple_of(1_000_000) => 3,
            _ if nanos.is_multiple_of(1_000) => 6,
            _ => 9,
        };
        put_digits(&mut fraction[1..=width], nanos / 10u32.pow(9 - width as u32));
        out.extend_from_slice(&fraction[..=width]);
    }
    out.extend_from_slice(b"+00:00\"");
}

/// Fills `into` with `value`'s last decimal digits, zero-padded.
fn put_digits(into: &mut [u8], mut value: u32) {
    for digit in into.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Whether any of the eight bytes in `word` is below 0x20, `"` or `\`.
/// Each test is the classic "has a zero byte" bit trick, exact as a yes/no.
fn any_to_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x;
    (below_space | zero_in(quote) | zero_in(backslash)) & HIGH != 0
}

/// For each byte: 0 when it stands as it is, else the letter of its escape
/// (`u` for `\u00XX`).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

#[cfg(test)]
mod tests {
    use async_graphql::{Name, Pos, indexmap::IndexMap};

    use super::*;

    fn as_serde_writes(text: &str) {
        let mut out = Vec::new();
        string(&mut out, text);
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(text).unwrap(), "{text:?}");
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for code in 0u32..0x250 {
            let c = char::from_u32(code).unwrap();
            as_serde_writes(&c.to_string());
            as_serde_writes(&format!("a{c}b{c}{c}"));
        }
        for offset in 0..20 {
            for c in ['"', '\\', '\n', '\u{1}', '\u{1f}', ' ', '~', 'é', '\u{7f}'] {
                let mut text = "x".repeat(offset);
                text.push(c);
                text.push_str(&"y".repeat(20 - offset));
                as_serde_writes(&text);
                as_serde_writes(&text.repeat(3));
            }
        }
        for text in ["", "plain", "tab\there \"quoted\" back\\slash", "ünïcødé 🚐 \u{2028}", "\u{7f}\u{0}\u{1f}"]
        {
            as_serde_writes(text);
        }
    }

    #[test]
    fn keys_are_written_as_serde_json_writes_them() {
        for name in ["id", "_", "startsAt", "a1_B2", "__typename", "aVeryLongAliasOfSeventeen"] {
            let mut out = Vec::new();
            key(&mut out, name);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{}:", serde_json::to_string(name).unwrap()));
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        let fractions = [0, 1, 7_000, 120_000_000, 123_456_000, 999_999_999, 500_000_001, 1_000_000_500];
        let mut seconds: i64 = -62_167_219_300; // before year 0: left to chrono
        while seconds < 253_402_400_000 {
            for nanos in fractions {
                let Some(at) = Utc.timestamp_opt(seconds, nanos).single() else { continue };
                let mut out = Vec::new();
                rfc3339(&mut out, &at);
                assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&at.to_rfc3339()).unwrap());
            }
            seconds += 86_413 * 37 + 1;
        }
    }

    fn sample() -> Value {
        let mut inner = IndexMap::new();
        inner.insert(Name::new("n"), Value::from(-12));
        inner.insert(Name::new("f"), Value::from(2.5));
        inner.insert(Name::new("big"), Value::from(i64::MAX));
        inner.insert(Name::new("e"), Value::Enum(Name::new("IN_PROGRESS")));
        inner.insert(Name::new("k\"ey"), Value::List(vec![Value::Null, Value::Boolean(true), Value::Boolean(false)]));
        let mut outer = IndexMap::new();
        outer.insert(Name::new("s"), Value::from("x\ny"));
        outer.insert(Name::new("o"), Value::Object(inner));
        outer.insert(Name::new("empty"), Value::List(vec![]));
        outer.insert(Name::new("none"), Value::Object(IndexMap::new()));
        Value::Object(outer)
    }

    #[test]
    fn values_are_written_as_serde_writes_them() {
        let mut out = Vec::new();
        value(&mut out, &sample(), usize::MAX).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&sample()).unwrap());
    }

    #[test]
    fn responses_are_written_as_serde_writes_them() {
        let mut answered = Response::new(sample());
        answered.extensions.insert("cost".into(), Value::from(7));
        let errors = Response::from_errors(vec![ServerError::new("no", Some(Pos { line: 1, column: 2 }))])
            .extension("x", Value::Null);
        for response in [
            BatchResponse::Single(answered),
            BatchResponse::Single(errors),
            BatchResponse::Batch(vec![Response::new(Value::Null), Response::new(sample())]),
        ] {
            let written = encode(&response, usize::MAX).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&response).unwrap());
        }
    }

    #[test]
    fn written_json_is_spliced_in_as_it_stands() {
        let mut fields = IndexMap::new();
        fields.insert(Name::new("nodes"), Value::Binary(br#"[{"id":"1"},{"id":"2"}]"#.to_vec().into()));
        let written = encode(&BatchResponse::Single(Response::new(Value::Object(fields))), usize::MAX).unwrap();
        assert_eq!(written, br#"{"data":{"nodes":[{"id":"1"},{"id":"2"}]}}"#);
    }

    #[test]
    fn an_answer_past_the_cap_is_refused() {
        let response = BatchResponse::Single(Response::new(sample()));
        let size = encode(&response, usize::MAX).unwrap().len();
        assert!(encode(&response, size).is_some());
        assert!(encode(&response, size - 1).is_none());
        let long = Value::List(vec![Value::from("0123456789"); 10_000]);
        let mut out = Vec::new();
        assert!(value(&mut out, &long, 1_000).is_none());
        assert!(out.len() < 1_100, "stopped near the cap, not written whole: {}", out.len());
    }
}
