//! anomalog-lambda: the start-up every AWS Lambda binary of anomalog shares.
//!
//! A function binary calls [`init_tracing`], then [`start`], which reads the
//! shared [`Config`] from the environment (`ANOMALOG_*`, `REDIS_URL`,
//! `MONGODB_URI`, ...), refuses the embedded store, and connects the backends
//! once per cold start. Whatever fails during start is reported to the Lambda
//! Runtime API as an init error ([`report_init_error`]), so `aws lambda invoke`
//! and the console show the reason, not only the logs.
//!
//! Only the binaries depend on this crate: the handlers stay plain libraries.

use std::collections::BTreeMap;
use std::fmt::Display;

use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};

use anomalog_core::Config;
use anomalog_core::config::ConfigError;
use anomalog_store::{StoreError, Stores};

/// Runtime API path of init failures.
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The configuration and connected backends of one Lambda instance, reused by
/// every invocation it serves.
pub struct Started {
    pub config: Config,
    pub stores: Stores,
}

/// Logs through `tracing` to stdout (CloudWatch): JSON when the function's
/// log format is JSON (`AWS_LAMBDA_LOG_FORMAT`, set by the template), level
/// from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, `INFO` by default.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// The shared configuration: defaults, then the process environment. There is
/// no configuration file in Lambda.
pub fn config_from_env() -> Result<Config, ConfigError> {
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    let mut config = Config::default();
    config.apply_env(&vars)?;
    Ok(config)
}

/// Reads the configuration and connects Redis and MongoDB; refuses to run
/// without `REDIS_URL` and `MONGODB_URI`. A failure is reported to the
/// Runtime API as an init error before it is returned.
pub async fn start() -> Result<Started, InitError> {
    match connect().await {
        Ok(started) => Ok(started),
        Err(e) => Err(report_init_error(e).await),
    }
}

async fn connect() -> Result<Started, InitError> {
    let config = config_from_env()?;
    let stores = anomalog_store::connect::connect_external(&config).await?;
    tracing::info!(
        stream = %config.backends.redis_stream,
        database = %config.backends.mongodb_database,
        "connected to Redis and MongoDB"
    );
    Ok(Started { config, stores })
}

/// Logs `error` and reports it to the Lambda Runtime API as an init error
/// (`POST /2018-06-01/runtime/init/error`), then hands it back for `main` to
/// return. Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) it only logs.
pub async fn report_init_error<E: Display>(error: E) -> E {
    let message = error.to_string();
    tracing::error!(error = %message, "cannot start");
    let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return error;
    };
    let endpoint = match format!("http://{api}").parse() {
        Ok(uri) => uri,
        Err(e) => {
            tracing::error!(error = %e, "AWS_LAMBDA_RUNTIME_API is not a host:port");
            return error;
        }
    };
    let body = serde_json::json!({ "errorType": "Runtime.InitError", "errorMessage": message });
    let request = build_request()
        .method("POST")
        .uri(INIT_ERROR_PATH)
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()));
    let sent = match request {
        Ok(request) => PooledClient::builder()
            .with_endpoint(endpoint)
            .build()
            .call(request)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = sent {
        tracing::error!(error = %e, "cannot report the init error to the Lambda Runtime API");
    }
    error
}
