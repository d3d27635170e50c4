//! The ports: what the functions need from storage, as small traits.
//!
//! They are shaped after the production backends: [`EventQueue`] after a Redis
//! Stream read through a consumer group (append, read-and-claim, ack, re-claim of
//! entries a crashed consumer left pending), the others after MongoDB collections
//! with idempotent writes keyed by deterministic ids.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::incident::Incident;
use anomalog_core::rollup::RollupRow;
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, Severity, StoredLog};

use crate::StoreError;
pub use crate::claimed::{ClaimedBatch, ClaimedEvent};

/// One queued batch, as appended by ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    /// Queue-assigned id, unique and increasing (a Redis stream id, say).
    pub id: String,
    pub events: Vec<LogEvent>,
}

/// A batch encoded as one queue stores it ([`EventQueue::encode`]): the CPU
/// part of an append, which a caller may do on a thread of its own before
/// the I/O part ([`EventQueue::append_encoded`]).
#[derive(Debug)]
#[cfg_attr(not(any(feature = "redis", feature = "embedded")), allow(dead_code))]
pub struct EncodedBatch {
    pub(crate) payload: Vec<u8>,
    pub(crate) events: usize,
    /// Framed records (the embedded queue) or not (Redis).
    pub(crate) framed: bool,
}

#[cfg_attr(not(any(feature = "redis", feature = "embedded")), allow(dead_code))]
impl EncodedBatch {
    /// `events` encoded with framed records (the embedded queue) or not
    /// (Redis), and then compressed.
    pub(crate) fn of(events: &[LogEvent], framed: bool) -> Result<Self, StoreError> {
        let payload = if framed {
            #[cfg(feature = "embedded")]
            let payload = crate::records::compressed::encode_framed_compressed(events)?;
            #[cfg(not(feature = "embedded"))]
            let payload = crate::records::encode_batch(events)?;
            payload
        } else {
            #[cfg(feature = "redis")]
            let payload = crate::records::compressed::encode_batch_compressed(events)?;
            #[cfg(not(feature = "redis"))]
            let payload = crate::records::encode_batch_unframed(events)?;
            payload
        };
        Ok(EncodedBatch {
            payload,
            events: events.len(),
            framed,
        })
    }

    /// The events it holds.
    pub fn events(&self) -> usize {
        self.events
    }

    /// The payload, if it was encoded with the framing `framed`; a batch one
    /// queue encoded is refused by a queue of the other kind.
    pub(crate) fn into_payload(self, framed: bool) -> Result<Vec<u8>, StoreError> {
        if self.framed != framed {
            return Err(StoreError::Invalid(
                "the batch was encoded by a queue of another kind".into(),
            ));
        }
        Ok(self.payload)
    }
}

/// What [`EventQueue::append_idempotent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The batch was appended now, as this entry.
    New(String),
    /// A batch with the same key was appended earlier, within the retention,
    /// as this entry; nothing was appended now.
    Replayed(String),
}

impl Appended {
    /// Id of the entry holding the batch (appended now or earlier).
    pub fn entry(&self) -> &str {
        match self {
            Appended::New(id) | Appended::Replayed(id) => id,
        }
    }
}

/// How much one [`EventQueue::claim_within`] may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimit {
    /// Most entries.
    pub entries: usize,
    /// Most bytes of payload (the queue's encoding of the batches, counted
    /// uncompressed: what they take in memory once claimed), past the first
    /// entry.
    pub bytes: usize,
}

impl ClaimLimit {
    /// At most `entries` entries, of any size.
    pub fn entries(entries: usize) -> ClaimLimit {
        ClaimLimit {
            entries,
            bytes: usize::MAX,
        }
    }

    /// Whether an entry of `size` bytes still fits after `taken` entries of
    /// `used` bytes (the first always does).
    pub fn fits(&self, taken: usize, used: usize, size: usize) -> bool {
        taken < self.entries && (taken == 0 || used.saturating_add(size) <= self.bytes)
    }
}

/// The durable queue between ingest and detect.
#[async_trait]
pub trait EventQueue: Send + Sync {
    /// Appends one batch as one entry and returns its id. Returns only once the
    /// entry is durable: ingest answers 202 on the strength of it.
    async fn append(&self, events: &[LogEvent]) -> Result<String, StoreError> {
        let batch = self.encode(events)?;
        self.append_encoded(batch).await
    }

    /// Encodes a batch as this queue stores it: CPU work only, no I/O.
    fn encode(&self, events: &[LogEvent]) -> Result<EncodedBatch, StoreError>;

