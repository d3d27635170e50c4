//! Real backend servers for tests: `redis-server` and SecantusDB (a MongoDB
//! wire-protocol server), each on a free 127.0.0.1 port.
//!
//! Every server is killed when its handle drops, and a tiny watchdog process
//! also kills it when the test process dies without dropping it (a panic in
//! another thread, an abort, a shared server in a `static`). Failures to start
//! panic with what to install: these helpers exist for tests, where a panic is
//! the failure report.
//!
//! [`lambda`] stands in for the AWS Lambda Runtime API, to run the functions'
//! Lambda binaries in tests.
//!
//! `MONGODB_URI`, when set, replaces the local SecantusDB for [`mongo_target`]
//! (tests that need to stop the server always start their own).

pub mod http;
pub mod lambda;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

/// A name unique within this test process, for databases and stream keys.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Kills `pid` when this test process exits, however it exits.
fn watchdog(pid: u32) {
    let script = format!(
        "while kill -0 {parent} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         kill -9 {pid} 2>/dev/null",
        parent = std::process::id()
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        panic!("cannot start the watchdog of process {pid}: {e}");
    }
}

/// A `redis-server` with append-only persistence (`appendfsync always`), so a
/// stop and restart on the same data keeps every acknowledged write.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    appendfsync: &'static str,
}

impl RedisServer {
    /// Starts a server on a free port with a fresh data directory.
    pub fn start() -> RedisServer {
        RedisServer::start_with_fsync("always")
    }

    /// Like [`start`](Self::start) with another `appendfsync` policy
    /// (`everysec`, `no`), for benchmarks.
    pub fn start_with_fsync(appendfsync: &'static str) -> RedisServer {
        let dir = tempfile::tempdir().expect("temporary directory for redis-server");
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
            appendfsync,
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL, like a crash); the data stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--protected-mode",
                "no",
                "--loglevel",
                "warning",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}); install it (apt-get install redis-server) \
                     or run ./scripts/test, which does"
                )
            });
        watchdog(child.id());
        self.child = Some(child);
        let started = Instant::now();
        while !redis_answers_ping(self.port) {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("redis-server exited at start: {status}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "redis-server did not answer PING within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn redis_answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 5];
    // "-LOADING" while the append-only file is replayed.
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A SecantusDB server (MongoDB wire protocol, a one-node replica set).
pub struct MongoServer {
    child: Option<Child>,
    port: u16,
    /// `None`: in memory, gone at exit. `Some`: on disk, kept across restarts.
    storage: Option<PathBuf>,
    /// Runs without the replica-set personality (no transactions).
    standalone: bool,
    _dir: Option<tempfile::TempDir>,
}

impl MongoServer {
    /// Starts an in-memory server on a free port.
    pub fn start() -> MongoServer {
        let mut server = MongoServer {
            child: None,
            port: 0,
            storage: None,
            standalone: false,
            _dir: None,
        };
        server.spawn();
        server
    }

    /// Starts an in-memory server that answers as a standalone `mongod`
    /// (no replica set, so no transactions).
    pub fn start_standalone() -> MongoServer {
        let mut server = MongoServer {
            child: None,
            port: 0,
            storage: None,
            standalone: true,
            _dir: None,
        };
        server.spawn();
        server
    }

    /// Starts a server whose data survives [`kill`](Self::kill) and
    /// [`restart`](Self::restart).
    pub fn start_persistent() -> MongoServer {
        let dir = tempfile::tempdir().expect("temporary directory for SecantusDB");
        let mut server = MongoServer {
            child: None,
            port: 0,
            storage: Some(dir.path().join("data")),
            standalone: false,
            _dir: Some(dir),
        };
        server.spawn();
        server
    }

    /// `mongodb://127.0.0.1:PORT/`.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL, like a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (and data, when persistent).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let python = std::env::var("ANOMALOG_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let storage = self
            .storage
            .as_deref()
            .map_or_else(|| ":memory:".into(), |p: &Path| p.display().to_string());
        let mut command = Command::new(&python);
        command
            .args(["-m", "secantus", "--host", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .arg("--storage-path")
            .arg(&storage);
        if self.standalone {
            command.arg("--standalone");
        }
        if self.storage.is_some() {
            // A kill -9 must not lose committed transactions.
            command.arg("--sync-on-commit");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} ({e})"));
        watchdog(child.id());
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel::<Result<u16, String>>();
        // The reader keeps draining stderr after the port is known, so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tail = Vec::new();
            let mut announced = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !announced {
                    if let Some(port) = line
                        .split("listening on 127.0.0.1:")
                        .nth(1)
                        .and_then(|p| p.trim().parse::<u16>().ok())
                    {
                        announced = true;
                        let _ = tx.send(Ok(port));
                    } else {
                        tail.push(line);
                    }
                } else if line.contains("Traceback") || line.contains("ERROR") {
                    eprintln!("secantus: {line}");
                }
            }
            if !announced {
                let _ = tx.send(Err(tail.join("\n")));
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(port)) => self.port = port,
            Ok(Err(output)) => panic!(
                "SecantusDB exited at start; install it with `pip install secantusdb==0.7.0b3` \
                 (./scripts/test does). Its output:\n{output}"
            ),
            Err(_) => {
                let _ = child.kill();
                panic!("SecantusDB did not start within {START_TIMEOUT:?}");
            }
        }
        self.child = Some(child);
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where a test's MongoDB data goes: a server URI and a database of its own.
pub struct MongoTarget {
    pub uri: String,
    pub database: String,
}

/// A fresh database on `MONGODB_URI` when set, else on a SecantusDB server
/// shared by the tests of this process (started on first use; its watchdog
/// stops it when the process exits).
pub fn mongo_target() -> MongoTarget {
    static SHARED: OnceLock<MongoServer> = OnceLock::new();
    let uri = match std::env::var("MONGODB_URI") {
        Ok(uri) if !uri.trim().is_empty() => uri,
        _ => SHARED.get_or_init(MongoServer::start).uri(),
    };
    MongoTarget {
        uri,
        database: unique_name("anomalog_test"),
    }
}
