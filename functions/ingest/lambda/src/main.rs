//! AWS Lambda binary of ingest: serves [`anomalog_ingest::router`] behind a
//! function URL (or an API Gateway HTTP API, payload v2). Clients post to
//! `<function URL>/ingest`. Only the Redis queue is connected (once per cold
//! start; MongoDB is not contacted); a 202 still means the batch is in the
//! Redis stream.

use anomalog_ingest::IngestState;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start(anomalog_store::connect::connect_queue).await?;
    let app = anomalog_ingest::router(IngestState::new(started.ports, started.config.ingest))
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