    /// [`EventQueue::append`] of a batch this queue encoded.
    async fn append_encoded(&self, batch: EncodedBatch) -> Result<String, StoreError>;

    /// Appends one batch under a client's idempotency `key`, unless a batch
    /// with that key was appended within `retain`: then nothing is appended
    /// and the earlier entry's id is returned as [`Appended::Replayed`].
    ///
    /// The key is recorded atomically with the append (one SQLite
    /// transaction, one Redis script): after a crash either both are durable
    /// or neither is, so a client resending after a lost answer never
    /// duplicates a batch and never loses one.
    async fn append_idempotent(
        &self,
        key: &str,
        retain: std::time::Duration,
        events: &[LogEvent],
    ) -> Result<Appended, StoreError> {
        let batch = self.encode(events)?;
        self.append_idempotent_encoded(key, retain, batch).await
    }

    /// [`EventQueue::append_idempotent`] of a batch this queue encoded.
    async fn append_idempotent_encoded(
        &self,
        key: &str,
        retain: std::time::Duration,
        batch: EncodedBatch,
    ) -> Result<Appended, StoreError>;

    /// Claims up to `max` entries for `consumer`: entries another consumer left
    /// unacknowledged for longer than the re-claim timeout first, then new ones.
    /// Claimed entries stay in the queue until acknowledged. No byte budget:
    /// [`EventQueue::claim_within`] with [`ClaimLimit::entries`].
    async fn claim(&self, consumer: &str, max: usize) -> Result<Vec<QueueEntry>, StoreError> {
        self.claim_within(consumer, ClaimLimit::entries(max)).await
    }

    /// [`EventQueue::claim`] within `limit`: at most `limit.entries` entries
    /// whose stored payloads add up to at most `limit.bytes`, except that the
    /// first entry is always returned (ingest bounds one entry's size), so a
    /// queue of huge batches is drained a few at a time instead of exhausting
    /// memory. Entries left out stay in the queue, in order, for the next
    /// claim (an adapter that read them already keeps them pending to
    /// `consumer`, first in its next claim).
    async fn claim_within(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<QueueEntry>, StoreError>;

    /// [`EventQueue::claim_within`], each entry as a [`ClaimedBatch`]: what
    /// detect drains with. An adapter whose payloads are framed reads only
    /// each event's head here (the default reads the events whole).
    async fn claim_batches(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<ClaimedBatch>, StoreError> {
        Ok(self
            .claim_within(consumer, limit)
            .await?
            .into_iter()
            .map(|entry| ClaimedBatch::decoded(entry.id, entry.events))
            .collect())
    }

    /// Acknowledges processed entries; they will not be delivered again.
    async fn ack(&self, ids: &[String]) -> Result<(), StoreError>;

    /// Entries appended but not yet acknowledged.
    async fn backlog(&self) -> Result<u64, StoreError>;

    /// When the oldest entry not yet acknowledged was appended (`None` when
    /// there is none): the queue lag.
    async fn oldest_pending(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// Filters of a log query. Results are newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    pub service: Option<String>,
    /// Minimum level (inclusive).
    pub min_level: Option<Level>,
    /// Case-insensitive substring of the message.
    pub text: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
    /// Continue after this cursor (from a previous page's `next_cursor`).
    pub cursor: Option<LogCursor>,
    /// Only logs whose pattern id is one of these (empty: any).
    pub patterns: Vec<String>,
}

impl LogQuery {
    /// The newest ERROR and FATAL lines of `anomaly`'s service within its window.
    pub fn errors_in_window(anomaly: &Anomaly, limit: usize) -> LogQuery {
        LogQuery {
            service: Some(anomaly.service.clone()),
            min_level: Some(Level::Error),
            from: Some(anomaly.window_start),
            to: Some(anomaly.window_end),
            limit,
            ..LogQuery::default()
        }
    }
}

/// Position in the newest-first order of logs: strictly older than (ts, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCursor {
    pub ts: DateTime<Utc>,
    pub id: String,
}

impl LogCursor {
    /// Opaque text form, safe in a URL.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.ts.timestamp_millis(), self.id)
    }

    /// Parses [`LogCursor::encode`]'s output.
    pub fn decode(text: &str) -> Option<LogCursor> {
        let (millis, id) = text.split_once('_')?;
        let ts = DateTime::from_timestamp_millis(millis.parse().ok()?)?;
        if id.is_empty() {
            return None;
        }
        Some(LogCursor {
            ts,
            id: id.to_owned(),
        })
    }
}

/// One page of logs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogPage {
    pub items: Vec<StoredLog>,
    /// Present when more logs match.
    pub next_cursor: Option<LogCursor>,
}

