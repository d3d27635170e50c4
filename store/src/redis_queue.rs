//! The production queue: one Redis stream read through one consumer group.
//!
//! - `append` adds one stream entry per ingest batch through a small Lua script
//!   that first checks the stream length: a full stream refuses the batch
//!   ([`StoreError::Unavailable`], so ingest answers 503) instead of trimming
//!   entries nobody has processed yet.
//! - `ack` acknowledges *and deletes* entries in one MULTI, so the stream holds
//!   exactly the unprocessed entries and its length is the backlog.
//! - `claim` hands a consumer, in this order, the entries it already holds
//!   (a retry after a failed pass), entries other consumers left pending for
//!   longer than the re-claim timeout (XAUTOCLAIM: a crashed consumer), then
//!   new entries.
//!
//! Durability of an append is Redis's: run it with `appendonly yes` and
//! `appendfsync always` (or accept `everysec`'s one-second window); the adapter
//! warns at start when persistence is off.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Value};

use anomalog_core::LogEvent;

use crate::ports::{Appended, ClaimLimit, EncodedBatch, EventQueue, QueueEntry};
use crate::redis_keys::QueueKeys;
use crate::{StoreError, redact};

/// Field of a stream entry holding the batch's events (`APPEND_SCRIPT`
/// writes it, next to `v`, the payload format version: "3", the unframed
/// binary payload compressed with Snappy (`records::encode_batch_compressed`:
/// against version "2", the uncompressed payload, Redis holds about a third
/// of the bytes in memory per queued event and writes about half to its
/// append-only file); entries of versions "2" and "1" (a JSON array)
/// still read. A detect of an earlier version moves version-3 entries to the
/// dead-letter stream, kept: deploy detect with ingest, as the SAM template
/// does).
const EVENTS_FIELD: &str = "events";
const PAYLOAD_VERSION: &str = "3";

/// Appends unless the stream already holds `ARGV[1]` entries; returns the new
/// entry id, or the current length (an integer) when full. Atomic in Redis.
const APPEND_SCRIPT: &str = r"
local len = redis.call('XLEN', KEYS[1])
if len >= tonumber(ARGV[1]) then
  return len
end
return redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 'events', ARGV[3])
";

/// [`APPEND_SCRIPT`] under an idempotency key (`KEYS[2]`, kept for `ARGV[4]`
/// ms): returns `{0, earlier id}` when the key is known, else appends and
/// returns `{1, new id}`, or the length when full. The key and the entry are
/// written by one script, so Redis (and its AOF) has both or neither.
const APPEND_IDEMPOTENT_SCRIPT: &str = r"
local earlier = redis.call('GET', KEYS[2])
if earlier then
  return {0, earlier}
end
local len = redis.call('XLEN', KEYS[1])
if len >= tonumber(ARGV[1]) then
  return len
end
local id = redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 'events', ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
return {1, id}
";

/// Settings of the Redis queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisQueueConfig {
    /// Stream key.
    pub stream: String,
    /// Consumer group of the detect function.
    pub group: String,
    /// Most unprocessed entries the stream may hold; beyond, appends are refused.
    pub max_len: u64,
    /// How long an entry may stay claimed but unacknowledged before another
    /// consumer may re-claim it.
    pub reclaim_after: Duration,
    /// Timeout of one command; a slower Redis counts as unavailable.
    pub response_timeout: Duration,
}

impl Default for RedisQueueConfig {
    fn default() -> Self {
        RedisQueueConfig {
            stream: "anomalog:events".to_owned(),
            group: "anomalog-detect".to_owned(),
            max_len: 100_000,
            reclaim_after: Duration::from_secs(60),
            response_timeout: Duration::from_secs(5),
        }
    }
}

/// [`EventQueue`] on a Redis stream.
pub struct RedisQueue {
    conn: ConnectionManager,
    config: RedisQueueConfig,
    keys: QueueKeys,
    append_script: redis::Script,
    append_idempotent_script: redis::Script,
}

