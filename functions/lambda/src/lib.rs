//! anomalog-lambda: the start-up every AWS Lambda binary of anomalog shares.
//!
//! A function binary calls [`init_tracing`], then [`start`] with the
//! connection its function needs (ingest: the queue alone; alert: the
//! deliveries alone; detect and api: every port). [`start`] reads the shared
//! [`Config`] from the environment (`ANOMALOG_*`, `REDIS_URL`, `MONGODB_URI`,
//! ...), refuses the embedded store, and connects once per cold start.
//! Whatever fails during start is reported to the Lambda Runtime API as an
//! init error ([`report_init_error`]), so `aws lambda invoke`, `cargo lambda
//! invoke` and the console show the reason, not only the logs.
//!
//! Only the Lambda binaries (`functions/*/lambda/`) depend on this crate: the
//! function libraries and `anomalog` link no Lambda crate.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::OnceLock;

use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};

use anomalog_core::Config;
use anomalog_core::config::ConfigError;
use anomalog_store::StoreError;

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

/// The configuration and connected backends (`ports`) of one Lambda
/// instance, reused by every invocation it serves.
pub struct Started<P> {
    pub config: Config,
    pub ports: P,
}

/// Logs through `tracing` to stdout (CloudWatch): JSON when the function's
/// log format is JSON (`AWS_LAMBDA_LOG_FORMAT`, set by the template), level
/// from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` ([`log_level`]), `INFO` by
/// default. A plain level filter rather than tracing-subscriber's
/// `EnvFilter`, whose regex engine would add ~0.5 MB to every bootstrap: a
/// `RUST_LOG` of per-module directives is read as its most verbose level.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber_lambda::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(log_level(level.as_deref()))
        .with_writer(std::io::stdout);
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if let Err(e) = installed {
        eprintln!("cannot install the log subscriber: {e}");
    }
}

/// The most verbose level named in `value` (`AWS_LAMBDA_LOG_LEVEL`: `TRACE`,
/// `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`; or a `RUST_LOG` such as
/// `warn,anomalog_detect=debug`), `INFO` when it names none.
pub fn log_level(value: Option<&str>) -> tracing::level_filters::LevelFilter {
    use tracing::level_filters::LevelFilter;
    let Some(value) = value else {
        return LevelFilter::INFO;
    };
    value
        .split(',')
        .filter_map(|directive| {
            let level = directive.rsplit('=').next().unwrap_or(directive).trim();
            match level.to_ascii_lowercase().as_str() {
                "fatal" => Some(LevelFilter::ERROR),
                other => other.parse::<LevelFilter>().ok(),
            }
        })
        .max()
        .unwrap_or(LevelFilter::INFO)
}

/// The shared configuration: defaults, then the process environment. There is
/// no configuration file in Lambda.
pub fn config_from_env() -> Result<Config, ConfigError> {
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    let mut config = Config::default();
    config.apply_env(&vars)?;
    Ok(config)
}

/// CloudWatch namespace of the metrics.
pub const METRICS_NAMESPACE: &str = "anomalog";

static METRICS: OnceLock<&'static metrics_cloudwatch_embedded::Collector> = OnceLock::new();

/// Installs the global `metrics` recorder of a Lambda: the counters and
/// histograms the function crates record (the names `/metrics` serves in
/// `anomalog up`) are written to stdout as CloudWatch Embedded Metric Format
/// lines by [`flush_metrics`], in namespace [`METRICS_NAMESPACE`] with the
/// dimension `function` (`AWS_LAMBDA_FUNCTION_NAME`). Called by [`start`].
pub fn install_metrics() {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let installed = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .with_dimension("function", function)
        .init();
    match installed {
        Ok(collector) => {
            let _ = METRICS.set(collector);
        }
        Err(e) => tracing::warn!(error = %e, "cannot install the metrics recorder"),
    }
}

/// Writes what was recorded since the last flush as one EMF line to stdout;
/// call after every invocation (CloudWatch extracts the metrics from the log).
pub fn flush_metrics() {
    if let Some(collector) = METRICS.get()
        && let Err(e) = collector.flush(std::io::stdout())
    {
        tracing::warn!(error = %e, "cannot write the metrics");
    }
}

/// Reads the configuration, refuses to run without `REDIS_URL` and
/// `MONGODB_URI`, then runs `connect` (e.g.
/// `anomalog_store::connect::connect_queue`). A failure is reported to the
/// Runtime API as an init error before it is returned.
pub async fn start<P>(
    connect: impl AsyncFnOnce(&Config) -> Result<P, StoreError>,
) -> Result<Started<P>, InitError> {
    install_metrics();
    let started = async {
        let config = config_from_env()?;
        anomalog_store::connect::require_external(&config)?;
        let ports = connect(&config).await?;
        tracing::info!(
            stream = %config.backends.redis_stream,
            database = %config.backends.mongodb_database,
            "started"
        );
        Ok(Started { config, ports })
    };
    match started.await {
        Ok(started) => Ok(started),
        Err(e) => Err(report_init_error(e).await),
    }
}

/// The Runtime API endpoint from `AWS_LAMBDA_RUNTIME_API`: `host:port` as
/// AWS sets it, or with a scheme and path prefix as `cargo lambda watch` sets
/// it (`http://[::]:9000/.rt`). `None` for anything else.
pub fn runtime_api_endpoint(value: &str) -> Option<http::Uri> {
    let value = value.trim().trim_end_matches('/');
    if value.is_empty() {
        return None;
    }
    let uri = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let uri: http::Uri = uri.parse().ok()?;
    uri.authority()?;
    Some(uri)
}

/// Logs `error` and reports it to the Lambda Runtime API as an init error
/// (`POST /2018-06-01/runtime/init/error`), then hands it back for `main` to
/// return. Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) it only logs.
pub async fn report_init_error<E: Display>(error: E) -> E {
    let message = error.to_string();
    tracing::error!(error = %message, "cannot start");
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return error;
    };
    if api.trim().is_empty() {
        return error;
    }
    let Some(endpoint) = runtime_api_endpoint(&api) else {
        tracing::error!("AWS_LAMBDA_RUNTIME_API is neither host:port nor an http:// URL");
        return error;
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

#[cfg(test)]
mod tests {
    use super::{log_level, runtime_api_endpoint};
    use tracing::level_filters::LevelFilter;

    #[test]
    fn the_log_level_comes_from_lambda_or_rust_log() {
        assert_eq!(log_level(None), LevelFilter::INFO);
        assert_eq!(log_level(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(log_level(Some("warn")), LevelFilter::WARN);
        assert_eq!(
            log_level(Some("warn,anomalog_detect=trace")),
            LevelFilter::TRACE
        );
        assert_eq!(log_level(Some("nonsense")), LevelFilter::INFO);
    }

    #[test]
    fn the_runtime_api_is_read_with_or_without_a_scheme() {
        let plain = runtime_api_endpoint("127.0.0.1:9001").map(|u| u.to_string());
        assert_eq!(plain.as_deref(), Some("http://127.0.0.1:9001/"));
        let watch = runtime_api_endpoint("http://[::]:9000/.rt").map(|u| u.to_string());
        assert_eq!(watch.as_deref(), Some("http://[::]:9000/.rt"));
        assert!(runtime_api_endpoint("").is_none());
        assert!(runtime_api_endpoint("not a host").is_none());
    }
}
