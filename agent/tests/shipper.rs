//! The shipper against a real local HTTP server.

// Helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use anomalog_agent::{RejectedEvent, ShipError, Shipper, ShipperConfig};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::{TestServer, accepted, error, numbered_events, retry_after, shipper_for};
use serde_json::json;

#[tokio::test]
async fn successful_send_posts_one_json_request_and_returns_the_receipt() {
    let server = TestServer::accepting().await;
    let mut config = ShipperConfig::from_base_url(&server.base_url);
    config.api_key = Some("test-key".to_owned());
    let shipper = Shipper::new(config).unwrap();
    let events = numbered_events(3);

    let receipt = shipper.send(&events).await.unwrap();

    assert_eq!(receipt.accepted, 3);
    assert_eq!(receipt.rejected, 0);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].events, events);
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer test-key"));
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn empty_batch_sends_nothing() {
    let server = TestServer::accepting().await;
    let receipt = server.shipper(0).send(&[]).await.unwrap();
    assert_eq!(receipt.accepted, 0);
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn unavailable_with_retry_after_is_retried_after_the_delay() {
    let server = TestServer::start(|index, events| {
        if index == 0 {
            retry_after(StatusCode::SERVICE_UNAVAILABLE, 1)
        } else {
            accepted(events.len())
        }
    })
    .await;
    let started = Instant::now();

    let receipt = server.shipper(3).send(&numbered_events(4)).await.unwrap();

    assert_eq!(receipt.accepted, 4);
    assert_eq!(server.sizes(), [4, 4]);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn too_many_requests_is_retried_until_retries_run_out() {
    let server = TestServer::start(|_, _| retry_after(StatusCode::TOO_MANY_REQUESTS, 0)).await;

    let result = server.shipper(2).send(&numbered_events(1)).await;

    assert!(
        matches!(result, Err(ShipError::RetriesExhausted { attempts: 3, .. })),
        "{result:?}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn bad_request_is_not_retried() {
    let server = TestServer::start(|_, _| error(StatusCode::BAD_REQUEST, "no usable event")).await;

    let result = server.shipper(5).send(&numbered_events(2)).await;

    match result {
        Err(ShipError::Rejected { status, message }) => {
            assert_eq!(status, 400);
            assert_eq!(message, "no usable event");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn unauthorized_is_an_auth_failure_and_not_retried() {
    let server = TestServer::start(|_, _| error(StatusCode::UNAUTHORIZED, "bad key")).await;

    let error = server
        .shipper(5)
        .send(&numbered_events(2))
        .await
        .unwrap_err();

    assert!(error.is_auth_failure());
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn payload_too_large_splits_the_batch_in_halves_in_order() {
    let server = TestServer::start(|_, events| {
        if events.len() > 2 {
            error(StatusCode::PAYLOAD_TOO_LARGE, "too many events")
        } else {
            accepted(events.len())
        }
    })
    .await;
    let events = numbered_events(8);

    let receipt = server.shipper(0).send(&events).await.unwrap();

    assert_eq!(receipt.accepted, 8);
    assert_eq!(server.sizes(), [8, 4, 2, 2, 4, 2, 2]);
    let delivered: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|s| s.events.len() <= 2)
        .flat_map(|s| s.events)
        .collect();
    assert_eq!(delivered, events);
}

#[tokio::test]
async fn a_single_event_that_is_too_large_is_rejected() {
    let server = TestServer::start(|_, _| error(StatusCode::PAYLOAD_TOO_LARGE, "too big")).await;

    let result = server.shipper(0).send(&numbered_events(2)).await;

    assert!(
        matches!(result, Err(ShipError::Rejected { status: 413, .. })),
        "{result:?}"
    );
    assert_eq!(server.sizes(), [2, 1]);
}

#[tokio::test]
async fn rejected_event_indexes_refer_to_the_original_batch_after_a_split() {
    let server = TestServer::start(|_, events| {
        if events.len() > 2 {
            return error(StatusCode::PAYLOAD_TOO_LARGE, "too many events");
        }
        let body = json!({
            "accepted": events.len() - 1,
            "rejected": 1,
            "errors": [{"index": 1, "reason": "level must be a string"}]
        });
        (StatusCode::ACCEPTED, axum::Json(body)).into_response()
    })
    .await;

    let receipt = server.shipper(0).send(&numbered_events(8)).await.unwrap();

    assert_eq!(receipt.accepted, 4);
    assert_eq!(receipt.rejected, 4);
    let indexes: Vec<usize> = receipt
        .errors
        .iter()
        .map(|e: &RejectedEvent| e.index)
        .collect();
    assert_eq!(indexes, [1, 3, 5, 7]);
}

#[tokio::test]
async fn batches_over_the_event_limit_are_split_before_sending() {
    let server = TestServer::accepting().await;
    let mut config = ShipperConfig::from_base_url(&server.base_url);
    config.max_events_per_request = 3;
    let shipper = Shipper::new(config).unwrap();
    let events = numbered_events(7);

    let receipt = shipper.send(&events).await.unwrap();

    assert_eq!(receipt.accepted, 7);
    assert!(
        server.sizes().iter().all(|&n| n <= 3),
        "{:?}",
        server.sizes()
    );
    let delivered: Vec<_> = server.seen().into_iter().flat_map(|s| s.events).collect();
    assert_eq!(delivered, events);
}

#[tokio::test]
async fn batches_over_the_byte_limit_are_split_before_sending() {
    let server = TestServer::accepting().await;
    let mut config = ShipperConfig::from_base_url(&server.base_url);
    config.max_bytes_per_request = 300;
    let shipper = Shipper::new(config).unwrap();

    let receipt = shipper.send(&numbered_events(10)).await.unwrap();

    assert_eq!(receipt.accepted, 10);
    assert!(server.seen().len() > 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = TestServer::start(|index, events| {
        if index < 2 {
            error(StatusCode::INTERNAL_SERVER_ERROR, "store unavailable")
        } else {
            accepted(events.len())
        }
    })
    .await;

    let receipt = server.shipper(3).send(&numbered_events(1)).await.unwrap();

    assert_eq!(receipt.accepted, 1);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    // Bind then drop a listener: its port now refuses connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let shipper = shipper_for(&format!("http://{addr}"), 2);

    let result = shipper.send(&numbered_events(1)).await;

    assert!(
        matches!(result, Err(ShipError::RetriesExhausted { attempts: 3, .. })),
        "{result:?}"
    );
}
