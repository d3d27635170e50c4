//! Claimed queue entries as the queue encoded them.
//!
//! Detect needs little of a claimed event (its time, service, level and
//! message, to mine its pattern and count it), and the embedded store keeps
//! the rest of it as bytes (a log block's binary rest). A [`ClaimedBatch`]
//! of a payload in this version's framed form therefore reads only those
//! fields, borrowed from the payload, and hands the embedded store each
//! record's bytes as they are: the attributes are neither built as JSON
//! values nor written again (docs/benchmarks.md, session 12). An adapter
//! that needs events whole (MongoDB) decodes them with
//! [`ClaimedBatch::into_logs`].

use std::ops::Range;

use chrono::{DateTime, Utc};

use anomalog_core::{Level, LogEvent, StoredLog};

use crate::StoreError;
use crate::records::{self, FramedHead};

/// One claimed queue entry: its id and its events, with the pattern detect
/// assigned to each.
#[derive(Debug)]
pub struct ClaimedBatch {
    id: String,
    events: Events,
    patterns: Vec<Option<String>>,
}

// Only the embedded queue frames its claims (Redis claims are read whole).
#[cfg_attr(not(feature = "embedded"), allow(dead_code))]
#[derive(Debug)]
enum Events {
    /// Events read whole (an adapter without the framed form, or a payload
    /// written by an earlier version).
    Decoded(Vec<LogEvent>),
    /// A framed payload and the heads of its events.
    Framed {
        payload: Vec<u8>,
        heads: Vec<FramedHead>,
    },
}

/// What detect reads of a claimed event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimedEvent<'a> {
    pub ts: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub service: &'a str,
    pub level: Level,
    pub message: &'a str,
}

/// One claimed event as a log block stores it (the embedded store's rows).
#[cfg(feature = "embedded")]
pub(crate) struct ClaimedRow<'a> {
    pub id: String,
    pub event: ClaimedEvent<'a>,
    pub pattern: Option<&'a str>,
    pub rest: RowRest<'a>,
}

/// How a row's binary rest is written.
#[cfg(feature = "embedded")]
pub(crate) enum RowRest<'a> {
    /// Encoded from the event.
    Event(&'a LogEvent),
    /// Copied: the record before its message field, an empty message, the
    /// record after it.
    Framed(&'a [u8], &'a [u8]),
}

impl<'a> ClaimedEvent<'a> {
    /// What detect reads of an event read whole.
    fn of(e: &'a LogEvent) -> ClaimedEvent<'a> {
        ClaimedEvent {
            ts: e.ts,
            received_at: e.received_at,
            service: &e.service,
            level: e.level,
            message: &e.message,
        }
    }
}

impl ClaimedBatch {
    /// A batch of events read whole.
    pub fn decoded(id: String, events: Vec<LogEvent>) -> ClaimedBatch {
        let patterns = vec![None; events.len()];
        ClaimedBatch {
            id,
            events: Events::Decoded(events),
            patterns,
        }
    }

    /// A batch read from its queue payload: framed (only the heads read),
    /// or any earlier form (read whole).
    #[cfg_attr(not(feature = "embedded"), allow(dead_code))]
    pub(crate) fn from_payload(id: String, payload: Vec<u8>) -> Result<ClaimedBatch, String> {
        // Only the queues that compress (Redis, embedded) are built to read
        // a compressed payload.
        #[cfg(any(feature = "redis", feature = "embedded"))]
        let payload = match records::decompress(&payload) {
            Some(framed) => framed?,
            None => payload,
        };
        match records::framed_heads(&payload) {
            Some(heads) => {
                let heads = heads?;
                let patterns = vec![None; heads.len()];
                Ok(ClaimedBatch {
                    id,
                    events: Events::Framed { payload, heads },
                    patterns,
                })
            }
            None => Ok(ClaimedBatch::decoded(id, records::decode_batch(&payload)?)),
        }
    }

    /// The queue entry's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The `i`th event's time, service, level and message.
    ///
    /// # Panics
    /// If `i` is not below [`ClaimedBatch::len`].
    pub fn event(&self, i: usize) -> ClaimedEvent<'_> {
        match &self.events {
            Events::Decoded(events) => ClaimedEvent::of(&events[i]),
            Events::Framed { payload, heads } => {
                let head = &heads[i];
                ClaimedEvent {
                    ts: head.ts,
                    received_at: head.received_at,
                    service: text(payload, &head.service),
                    level: head.level,
                    message: text(payload, &head.message),
                }
            }
        }
    }

    /// Sets the pattern the `i`th event's message mapped to.
    pub fn set_pattern(&mut self, i: usize, pattern: String) {
        if let Some(slot) = self.patterns.get_mut(i) {
            *slot = Some(pattern);
        }
    }

    /// The stored logs of this batch, each event read whole.
    pub fn into_logs(self) -> Result<Vec<StoredLog>, StoreError> {
        let ClaimedBatch {
            id,
            events,
            patterns,
        } = self;
        let events: Vec<LogEvent> = match events {
            Events::Decoded(events) => events,
            Events::Framed { payload, heads } => heads
                .iter()
                .map(|head| {
                    records::decode_framed(&payload[head.record.clone()])
                        .map_err(|e| StoreError::Corrupt(format!("queue entry {id}: {e}")))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(events
            .into_iter()
            .zip(patterns)
            .enumerate()
            .map(|(i, (event, pattern))| StoredLog {
                id: StoredLog::id_for(&id, i),
                event,
                pattern,
            })
            .collect())
    }

    /// The stored logs of `batches`, in order, each event read whole.
    pub fn logs_of(batches: Vec<ClaimedBatch>) -> Result<Vec<StoredLog>, StoreError> {
        let mut logs = Vec::with_capacity(batches.iter().map(ClaimedBatch::len).sum());
        for batch in batches {
            logs.extend(batch.into_logs()?);
        }
        Ok(logs)
    }

    /// Each event as a log block's row.
    #[cfg(feature = "embedded")]
    pub(crate) fn rows(&self) -> impl Iterator<Item = ClaimedRow<'_>> {
        (0..self.len()).map(move |i| ClaimedRow {
            id: StoredLog::id_for(&self.id, i),
            event: self.event(i),
            pattern: self.patterns[i].as_deref(),
            rest: match &self.events {
                Events::Decoded(events) => RowRest::Event(&events[i]),
                Events::Framed { payload, heads } => {
                    let (before, after) = heads[i].rest(payload);
                    RowRest::Framed(before, after)
                }
            },
        })
    }
}

#[cfg(feature = "embedded")]
impl<'a> ClaimedRow<'a> {
    /// `log` as a row.
    pub fn of(log: &'a StoredLog) -> ClaimedRow<'a> {
        ClaimedRow {
            id: log.id.clone(),
            event: ClaimedEvent::of(&log.event),
            pattern: log.pattern.as_deref(),
            rest: RowRest::Event(&log.event),
        }
    }

    /// Appends the row's binary rest to `out`.
    pub fn write_rest(&self, mut out: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        match self.rest {
            RowRest::Event(event) => records::encode_log_rest(event, out),
            RowRest::Framed(before, after) => {
                out.reserve(before.len() + 1 + after.len());
                out.extend_from_slice(before);
                out.push(0);
                out.extend_from_slice(after);
                Ok(out)
            }
        }
    }
}

/// A range of the payload that the head's check found to be UTF-8.
fn text<'a>(payload: &'a [u8], range: &Range<usize>) -> &'a str {
    std::str::from_utf8(&payload[range.clone()]).unwrap_or_default()
}
