//! The framing of a queue payload of this version ([`super::FRAMED_BATCH`]):
//! each event's record after its length, so a claim reads an event's head
//! (time, service, level, message) without the rest, and finds the bytes
//! of the record around its message (what a log block keeps as its rest).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use anomalog_core::{Level, LogEvent};

use super::{EventBinIn, FRAMED_BATCH, level_of, time_from};

/// The records of a [`FRAMED_BATCH`] payload (without its first byte), each
/// with its offset in `framed`.
pub(super) fn frames(framed: &[u8]) -> impl Iterator<Item = Result<(usize, &[u8]), String>> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= framed.len() {
            return None;
        }
        let next = postcard::take_from_bytes::<u32>(&framed[at..])
            .map_err(|e| format!("record length at byte {at}: {e}"))
            .and_then(|(len, rest)| {
                let start = framed.len() - rest.len();
                let end = start
                    .checked_add(len as usize)
                    .filter(|&end| end <= framed.len())
                    .ok_or_else(|| format!("record at byte {at} cut short"))?;
                Ok((start, end))
            });
        match next {
            Ok((start, end)) => {
                at = end;
                Some(Ok((start, &framed[start..end])))
            }
            Err(e) => {
                at = framed.len();
                Some(Err(e))
            }
        }
    })
}

/// What a claim reads of one event in a [`FRAMED_BATCH`] payload: its time,
/// level, and where its service, message and record are (byte ranges of the
/// whole payload). The rest is read only when the event is wanted whole.
#[derive(Debug, Clone)]
pub(crate) struct FramedHead {
    pub ts: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub level: Level,
    pub service: std::ops::Range<usize>,
    pub message: std::ops::Range<usize>,
    /// The whole record.
    pub record: std::ops::Range<usize>,
    /// Where the message's length starts in the record: what precedes it
    /// and what follows the message are the record without its message.
    message_field: usize,
}

impl FramedHead {
    /// The record with an empty message, as two slices of `payload`
    /// (before and after the message field; an empty message is one zero
    /// byte between them): [`super::encode_log_rest`]'s bytes for this event.
    pub fn rest<'a>(&self, payload: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        (
            &payload[self.record.start..self.message_field],
            &payload[self.message.end..self.record.end],
        )
    }
}

/// The fields of a binary record before its message, borrowed.
#[derive(Deserialize)]
struct HeadIn<'a> {
    ts: (i64, u32),
    received_at: (i64, u32),
    #[serde(borrow)]
    service: &'a str,
    #[serde(borrow)]
    #[allow(dead_code)]
    host: Option<&'a str>,
    level: u8,
}

/// The heads of a queue payload's events when it is a [`FRAMED_BATCH`]
/// (`None` for the earlier forms: read them with [`super::decode_batch`]). Only
/// the heads are checked here; the rest of a record is checked when read.
pub(crate) fn framed_heads(payload: &[u8]) -> Option<Result<Vec<FramedHead>, String>> {
    let (&FRAMED_BATCH, framed) = payload.split_first()? else {
        return None;
    };
    let base = 1usize;
    Some(
        frames(framed)
            .map(|frame| {
                let (start, record) = frame?;
                let (head, field): (HeadIn<'_>, &[u8]) =
                    postcard::take_from_bytes(record).map_err(|e| e.to_string())?;
                let (message, tail): (&str, &[u8]) =
                    postcard::take_from_bytes(field).map_err(|e| e.to_string())?;
                let start = base + start;
                let end = start + record.len();
                let message_end = end - tail.len();
                let service_start = head.service.as_ptr() as usize - payload.as_ptr() as usize;
                Ok(FramedHead {
                    ts: time_from(head.ts)?,
                    received_at: time_from(head.received_at)?,
                    level: level_of(head.level)?,
                    service: service_start..service_start + head.service.len(),
                    message: message_end - message.len()..message_end,
                    record: start..end,
                    message_field: end - field.len(),
                })
            })
            .collect(),
    )
}

/// Reads the event of one record of a [`FRAMED_BATCH`] payload whole.
pub(crate) fn decode_framed(record: &[u8]) -> Result<LogEvent, String> {
    let (event, tail): (EventBinIn, &[u8]) =
        postcard::take_from_bytes(record).map_err(|e| e.to_string())?;
    if !tail.is_empty() {
        return Err(format!("{} bytes after a record", tail.len()));
    }
    event.into_event()
}
