//! `anomalog up`: every function in one process, on embedded storage or, when
//! `REDIS_URL` and `MONGODB_URI` are set, on Redis and MongoDB.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use chrono::Utc;
use tokio::sync::watch;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};

use anomalog_agent::{DemoOptions, Shipper, ShipperConfig, run_demo};
use anomalog_alert::{AlertError, AlertWorker};
use anomalog_api::ApiState;
use anomalog_core::Config;
use anomalog_detect::{DetectWorker, UP_CONSUMER};
use anomalog_ingest::IngestState;

/// Page served at `/` when the dashboard has not been built.
const PLACEHOLDER_PAGE: &str = include_str!("../../site/placeholder.html");

/// Longest the detect tick run at shutdown may take (a large backlog on a
/// slow backend must not hold Ctrl-C hostage).
const FINAL_PASS_LIMIT: Duration = Duration::from_secs(10);

/// How long one detect tick may keep draining a backlog before it yields to
/// the next (the queue is drained in passes of bounded size meanwhile).
const TICK_BUDGET: Duration = Duration::from_secs(30);

/// How often the alert worker delivers a round.
const ALERT_EVERY: Duration = Duration::from_secs(5);

/// Arguments of `anomalog up`.
#[derive(clap::Args)]
pub struct UpArgs {
    /// Listen address (default 127.0.0.1:8080).
    #[arg(long)]
    pub addr: Option<String>,
    /// Data directory of the embedded store (default ./anomalog-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Also generate realistic demo traffic with scheduled incidents.
    #[arg(long)]
    pub demo: bool,
    /// Directory of the built dashboard, served at `/`.
    #[arg(long, default_value = "site/dist")]
    pub site_dir: PathBuf,
}

/// Runs until Ctrl-C or SIGTERM, then shuts down cleanly: stops accepting,
/// finishes in-flight requests, runs a last detect pass.
pub async fn run(config: Config, args: UpArgs) -> anyhow::Result<()> {
    let storage = if config.backends.external() {
        format!(
            "Redis stream '{}' + MongoDB database '{}'",
            config.backends.redis_stream, config.backends.mongodb_database
        )
    } else {
        format!("embedded in {}", config.storage.data_dir)
    };
    let stores = anomalog_store::connect(&config)
        .await
        .with_context(|| format!("opening storage ({storage})"))?;
    let metrics = crate::prometheus::install().context("installing the metrics recorder")?;

    let app = Router::new()
        .merge(anomalog_ingest::router(IngestState::new(
            stores.queue.clone(),
            config.ingest.clone(),
        )))
        .merge(anomalog_api::router(ApiState::new(stores.clone())).layer(CorsLayer::permissive()))
        .merge(crate::prometheus::router(metrics, stores.clone()))
        .merge(site_routes(&args.site_dir));

    let addr: SocketAddr = config.server.addr.parse().context("server.addr")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        addr = %local,
        storage = %storage,
        "anomalog up: dashboard http://{local}/  ingest POST http://{local}/ingest  api http://{local}/api/health  metrics http://{local}/metrics"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let detect = Arc::new(DetectWorker::new(stores.clone(), &config, UP_CONSUMER));
    tasks.spawn(detect_loop(
        detect.clone(),
        Duration::from_secs(config.server.detect_interval_secs),
        stop_rx.clone(),
    ));
    match AlertWorker::new(stores.deliveries.clone(), &config.alert) {
        Ok(alert) => {
            tracing::info!(channels = alert.channels().len(), "alerting on");
            tasks.spawn(alert_loop(alert, stop_rx.clone()));
        }
        Err(AlertError::NoChannel) => tracing::info!(
            "alerting off: none of {} is set",
            anomalog_alert::CHANNEL_VARS.join(", ")
        ),
        Err(e) => return Err(e.into()),
    }
    if args.demo {
        let shipper_config = ShipperConfig {
            api_key: config.ingest.api_keys.first().cloned(),
            ..ShipperConfig::from_base_url(&format!("http://{local}"))
        };
        let shipper = Shipper::new(shipper_config)?;
        let mut demo_stop = stop_rx.clone();
        tasks.spawn(async move {
            let opts = DemoOptions::starting_at(Utc::now());
            let stopped = async move {
                let _ = demo_stop.wait_for(|s| *s).await;
            };
            if let Err(e) = run_demo(&shipper, opts, stopped).await {
                tracing::error!(error = %e, "demo traffic stopped");
            }
        });
    }

    let mut server_stop = stop_rx.clone();
    // Connection info gives ingest the client address (its rate-limit key
    // when no API keys are configured).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = server_stop.wait_for(|s| *s).await;
    });
    let server = tokio::spawn(async move { server.await });

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    server.await.context("server task")?.context("server")?;
    while let Some(joined) = tasks.join_next().await {
        joined.context("background task")?;
    }
    let deadline = std::time::Instant::now() + FINAL_PASS_LIMIT;
    let last = tokio::time::timeout(FINAL_PASS_LIMIT, detect.tick(deadline)).await;
    match last {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(
            error = %e,
            "final detect pass failed; queued data stays for the next start"
        ),
        Err(_) => {
            tracing::warn!("final detect pass cut short; queued data stays for the next start")
        }
    }
    tracing::info!("stopped");
    Ok(())
}

fn site_routes(site_dir: &Path) -> Router {
    let index = site_dir.join("index.html");
    if index.exists() {
        Router::new().fallback_service(ServeDir::new(site_dir).fallback(ServeFile::new(index)))
    } else {
        Router::new().route("/", get(|| async { Html(PLACEHOLDER_PAGE) }))
    }
}

async fn detect_loop(worker: Arc<DetectWorker>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let deadline = std::time::Instant::now() + TICK_BUDGET.max(every);
        tokio::select! {
            result = worker.tick(deadline) => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "detect tick failed; will retry");
                }
            }
            // Stopping mid-pass is safe: claimed entries stay queued until
            // acknowledged, and persisting them again changes nothing.
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn alert_loop(worker: AlertWorker, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(ALERT_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = worker.tick().await {
            tracing::warn!(error = %e, "alert round failed; will retry");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
