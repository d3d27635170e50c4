//! What the bench crate's tests share: a router served on a free loopback
//! port.

use std::net::SocketAddr;

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