impl RedisQueue {
    /// Connects (with automatic reconnection later on) and creates the consumer
    /// group if needed. `url` may carry a password: it never appears in errors.
    pub async fn connect(url: &str, config: RedisQueueConfig) -> Result<RedisQueue, StoreError> {
        let client = redis::Client::open(url).map_err(|e| {
            StoreError::Invalid(format!(
                "REDIS_URL is not a valid Redis URL ({})",
                e.category()
            ))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to Redis: {}",
                    redact(&e.to_string(), url)
                ))
            })?;
        let keys = QueueKeys::new(&config.stream)?;
        let queue = RedisQueue {
            keys,
            conn,
            config,
            append_script: redis::Script::new(APPEND_SCRIPT),
            append_idempotent_script: redis::Script::new(APPEND_IDEMPOTENT_SCRIPT),
        };
        queue.create_group().await?;
        queue.warn_without_persistence().await;
        Ok(queue)
    }

    /// The API keys mirrored next to this queue, on its connection (see
    /// [`crate::redis_key_store`]).
    pub fn key_store(&self) -> crate::redis_key_store::RedisKeyStore {
        crate::redis_key_store::RedisKeyStore::new(self.conn.clone(), &self.config.stream)
    }

    /// Key of the stream that keeps entries whose payload could not be decoded.
    pub fn dead_letter_stream(&self) -> &str {
        &self.keys.dead_letter
    }

    async fn create_group(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let created: Result<Value, RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.config.stream)
            .arg(&self.config.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn warn_without_persistence(&self) {
        let mut conn = self.conn.clone();
        let reply: Result<Vec<String>, RedisError> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(pair) if pair.get(1).map(String::as_str) == Some("no") => tracing::warn!(
                "Redis runs without appendonly: an acknowledged batch survives a Redis \
                 restart only up to its last snapshot; set appendonly yes"
            ),
            Ok(_) => {}
            // Managed services often disable CONFIG; nothing to check then.
            Err(e) => tracing::debug!(error = %e, "cannot read Redis persistence settings"),
        }
    }

    /// Runs `f`, re-creating the consumer group once if Redis lost it (a
    /// restart without persistence, or the stream key was deleted).
    async fn with_group<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        match f(self.conn.clone()).await {
            Err(e) if e.code() == Some("NOGROUP") => {
                tracing::warn!(
                    stream = %self.config.stream,
                    "consumer group missing (Redis lost its data?); re-creating it"
                );
                self.create_group().await?;
                f(self.conn.clone()).await.map_err(classify)
            }
            other => other.map_err(classify),
        }
    }

    /// Entries of `consumer`'s own pending list after id `after` ("0": from
    /// the start).
    async fn own_pending(
        &self,
        consumer: &str,
        max: usize,
        after: &str,
    ) -> Result<Vec<RawEntry>, StoreError> {
        let reply = self
            .with_group(|mut conn| {
                let cmd = xreadgroup(&self.config, consumer, max, after);
                async move { cmd.query_async::<Value>(&mut conn).await }
            })
            .await?;
        parse_read_reply(reply)
    }

    /// Entries other consumers left pending longer than the re-claim timeout.
    async fn reclaim_stale(&self, consumer: &str, max: usize) -> Result<Vec<RawEntry>, StoreError> {
        let min_idle = u64::try_from(self.config.reclaim_after.as_millis()).unwrap_or(u64::MAX);
        let reply = self
            .with_group(|mut conn| {
                let mut cmd = redis::cmd("XAUTOCLAIM");
                cmd.arg(&self.config.stream)
                    .arg(&self.config.group)
                    .arg(consumer)
                    .arg(min_idle)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(max);
                async move { cmd.query_async::<Value>(&mut conn).await }
            })
            .await?;
        // [next cursor, [entries...], (Redis 7+) [ids deleted meanwhile]]
        let Value::Array(mut parts) = reply else {
            return Err(unexpected("XAUTOCLAIM", &reply));
        };
        if parts.len() < 2 {
            return Err(StoreError::Backend("XAUTOCLAIM: short reply".into()));
        }
        let entries = parts.swap_remove(1);
        let entries = parse_entries(entries)?;
        if !entries.is_empty() {
            tracing::warn!(
                count = entries.len(),
                consumer,
                "re-claimed queue entries another consumer left unacknowledged"
            );
        }
        Ok(entries)
    }

    async fn new_entries(&self, consumer: &str, max: usize) -> Result<Vec<RawEntry>, StoreError> {
        let reply = self
            .with_group(|mut conn| {
                let cmd = xreadgroup(&self.config, consumer, max, ">");
                async move { cmd.query_async::<Value>(&mut conn).await }
            })
            .await?;
        parse_read_reply(reply)
    }

    /// Decodes claimed entries; undecodable ones go to the dead-letter stream
    /// (kept, never silently dropped) so one bad entry cannot stall the queue.
    async fn decode(&self, raw: Vec<RawEntry>) -> Result<Vec<QueueEntry>, StoreError> {
        let mut out = Vec::with_capacity(raw.len());
        let mut dead: Vec<(String, Vec<u8>, String)> = Vec::new();
        let mut vanished: Vec<String> = Vec::new();
        for entry in raw {
            let Some(fields) = entry.fields else {
                // Deleted while pending: it was processed and deleted by another
                // consumer's ack; only its pending record is left.
                vanished.push(entry.id);
                continue;
            };
            let payload = fields
                .into_iter()
                .find(|(k, _)| k == EVENTS_FIELD.as_bytes())
                .map(|(_, v)| v);
            match payload {
                Some(payload) => match crate::records::decode_batch(&payload) {
                    Ok(events) => out.push(QueueEntry {
                        id: entry.id,
                        events,
                    }),
                    Err(e) => dead.push((entry.id, payload, format!("undecodable events: {e}"))),
                },
                None => dead.push((entry.id, Vec::new(), "entry has no events field".into())),
            }
        }
        if !vanished.is_empty() {
            let mut conn = self.conn.clone();
            redis::cmd("XACK")
                .arg(&self.config.stream)
                .arg(&self.config.group)
                .arg(&vanished)
                .query_async::<Value>(&mut conn)
                .await
                .map_err(classify)?;
        }
        if !dead.is_empty() {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (id, payload, reason) in &dead {
                tracing::error!(
                    entry = %id,
                    dead_letter = %self.keys.dead_letter,
                    reason = %reason,
                    "moving an undecodable queue entry to the dead-letter stream"
                );
                pipe.cmd("XADD")
                    .arg(&self.keys.dead_letter)
                    .arg("*")
                    .arg("entry")
                    .arg(id)
                    .arg("reason")
                    .arg(reason)
                    .arg(EVENTS_FIELD)
                    .arg(payload.as_slice())
                    .ignore();
                pipe.cmd("XACK")
                    .arg(&self.config.stream)
                    .arg(&self.config.group)
                    .arg(id)
                    .ignore();
                pipe.cmd("XDEL").arg(&self.config.stream).arg(id).ignore();
            }
            let mut conn = self.conn.clone();
            pipe.query_async::<()>(&mut conn).await.map_err(classify)?;
        }
        Ok(out)
    }
}

