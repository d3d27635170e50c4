//! What the bench crate's tests share: an embedded store in a temp dir, the
//! ingest router on it, and a router served on a free loopback port.

use std::net::SocketAddr;

use anomalog_core::Config;
use anomalog_ingest::IngestState;
use anomalog_store::Stores;

/// The embedded stores in a fresh temp dir (keep the dir alive for the test)
/// and the config that opened them, after `tune` adjusted it.
pub async fn embedded(tune: impl FnOnce(&mut Config)) -> (tempfile::TempDir, Config, Stores) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.storage.data_dir = dir.path().display().to_string();
    tune(&mut config);
    let stores = anomalog_store::connect(&config)
        .await
        .expect("embedded store");
    (dir, config, stores)
}

/// The real ingest router on `stores`' queue.
pub fn ingest(stores: &Stores, config: &Config) -> axum::Router {
    anomalog_ingest::router(IngestState::new(
        stores.queue.clone(),
        config.ingest.clone(),
    ))
}

/// Serves `app` on 127.0.0.1 at a free port; its address and the server task
/// (abort it at the end of the test).
pub async fn serve(
    app: axum::Router,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (addr, server)
}
