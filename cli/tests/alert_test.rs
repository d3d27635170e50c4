//! `anomalog alert test` through the real binary, against local receivers
//! standing in for Discord (answering 204) and Slack (answering 500).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn discord(State(seen): State<Seen>, body: axum::Json<Value>) -> StatusCode {
    seen.lock().unwrap().push(("discord".into(), body.0));
    StatusCode::NO_CONTENT
}

async fn slack(State(seen): State<Seen>, body: axum::Json<Value>) -> (StatusCode, &'static str) {
    seen.lock().unwrap().push(("slack".into(), body.0));
    (StatusCode::INTERNAL_SERVER_ERROR, "invalid_payload")
}

/// Serves both receivers; their URLs (each with a secret part).
async fn receivers(seen: Seen) -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/api/webhooks/1/discord-secret", post(discord))
        .route("/services/T/B/slack-secret", post(slack))
        .with_state(seen);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        format!("http://{addr}/api/webhooks/1/discord-secret"),
        format!("http://{addr}/services/T/B/slack-secret"),
    )
}

async fn alert_test(urls: &(String, String), args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_anomalog"));
    command
        .args(["alert", "test"])
        .args(args)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .env("DISCORD_WEBHOOK_URL", &urls.0)
        .env("SLACK_WEBHOOK_URL", &urls.1)
        .env_remove("ANOMALOG_WEBHOOK_URL")
        .env_remove("ANOMALOG_CONFIG");
    tokio::task::spawn_blocking(move || {
        let out = command.output().unwrap();
        drop(dir);
        out
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_channel_gets_a_labelled_test_message_and_a_failure_fails_the_command() {
    let seen = Seen::default();
    let urls = receivers(seen.clone()).await;

    let out = alert_test(&urls, &[]).await;
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("discord\tOK (204)"), "{stdout}");
    assert!(
        stdout.contains("slack\tFAILED: HTTP 500 Internal Server Error: invalid_payload"),
        "{stdout}"
    );
    assert!(stderr.contains("1 of 2 channels failed"), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains("secret"), "a webhook URL leaked: {text}");
    }
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        for (_, body) in seen.iter() {
            assert!(body.to_string().contains("anomalog test message"), "{body}");
        }
    }

    // Only the named channel; it succeeds, so the command does.
    let out = alert_test(&urls, &["--channel", "discord"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "discord\tOK (204)\n"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);

    let out = alert_test(&urls, &["--channel", "pager"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--channel pager: not configured (configured: discord, slack)"),
        "{stderr}"
    );
    assert_eq!(seen.lock().unwrap().len(), 3, "nothing sent");
}
