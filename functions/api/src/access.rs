//! Who may read: whenever any API key exists (the configuration's or the
//! `KeyStore`'s), every route under `/api` needs a key with the `read` scope
//! (`Authorization: Bearer <key>`), except liveness and the API's own
//! documentation. Logs may hold secrets. `anomalog up` and the api Lambda
//! both serve [`guarded_router`], so the rule cannot differ between them.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use anomalog_ingest::auth::Authenticator;
use anomalog_store::Scope;

use crate::{ApiState, openapi, router};

/// [`router`] behind [`require_read_key`] with `auth`'s keys.
pub fn guarded_router(state: ApiState, auth: Arc<Authenticator>) -> Router {
    router(state).layer(axum::middleware::from_fn(move |req, next| {
        require_read_key(auth.clone(), req, next)
    }))
}

/// Middleware: a `read` key when any key exists (401 without a valid key,
/// 403 for a key without the scope), except on `/api/health`,
/// `/api/openapi.json` and `/api/docs`.
pub async fn require_read_key(auth: Arc<Authenticator>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let public = path == "/api/health"
        || path == openapi::DOCUMENT_PATH
        || path.starts_with(openapi::DOCS_PATH);
    if public {
        return next.run(req).await;
    }
    anomalog_ingest::auth::require_scope(auth, Scope::Read, req, next).await
}
