//! Offline tooling of anomalog's detectors: labelled corpora of value series,
//! NAB-style scoring, and the harness that runs a detector over a corpus.
//!
//! Nothing here runs in production: `anomalog eval` and the tests use it to
//! measure `anomalog_core::detect::series::SeriesDetector`, the detector of
//! `anomalog backtest --series`. Keeping it out of core keeps core's
//! dependencies (no random number generator) and size those of the product.

pub mod corpus;
pub mod harness;
pub mod nab;
pub mod realistic;