/// What a persist call changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PersistReport {
    /// Logs stored now.
    pub inserted: u64,
    /// Logs that were already stored (a re-delivered entry) and were skipped.
    pub duplicates: u64,
}

/// Searchable log storage, with rollups maintained alongside.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Stores the logs whose ids are not stored yet, and adds exactly those to the
    /// rollups, atomically: persisting the same logs again changes nothing.
    async fn persist(&self, logs: &[StoredLog]) -> Result<PersistReport, StoreError>;

    /// [`LogStore::persist`] of claimed batches' events, each with the id
    /// [`StoredLog::id_for`] gives it and the pattern set on its batch. The
    /// default reads every event whole; the embedded store copies the
    /// framed records' bytes instead.
    async fn persist_claimed(
        &self,
        batches: Vec<ClaimedBatch>,
    ) -> Result<PersistReport, StoreError> {
        self.persist(&ClaimedBatch::logs_of(batches)?).await
    }

    /// Logs matching `query`, newest first.
    async fn query(&self, query: &LogQuery) -> Result<LogPage, StoreError>;

    /// Deletes logs and rollups older than `cutoff`; returns the logs deleted.
    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Summary of one service, from the rollups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub service: String,
    pub first_seen: DateTime<Utc>,
    /// Start of the newest bucket with events.
    pub last_seen: DateTime<Utc>,
    pub total: u64,
    pub errors: u64,
}

/// Read side of the rollups (the write side is [`LogStore::persist`]).
#[async_trait]
pub trait RollupStore: Send + Sync {
    /// Rows with `from <= bucket < to`, of one service or all, in no
    /// particular order.
    async fn rollups(
        &self,
        service: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError>;

    /// Every service with rollups, with totals since `since`.
    async fn services(&self, since: DateTime<Utc>) -> Result<Vec<ServiceSummary>, StoreError>;
}

/// Filters of an anomaly listing; newest `window_start` first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnomalyQuery {
    pub service: Option<String>,
    pub kind: Option<AnomalyKind>,
    pub status: Option<AnomalyStatus>,
    /// Only anomalies whose window ends at or after this.
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// Anomaly records, keyed by their deterministic ids.
#[async_trait]
pub trait AnomalyStore: Send + Sync {
    /// Inserts or replaces by id, as given. Merging with a stored record
    /// (`first_seen`, `samples`) is decided by core's
    /// `detect::reconcile::merge_stored`, which `reconcile` applies; adapters
    /// never read-modify-write. Delivery bookkeeping is not part of the record
    /// and survives an upsert.
    async fn upsert(&self, anomalies: &[Anomaly]) -> Result<(), StoreError>;

    async fn list(&self, query: &AnomalyQuery) -> Result<Vec<Anomaly>, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Anomaly>, StoreError>;
}

/// One attempt to notify a channel about an anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub anomaly_id: String,
    pub channel: String,
    /// The anomaly status the notification announced.
    pub status: AnomalyStatus,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// HTTP status, when a response came back.
    pub http_status: Option<u16>,
    /// Why it failed; never contains secrets.
    pub error: Option<String>,
}

/// Every delivery attempt, kept for the record (what a channel was last told
/// of an incident is `IncidentStore`'s notice).
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records an attempt.
    async fn record(&self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Attempts for one anomaly, oldest first.
    async fn attempts(&self, anomaly_id: &str) -> Result<Vec<Delivery>, StoreError>;
}

/// Filters of an incident listing; newest `opened_at` first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    pub status: Option<AnomalyStatus>,
    /// Only incidents with an anomaly of this service.
    pub service: Option<String>,
    /// Only incidents still open or resolved at or after this.
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// What a channel was last told of an incident.
///
/// Invariant: `anomalies` is 0 only while nothing was told yet (a worker
/// claimed the first message and has not sent it): every incident has a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentNotice {
    pub incident_id: String,
    pub channel: String,
    pub status: AnomalyStatus,
    /// Member anomalies the message counted.
    pub anomalies: usize,
    pub at: DateTime<Utc>,
    /// Highest severity told (`None` in notices written before it was kept).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// The channel's id of the message to edit with updates (Discord).
    #[serde(default)]
    pub message_id: Option<String>,
    /// A worker is sending this channel's next message about the incident;
    /// others leave it alone until then (see [`IncidentStore::swap_notice`]).
    #[serde(default)]
    pub sending_until: Option<DateTime<Utc>>,
}

