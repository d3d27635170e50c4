//! anomalog-bench: the measuring instrument of `scripts/bench`.
//!
//! - [`workload`]: realistic JSON batches (~250-byte events over N services,
//!   some errors), generated before the clock starts;
//! - [`load`]: the HTTP load generator for `/ingest` with exact accounting
//!   (acknowledged = the sum of 202 answers' `accepted`);
//! - [`limits`]: the in-process parse rate of the same payload;
//! - [`naive`]: the seed's one-PUBLISH-plus-one-insert_one-per-event baseline;
//! - [`api`]: backlog and stored counts, query latencies;
//! - [`bursts`]: error bursts sent during a load, timed until the API lists
//!   them;
//! - [`report`]: the one results table and its section of docs/benchmarks.md.
//!
//! Everything here is loopback only and bounded in time.

pub mod api;
pub mod bursts;
pub mod limits;
pub mod load;
pub mod naive;
pub mod report;
pub mod stats;
pub mod workload;

/// Why a measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Usage(String),
    #[error("http: {0}")]
    Http(String),
    #[error("backend: {0}")]
    Backend(String),
    #[error("io: {0}")]
    Io(String),
}
