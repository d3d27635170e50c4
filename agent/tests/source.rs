//! File and stdin-style sources, and the batcher shipping their lines.

// Helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::time::Duration;

use anomalog_agent::source::{
    BatchOptions, FileSourceOptions, Line, line_channel, read_file, ship_lines,
};
use chrono::Utc;
use common::TestServer;
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(3);

async fn next_text(rx: &mut mpsc::Receiver<Line>) -> String {
    timeout(WAIT, rx.recv())
        .await
        .expect("a line within the timeout")
        .expect("the channel open")
        .text
}

fn append(path: &std::path::Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn following(path: &std::path::Path, from_start: bool) -> FileSourceOptions {
    let mut options = FileSourceOptions::new(path);
    options.follow = true;
    options.from_start = from_start;
    options.poll_interval = Duration::from_millis(20);
    options
}

#[tokio::test]
async fn reading_a_file_from_start_sends_every_line_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, "one\ntwo\r\n\nthree");
    let (tx, mut rx) = line_channel();

    let sent = read_file(&FileSourceOptions::new(&path), tx).await.unwrap();

    assert_eq!(sent, 3);
    let mut texts = Vec::new();
    while let Some(line) = rx.recv().await {
        texts.push(line.text);
    }
    assert_eq!(texts, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_missing_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.log");
    let (tx, _rx) = line_channel();

    let error = read_file(&FileSourceOptions::new(&path), tx)
        .await
        .unwrap_err();

    assert!(error.to_string().contains("absent.log"), "{error}");
}

#[tokio::test]
async fn following_from_the_end_sends_only_appended_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, "old line\n");
    let (tx, mut rx) = line_channel();
    let options = following(&path, false);
    let reader = tokio::spawn(async move { read_file(&options, tx).await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    append(&path, "new line\nhalf ");
    tokio::time::sleep(Duration::from_millis(60)).await;
    append(&path, "a line\n");

    assert_eq!(next_text(&mut rx).await, "new line");
    assert_eq!(next_text(&mut rx).await, "half a line");
    reader.abort();
}

#[tokio::test]
async fn following_rereads_a_truncated_file_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, "first line that is fairly long\n");
    let (tx, mut rx) = line_channel();
    let options = following(&path, true);
    let reader = tokio::spawn(async move { read_file(&options, tx).await });
    assert_eq!(next_text(&mut rx).await, "first line that is fairly long");

    std::fs::write(&path, "").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(&path, "after\n");

    assert_eq!(next_text(&mut rx).await, "after");
    reader.abort();
}

#[tokio::test]
async fn following_reopens_a_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, "before rotation\n");
    let (tx, mut rx) = line_channel();
    let options = following(&path, true);
    let reader = tokio::spawn(async move { read_file(&options, tx).await });
    assert_eq!(next_text(&mut rx).await, "before rotation");

    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    append(&path, "a much longer first line of the new file\n");

    assert_eq!(
        next_text(&mut rx).await,
        "a much longer first line of the new file"
    );
    reader.abort();
}

#[tokio::test]
async fn batcher_ships_full_batches_then_the_rest_on_close() {
    let server = TestServer::accepting().await;
    let shipper = server.shipper(0);
    let mut options = BatchOptions::new("billing");
    options.max_lines = 3;
    options.max_wait = Duration::from_secs(60);
    options.source = Some("/var/log/billing.log".to_owned());
    let (tx, rx) = line_channel();
    for i in 0..7 {
        let text = if i == 4 {
            "ERROR payment provider down".to_owned()
        } else {
            format!("line {i}")
        };
        tx.send(Line {
            text,
            read_at: Utc::now(),
        })
        .await
        .unwrap();
    }
    drop(tx);

    let report = ship_lines(rx, &shipper, &options).await.unwrap();

    assert_eq!(server.sizes(), [3, 3, 1]);
    assert_eq!(report.lines, 7);
    assert_eq!(report.accepted, 7);
    assert_eq!(report.dropped, 0);
    let events: Vec<_> = server.seen().into_iter().flat_map(|s| s.events).collect();
    assert_eq!(events[0]["message"], "line 0");
    assert_eq!(events[0]["service"], "billing");
    assert_eq!(events[0]["source"], "/var/log/billing.log");
    assert!(events[0]["ts"].as_str().is_some());
    assert_eq!(events[4]["level"], "ERROR");
    assert!(events[0].get("level").is_none());
}

#[tokio::test]
async fn batcher_ships_a_partial_batch_after_the_wait() {
    let server = TestServer::accepting().await;
    let shipper = server.shipper(0);
    let mut options = BatchOptions::new("app");
    options.max_wait = Duration::from_millis(100);
    let (tx, rx) = line_channel();
    let batcher = tokio::spawn(async move { ship_lines(rx, &shipper, &options).await });

    tx.send(Line {
        text: "lonely line".to_owned(),
        read_at: Utc::now(),
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;

    assert_eq!(server.sizes(), [1], "shipped before the channel closed");
    drop(tx);
    let report = batcher.await.unwrap().unwrap();
    assert_eq!(report.accepted, 1);
}

#[tokio::test]
async fn batcher_drops_batches_the_server_refuses_and_goes_on() {
    let server = TestServer::start(|index, events| {
        if index == 0 {
            common::error(axum::http::StatusCode::BAD_REQUEST, "no usable event")
        } else {
            common::accepted(events.len())
        }
    })
    .await;
    let shipper = server.shipper(0);
    let mut options = BatchOptions::new("app");
    options.max_lines = 2;
    let (tx, rx) = line_channel();
    for i in 0..4 {
        tx.send(Line {
            text: format!("line {i}"),
            read_at: Utc::now(),
        })
        .await
        .unwrap();
    }
    drop(tx);

    let report = ship_lines(rx, &shipper, &options).await.unwrap();

    assert_eq!(report.dropped, 2);
    assert_eq!(report.accepted, 2);
}
