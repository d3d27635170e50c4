//! Delivering one batch of the pipeline: posted under its `Idempotency-Key`,
//! and split in halves when ingest answers `413 Payload Too Large`.
//!
//! Splitting is deterministic (halves of the JSON array, keys suffixed `.0`
//! and `.1` per level), so a batch sent again after a failure or a restart
//! produces the same parts under the same keys: the parts ingest already
//! queued are answered without being queued again. A single event still
//! refused with 413 is dropped, counted and logged.

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::batch::Compression;
use crate::shipper::{IngestReceipt, PostOutcome, Shipper};

/// What delivering one batch came to.
#[derive(Debug)]
pub enum Delivery {
    /// Every part is durably queued (or was dropped as too large on its own).
    Done {
        receipt: IngestReceipt,
        /// Events dropped because each alone exceeds the ingest size limit.
        oversized: u64,
    },
    /// Try the whole batch again later; parts already queued will be
    /// recognised by their keys.
    Retry {
        reason: String,
        retry_after: Option<std::time::Duration>,
    },
    /// A permanent refusal other than 413.
    Rejected { status: u16, message: String },
}

/// Posts `body` under `key`, splitting on 413 as the module says.
pub async fn deliver(
    shipper: &Shipper,
    body: Bytes,
    compression: Compression,
    key: Option<&str>,
) -> Delivery {
    match shipper
        .post_encoded(body.clone(), compression.header(), key)
        .await
    {
        PostOutcome::Accepted(receipt) => Delivery::Done {
            receipt,
            oversized: 0,
        },
        PostOutcome::Retry {
            reason,
            retry_after,
        } => Delivery::Retry {
            reason,
            retry_after,
        },
        PostOutcome::Rejected { status: 413, .. } => split(shipper, &body, compression, key).await,
        PostOutcome::Rejected { status, message } => Delivery::Rejected { status, message },
    }
}

async fn split(
    shipper: &Shipper,
    body: &[u8],
    compression: Compression,
    key: Option<&str>,
) -> Delivery {
    let events: Vec<Box<RawValue>> = match compression
        .decompress(body)
        .map_err(|e| e.to_string())
        .and_then(|json| serde_json::from_slice(&json).map_err(|e| e.to_string()))
    {
        Ok(events) => events,
        Err(error) => {
            return Delivery::Rejected {
                status: 413,
                message: format!("the batch is too large and cannot be split: {error}"),
            };
        }
    };
    let mut receipt = IngestReceipt::default();
    let mut oversized = 0;
    // (start, end, key suffix); the left half on top keeps the order.
    let mut pending = vec![(0, events.len(), String::new())];
    let mut first = true;
    while let Some((start, end, suffix)) = pending.pop() {
        let part = &events[start..end];
        if !first {
            let part_key = key.map(|k| format!("{k}{suffix}"));
            let outcome = match encode(part, compression) {
                Ok(part_body) => {
                    shipper
                        .post_encoded(part_body, compression.header(), part_key.as_deref())
                        .await
                }
                Err(error) => PostOutcome::Rejected {
                    status: 413,
                    message: error.to_string(),
                },
            };
            match outcome {
                PostOutcome::Accepted(part_receipt) => {
                    receipt.accepted += part_receipt.accepted;
                    receipt.rejected += part_receipt.rejected;
                    receipt.errors.extend(part_receipt.errors);
                    continue;
                }
                PostOutcome::Retry {
                    reason,
                    retry_after,
                } => {
                    return Delivery::Retry {
                        reason,
                        retry_after,
                    };
                }
                PostOutcome::Rejected { status: 413, .. } => {}
                PostOutcome::Rejected { status, message } => {
                    return Delivery::Rejected { status, message };
                }
            }
        }
        first = false;
        if part.len() <= 1 {
            oversized += part.len() as u64;
            tracing::error!(
                bytes = part.first().map_or(0, |e| e.get().len()),
                "one event alone exceeds the ingest size limit; dropping it"
            );
            continue;
        }
        tracing::info!(
            events = part.len(),
            "ingest answered 413 Payload Too Large; sending the batch in halves"
        );
        let mid = start + part.len() / 2;
        pending.push((mid, end, format!("{suffix}.1")));
        pending.push((start, mid, format!("{suffix}.0")));
    }
    Delivery::Done { receipt, oversized }
}

fn encode(events: &[Box<RawValue>], compression: Compression) -> std::io::Result<Bytes> {
    let json = serde_json::to_vec(events).map_err(std::io::Error::other)?;
    compression.compress(&json).map(Bytes::from)
}
