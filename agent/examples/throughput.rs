//! Measures the agent binary: file -> HTTP request, next to `cat FILE > /dev/null`.
//!
//! ```text
//! cargo build --release -p anomalog-agent --example throughput
//! target/release/examples/throughput [--lines N] [--agent PATH] [--anomalog URL]
//! ```
//!
//! Writes a file of 150-byte log lines (timestamp, level, logfmt-ish text), then
//! times `cat` on it and runs `anomalog-agent file FILE` (read once, ship, exit)
//! under `/usr/bin/time` into a local HTTP sink that discards every body
//! (answering 202), with and without multi-line joining; with `--anomalog URL`
//! also into a running `anomalog up`. Prints wall time, MiB/s, lines/s, CPU
//! seconds (user + system), MiB per CPU second and peak RSS of the agent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn write_file(path: &Path, lines: usize) -> u64 {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
    let start = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let mut bytes = 0;
    for i in 0..lines {
        let ts = start + chrono::TimeDelta::milliseconds(i as i64 * 3);
        let mut line = format!(
            "{} {} request handled method=GET path=/api/v1/orders/{} status=200 duration_ms={} user=u{}",
            ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            levels[i % levels.len()],
            i % 9973,
            i % 731,
            i % 1009
        );
        while line.len() < 149 {
            line.push('x');
        }
        line.truncate(149);
        line.push('\n');
        bytes += line.len() as u64;
        out.write_all(line.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    bytes
}

struct Measured {
    wall: f64,
    cpu: f64,
    max_rss_kb: u64,
}

fn time_command(command: &mut Command) -> Measured {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .expect("the /usr/bin/time line");
    let f: Vec<f64> = last[5..]
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Measured {
        wall: f[0],
        cpu: f[1] + f[2],
        max_rss_kb: f[3] as u64,
    }
}

fn timed(program: &str) -> Command {
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "TIME %e %U %S %M", program]);
    command
}

fn report(name: &str, bytes: u64, lines: usize, m: &Measured) {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "{name:<34} {:>7.2} s {:>8.1} MiB/s {:>10.0} lines/s  cpu {:>6.2} s {:>8.1} MiB/cpu-s  rss {:>6.1} MiB",
        m.wall,
        mib / m.wall.max(1e-6),
        lines as f64 / m.wall.max(1e-6),
        m.cpu,
        mib / m.cpu.max(1e-6),
        m.max_rss_kb as f64 / 1024.0
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let lines: usize = arg("--lines").map_or(700_000, |n| n.parse().unwrap());
    let agent = arg("--agent").unwrap_or_else(|| "target/release/anomalog-agent".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.log");
    let bytes = write_file(&file, lines);
    println!(
        "file: {lines} lines, {:.1} MiB ({} bytes/line)",
        bytes as f64 / 1048576.0,
        bytes / lines as u64
    );

    let received = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let sink = {
        let (received, requests) = (received.clone(), requests.clone());
        Router::new().route(
            "/ingest",
            post(move |body: Bytes| {
                let (received, requests) = (received.clone(), requests.clone());
                async move {
                    received.fetch_add(body.len() as u64, Ordering::Relaxed);
                    requests.fetch_add(1, Ordering::Relaxed);
                    (StatusCode::ACCEPTED, "{}")
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, sink).await.unwrap() });

    let cat = tokio::task::spawn_blocking({
        let file = file.clone();
        move || {
            time_command(
                timed("sh")
                    .arg("-c")
                    .arg(format!("cat '{}' > /dev/null", file.display())),
            )
        }
    })
    .await
    .unwrap();
    report("cat FILE > /dev/null", bytes, lines, &cat);

    let mut runs: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "agent -> discarding sink",
            sink_url.clone(),
            vec!["--no-multiline"],
        ),
        ("agent -> sink, multi-line on", sink_url.clone(), vec![]),
    ];
    let anomalog = arg("--anomalog");
    if let Some(url) = &anomalog {
        runs.push(("agent -> anomalog up", url.clone(), vec!["--no-multiline"]));
    }
    for (run, (name, url, extra)) in runs.into_iter().enumerate() {
        let state = dir.path().join(format!("state-{run}"));
        let before = received.load(Ordering::Relaxed);
        let measured = tokio::task::spawn_blocking({
            let (agent, file, url) = (agent.clone(), file.clone(), url.clone());
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            move || {
                time_command(
                    timed(&agent)
                        .args(["--url", &url, "--service", "bench", "--data-dir"])
                        .arg(&state)
                        .args(&extra)
                        .arg("file")
                        .arg(&file)
                        .env("RUST_LOG", "warn"),
                )
            }
        })
        .await
        .unwrap();
        report(name, bytes, lines, &measured);
        if url == sink_url {
            let wire = received.load(Ordering::Relaxed) - before;
            println!(
                "{:<34} {:.1} MiB on the wire (zstd), {:.1}x smaller than the file",
                "",
                wire as f64 / 1048576.0,
                bytes as f64 / wire.max(1) as f64
            );
        }
    }
}
