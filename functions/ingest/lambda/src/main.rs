//! AWS Lambda binary of ingest: serves [`anomalog_ingest::router`] behind a
//! function URL (or an API Gateway HTTP API, payload v2). Clients post to
//! `<function URL>/ingest`. The Redis queue is connected once per cold
//! start; a 202 still means the batch is in the Redis stream. The stored API
//! keys (`anomalog keys`) are read from their Redis mirror on the same
//! connection (cached 2 s), so a stored `ingest` key works here as in
//! `anomalog up`, and this function links no MongoDB driver.

use std::sync::Arc;

use anomalog_core::Config;
use anomalog_ingest::IngestState;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start(async |config: &Config| {
        let queue = anomalog_store::connect::connect_queue(config).await?;
        let keys = queue.key_store();
        Ok((queue, keys))
    })
    .await?;
    let (queue, keys) = started.ports;
    // An `ingest` key whenever any key exists, exactly as `anomalog up`.
    let ingest = IngestState::new(queue, started.config.ingest).with_key_store(Arc::new(keys));
    let app = anomalog_ingest::router(ingest)
        // Elasticsearch clients' `GET /` product check.
        .layer(axum::middleware::from_fn(
            anomalog_ingest::bulk::answer_product_check,
        ))
        .layer(axum::middleware::map_response(flush_metrics));
    lambda_http::run(app)
        .await
        .map_err(anyhow::Error::from_boxed)
}

/// Writes the request's metrics (EMF) once its response is ready.
async fn flush_metrics<B>(response: axum::response::Response<B>) -> axum::response::Response<B> {
    anomalog_lambda::flush_metrics();
    response
}
