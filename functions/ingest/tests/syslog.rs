//! The syslog listeners driven by util-linux `logger` over TCP (octet-counting
//! and newline framing) and UDP in both RFC formats, and by syslog-ng's
//! `http()` destination posting its JSON to `/ingest`.
//!
//! Needs `logger` (bsdutils) and `syslog-ng` (syslog-ng-core), installed by
//! `ensure_protocol_clients` in scripts/lib.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anomalog_core::config::{IngestConfig, SyslogConfig};
use anomalog_core::{Level, LogEvent};
use anomalog_ingest::IngestState;
use anomalog_ingest::syslog::SyslogListener;
use anomalog_store::{EmbeddedStore, EventQueue};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

struct Listening {
    store: Arc<EmbeddedStore>,
    _dir: tempfile::TempDir,
    tcp: SocketAddr,
    udp: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn listen(flush_interval_ms: u64, config: IngestConfig) -> Listening {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let syslog = SyslogConfig {
        tcp: Some("127.0.0.1:0".into()),
        udp: Some("127.0.0.1:0".into()),
        flush_interval_ms,
        ..SyslogConfig::default()
    };
    let listener = SyslogListener::bind(&syslog, IngestState::new(store.clone(), config))
        .await
        .unwrap();
    let (tcp, udp) = (listener.tcp_addr().unwrap(), listener.udp_addr().unwrap());
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(listener.run(stop_rx));
    Listening {
        store,
        _dir: dir,
        tcp,
        udp,
        stop,
        task,
    }
}

async fn logger(args: &[&str]) {
    let out = tokio::process::Command::new("logger")
        .args(args)
        .output()
        .await
        .expect("logger (bsdutils) is installed");
    assert!(
        out.status.success(),
        "logger {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn drain(store: &EmbeddedStore) -> Vec<LogEvent> {
    let entries = store.claim("test", 1000).await.unwrap();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    store.ack(&ids).await.unwrap();
    entries.into_iter().flat_map(|e| e.events).collect()
}

/// Waits until `n` events are queued (at most 5 s), then drains them.
async fn wait_for(store: &EmbeddedStore, n: usize) -> Vec<LogEvent> {
    let mut events = Vec::new();
    for _ in 0..100 {
        events.extend(drain(store).await);
        if events.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    events
}

#[tokio::test]
async fn logger_messages_arrive_over_tcp_and_udp_in_both_rfc_formats() {
    let l = listen(50, IngestConfig::default()).await;
    let (tcp_port, udp_port) = (l.tcp.port().to_string(), l.udp.port().to_string());
    let common = |port: &str| {
        vec![
            "-n".to_owned(),
            "127.0.0.1".to_owned(),
            "-P".to_owned(),
            port.to_owned(),
        ]
    };
    let sends: Vec<Vec<String>> = vec![
        [
            common(&tcp_port),
            vec![
                "--tcp",
                "--rfc5424",
                "--octet-count",
                "-t",
                "payments",
                "-p",
                "local0.err",
                "--msgid",
                "PAY1",
                "--sd-id",
                "order@32473",
                "--sd-param",
                "id=\"42\"",
                "tcp 5424 counted",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ]
        .concat(),
        [
            common(&tcp_port),
            [
                "--tcp",
                "--rfc3164",
                "-t",
                "nginx",
                "-p",
                "daemon.warning",
                "tcp 3164 newline",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ]
        .concat(),
        [
            common(&udp_port),
            [
                "--udp",
                "--rfc5424",
                "-t",
                "cron",
                "-p",
                "cron.info",
                "udp 5424",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ]
        .concat(),
        [
            common(&udp_port),
            [
                "--udp",
                "--rfc3164",
                "-t",
                "kernel",
                "-p",
                "kern.crit",
                "udp 3164",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ]
        .concat(),
    ];
    for args in &sends {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        logger(&args).await;
    }
    let mut events = wait_for(&l.store, 4).await;
    events.sort_by(|a, b| a.message.cmp(&b.message));
    let got: Vec<(&str, &str, Level)> = events
        .iter()
        .map(|e| (e.message.as_str(), e.service.as_str(), e.level))
        .collect();
    assert_eq!(
        got,
        [
            ("tcp 3164 newline", "nginx", Level::Warn),
            ("tcp 5424 counted", "payments", Level::Error),
            ("udp 3164", "kernel", Level::Fatal),
            ("udp 5424", "cron", Level::Info),
        ]
    );
    let counted = &events[1];
    assert_eq!(counted.attrs["order@32473.id"], "42");
    assert_eq!(counted.attrs["syslog.msgid"], "PAY1");
    assert_eq!(counted.attrs["syslog.facility"], "local0");
    assert!(counted.host.is_some(), "logger sends its hostname");
    assert_eq!(counted.attrs["program"], "payments");
    assert_eq!(events[0].attrs["program"], "nginx", "the 3164 TAG");
    let _ = l.stop.send(true);
    l.task.await.unwrap();
}

#[tokio::test]
async fn a_clean_stop_appends_what_was_read_and_bad_frames_lose_nothing_else() {
    // A long flush interval: only the stop flushes the batch.
    let l = listen(
        60_000,
        IngestConfig {
            max_line_bytes: 200,
            ..IngestConfig::default()
        },
    )
    .await;
    let mut tcp = tokio::net::TcpStream::connect(l.tcp).await.unwrap();
    let long = format!("<11>1 - host app - - - {}\n", "x".repeat(500));
    let body = format!(
        "<14>1 2026-01-02T03:04:05Z h1 app - - - before\n{long}\
         ERROR not syslog at all, kept as text\n\
         26 <12>1 - h1 app - - - after\n"
    );
    tcp.write_all(body.as_bytes()).await.unwrap();
    tcp.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(l.store.backlog().await.unwrap(), 0, "still batching");

    let _ = l.stop.send(true);
    l.task.await.unwrap();
    let events = drain(&l.store).await;
    let got: Vec<(&str, Level)> = events
        .iter()
        .map(|e| (e.message.as_str(), e.level))
        .collect();
    assert_eq!(
        got,
        [
            ("before", Level::Info),
            ("ERROR not syslog at all, kept as text", Level::Error),
            ("after", Level::Warn),
        ]
    );
    assert_eq!(events[2].service, "app");
    assert_eq!(events[1].service, "syslog", "the default service");
}

/// Starts syslog-ng in the foreground with a `syslog()` TCP source on a free
/// port, forwarding everything to `destination`; returns it and that port
/// once the source listens.
async fn start_syslog_ng(dir: &std::path::Path, destination: &str) -> (tokio::process::Child, u16) {
    let source_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let conf = format!(
        r#"@version: 3.38
options {{ keep-hostname(yes); }};
source s_net {{ syslog(ip("127.0.0.1") port({source_port}) transport("tcp")); }};
destination d_anomalog {{ {destination}; }};
log {{ source(s_net); destination(d_anomalog); }};
"#
    );
    let conf_path = dir.join("syslog-ng.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = tokio::process::Command::new("syslog-ng")
        .arg("-F")
        .arg("--no-caps")
        .arg("-f")
        .arg(&conf_path)
        .arg("-R")
        .arg(dir.join("persist"))
        .arg("-p")
        .arg(dir.join("pid"))
        .arg("-c")
        .arg(dir.join("ctl"))
        .kill_on_drop(true)
        .spawn()
        .expect("syslog-ng (syslog-ng-core) is installed");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", source_port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, source_port)
}

#[tokio::test]
async fn syslog_ng_forwards_to_the_tcp_listener_with_its_syslog_destination() {
    let l = listen(50, IngestConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let destination = format!(
        r#"syslog("127.0.0.1" transport("tcp") port({}))"#,
        l.tcp.port()
    );
    let (mut syslog_ng, source_port) = start_syslog_ng(dir.path(), &destination).await;
    let port = source_port.to_string();
    logger(&[
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        "--tcp",
        "--octet-count",
        "--rfc5424",
        "-t",
        "billing",
        "-p",
        "local3.warning",
        "--sd-id",
        "order@32473",
        "--sd-param",
        "id=\"7\"",
        "invoice late",
    ])
    .await;
    let events = wait_for(&l.store, 1).await;
    let _ = syslog_ng.kill().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].message, "invoice late");
    assert_eq!(events[0].service, "billing");
    assert_eq!(events[0].level, Level::Warn);
    assert_eq!(events[0].attrs["syslog.facility"], "local3");
    assert_eq!(events[0].attrs["order@32473.id"], "7");
    let _ = l.stop.send(true);
    l.task.await.unwrap();
}

/// syslog-ng (Debian) forwarding with its `http()` destination and the
/// documented `format-json --scope rfc5424` body: its keys are upper case
/// (`MESSAGE`, `PROGRAM`, `ISODATE`, `PRIORITY`), which `/ingest` matches
/// case-insensitively.
#[tokio::test]
async fn syslog_ng_http_destination_posts_its_json_to_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let app = anomalog_ingest::router(IngestState::new(store.clone(), IngestConfig::default()));
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_addr = http.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(http, app).await.unwrap() });

    let destination = format!(
        r#"http(url("http://{http_addr}/ingest")
         method("POST")
         headers("Content-Type: application/json")
         body("$(format-json --scope rfc5424 --key ISODATE)"))"#
    );
    let (mut syslog_ng, source_port) = start_syslog_ng(dir.path(), &destination).await;
    let port = source_port.to_string();
    logger(&[
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        "--tcp",
        "--octet-count",
        "--rfc5424",
        "-t",
        "billing",
        "-p",
        "user.err",
        "invoice failed",
    ])
    .await;
    let events = wait_for(&store, 1).await;
    let _ = syslog_ng.kill().await;
    server.abort();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].message, "invoice failed");
    assert_eq!(events[0].service, "billing");
    assert_eq!(events[0].level, Level::Error);
}