impl RedisQueue {
    /// The refusal of an append to a full stream holding `waiting` entries.
    fn full(&self, waiting: i64) -> StoreError {
        tracing::warn!(
            waiting,
            max = self.config.max_len,
            stream = %self.config.stream,
            "queue full; refusing new batches until detection catches up"
        );
        StoreError::Unavailable(format!(
            "queue full: {waiting} batches wait for detection (limit {})",
            self.config.max_len
        ))
    }
}

fn xreadgroup(config: &RedisQueueConfig, consumer: &str, max: usize, from: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(&config.group)
        .arg(consumer)
        .arg("COUNT")
        .arg(max)
        .arg("STREAMS")
        .arg(&config.stream)
        .arg(from);
    cmd
}

#[async_trait]
impl EventQueue for RedisQueue {
    fn encode(&self, events: &[LogEvent]) -> Result<EncodedBatch, StoreError> {
        EncodedBatch::of(events, false)
    }

    async fn append_encoded(&self, batch: EncodedBatch) -> Result<String, StoreError> {
        let payload = batch.into_payload(false)?;
        let mut cmd = evalsha(&self.append_script, payload.len());
        cmd.arg(1)
            .arg(&self.config.stream)
            .arg(self.config.max_len)
            .arg(PAYLOAD_VERSION)
            .arg(&payload[..]);
        drop(payload);
        let reply = run_script(&mut self.conn.clone(), &self.append_script, &cmd)
            .await
            .map_err(classify)?;
        match reply {
            Value::BulkString(_) | Value::SimpleString(_) => text(reply),
            Value::Int(waiting) => Err(self.full(waiting)),
            other => Err(unexpected("append", &other)),
        }
    }

