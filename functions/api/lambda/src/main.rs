//! AWS Lambda binary of the read API: serves [`anomalog_api::router`] behind
//! a function URL (or an API Gateway HTTP API, payload v2), at
//! `<function URL>/api/...`. CORS for the dashboard is the function URL's
//! (see template.yaml), not this binary's. MongoDB and Redis (for the queue
//! backlog of `/api/health`) are connected once per cold start.

use anomalog_api::ApiState;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start(anomalog_store::connect::connect_external).await?;
    let app = anomalog_api::router(ApiState::new(started.ports))
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