/// Incident records, keyed by their ids (see `anomalog_core::incident`), and
/// what each alert channel was told of them.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Inserts or replaces by id, as given (identity across passes is core's
    /// `incident::carry_over`). Notices survive an upsert.
    async fn upsert_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError>;

    /// Deletes incidents absorbed into another one.
    async fn delete_incidents(&self, ids: &[String]) -> Result<(), StoreError>;

    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError>;

    async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError>;

    /// Incidents still open or resolved at or after `since`, oldest first,
    /// each with what `channel` was last told of it (`None`: nothing yet).
    async fn incidents_to_notify(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(Incident, Option<IncidentNotice>)>, StoreError>;

    /// Records what a channel was told (replacing the previous notice).
    async fn record_notice(&self, notice: &IncidentNotice) -> Result<(), StoreError>;

    /// Replaces the notice of `next`'s incident and channel with `next` only
    /// if the stored one is still `previous` (`None`: none stored), atomically;
    /// returns whether it did. Two alert workers claiming the same message:
    /// exactly one wins.
    async fn swap_notice(
        &self,
        previous: Option<&IncidentNotice>,
        next: &IncidentNotice,
    ) -> Result<bool, StoreError>;
}

/// One service's saved live detector state, in the two parts the detect
/// pass wrote (`anomalog_core::detect::LiveState::to_parts`), opaque to the
/// store: a small summary, read by every pass, and the detectors, read only
/// by a pass that has a new minute for the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorState {
    pub service: String,
    pub summary: Vec<u8>,
    pub detectors: Vec<u8>,
}

/// The summary part of one service's [`DetectorState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorSummary {
    pub service: String,
    pub summary: Vec<u8>,
}

/// The live detectors' state per service, kept between detect passes, across
/// restarts and Lambda invocations. A cache of what the rollups taught the
/// detectors: losing it costs a warm-up, never data.
#[async_trait]
pub trait DetectorStateStore: Send + Sync {
    /// The saved summaries of those of `services` that have a state, without
    /// reading their detectors.
    async fn detector_summaries(
        &self,
        services: &[String],
    ) -> Result<Vec<DetectorSummary>, StoreError>;

    /// The saved states (both parts) of those of `services` that have one.
    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError>;

    /// Saves states (at most one per service), replacing each service's
    /// previous one.
    async fn save_detector_states(&self, states: &[DetectorState]) -> Result<(), StoreError>;
}

/// Every port, shared by the handlers of one process.
#[derive(Clone)]
pub struct Stores {
    pub queue: Arc<dyn EventQueue>,
    pub logs: Arc<dyn LogStore>,
    pub rollups: Arc<dyn RollupStore>,
    pub anomalies: Arc<dyn AnomalyStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub patterns: Arc<dyn PatternStore>,
    pub incidents: Arc<dyn IncidentStore>,
    pub detector_states: Arc<dyn DetectorStateStore>,
}

impl Stores {
    /// All ports served by one adapter value.
    pub fn from_adapter<A>(adapter: Arc<A>) -> Stores
    where
        A: EventQueue
            + LogStore
            + RollupStore
            + AnomalyStore
            + DeliveryStore
            + PatternStore
            + IncidentStore
            + DetectorStateStore
            + 'static,
    {
        Stores {
            queue: adapter.clone(),
            logs: adapter.clone(),
            rollups: adapter.clone(),
            anomalies: adapter.clone(),
            deliveries: adapter.clone(),
            patterns: adapter.clone(),
            incidents: adapter.clone(),
            detector_states: adapter,
        }
    }
}

/// What an API key may do. Keys from `ANOMALOG_API_KEYS` have every scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Write logs: `POST /ingest` and the shipper protocols.
    Ingest,
    /// Read logs, rollups and anomalies: the `/api` routes and the dashboard.
    Read,
    /// Operate the deployment (reserved for management routes; grants
    /// neither ingest nor read by itself).
    Admin,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Admin];

    /// The scope's name, as written on the command line and stored.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    /// The scope called `name` (case-insensitive), if any.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// A stored API key. The key itself is never stored: only the SHA-256 digest