    async fn append_idempotent_encoded(
        &self,
        key: &str,
        retain: Duration,
        batch: EncodedBatch,
    ) -> Result<Appended, StoreError> {
        let payload = batch.into_payload(false)?;
        let retain_ms = u64::try_from(retain.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = evalsha(&self.append_idempotent_script, payload.len());
        cmd.arg(2)
            .arg(&self.config.stream)
            .arg(self.keys.idempotency(key))
            .arg(self.config.max_len)
            .arg(PAYLOAD_VERSION)
            .arg(&payload[..])
            .arg(retain_ms);
        drop(payload);
        let reply = run_script(&mut self.conn.clone(), &self.append_idempotent_script, &cmd)
            .await
            .map_err(classify)?;
        match reply {
            Value::Int(waiting) => Err(self.full(waiting)),
            Value::Array(mut pair) if pair.len() == 2 => {
                let id = text(pair.pop().unwrap_or(Value::Nil))?;
                match pair.pop() {
                    Some(Value::Int(1)) => Ok(Appended::New(id)),
                    Some(Value::Int(0)) => Ok(Appended::Replayed(id)),
                    other => Err(StoreError::Backend(format!(
                        "append_idempotent: unexpected marker {other:?}"
                    ))),
                }
            }
            other => Err(unexpected("append_idempotent", &other)),
        }
    }

    async fn claim_within(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        let mut taken = Taken::default();
        // Own pending entries (a retried pass), then stale ones of other
        // consumers, then new ones; each read in chunks sized to what is
        // left of the byte budget. Entries read past the budget are dropped
        // here but stay pending to `consumer`, first in its next claim.
        let mut after_own = "0".to_owned();
        for source in [Source::OwnPending, Source::Stale, Source::New] {
            loop {
                let want = taken.chunk(&limit);
                if want == 0 {
                    return self.decode(taken.entries).await;
                }
                let read = match source {
                    Source::OwnPending => self.own_pending(consumer, want, &after_own).await?,
                    Source::Stale => self.reclaim_stale(consumer, want).await?,
                    Source::New => self.new_entries(consumer, want).await?,
                };
                let exhausted = read.len() < want;
                if let (Source::OwnPending, Some(last)) = (source, read.last()) {
                    after_own = last.id.clone();
                }
                if !taken.add(read, &limit) || exhausted {
                    break;
                }
            }
            if taken.full(&limit) {
                break;
            }
        }
        self.decode(taken.entries).await
    }

    async fn ack(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XACK")
            .arg(&self.config.stream)
            .arg(&self.config.group)
            .arg(ids)
            .ignore()
            .cmd("XDEL")
            .arg(&self.config.stream)
            .arg(ids)
            .ignore();
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(classify)
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("XLEN")
            .arg(&self.config.stream)
            .query_async::<u64>(&mut conn)
            .await
            .map_err(classify)
    }

    async fn oldest_pending(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        // Acknowledging deletes, so the stream's first entry is the oldest
        // unacknowledged one; its id starts with its append time in ms.
        let mut conn = self.conn.clone();
        let reply: Value = redis::cmd("XRANGE")
            .arg(&self.config.stream)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(classify)?;
        let Value::Array(entries) = reply else {
            return Err(unexpected("XRANGE", &reply));
        };
        let Some(first) = entries.into_iter().next() else {
            return Ok(None);
        };
        let Value::Array(parts) = first else {
            return Err(unexpected("XRANGE", &first));
        };
        let Some(id) = parts.into_iter().next() else {
            return Err(StoreError::Backend("XRANGE: entry without id".into()));
        };
        let id = text(id)?;
        id.split('-')
            .next()
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
            .map(Some)
            .ok_or_else(|| StoreError::Backend(format!("XRANGE: not a stream id: {id}")))
    }
}

/// Where [`RedisQueue::claim_within`] reads entries from, in order.
#[derive(Clone, Copy)]
enum Source {
    OwnPending,
    Stale,
    New,
}

/// The entries one claim has taken so far.
#[derive(Default)]
struct Taken {
    entries: Vec<RawEntry>,
    bytes: usize,
    /// Set once an entry did not fit: the claim is complete.
    closed: bool,
    seen: std::collections::HashSet<String>,
}

impl Taken {
    fn full(&self, limit: &ClaimLimit) -> bool {
        self.closed || self.entries.len() >= limit.entries
    }

