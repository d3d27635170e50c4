//! AWS Lambda binary of the read API: serves [`anomalog_api::router`] behind
//! a function URL (or an API Gateway HTTP API, payload v2), at
//! `<function URL>/api/...`, and the OpenAPI document at `/api/openapi.json`
//! (not the Swagger UI page of `anomalog up`: see docs/deploy-aws.md). CORS for the dashboard is the function URL's
//! (see template.yaml), not this binary's. MongoDB and Redis (for the queue
//! backlog of `/api/health`) are connected once per cold start. Reads need a
//! `read` key whenever any key exists (`ANOMALOG_API_KEYS`, or the stored
//! keys of `anomalog keys` in MongoDB), as in `anomalog up`.

use std::sync::Arc;

use anomalog_api::ApiState;
use anomalog_core::Config;
use anomalog_ingest::auth::Authenticator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start(async |config: &Config| {
        let stores = anomalog_store::connect::connect_external(config).await?;
        let keys = anomalog_store::keys::connect_mongo_keys(config).await?;
        Ok((stores, keys))
    })
    .await?;
    let (stores, keys) = started.ports;
    // A `read` key whenever any key exists, exactly as `anomalog up`.
    let auth = Authenticator::from_keys(&started.config.ingest.api_keys).with_store(Arc::new(keys));
    let app = anomalog_api::guarded_router(ApiState::new(stores), Arc::new(auth))
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
