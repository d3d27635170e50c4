//! Calling an axum router in process, as the Lambda adapters and `up` do.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

/// Sends `request` to `app` and returns its status and body (lossy UTF-8).
///
/// # Panics
/// When the router fails or its body cannot be read: tests fail loudly.
#[allow(clippy::expect_used)] // test support: a failure here is a failed test
pub async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body is read");
    (status, String::from_utf8_lossy(&body).into_owned())
}