    /// How many entries to read next: what is left of the entry limit, or
    /// fewer when the byte budget is bounded (one at first, then as many as
    /// the average entry so far says still fit).
    fn chunk(&self, limit: &ClaimLimit) -> usize {
        if self.full(limit) {
            return 0;
        }
        let left = limit.entries - self.entries.len();
        if limit.bytes == usize::MAX {
            return left;
        }
        if self.entries.is_empty() {
            return 1;
        }
        let average = (self.bytes / self.entries.len()).max(1);
        let room = limit.bytes.saturating_sub(self.bytes) / average;
        left.min(room.max(1))
    }

    /// Takes what fits of `read`; false once something did not.
    fn add(&mut self, read: Vec<RawEntry>, limit: &ClaimLimit) -> bool {
        for entry in read {
            // Own pending and re-claimed entries may overlap when this
            // consumer's own entries went stale; keep the first of each id.
            if self.seen.contains(&entry.id) {
                continue;
            }
            let size = entry.payload_len();
            if !limit.fits(self.entries.len(), self.bytes, size) {
                self.closed = true;
                return false;
            }
            self.bytes = self.bytes.saturating_add(size);
            self.seen.insert(entry.id.clone());
            self.entries.push(entry);
        }
        true
    }
}

/// One stream entry as Redis returned it; `fields` is `None` for an entry
/// deleted while still pending.
struct RawEntry {
    id: String,
    fields: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl RawEntry {
    /// Bytes of its field values (the payload, in practice).
    fn payload_len(&self) -> usize {
        self.fields
            .iter()
            .flatten()
            .map(|(_, v)| crate::records::uncompressed_len(v))
            .sum()
    }
}

/// Parses an XREADGROUP reply: `[[stream, [entry...]]]` or nil.
fn parse_read_reply(reply: Value) -> Result<Vec<RawEntry>, StoreError> {
    match reply {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => {
            let mut out = Vec::new();
            for stream in streams {
                let Value::Array(mut pair) = stream else {
                    return Err(unexpected("XREADGROUP", &stream));
                };
                if pair.len() != 2 {
                    return Err(StoreError::Backend("XREADGROUP: malformed stream".into()));
                }
                out.extend(parse_entries(pair.swap_remove(1))?);
            }
            Ok(out)
        }
        // RESP3 servers answer with a map of stream -> entries.
        Value::Map(streams) => {
            let mut out = Vec::new();
            for (_, entries) in streams {
                out.extend(parse_entries(entries)?);
            }
            Ok(out)
        }
        other => Err(unexpected("XREADGROUP", &other)),
    }
}

/// Parses `[[id, [field, value, ...] | nil], ...]`.
fn parse_entries(entries: Value) -> Result<Vec<RawEntry>, StoreError> {
    let Value::Array(entries) = entries else {
        return match entries {
            Value::Nil => Ok(Vec::new()),
            other => Err(unexpected("stream entries", &other)),
        };
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        // Redis 6.2's XAUTOCLAIM reports deleted entries as nil in place.
        let Value::Array(mut parts) = entry else {
            continue;
        };
        if parts.len() != 2 {
            return Err(StoreError::Backend("malformed stream entry".into()));
        }
        let fields = parts.pop().unwrap_or(Value::Nil);
        let id = text(parts.pop().unwrap_or(Value::Nil))?;
        let fields = match fields {
            Value::Nil => None,
            Value::Array(flat) => {
                let mut pairs = Vec::with_capacity(flat.len() / 2);
                let mut it = flat.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((bytes(k)?, bytes(v)?));
                }
                Some(pairs)
            }
            Value::Map(map) => Some(
                map.into_iter()
                    .map(|(k, v)| Ok((bytes(k)?, bytes(v)?)))
                    .collect::<Result<_, StoreError>>()?,
            ),
            other => return Err(unexpected("stream entry fields", &other)),
        };
        out.push(RawEntry { id, fields });
    }
    Ok(out)
}

fn bytes(v: Value) -> Result<Vec<u8>, StoreError> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        other => Err(unexpected("string", &other)),
    }
}

