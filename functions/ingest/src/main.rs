//! AWS Lambda binary of ingest: serves [`anomalog_ingest::router`] behind a
//! function URL (or an API Gateway HTTP API, payload v2). Clients post to
//! `<function URL>/ingest`. Redis and MongoDB are connected once per cold
//! start; a 202 still means the batch is in the Redis stream.

use anomalog_ingest::IngestState;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let app = anomalog_ingest::router(IngestState::new(
        started.stores.queue.clone(),
        started.config.ingest,
    ))
    .layer(axum::middleware::from_fn(
        anomalog_ingest::bulk::answer_product_check,
    ));
    lambda_http::run(app)
        .await
        .map_err(anyhow::Error::from_boxed)
}
