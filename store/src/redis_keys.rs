//! Names of the Redis queue's keys, all in one Redis Cluster hash slot.
//!
//! A cluster refuses a script or a MULTI whose keys hash to different slots
//! (`CROSSSLOT`). The queue has two multi-key operations: the idempotent append
//! (the stream and the batch's idempotency key, one Lua script) and the move of
//! an undecodable entry to the dead-letter stream (one MULTI). So every key the
//! queue derives from its stream name hashes like the stream itself:
//!
//! - a stream name that holds a hash tag (`{anomalog}:events`) keeps it, and the
//!   derived keys append to it (`{anomalog}:events:dead`);
//! - a stream name without one (the default `anomalog:events`) hashes whole,
//!   so the derived keys use that whole name as their tag
//!   (`{anomalog:events}:dead`, `{anomalog:events}:idempotency:<key>`). The
//!   stream keeps its name, so an upgraded deployment reads its queue as before.
//!
//! The consumer group lives inside the stream key and needs no key of its own.

use crate::StoreError;

/// The part of `key` Redis Cluster hashes: the content of the first `{...}`
/// when non-empty, else the whole key.
pub fn hashed_part(key: &str) -> &str {
    key.split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(tag, _)| tag)
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key)
}

/// The queue's key names, derived from its stream name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueKeys {
    /// The stream of unprocessed entries (its consumer group lives in it).
    pub stream: String,
    /// The stream of entries whose payload could not be decoded.
    pub dead_letter: String,
    /// Prefix of the per-batch idempotency keys.
    idempotency_prefix: String,
}

impl QueueKeys {
    /// The keys of a queue on `stream`, or an error for a stream name whose
    /// derived keys could not share its slot (braces without a hash tag).
    pub fn new(stream: &str) -> Result<QueueKeys, StoreError> {
        let base = if hashed_part(stream) == stream {
            format!("{{{stream}}}")
        } else {
            stream.to_owned()
        };
        let keys = QueueKeys {
            stream: stream.to_owned(),
            dead_letter: format!("{base}:dead"),
            idempotency_prefix: format!("{base}:idempotency:"),
        };
        let slot = hashed_part(stream);
        if hashed_part(&keys.dead_letter) != slot || hashed_part(&keys.idempotency("k")) != slot {
            return Err(StoreError::Invalid(format!(
                "backends.redis_stream {stream:?}: a name with braces must hold a Redis \
                 Cluster hash tag such as {{anomalog}}:events"
            )));
        }
        Ok(keys)
    }

    /// The key recording that the batch under `key` was queued.
    pub fn idempotency(&self, key: &str) -> String {
        format!("{}{key}", self.idempotency_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_part_follows_the_cluster_rule() {
        assert_eq!(hashed_part("anomalog:events"), "anomalog:events");
        assert_eq!(hashed_part("{anomalog}:events"), "anomalog");
        assert_eq!(hashed_part("a{b}c{d}"), "b");
        assert_eq!(hashed_part("a{}b{c}"), "a{}b{c}");
        assert_eq!(hashed_part("a{b"), "a{b");
        assert_eq!(hashed_part("{{x}}"), "{x");
    }

    #[test]
    fn derived_keys_share_the_stream_slot() {
        for stream in [
            "anomalog:events",
            "{anomalog}:events",
            "x{t}y",
            "plain",
            "a{b",
        ] {
            let keys = QueueKeys::new(stream).unwrap();
            let slot = hashed_part(stream);
            assert_eq!(keys.stream, stream);
            assert_eq!(hashed_part(&keys.dead_letter), slot, "{keys:?}");
            assert_eq!(hashed_part(&keys.idempotency("tenant/abc.0")), slot);
            assert_ne!(keys.dead_letter, keys.stream);
        }
    }

    #[test]
    fn the_default_stream_keeps_its_name() {
        let keys = QueueKeys::new("anomalog:events").unwrap();
        assert_eq!(keys.stream, "anomalog:events");
        assert_eq!(keys.dead_letter, "{anomalog:events}:dead");
        assert_eq!(keys.idempotency("k1"), "{anomalog:events}:idempotency:k1");
        let tagged = QueueKeys::new("{anomalog}:events").unwrap();
        assert_eq!(tagged.dead_letter, "{anomalog}:events:dead");
        assert_eq!(tagged.idempotency("k1"), "{anomalog}:events:idempotency:k1");
    }

    #[test]
    fn braces_without_a_tag_are_refused() {
        assert!(matches!(
            QueueKeys::new("a{}b"),
            Err(StoreError::Invalid(_))
        ));
    }
}
