//! Hostile requests against the real `anomalog up` binary: every class of
//! abuse issue 12 measured (query strings that panicked, a GET that
//! exhausted memory, control-character amplification, slow and lying
//! clients, cross-origin writes, parallel big bodies), each answered with the
//! right status and a JSON reason, while good batches sent in between are
//! stored exactly, the server's RSS stays under [`RSS_BOUND_KB`] and
//! `/api/health` answers within [`HEALTH_BOUND`] during slowloris and big
//! bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod hostile_bodies;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most resident memory the server may use at any point of the suite.
const RSS_BOUND_KB: u64 = 600 * 1024;
/// Longest a health check may take while the server is under attack.
const HEALTH_BOUND: Duration = Duration::from_millis(100);
const ALLOWED_ORIGIN: &str = "http://dashboard.example";

struct Up {
    child: Child,
    base: String,
    port: u16,
}

impl Up {
    fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Up {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("anomalog.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nheader_read_timeout_secs = 2\nbody_read_timeout_secs = 2\n\
                 request_timeout_secs = 30\nmax_connections = 400\n\
                 cors_origins = [\"{ALLOWED_ORIGIN}\"]\n\
                 [ingest]\nmax_inflight_bytes = 67108864\n"
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_anomalog"))
            .arg("--config")
            .arg(&config)
            .args(["up", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.join("data"))
            .env("ANOMALOG_DETECT_INTERVAL_SECS", "1")
            .env("RUST_LOG", "error")
            .env_remove("ANOMALOG_API_KEYS")
            .env_remove("ANOMALOG_CORS_ORIGINS")
            .env_remove("DISCORD_WEBHOOK_URL")
            .env_remove("REDIS_URL")
            .env_remove("MONGODB_URI")
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Up {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Ok(r) = client.get(format!("{}/api/health", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy");
    }

    fn rss_kb(&self) -> u64 {
        self.status_kb("VmRSS:")
    }

    /// The server's peak RSS so far (the kernel's high-water mark).
    fn peak_rss_kb(&self) -> u64 {
        self.status_kb("VmHWM:")
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts answers and keeps the peak RSS.
struct Tally {
    answered: usize,
    /// Hostile requests answered with the right status (refusals with a
    /// JSON reason); good requests and closed slow connections not counted.
    hostile: usize,
    peak_rss_kb: u64,
}

impl Tally {
    fn sample(&mut self, up: &Up) {
        self.peak_rss_kb = self.peak_rss_kb.max(up.rss_kb());
        assert!(
            self.peak_rss_kb < RSS_BOUND_KB,
            "RSS {} KB above the bound",
            self.peak_rss_kb
        );
    }
}

/// Sends `req`, checks the status and, for a refusal, a JSON `error`.
async fn expect(
    tally: &mut Tally,
    req: reqwest::RequestBuilder,
    status: u16,
    what: &str,
) -> reqwest::Response {
    let res = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    tally.answered += 1;
    assert_eq!(res.status().as_u16(), status, "{what}");
    res
}

async fn expect_refusal(tally: &mut Tally, req: reqwest::RequestBuilder, status: u16, what: &str) {
    let res = expect(tally, req, status, what).await;
    let body: Value = res
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
    let reason = body["error"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "{what}: no reason in {body}");
    tally.hostile += 1;
}

/// Like [`expect_refusal`] for protocols whose error body has its own JSON
/// shape (OTLP's status, Elasticsearch's error object).
async fn expect_json_refusal(
    tally: &mut Tally,
    req: reqwest::RequestBuilder,
    status: u16,
    what: &str,
) {
    let res = expect(tally, req, status, what).await;
    let body: Value = res
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
    assert!(
        body.as_object().is_some_and(|o| !o.is_empty()),
        "{what}: {body}"
    );
    tally.hostile += 1;
}

/// One good batch of `n` events whose messages are `good-<batch>-<i>`.
async fn post_good(tally: &mut Tally, client: &reqwest::Client, up: &Up, batch: usize, n: usize) {
    let events: Vec<Value> = (0..n)
        .map(
            |i| json!({"service": "good", "level": "INFO", "message": format!("good-{batch}-{i}")}),
        )
        .collect();
    let res = expect(
        tally,
        client.post(format!("{}/ingest", up.base)).json(&events),
        202,
        "good batch",
    )
    .await;
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["accepted"], n, "{receipt}");
}

async fn health_latency(client: &reqwest::Client, up: &Up) -> Duration {
    let started = Instant::now();
    let res = client
        .get(format!("{}/api/health", up.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    started.elapsed()
}

/// GETs `path` exactly as written (no normalisation); status and body.
async fn raw_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{path}: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_requests_get_clear_refusals_and_good_ones_are_stored_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(dir.path(), &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    up.wait_ready(&client).await;
    let mut t = Tally {
        answered: 0,
        hostile: 0,
        peak_rss_kb: 0,
    };
    let mut good_batches = 0;
    let mut good_events = 0;
    let base = up.base.clone();

    // 1. Query strings that panicked or overflowed, on every read endpoint.
    let hundred: Vec<String> = (0..100).map(|i| format!("service-{i}")).collect();
    let endpoints = ["/api/logs", "/api/stats/volume", "/api/stats/breakdown"];
    let values = [
        "from=now-1%C3%A9",
        "to=-8334601228800000",
        "from=now-%F0%9F%92%A5",
        "to=now-9223372036854775807d",
        "from=-9223372036854775808",
        "from=%FF%FE",
        "from=now-",
        "to=99999999999999999999999",
        "from=now-1x",
        "from=now-%00",
        "to=2024-13-45T25:61:61Z",
        "from=1e400",
        "to=now%2B%2B1h",
    ];
    for endpoint in endpoints {
        for value in values {
            expect_refusal(
                &mut t,
                client.get(format!("{base}{endpoint}?{value}")),
                400,
                &format!("{endpoint}?{value}"),
            )
            .await;
        }
        post_good(&mut t, &client, &up, good_batches, 10).await;
        good_batches += 1;
        good_events += 10;
    }
    for q in [
        "/api/logs?limit=-1",
        "/api/logs?limit=abc",
        "/api/stats/breakdown?limit=-1",
        "/api/services?limit=abc",
    ] {
        expect_refusal(&mut t, client.get(format!("{base}{q}")), 400, q).await;
    }
    for value in [
        "step=9223372036854775800",
        "step=-9223372036854775800",
        "step=99999999999999999999",
        "step=7",
        "from=now-1d&step=10",
        "by=service&top=0",
        "by=service&top=100000",
    ] {
        expect_refusal(
            &mut t,
            client.get(format!("{base}/api/stats/volume?{value}")),
            400,
            value,
        )
        .await;
    }
    expect_refusal(
        &mut t,
        client.get(format!("{base}/api/anomalies?since=now-1%C3%A9&limit=0")),
        400,
        "anomalies",
    )
    .await;

    // 2. The GET that exhausted memory: answered 400 at once.
    let started = Instant::now();
    expect_refusal(
        &mut t,
        client.get(format!(
            "{base}/api/stats/volume?from=0001-01-01T00:00:00Z&by=service&services={}",
            hundred.join(",")
        )),
        400,
        "volume since year 1",
    )
    .await;
    expect_refusal(
        &mut t,
        client.get(format!(
            "{base}/api/stats/volume?from=now-30d&step=10&by=service&services={}",
            hundred.join(",")
        )),
        400,
        "volume of 100 series in 10 s buckets over 30 days",
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    t.sample(&up);

    // 3. Oversized search and pages.
    expect_refusal(
        &mut t,
        client.get(format!("{base}/api/logs?q={}", "a".repeat(51 * 1024))),
        400,
        "q over 50 KB",
    )
    .await;
    for q in [
        "/api/services?limit=0",
        "/api/services?limit=100000",
        "/api/stats/breakdown?limit=0",
        "/api/logs?limit=5000",
        "/api/logs?cursor=%00%00",
    ] {
        expect_refusal(&mut t, client.get(format!("{base}{q}")), 400, q).await;
    }
    expect_refusal(
        &mut t,
        client.get(format!("{base}/api/nope")),
        404,
        "unknown route",
    )
    .await;
    expect_refusal(
        &mut t,
        client.delete(format!("{base}/api/logs")),
        405,
        "wrong method",
    )
    .await;
    post_good(&mut t, &client, &up, good_batches, 25).await;
    good_batches += 1;
    good_events += 25;

    // 4. Bad bodies, each refused by reason; the rest of a mixed batch kept.
    let ingest = format!("{base}/ingest");
    let bodies: [(&str, &str, Vec<u8>, u16); 6] = [
        ("application/json", "", b"{not json".to_vec(), 400),
        ("application/xml", "", b"<a/>".to_vec(), 415),
        ("application/json", "br", b"[]".to_vec(), 415),
        ("application/json", "gzip", b"not gzip at all".to_vec(), 400),
        ("text/plain", "", vec![0xff, 0xfe, 0xfd], 400),
        (
            "application/json",
            "gzip",
            gzip(&vec![b' '; 30 * 1024 * 1024]),
            413,
        ),
    ];
    for (content_type, encoding, body, status) in bodies {
        let mut req = client
            .post(&ingest)
            .header("content-type", content_type)
            .body(body);
        if !encoding.is_empty() {
            req = req.header("content-encoding", encoding);
        }
        expect_refusal(&mut t, req, status, &format!("{content_type} {encoding}")).await;
    }
    let mixed =
        json!([{"service": "good", "message": format!("good-{good_batches}-0")}, {"level": 5}, 7]);
    let res = expect(
        &mut t,
        client.post(&ingest).json(&mixed),
        202,
        "mixed batch",
    )
    .await;
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(
        (receipt["accepted"].as_u64(), receipt["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    good_batches += 1;
    good_events += 1;

    // 5. Control characters amplify 6x when stored: the stored size decides.
    let line = "\u{1}".repeat(8_000);
    let text: String = (0..3_000).map(|_| format!("{line}\n")).collect();
    let bomb = gzip(text.as_bytes());
    assert!(bomb.len() < 200 * 1024, "{} bytes", bomb.len());
    for _ in 0..3 {
        expect_refusal(
            &mut t,
            client
                .post(format!("{ingest}?service=ctl"))
                .header("content-type", "text/plain")
                .header("content-encoding", "gzip")
                .body(bomb.clone()),
            413,
            "control characters",
        )
        .await;
        t.sample(&up);
    }
    post_good(&mut t, &client, &up, good_batches, 10).await;
    good_batches += 1;
    good_events += 10;

    // 6. Cross-origin writes: refused unless the origin is configured;
    // reads get CORS headers only for it.
    expect_refusal(
        &mut t,
        client
            .post(&ingest)
            .header("origin", "http://evil.example")
            .header("content-type", "text/plain")
            .body("ERROR injected"),
        403,
        "cross-origin simple POST",
    )
    .await;
    let res = expect(
        &mut t,
        client
            .get(format!("{base}/api/logs"))
            .header("origin", "http://evil.example"),
        200,
        "cross-origin read",
    )
    .await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    t.hostile += 1;
    let res = expect(
        &mut t,
        client
            .get(format!("{base}/api/logs"))
            .header("origin", ALLOWED_ORIGIN),
        200,
        "allowed origin read",
    )
    .await;
    assert_eq!(res.headers()["access-control-allow-origin"], ALLOWED_ORIGIN);
    for origin in [ALLOWED_ORIGIN.to_owned(), base.clone()] {
        let events = json!([{"service": "good", "message": format!("good-{good_batches}-0")}]);
        expect(
            &mut t,
            client.post(&ingest).header("origin", origin).json(&events),
            202,
            "allowed or same-origin POST",
        )
        .await;
        good_batches += 1;
        good_events += 1;
    }

    // 6a. Injection: SQL, LIKE and regex syntax in search and filters is
    // taken literally (parameterised SQL, escaped LIKE): 200, nothing matches.
    for text in [
        "' OR 1=1 --",
        "%' OR '1'='1",
        "\"; DROP TABLE logs; --",
        "' UNION SELECT * FROM api_keys --",
        "'; ATTACH DATABASE '/tmp/x' AS x; --",
        "%",
        "_",
        "%_%",
        ".*",
        "(a+)+$",
        "\\",
        "[",
        "*",
        "{\"$gt\": \"\"}",
        "$where",
        "${jndi:ldap://x}",
        "<script>alert(1)</script>",
        "\\E.*\\Q",
        "'||(SELECT group_concat(name) FROM sqlite_master)||'",
        "../../etc/passwd",
    ] {
        for field in ["q", "service"] {
            let res = expect(
                &mut t,
                client
                    .get(format!("{base}/api/logs"))
                    .query(&[(field, text), ("from", "now-1h")]),
                200,
                text,
            )
            .await;
            let page: Value = res.json().await.unwrap();
            assert_eq!(
                page["items"].as_array().map(Vec::len),
                Some(0),
                "{field}={text}: {page}"
            );
            t.hostile += 1;
        }
    }
    for (method, path) in [
        (reqwest::Method::DELETE, "/ingest"),
        (reqwest::Method::PUT, "/api/anomalies"),
        (reqwest::Method::PATCH, "/api/services"),
        (reqwest::Method::DELETE, "/api/health"),
    ] {
        expect_refusal(
            &mut t,
            client.request(method, format!("{base}{path}")),
            405,
            path,
        )
        .await;
    }

    // 6b. More origins that are not allowed, each refused.
    for origin in [
        "null",
        "http://dashboard.example.evil.example",
        "http://evil.dashboard.example",
        "https://dashboard.example",
        "http://dashboard.example:8080",
        "file://",
        "http://127.0.0.1.nip.io",
        "HTTP://EVIL.EXAMPLE",
    ] {
        expect_refusal(
            &mut t,
            client
                .post(&ingest)
                .header("origin", origin)
                .header("content-type", "text/plain")
                .body("ERROR injected"),
            403,
            origin,
        )
        .await;
    }

    // 6c. Path traversal, sent raw (a client library would normalise it).
    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/%252e%252e/etc/passwd",
        "/....//....//etc/passwd",
        "/..\\..\\etc\\passwd",
        "/static/../../anomalog.toml",
        "/%c0%ae%c0%ae/etc/passwd",
        "/data/anomalog.db",
        "/anomalog.toml",
        "/api/../../anomalog.toml",
        "/api/logs/../../../etc/passwd",
        "//etc/passwd",
    ] {
        let (status, body) = raw_get(up.port, path).await;
        t.answered += 1;
        assert!(matches!(status, 400 | 404), "{path}: {status} {body}");
        assert!(
            !body.contains("root:") && !body.contains("[server]"),
            "{path}: {body}"
        );
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert!(json["error"].is_string(), "{path}: {body}");
        t.hostile += 1;
    }

    // 6d. More bad bodies: nesting, shapes with nothing usable, bad zstd,
    // a raw body over the limit, and the shipper protocols' decoders.
    let bad_bodies: [(&str, &str, Vec<u8>, u16); 8] = [
        (
            "application/json",
            "",
            "[".repeat(100_000).into_bytes(),
            400,
        ),
        ("application/json", "", b"7".to_vec(), 400),
        ("application/json", "", b"{}".to_vec(), 400),
        ("application/json", "", b"[null, true, []]".to_vec(), 400),
        ("application/x-ndjson", "", b"{\n}\n[\n".to_vec(), 400),
        ("application/json", "zstd", b"not zstd".to_vec(), 400),
        (
            "application/json",
            "",
            vec![0xff, 0xfe, b'[', 0, b']', 0],
            400,
        ),
        ("application/json", "gzip, br", b"[]".to_vec(), 415),
    ];
    for (content_type, encoding, body, status) in bad_bodies {
        let mut req = client
            .post(&ingest)
            .header("content-type", content_type)
            .body(body);
        if !encoding.is_empty() {
            req = req.header("content-encoding", encoding);
        }
        expect_refusal(&mut t, req, status, &format!("{content_type} {encoding}")).await;
        t.sample(&up);
    }
    for (path, content_type, body) in [
        (
            "/v1/logs",
            "application/json",
            &b"{\"resourceLogs\": 7}"[..],
        ),
        ("/v1/logs", "application/json", &b"{not json"[..]),
        ("/_bulk", "application/x-ndjson", &b"[1,2]\n"[..]),
    ] {
        expect_json_refusal(
            &mut t,
            client
                .post(format!("{base}{path}"))
                .header("content-type", content_type)
                .body(body.to_vec()),
            400,
            path,
        )
        .await;
    }
    // Elasticsearch answers a bad document inside a good bulk request per
    // item: 200 with `errors: true` and the item's reason.
    let res = expect(
        &mut t,
        client
            .post(format!("{base}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body("{\"index\":{}}\n{not json\n"),
        200,
        "bad document in a bulk request",
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"], true, "{body}");
    assert_eq!(body["items"][0]["index"]["status"], 400, "{body}");
    t.hostile += 1;
    // Millions of tiny records in each shipper protocol, within the decoded
    // size limit (20 MiB) but far over `ingest.max_events`: counted from the
    // decoded bytes and refused before a record is built (an OTLP protobuf
    // body of 10M empty records took 1.8 GB when decoded whole).
    let tiny = hostile_bodies::tiny_records();
    for (path, content_type, encoding, body) in tiny {
        let mut req = client
            .post(format!("{base}{path}"))
            .header("content-type", content_type)
            .body(body);
        if !encoding.is_empty() {
            req = req.header("content-encoding", encoding);
        }
        let what = format!("{path} {content_type}: millions of tiny records");
        let res = expect(&mut t, req, 413, &what).await;
        let reason = String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned();
        assert!(reason.contains("(ingest.max_events)"), "{what}: {reason}");
        t.hostile += 1;
        t.sample(&up);
    }
    let peak = up.peak_rss_kb();
    assert!(
        peak < RSS_BOUND_KB,
        "peak RSS {peak} KB after the tiny records"
    );
    post_good(&mut t, &client, &up, good_batches, 10).await;
    good_batches += 1;
    good_events += 10;

    // 7. A Content-Length that lies: the connection is answered 408 and
    // closed once the body has stalled for the body timeout.
    let started = Instant::now();
    let mut liar = TcpStream::connect(("127.0.0.1", up.port)).await.unwrap();
    liar.write_all(
        b"POST /ingest HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[{\"message\":",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), liar.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    t.answered += 1;
    t.hostile += 1;

    // 8. Slowloris: 200 connections trickling headers. Health stays fast,
    // and the server closes them after the header timeout.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(("127.0.0.1", up.port)).await.unwrap();
        s.write_all(b"GET /api/health HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let mut worst = Duration::ZERO;
    for round in 0..10 {
        for s in &mut slow {
            let _ = s.write_all(format!("x-{round}: y\r\n").as_bytes()).await;
        }
        worst = worst.max(health_latency(&client, &up).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("health during slowloris: worst {worst:?}");
    assert!(
        worst < HEALTH_BOUND,
        "health took {worst:?} during slowloris"
    );
    // Wait (at most 10 s) for the server to close each one: a read that
    // returns, with the 408, end of stream, or a reset (a socket closed
    // with unread headers in its buffer is reset, not shut down: under
    // load, CI saw 24 of 200 end that way).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut closed = 0;
    for s in &mut slow {
        let mut buf = [0u8; 512];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(_)) => closed += 1,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Ok(Err(e)) => panic!("a slow connection failed otherwise: {e}"),
            Err(_) => {}
        }
    }
    assert_eq!(closed, 200, "slow connections closed by the header timeout");
    // Neither health checks (their number depends on timing) nor closed
    // slow connections count as answered hostile requests.
    drop(slow);
    t.sample(&up);

    // 9. Parallel big bodies: 12 bodies of 4 MB at once. Each is accepted or
    // refused as busy (503 + Retry-After), health stays fast meanwhile.
    let big: Vec<Value> = (0..10_000)
        .map(|i| json!({"service": "big", "message": format!("{i}-{}", "b".repeat(380))}))
        .collect();
    let big = serde_json::to_vec(&big).unwrap();
    let mut senders = Vec::new();
    for _ in 0..12 {
        let client = client.clone();
        let url = ingest.clone();
        let body = big.clone();
        senders.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res.headers().get("retry-after").is_some();
            let text = res.text().await.unwrap();
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("big body answered {status} without JSON: {text:?}"));
            (status, retry, body)
        }));
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    while senders.iter().any(|s| !s.is_finished()) && started.elapsed() < Duration::from_secs(30) {
        latencies.push(health_latency(&client, &up).await);
        t.sample(&up);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut accepted_big = 0;
    for s in senders {
        let (status, retry, body) = s.await.unwrap();
        t.answered += 1;
        t.hostile += 1;
        match status {
            202 => accepted_big += 1,
            503 => assert!(retry && body["error"].is_string(), "{body}"),
            other => panic!("big body answered {other}: {body}"),
        }
    }
    assert!(accepted_big >= 1, "some big bodies fit the budget");
    latencies.sort();
    let p90 = latencies[latencies.len() * 9 / 10];
    let worst = latencies[latencies.len() - 1];
    eprintln!(
        "health during big bodies: {} checks, median {:?}, p90 {p90:?}, worst {worst:?}",
        latencies.len(),
        latencies[latencies.len() / 2]
    );
    // On a shared 2-core machine in a debug build a rare check is delayed
    // (detect decoding the big batches competes for the same cores): nine in
    // ten must be within the bound, and none may wait a second.
    assert!(p90 < HEALTH_BOUND, "health p90 {p90:?} during big bodies");
    assert!(
        worst < Duration::from_secs(1),
        "health took {worst:?} during big bodies"
    );

    // 10. Connection cap: beyond 400 open connections, new ones are closed.
    let mut idle = Vec::new();
    for _ in 0..450 {
        idle.push(TcpStream::connect(("127.0.0.1", up.port)).await.unwrap());
    }
    // Poll (without blocking) until the connections over the cap are seen
    // closed, at most 5 s.
    let mut closed_ids = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while closed_ids.len() < 50 && Instant::now() < deadline {
        for (i, s) in idle.iter().enumerate() {
            let mut buf = [0u8; 1];
            if matches!(s.try_read(&mut buf), Ok(0))
                || matches!(s.try_read(&mut buf), Err(e) if e.kind() != std::io::ErrorKind::WouldBlock)
            {
                closed_ids.insert(i);
            }
        }
        tokio::task::yield_now().await;
        let _ = tokio::time::timeout(Duration::from_millis(20), idle[0].readable()).await;
    }
    let refused = closed_ids.len();
    assert!(
        refused >= 50,
        "only {refused} connections over the cap were closed"
    );
    drop(idle);
    // The slots free as the server sees the closes: wait until it answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .get(format!("{base}/api/health"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server stayed full");
    }

    // Good data: every good event stored exactly once.
    post_good(&mut t, &client, &up, good_batches, 10).await;
    good_events += 10;
    let started = Instant::now();
    let messages = loop {
        let mut messages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}/api/logs?service=good&limit=1000&from=now-1h");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            t.answered += 1;
            for item in page["items"].as_array().unwrap() {
                messages.push(item["message"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        if messages.len() >= good_events || started.elapsed() > Duration::from_secs(20) {
            break messages;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let unique: std::collections::BTreeSet<&String> = messages.iter().collect();
    assert_eq!(messages.len(), good_events, "good events stored");
    assert_eq!(unique.len(), good_events, "no duplicates");
    assert!(
        t.hostile >= 150,
        "only {} hostile requests answered",
        t.hostile
    );
    eprintln!(
        "hostile requests answered with the right status and a JSON reason: {}; slow \
         connections closed: 200",
        t.hostile
    );
    t.sample(&up);
    eprintln!(
        "hostile suite: {} requests answered, peak RSS {} MB, {} big bodies accepted",
        t.answered,
        t.peak_rss_kb / 1024,
        accepted_big
    );
}

#[tokio::test]
async fn with_keys_every_read_needs_one_and_bearer_is_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(dir.path(), &[("ANOMALOG_API_KEYS", "read-key-1")]);
    let client = reqwest::Client::new();
    up.wait_ready(&client).await;
    let mut t = Tally {
        answered: 0,
        hostile: 0,
        peak_rss_kb: 0,
    };
    for path in [
        "/api/logs?q=password",
        "/api/services",
        "/api/stats/volume",
        "/api/anomalies",
    ] {
        expect_refusal(&mut t, client.get(format!("{}{path}", up.base)), 401, path).await;
        expect(
            &mut t,
            client
                .get(format!("{}{path}", up.base))
                .header("authorization", "bearer read-key-1"),
            200,
            path,
        )
        .await;
    }
    expect_refusal(
        &mut t,
        client
            .post(format!("{}/ingest", up.base))
            .header("authorization", "Bearer read-key-")
            .json(&json!({"message": "x"})),
        401,
        "a prefix of a key",
    )
    .await;
    expect(
        &mut t,
        client
            .post(format!("{}/ingest", up.base))
            .header("authorization", "BEARER read-key-1")
            .json(&json!({"message": "x", "service": "s"})),
        202,
        "upper-case scheme",
    )
    .await;
    expect(
        &mut t,
        client.get(format!("{}/api/health", up.base)),
        200,
        "health",
    )
    .await;
}

#[test]
fn a_public_address_without_keys_refuses_to_start_unless_told_to_run_open() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .args(["up", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("ANOMALOG_API_KEYS")
        .env_remove("REDIS_URL")
        .env_remove("MONGODB_URI")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-open"), "{stderr}");
}
