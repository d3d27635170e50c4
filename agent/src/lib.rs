//! anomalog-agent: gets logs into anomalog.
//!
//! The agent follows files (by glob, through rotation and truncation) or stdin, or
//! generates demo traffic, and ships events to the ingest endpoint (`POST /ingest`,
//! a zstd-compressed JSON array) over HTTP.
//!
//! - [`pipeline`]: the running agent ([`pipeline::run`]): reader threads, a bounded
//!   batch channel, the shipper task, the disk buffer and the checkpoints;
//! - [`tail`]: following files by glob without losing or splitting a line;
//! - [`multiline`]: joining stack traces into one event;
//! - [`batch`]: parsing lines at the edge (event time from the line) into
//!   compressed request bodies with the file positions they cover;
//! - [`checkpoint`], [`buffer`]: the durable state in the data directory;
//! - [`config`]: the TOML configuration file;
//! - [`source`]: the simple line sources of the library API (a stream or a file into
//!   a bounded channel, and the batcher [`source::ship_lines`]);
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

pub mod batch;
pub mod buffer;
pub mod checkpoint;
pub mod config;
pub mod deliver;
pub mod demo;
mod demo_run;
pub mod multiline;
pub mod pipeline;
pub mod shipper;
pub mod source;
pub mod tail;

pub use demo::DemoGenerator;
pub use demo_run::{
    BACKFILL_CHUNK_EVENTS, DEFAULT_BACKFILL, DEFAULT_DEMO_SEED, DEFAULT_TICK, DemoOptions,
    DemoReport, run_demo,
};
pub use shipper::{IngestReceipt, RejectedEvent, ShipError, Shipper, ShipperConfig};
