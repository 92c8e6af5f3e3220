//! The one cursor codec. A cursor is opaque to clients (URL-safe base64)
//! and names a position: a row in a newest-first list, or a place in the
//! journal (subscriptions, the audit log and, later, the change feed share
//! journal cursors). `log:` cursors issued by earlier versions of the audit
//! log are still read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A row's place in a list ordered by `(at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cursor {
    Row(RowKey),
    /// A journal id.
    Journal(i64),
}

impl Cursor {
    pub fn row(at: DateTime<Utc>, id: Uuid) -> Cursor {
        Cursor::Row(RowKey { at, id })
    }

    pub fn encode(&self) -> String {
        match self {
            Cursor::Row(key) => URL_SAFE_NO_PAD.encode(format!("{}:{}", key.at.timestamp_micros(), key.id)),
            Cursor::Journal(id) => URL_SAFE_NO_PAD.encode(format!("ev:{id}")),
        }
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        if let Some(id) = raw.strip_prefix("ev:").or_else(|| raw.strip_prefix("log:")) {
            return id.parse().ok().filter(|id: &i64| *id >= 0).map(Cursor::Journal);
        }
        let (micros, id) = raw.split_once(':')?;
        Some(Cursor::row(DateTime::from_timestamp_micros(micros.parse().ok()?)?, id.parse().ok()?))
    }

    pub fn as_row(self) -> Option<RowKey> {
        match self {
            Cursor::Row(key) => Some(key),
            Cursor::Journal(_) => None,
        }
    }

    pub fn as_journal(self) -> Option<i64> {
        match self {
            Cursor::Journal(id) => Some(id),
            Cursor::Row(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_to_the_microsecond() {
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        let cursor = Cursor::row(at, Uuid::from_u128(7));
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn journal_positions_round_trip_and_old_audit_cursors_still_read() {
        assert_eq!(Cursor::decode(&Cursor::Journal(42).encode()), Some(Cursor::Journal(42)));
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("log:42")), Some(Cursor::Journal(42)));
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("ev:42")), Some(Cursor::Journal(42)));
    }

    #[test]
    fn garbage_and_negative_positions_are_refused() {
        for text in ["bogus", "", "%%%"] {
            assert_eq!(Cursor::decode(text), None);
        }
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("ev:-1")), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("12:not-a-uuid")), None);
        assert_eq!(Cursor::Journal(3).as_row(), None);
    }
}
