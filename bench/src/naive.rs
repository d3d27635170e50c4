//! The naive baseline, as the seed stored events: for each event one Redis
//! `PUBLISH` and one MongoDB `insert_one`, one after the other, from one
//! client. It is what batching, the stream queue and bulk persist are
//! measured against.

use std::time::{Duration, Instant};

use mongodb::bson::Document;
use serde_json::Value;

use crate::BenchError;
use crate::stats::{Latencies, Summary};
use crate::workload::Batches;

/// Events per second of the naive path, and the per-event latency.
#[derive(Debug, Clone, Copy)]
pub struct NaiveRate {
    pub events: u64,
    pub events_per_sec: f64,
    pub latency: Summary,
}

/// Publishes and inserts the batches' events one by one for `duration`,
/// into database `database` (dropped after) on `mongodb_uri` and channel
/// `anomalog:bench` on `redis_url`.
pub async fn run(
    redis_url: &str,
    mongodb_uri: &str,
    database: &str,
    batches: &Batches,
    duration: Duration,
) -> Result<NaiveRate, BenchError> {
    let redis = redis::Client::open(redis_url).map_err(|e| BenchError::Backend(e.to_string()))?;
    let mut conn = redis
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| BenchError::Backend(format!("redis: {e}")))?;
    let mongo = mongodb::Client::with_uri_str(mongodb_uri)
        .await
        .map_err(|e| BenchError::Backend(format!("mongodb: {e}")))?;
    let db = mongo.database(database);
    let logs = db.collection::<Document>("logs");

    // The events as the seed held them: JSON values, each sent on its own.
    let mut events: Vec<(String, Document)> = Vec::new();
    for body in batches.bodies.iter().take(4) {
        let values: Vec<Value> =
            serde_json::from_slice(body).map_err(|e| BenchError::Usage(format!("payload: {e}")))?;
        for v in values {
            let doc = mongodb::bson::serialize_to_document(&v)
                .map_err(|e| BenchError::Usage(format!("payload: {e}")))?;
            events.push((v.to_string(), doc));
        }
    }
    if events.is_empty() {
        return Err(BenchError::Usage("no events to send".into()));
    }

    let mut latencies = Latencies::default();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let (json, doc) = &events[(n % events.len() as u64) as usize];
        let began = Instant::now();
        let _: i64 = redis::cmd("PUBLISH")
            .arg("anomalog:bench")
            .arg(json)
            .query_async(&mut conn)
            .await
            .map_err(|e| BenchError::Backend(format!("redis PUBLISH: {e}")))?;
        logs.insert_one(doc.clone())
            .await
            .map_err(|e| BenchError::Backend(format!("mongodb insert_one: {e}")))?;
        latencies.record(began.elapsed());
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = db.drop().await;
    Ok(NaiveRate {
        events: n,
        events_per_sec: n as f64 / secs,
        latency: latencies.summary(),
    })
}
