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
    /// Serve on a non-loopback address without API keys, so that anyone who
    /// can reach it may read and write (refused otherwise).
    #[arg(long)]
    pub allow_open: bool,
}

/// Runs until Ctrl-C or SIGTERM, then shuts down cleanly: stops accepting,
/// finishes in-flight requests, runs a last detect pass.
pub async fn run(mut config: Config, args: UpArgs) -> anyhow::Result<()> {
    let storage = if config.backends.external() {
        format!(
            "Redis stream '{}' + MongoDB database '{}'",
            config.backends.redis_stream, config.backends.mongodb_database
        )
    } else {
        format!("embedded in {}", config.storage.data_dir)
    };
    let addr: SocketAddr = config.server.addr.parse().context("server.addr")?;
    let keys = anomalog_store::keys::connect_keys(&config)
        .await
        .context("opening the API key store")?;
    let stored_keys = keys.list().await.context("reading the API keys")?.len();
    if !addr.ip().is_loopback()
        && config.ingest.api_keys.is_empty()
        && stored_keys == 0
        && !(config.server.allow_open || args.allow_open)
    {
        anyhow::bail!(
            "refusing to serve {addr} without API keys: anyone who can reach it could read \
             every log and write any; create a key (anomalog keys create), set \
             ANOMALOG_API_KEYS (ingest.api_keys), listen on 127.0.0.1, or pass --allow-open \
             (server.allow_open = true) to run open on purpose"
        );
    }
    let stores = anomalog_store::connect(&config)
        .await
        .with_context(|| format!("opening storage ({storage})"))?;
    let metrics = crate::prometheus::install().context("installing the metrics recorder")?;

    if args.demo && config.ingest.api_keys.is_empty() && stored_keys > 0 {
        // The demo shipper needs a key too: one of this process only.
        config.ingest.api_keys.push(crate::keys::generate()?);
    }
    let ingest = IngestState::new(stores.queue.clone(), config.ingest.clone()).with_key_store(keys);
    let read_auth = ingest.auth.clone();
    let app = Router::new()
        .merge(anomalog_ingest::router(ingest))
        .merge(anomalog_api::guarded_router(
            ApiState::new(stores.clone()),
            read_auth,
        ))
        .merge(crate::prometheus::router(metrics, stores.clone()))
        .merge(site_routes(&args.site_dir))
        // Elasticsearch clients' `GET /` product check; browsers get the dashboard.
        .layer(axum::middleware::from_fn(
            anomalog_ingest::bulk::answer_product_check,
        ));
    let limits = crate::server::ServerLimits::from_config(&config.server);
    let app = crate::server::harden(app, &config.server, &limits);

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
    tasks.spawn(crate::server::spawn_off_workers(
        "detect",
        detect_loop(
            detect.clone(),
            Duration::from_secs(config.server.detect_interval_secs),
            stop_rx.clone(),
        ),
    )?);
    match AlertWorker::new(&stores, &config.alert) {
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
    if config.syslog.tcp.is_some() || config.syslog.udp.is_some() {
        let state = IngestState::new(stores.queue.clone(), config.ingest.clone());
        let syslog = anomalog_ingest::syslog::SyslogListener::bind(&config.syslog, state)
            .await
            .context("binding the syslog listeners (syslog.tcp, syslog.udp)")?;
        tracing::info!(tcp = ?syslog.tcp_addr(), udp = ?syslog.udp_addr(), "syslog listening");
        tasks.spawn(syslog.run(stop_rx.clone()));
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

    let server = tokio::spawn(crate::server::serve(listener, app, limits, stop_rx.clone()));

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    server.await.context("server task")?;
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
