//! AWS Lambda binary of detect: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, or a manual invoke with any payload) runs one detection
//! pass, more while a backlog fills whole passes and time allows, and hourly
//! retention, as `anomalog up` does between its (finer) passes.
//!
//! It reads the queue as the one consumer [`CONSUMER`]: the template reserves
//! a concurrency of 1, so one instance at a time holds that name and a pass
//! that died (timeout, crash) is retried from its own pending entries at the
//! next invocation, without waiting for the re-claim timeout.

use std::time::{Duration, Instant};

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use anomalog_core::Config;
use anomalog_detect::{MAX_ENTRIES_PER_PASS, apply_retention, run_pass};
use anomalog_store::Stores;

/// Queue consumer name of the Lambda detect function (one instance at a time).
const CONSUMER: &str = "lambda-detect";

/// How often retention runs (per warm instance, and at each cold start).
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Time left before the invocation deadline under which no further pass starts.
const PASS_BUDGET: Duration = Duration::from_secs(20);

struct Detect {
    config: Config,
    stores: Stores,
    last_retention: Mutex<Option<Instant>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let detect = Detect {
        config: started.config,
        stores: started.stores,
        last_retention: Mutex::new(None),
    };
    let detect = &detect;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        detect.invoke(event).await
    }))
    .await
    .map_err(anyhow::Error::from_boxed)
}

impl Detect {
    /// Passes until the queue holds less than a full pass or the deadline
    /// nears; entries not acknowledged when a pass fails stay queued.
    async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let deadline = event.context.deadline();
        let (mut passes, mut entries, mut inserted, mut opened, mut resolved) = (0, 0, 0, 0, 0);
        loop {
            let report = run_pass(&self.stores, &self.config.detect, CONSUMER, Utc::now()).await?;
            passes += 1;
            entries += report.entries;
            inserted += report.inserted;
            opened += report.opened;
            resolved += report.resolved;
            let time_left = deadline
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            if report.entries < MAX_ENTRIES_PER_PASS || time_left < PASS_BUDGET {
                break;
            }
        }
        let mut last = self.last_retention.lock().await;
        let mut deleted = 0;
        if last.is_none_or(|at| at.elapsed() >= RETENTION_EVERY) {
            let days = self.config.storage.retention_days;
            // The passes succeeded; a failed retention is retried next time.
            match apply_retention(&self.stores, days, Utc::now()).await {
                Ok(n) => {
                    deleted = n;
                    *last = Some(Instant::now());
                }
                Err(e) => tracing::warn!(error = %e, "retention failed; will retry"),
            }
        }
        tracing::info!(
            passes,
            entries,
            inserted,
            opened,
            resolved,
            deleted,
            "detect invocation"
        );
        Ok(json!({
            "passes": passes,
            "entries": entries,
            "inserted": inserted,
            "opened": opened,
            "resolved": resolved,
            "retention_deleted": deleted,
        }))
    }
}
