//! A local stand-in for the AWS Lambda Runtime API, to run a real Lambda
//! binary in a test: start [`LambdaRuntimeApi`], run the binary with
//! `AWS_LAMBDA_RUNTIME_API` set to [`LambdaRuntimeApi::address`], then
//! [`invoke`](LambdaRuntimeApi::invoke) it with events.
//!
//! It serves what the `lambda_runtime` crate calls: `GET
//! /2018-06-01/runtime/invocation/next` (long poll, one queued event per call,
//! with the request id and deadline headers), `POST .../invocation/{id}/response`,
//! `POST .../invocation/{id}/error` and `POST /2018-06-01/runtime/init/error`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot, watch};

const BASE: &str = "/2018-06-01/runtime";

/// How an invocation ended, as the binary reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Body of `POST /invocation/{id}/response`.
    Response(Value),
    /// Body of `POST /invocation/{id}/error` (`errorType`, `errorMessage`).
    Error(Value),
}

struct Invocation {
    id: String,
    event: Value,
    deadline: SystemTime,
}

struct Shared {
    queue: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: watch::Sender<Option<Value>>,
}

/// The Runtime API on a free 127.0.0.1 port; stops when dropped.
pub struct LambdaRuntimeApi {
    address: String,
    /// Path prefix before `/2018-06-01/...` (`cargo lambda watch` uses `/.rt`).
    prefix: String,
    shared: Arc<Shared>,
    invocations: mpsc::UnboundedSender<Invocation>,
    next_id: std::sync::atomic::AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl LambdaRuntimeApi {
    /// Starts the server on the current tokio runtime; `AWS_LAMBDA_RUNTIME_API`
    /// is `127.0.0.1:PORT`, as AWS sets it.
    pub async fn start() -> LambdaRuntimeApi {
        LambdaRuntimeApi::start_at("").await
    }

    /// Starts the server with its routes under `prefix` (e.g. `/.rt`);
    /// `AWS_LAMBDA_RUNTIME_API` is then `http://127.0.0.1:PORT/.rt`, with a
    /// scheme, as `cargo lambda watch` sets it. An empty prefix is [`start`](Self::start).
    pub async fn start_at(prefix: &str) -> LambdaRuntimeApi {
        let (invocations, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_error: watch::channel(None).0,
        });
        let app = Router::new()
            .route(&format!("{BASE}/invocation/next"), get(next))
            .route(
                &format!("{BASE}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{BASE}/invocation/{{id}}/error"), post(error))
            .route(&format!("{BASE}/init/error"), post(init_error))
            .with_state(shared.clone());
        let app = if prefix.is_empty() {
            app
        } else {
            Router::new().nest(prefix, app)
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Lambda Runtime API");
        let address = listener.local_addr().expect("local address").to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LambdaRuntimeApi {
            address,
            prefix: prefix.to_owned(),
            shared,
            invocations,
            next_id: std::sync::atomic::AtomicU64::new(0),
            server,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`, or
    /// `http://127.0.0.1:PORT/PREFIX` when started with a prefix.
    pub fn runtime_api(&self) -> String {
        if self.prefix.is_empty() {
            self.address.clone()
        } else {
            format!("http://{}{}", self.address, self.prefix)
        }
    }

    /// Hands `event` to the next `/invocation/next` call and waits up to
    /// `timeout` for the binary's response or error.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Outcome {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().await.insert(id.clone(), tx);
        self.invocations
            .send(Invocation {
                id: id.clone(),
                event,
                deadline: SystemTime::now() + timeout,
            })
            .expect("the Runtime API server is running");
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => panic!("invocation {id}: the Runtime API dropped it"),
            Err(_) => panic!("invocation {id}: no response within {timeout:?}"),
        }
    }

    /// The body of `POST /init/error` when the binary reports one within
    /// `timeout`, else `None`.
    pub async fn init_error(&self, timeout: Duration) -> Option<Value> {
        let mut rx = self.shared.init_error.subscribe();
        let reported = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        match reported {
            Ok(Ok(value)) => value.clone(),
            _ => None,
        }
    }
}

impl Drop for LambdaRuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let deadline_ms = invocation
        .deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.id);
    set("lambda-runtime-deadline-ms", &deadline_ms);
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:test",
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000",
    );
    set("content-type", "application/json");
    (headers, invocation.event.to_string()).into_response()
}

async fn finish(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.waiting.lock().await.remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Outcome::Response(json_or_text(&body))).await
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Outcome::Error(json_or_text(&body))).await
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.init_error.send_replace(Some(json_or_text(&body)));
    StatusCode::ACCEPTED
}

/// A Lambda binary running against a [`LambdaRuntimeApi`]; killed when
/// dropped. Its stdout and stderr (the function's logs) are collected.
pub struct LambdaProcess {
    child: std::process::Child,
    output: Arc<std::sync::Mutex<Vec<String>>>,
}

impl LambdaProcess {
    /// Runs `binary` with a clean environment: the variables Lambda sets
    /// (`AWS_LAMBDA_RUNTIME_API` pointing at `api`, function name, memory,
    /// version, JSON log format) plus `env`.
    pub fn spawn<K, V>(
        binary: &str,
        api: &LambdaRuntimeApi,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> LambdaProcess
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        use std::io::BufRead;
        use std::process::{Command, Stdio};

        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", "anomalog-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO");
        command.envs(env);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
        crate::watchdog(child.id());
        let output = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let readers: [Box<dyn std::io::Read + Send>; 2] = [Box::new(stdout), Box::new(stderr)];
        for reader in readers {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    output.lock().expect("output lock").push(line);
                }
            });
        }
        LambdaProcess { child, output }
    }

    /// Lines the binary printed so far (stdout and stderr, interleaved).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().expect("output lock").clone()
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variables that point a function at `redis` and at `mongo`'s database.
pub fn backend_env(
    redis: &crate::RedisServer,
    mongo: &crate::MongoTarget,
) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", redis.url()),
        ("MONGODB_URI", mongo.uri.clone()),
        ("ANOMALOG_MONGODB_DATABASE", mongo.database.clone()),
    ]
}

/// A Lambda function URL event (payload format 2.0, as API Gateway HTTP APIs
/// send too) for `method path?query` with `headers` (a JSON object of
/// lower-case names) and a text `body`.
pub fn function_url_event(
    method: &str,
    path: &str,
    query: &str,
    headers: Value,
    body: Option<&str>,
) -> Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefgh",
            "domainName": "abcdefgh.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefgh",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "anomalog-test"
            },
            "requestId": "c0ffee00-0000-4000-8000-000000000001",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_600_000_000_u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// Status code and JSON body of the HTTP response a `lambda_http` function
/// returned; panics when the invocation failed instead.
pub fn http_response(outcome: Outcome) -> (u16, Value) {
    let Outcome::Response(response) = outcome else {
        panic!("the function failed: {outcome:?}");
    };
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("no statusCode in {response}"));
    let body = response["body"].as_str().unwrap_or_default();
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    (status, body)
}