/// An `EVALSHA` of `script`, with room for a payload of `payload` bytes:
/// the caller adds the number of keys, the keys and the arguments. A batch's
/// payload is written into the command once; `redis::ScriptInvocation`
/// copied it twice more before the command was packed (a copy of every
/// queued byte was 2% of the Redis shape's ingest CPU).
fn evalsha(script: &redis::Script, payload: usize) -> redis::Cmd {
    let mut cmd = redis::Cmd::with_capacity(8, payload.saturating_add(256));
    cmd.arg("EVALSHA").arg(script.get_hash());
    cmd
}

/// Runs an [`evalsha`] command; a server that does not hold the script yet
/// (a restart, `SCRIPT FLUSH`) is sent it, then the command again, as
/// `ScriptInvocation::invoke_async` does.
async fn run_script(
    conn: &mut ConnectionManager,
    script: &redis::Script,
    cmd: &redis::Cmd,
) -> Result<Value, RedisError> {
    match cmd.query_async(conn).await {
        Err(e) if e.kind() == ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
            script.load_async(conn).await?;
            cmd.query_async(conn).await
        }
        other => other,
    }
}

fn text(v: Value) -> Result<String, StoreError> {
    String::from_utf8(bytes(v)?).map_err(|_| StoreError::Backend("non-UTF-8 stream id".into()))
}

fn unexpected(what: &str, v: &Value) -> StoreError {
    StoreError::Backend(format!("{what}: unexpected Redis reply {v:?}"))
}

/// Connection-level trouble and a server that cannot take writes now are
/// [`StoreError::Unavailable`]; anything else is a [`StoreError::Backend`] error.
pub(crate) fn classify(e: RedisError) -> StoreError {
    let transient = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                redis::ServerErrorKind::BusyLoading
                    | redis::ServerErrorKind::TryAgain
                    | redis::ServerErrorKind::ClusterDown
                    | redis::ServerErrorKind::MasterDown
                    | redis::ServerErrorKind::ReadOnly
            )
        )
        || matches!(e.code(), Some("OOM" | "MISCONF" | "NOREPLICAS"));
    if transient {
        StoreError::Unavailable(format!("Redis: {e}"))
    } else {
        StoreError::Backend(format!("Redis: {e}"))
    }
}
