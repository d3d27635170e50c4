//! anomalog-agent: gets logs into anomalog.
//!
//! The agent reads lines from files or stdin, or generates demo traffic, and ships
//! them to the ingest endpoint (`POST /ingest`, JSON array of events) over HTTP.
//!
//! - [`source`]: line sources (stdin, files with `tail -F`-style following) feeding a
//!   bounded channel, and the batcher [`source::ship_lines`] that drains it;
//! - [`shipper`]: the HTTP client, with retries (exponential backoff with full
//!   jitter, `Retry-After`), splitting of oversized batches, and no retry of
//!   permanent rejections;
//! - [`demo`]: a deterministic generator of realistic multi-service traffic with
//!   scheduled incidents (an error burst, an error-ratio spike, a silence);
//! - [`run_demo`]: ships a history backfill of demo traffic, then live ticks.
//!
//! Every queue is bounded: the line channel holds [`source::LINE_CHANNEL_CAPACITY`]
//! lines and makes readers wait when full; the shipper sends one batch at a time, so
//! a slow server slows the reader down instead of growing memory.

pub mod demo;
mod demo_run;
pub mod shipper;
pub mod source;

pub use demo::DemoGenerator;
pub use demo_run::{
    BACKFILL_CHUNK_EVENTS, DEFAULT_BACKFILL, DEFAULT_DEMO_SEED, DEFAULT_TICK, DemoOptions,
    DemoReport, run_demo,
};
pub use shipper::{IngestReceipt, RejectedEvent, ShipError, Shipper, ShipperConfig};
