//! What goes on the wire for one attempt (RULES.md, "Webhooks"): the JSON
//! body and the signed headers. Pure, so receivers' expectations are
//! checked by unit tests here and by a real receiver in `tests/api`.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::cursor::Cursor;
use crate::entities::webhook_delivery;

pub const EVENT_HEADER: &str = "X-FieldForge-Event";
pub const DELIVERY_HEADER: &str = "X-FieldForge-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-FieldForge-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-FieldForge-Signature";

/// The body, in the contract's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    id: Uuid,
    event: &'a str,
    cursor: Option<String>,
    entity_type: &'a str,
    entity_id: Uuid,
    actor_id: Option<Uuid>,
    data: &'a serde_json::Value,
    created_at: String,
}

/// The body of an attempt of `delivery`: `id` is the delivery's, `cursor`
/// the journal row's (the subscriptions' cursor; null for a ping), `data`
/// the journal row's data and `createdAt` when the event happened.
pub fn body(delivery: &webhook_delivery::Model) -> Vec<u8> {
    let body = Body {
        id: delivery.id,
        event: &delivery.event,
        cursor: delivery.journal_id.map(|id| Cursor::Journal(id).encode()),
        entity_type: &delivery.entity_type,
        entity_id: delivery.entity_id,
        actor_id: delivery.actor_id,
        data: delivery.data.as_ref().unwrap_or(&serde_json::Value::Null),
        created_at: timestamp(delivery.occurred_at),
    };
    // A struct of strings, ids and a JSON value: serialising cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `v1=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` keyed with the secret's
/// UTF-8 bytes, exactly as shown to the admin.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::entities::enums::DeliveryStatus;

    fn delivery(journal_id: Option<i64>) -> webhook_delivery::Model {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
        webhook_delivery::Model {
            seq: 1,
            id: Uuid::from_u128(1),
            webhook_id: Uuid::from_u128(2),
            journal_id,
            event: "job.completed".into(),
            entity_type: "job".into(),
            entity_id: Uuid::from_u128(3),
            actor_id: Some(Uuid::from_u128(4)),
            data: Some(serde_json::json!({ "notes": "done" })),
            occurred_at: at,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            next_attempt_at: Some(at),
            delivered_at: None,
            lease_token: None,
            lease_until: None,
            created_at: at,
        }
    }

    #[test]
    fn the_body_has_the_contract_keys_in_order() {
        let text = String::from_utf8(body(&delivery(Some(42)))).unwrap();
        let keys = [
            "\"id\"",
            "\"event\"",
            "\"cursor\"",
            "\"entityType\"",
            "\"entityId\"",
            "\"actorId\"",
            "\"data\"",
            "\"createdAt\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["id"], "00000000-0000-0000-0000-000000000001");
        assert_eq!(json["cursor"], Cursor::Journal(42).encode());
        assert_eq!(json["data"]["notes"], "done");
        assert_eq!(json["createdAt"], "2026-12-03T09:30:00Z");
        let ping: serde_json::Value = serde_json::from_slice(&body(&delivery(None))).unwrap();
        assert!(ping["cursor"].is_null());
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: Python's hmac.new(b"whsec_test", b"1764000000.{}", sha256).
        let expected = "v1=4f96748d68fa89f609c83851e8a98602c0d9762fcc5bc7c698c980211b7522ed";
        assert_eq!(signature("whsec_test", 1_764_000_000, b"{}"), expected);
        assert_ne!(signature("whsec_other", 1_764_000_000, b"{}"), expected);
        assert_ne!(signature("whsec_test", 1_764_000_001, b"{}"), expected);
    }
}
