//! API keys with scopes, end to end: `anomalog keys` against the real store,
//! and the real `anomalog up` enforcing them, on both store shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{Backends, Server};

/// Runs `anomalog keys ARGS` on the storage `env` names; its stdout.
fn keys(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("ANOMALOG_API_KEYS")
        .env_remove("REDIS_URL")
        .env_remove("MONGODB_URI")
        .envs(env.iter().copied())
        .current_dir(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "anomalog keys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn create(data_dir: &Path, env: &[(&str, &str)], name: &str, scope: &str) -> String {
    let key = keys(data_dir, env, &["create", "--name", name, "--scope", scope])
        .trim()
        .to_owned();
    assert!(key.len() >= 64, "a long random key is printed: {key:?}");
    key
}

async fn get_logs(server: &Server, client: &reqwest::Client, auth: Option<&str>) -> StatusCode {
    let mut req = client.get(format!("{}/api/logs?limit=5", server.base));
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    req.send().await.unwrap().status()
}

async fn ingest(
    server: &Server,
    client: &reqwest::Client,
    auth: Option<&str>,
    message: &str,
) -> (StatusCode, Value) {
    let mut req = client
        .post(format!("{}/ingest", server.base))
        .json(&json!([{ "service": "keys", "level": "info", "message": message }]));
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Polls `check` until it returns `want` (a key change takes up to the
/// cache TTL to be seen), failing after 10 s.
async fn until<F, Fut>(what: &str, want: StatusCode, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let started = Instant::now();
    loop {
        let got = check().await;
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: still {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole key life cycle on one running server: created keys take effect
/// without a restart, each scope allows only its routes, revoking takes
/// effect too, and keys from the environment keep every scope.
async fn scopes_are_enforced(data_dir: &Path, env: &[(&str, &str)]) {
    let mut server_env = env.to_vec();
    server_env.push(("ANOMALOG_API_KEYS", "env-key-0123456789"));
    let server = Server::start_with(data_dir, &server_env);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;

    let shipper = create(data_dir, env, "shipper", "ingest");
    let reader = create(data_dir, env, "reader", "read");
    let both = create(data_dir, env, "ops", "read,ingest,admin");
    assert_ne!(shipper, reader);

    let bearer = |k: &str| format!("Bearer {k}");
    until("a created read key", StatusCode::OK, || async {
        get_logs(&server, &client, Some(&format!("bearer {reader}"))).await
    })
    .await;

    // Ingest scope: writes, cannot read.
    let (status, body) = ingest(&server, &client, Some(&bearer(&shipper)), "by shipper").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let res = client
        .get(format!("{}/api/logs", server.base))
        .header("Authorization", bearer(&shipper))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("'read' scope"),
        "{body}"
    );

    // Read scope: reads, cannot write.
    let (status, body) = ingest(&server, &client, Some(&bearer(&reader)), "by reader").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("'ingest' scope"),
        "{body}"
    );

    // Several scopes, and the environment's key: everything.
    for key in [&both, &"env-key-0123456789".to_owned()] {
        assert_eq!(
            get_logs(&server, &client, Some(&format!("BEARER {key}"))).await,
            StatusCode::OK
        );
        let (status, body) = ingest(&server, &client, Some(&bearer(key)), "by ops").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }

    // No key, a wrong key, a truncated key, another scheme: 401 with JSON.
    let wrong = [
        None,
        Some("Bearer alg_0000".to_owned()),
        Some(bearer(&reader[..reader.len() - 1])),
        Some(format!("Basic {reader}")),
    ];
    for auth in &wrong {
        let res = client
            .get(format!("{}/api/anomalies", server.base))
            .header("Authorization", auth.clone().unwrap_or_default())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("API key"),
            "{body}"
        );
        let (status, _) = ingest(&server, &client, auth.as_deref(), "refused").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    // Liveness stays open to probes.
    let health = client
        .get(format!("{}/api/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // Listing names and scopes, never a key.
    let listed = keys(data_dir, env, &["list"]);
    assert!(listed.contains("shipper\tingest\t"), "{listed}");
    assert!(listed.contains("ops\tingest,read,admin\t"), "{listed}");
    for key in [&shipper, &reader, &both] {
        assert!(!listed.contains(key.as_str()), "a key is never listed");
    }

    // Revoked: refused without a restart; the others still work.
    keys(data_dir, env, &["revoke", "reader"]);
    until("a revoked key", StatusCode::UNAUTHORIZED, || async {
        get_logs(&server, &client, Some(&bearer(&reader))).await
    })
    .await;
    assert_eq!(
        get_logs(&server, &client, Some(&bearer(&both))).await,
        StatusCode::OK
    );
    server.interrupt();
}

#[tokio::test]
async fn scoped_keys_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    scopes_are_enforced(dir.path(), &[]).await;
    // Only digests are on disk: no key appears in any file of the store.
    let shipper = create(dir.path(), &[], "after", "ingest");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&shipper), "a key is stored in plain text");
        assert!(
            !text.contains(&shipper[4..]),
            "a key is stored in plain text"
        );
    }
}

#[tokio::test]
async fn scoped_keys_on_redis_and_mongodb() {
    let dir = tempfile::tempdir().unwrap();
    let backends = Backends::start();
    scopes_are_enforced(dir.path(), &backends.env()).await;
}

#[tokio::test]
async fn without_any_key_loopback_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    assert_eq!(get_logs(&server, &client, None).await, StatusCode::OK);
    let (status, body) = ingest(&server, &client, None, "open").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // A key created now closes it, without a restart.
    let key = create(dir.path(), &[], "first", "read");
    until("the first key", StatusCode::UNAUTHORIZED, || async {
        get_logs(&server, &client, None).await
    })
    .await;
    assert_eq!(
        get_logs(&server, &client, Some(&format!("Bearer {key}"))).await,
        StatusCode::OK
    );
    server.interrupt();
}

#[test]
fn bad_key_commands_fail_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_anomalog"))
            .arg("keys")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("REDIS_URL")
            .env_remove("MONGODB_URI")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let unknown = run(&["create", "--name", "x", "--scope", "write"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown scope 'write'"));
    assert!(
        run(&["create", "--name", "x", "--scope", "read"])
            .status
            .success()
    );
    let taken = run(&["create", "--name", "x", "--scope", "read"]);
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("'x' exists already"));
    let missing = run(&["revoke", "nobody"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no key named 'nobody'"));
}

/// `anomalog keys` on external backends writes MongoDB and the keys' Redis
/// copy that the ingest Lambda reads (digests only); revoking removes it there.
#[tokio::test]
async fn keys_commands_keep_the_redis_copy_for_the_ingest_lambda() {
    use anomalog_store::{KeyStore, RedisQueue, RedisQueueConfig};
    let dir = tempfile::tempdir().unwrap();
    let backends = Backends::start();
    let env = backends.env();
    let key = create(dir.path(), &env, "shipper", "ingest");
    let copy = RedisQueue::connect(backends.redis_url(), RedisQueueConfig::default())
        .await
        .unwrap()
        .key_store();
    let listed = copy.list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].name, "shipper");
    assert_eq!(
        listed[0].digest,
        anomalog_ingest::auth::key_record("x", &key, vec![], chrono::Utc::now()).digest
    );
    assert_ne!(listed[0].digest, key, "the key itself is not copied");
    keys(dir.path(), &env, &["revoke", "shipper"]);
    assert!(
        copy.list().await.unwrap().is_empty(),
        "revoked in the copy too"
    );
}