/// of it (keys are high-entropy random strings, so a plain digest is enough).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Unique name, chosen by the operator (`anomalog keys create --name`).
    pub name: String,
    /// Lower-case hex SHA-256 of the key.
    pub digest: String,
    /// Sorted, without duplicates.
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
}

/// API keys managed by `anomalog keys`; read by ingest and the API to
/// authorize requests.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new key; [`StoreError::Invalid`] naming it when a key of that
    /// name exists already.
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    /// Every key, by name.
    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Deletes the key called `name`; whether there was one.
    async fn revoke(&self, name: &str) -> Result<bool, StoreError>;
}

/// Seconds of one pattern rollup bucket: pattern counts are kept per minute
/// (the level rollups per [`anomalog_core::rollup::FINE_BUCKET_SECS`]).
pub const PATTERN_BUCKET_SECS: i64 = anomalog_core::pattern::judge::PATTERN_BUCKET_SECS;

/// Examples kept with a pattern record.
pub const PATTERN_EXAMPLES: usize = 3;

/// Events of one pattern of one service at one level in one minute, as
/// counted by [`LogStore::persist`] (exactly once per inserted log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternRollupRow {
    pub service: String,
    pub pattern: String,
    /// Start of the minute.
    pub bucket: DateTime<Utc>,
    pub level: Level,
    pub count: u64,
}

/// What one detect pass saw of a pattern, merged into its stored record by
/// [`PatternStore::record_patterns`].
#[derive(Debug, Clone, PartialEq)]
pub struct PatternSighting {
    pub service: String,
    /// [`anomalog_core::pattern::PatternId`] as text.
    pub id: String,
    /// The template as the miner knows it now (it only ever gains `<*>`).
    pub template: String,
    /// Event times of the first and last line seen in this pass.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The miner's count of lines of this pattern, all time (a stored record
    /// keeps the largest count it was told).
    pub total: u64,
    /// Highest level seen in this pass.
    pub max_level: Level,
    /// A few messages of this pass; the record keeps the first
    /// [`PATTERN_EXAMPLES`] it was given.
    pub examples: Vec<String>,
    /// The id of the pattern this one merged into, once it has.
    pub merged_into: Option<String>,
}

/// A stored pattern of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRecord {
    pub service: String,
    pub id: String,
    pub template: String,
    /// Event time of its first and newest stored line.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Lines of the pattern the miner has counted, all time.
    pub total: u64,
    /// Highest level any of its lines had.
    pub max_level: Level,
    pub examples: Vec<String>,
    /// Set once the miner merged it into another pattern: its lines and
    /// rollups keep this id, the survivor's record names the template.
    pub merged_into: Option<String>,
}

/// Filters of a pattern listing; oldest `first_seen` first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternQuery {
    pub service: Option<String>,
    /// Only patterns with lines at or after this time (`last_seen >= since`).
    pub since: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the template.
    pub text: Option<String>,
    /// Include patterns merged into another.
    pub include_merged: bool,
    pub limit: usize,
}

/// Log patterns: their records, the per-minute pattern rollups (written by
/// [`LogStore::persist`], read here) and each service's miner state, so
/// pattern ids stay stable across passes, restarts and Lambda invocations.
#[async_trait]
pub trait PatternStore: Send + Sync {
    /// The miner state of `service` saved last, if any.
    async fn miner_state(
        &self,
        service: &str,
    ) -> Result<Option<anomalog_core::pattern::MinerSnapshot>, StoreError>;

    /// Saves miner states, replacing each service's previous one.
    async fn save_miner_states(
        &self,
        states: &[anomalog_core::pattern::MinerSnapshot],
    ) -> Result<(), StoreError>;

    /// Creates or updates pattern records: `first_seen` keeps the earliest,
    /// `last_seen` the newest, `total` and `max_level` the largest, the
    /// template the latest, examples the first [`PATTERN_EXAMPLES`] given;
    /// `merged_into` is set once given. Repeating a call changes nothing.
    async fn record_patterns(&self, sightings: &[PatternSighting]) -> Result<(), StoreError>;

    async fn patterns(&self, query: &PatternQuery) -> Result<Vec<PatternRecord>, StoreError>;

    /// One pattern by id (ids embed their service, so they are unique).
    async fn pattern(&self, id: &str) -> Result<Option<PatternRecord>, StoreError>;

    /// Pattern rollup rows with `from <= bucket < to`, of one service or all,
    /// of the given patterns or all.
    async fn pattern_rollups(
        &self,
        service: Option<&str>,
        patterns: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatternRollupRow>, StoreError>;
}
