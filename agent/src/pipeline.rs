//! The running agent: readers, the batch channel, the shipper, the disk buffer and
//! the checkpoints, wired together.
//!
//! ```text
//! file reader thread (Tailer -> BatchBuilder) --+
//!                                               +--> channel (BATCH_CHANNEL_CAPACITY batches)
//! stdin reader thread (lines -> BatchBuilder) --+        |
//!                                                  shipper task
//!                                                        | every batch, before it is sent
//!                                                        v
//!                                                  DiskBuffer --> checkpoints
//!                                                        | oldest first, Idempotency-Key,
//!                                                        v halves on 413
//!                                                  ingest (2xx: removed from the buffer)
//! ```
//!
//! The disk buffer is a write-ahead log: a batch is durable there (and the
//! checkpoints move past it) before its request starts, so a kill during the
//! request sends it again at the next start under the same `Idempotency-Key`,
//! and ingest does not queue it twice.
//!
//! What happens when a stage is slow: the channel is bounded; when the shipper
//! cannot take a batch (disk buffer full) the reader waits, still scanning for new
//! files and keeping them open, so rotation while blocked loses nothing. On
//! shutdown the readers hand over their complete events (files keep incomplete
//! ones for the next run, stdin flushes them), the shipper sends or buffers what
//! is queued and saves the checkpoints.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::batch::{Batch, BatchBuilder, SourceContext};
use crate::buffer::DiskBuffer;
use crate::checkpoint::Checkpoints;
use crate::config::{AgentConfig, SourceKind};
use crate::deliver::{Delivery, deliver};
use crate::multiline::Multiline;
use crate::shipper::{Shipper, ShipperConfig};
use crate::tail::{FileSourceSpec, Tailer};

/// Batches between the readers and the shipper.
pub const BATCH_CHANNEL_CAPACITY: usize = 4;
/// How long shutdown waits for queued batches to be sent or buffered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often the counters are logged.
pub const COUNTERS_EVERY: Duration = Duration::from_secs(60);

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "data directory {0} is used by another running agent (choose another with --data-dir or state.data_dir)"
    )]
    Locked(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Ship(#[from] crate::shipper::ShipError),
}

#[derive(Debug, Default)]
struct Counters {
    read: AtomicU64,
    bytes: AtomicU64,
    events: AtomicU64,
    shipped: AtomicU64,
    rejected: AtomicU64,
    retried: AtomicU64,
    buffered: AtomicU64,
    dropped: AtomicU64,
}

/// The agent's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CounterSnapshot {
    /// Lines read.
    pub read: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Events built (after multi-line joining).
    pub events: u64,
    /// Events ingest accepted.
    pub shipped: u64,
    /// Events ingest refused one by one (bad records): reported by ingest, not retried.
    pub rejected: u64,
    /// Failed sends that will be tried again.
    pub retried: u64,
    /// Events written to the disk buffer.
    pub buffered: u64,
    /// Events given up on: a permanent 4xx refusal of their batch, or one
    /// event alone larger than ingest's size limit (413 after splitting).
    pub dropped: u64,
}

impl Counters {
    fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            read: get(&self.read),
            bytes: get(&self.bytes),
            events: get(&self.events),
            shipped: get(&self.shipped),
            rejected: get(&self.rejected),
            retried: get(&self.retried),
            buffered: get(&self.buffered),
            dropped: get(&self.dropped),
        }
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Runs the agent described by `config` with its state in `data_dir` until the
/// inputs end (files read without following, stdin closed) and everything is
/// delivered, or until `shutdown` resolves.
pub async fn run(
    config: AgentConfig,
    data_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<CounterSnapshot, AgentError> {
    config.validate()?;
    let dir_error = |source| AgentError::DataDir {
        path: data_dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(dir_error)?;
    let lock = std::fs::File::create(data_dir.join("lock")).map_err(dir_error)?;
    if lock.try_lock().is_err() {
        return Err(AgentError::Locked(data_dir.display().to_string()));
    }
    let mut checkpoints = Checkpoints::load(data_dir).map_err(dir_error)?;
    let mut buffer = DiskBuffer::open(&data_dir.join("buffer"), config.state.buffer_max_bytes)
        .map_err(dir_error)?;
    if !buffer.is_empty() {
        // A kill may have come between a buffer write and the checkpoint save.
        for (positions, released) in buffer.covered() {
            checkpoints.apply(&positions, &released);
        }
        checkpoints.save(true).map_err(dir_error)?;
        tracing::info!(
            events = buffer.events(),
            bytes = buffer.used(),
            "sending batches buffered by an earlier run first"
        );
    }

    let mut shipper_config = ShipperConfig::from_base_url(&config.output.url);
    shipper_config.api_key = config.output.api_key.clone();
    shipper_config.timeout = Duration::from_secs(config.output.timeout_secs.max(1));
    let shipper = Shipper::new(shipper_config)?;

    let host = hostname();
    let contexts: Vec<SourceContext> = config
        .sources
        .iter()
        .map(|s| SourceContext {
            service: s.service_name(),
            host: host.clone(),
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            parser: s.parser,
            name: (s.kind == SourceKind::Stdin).then(|| "stdin".to_owned()),
        })
        .collect();
    let mut specs = Vec::new();
    let mut stdin_source = None;
    for (index, source) in config.sources.iter().enumerate() {
        let multiline = source.multiline_rule()?;
        match source.kind {
            SourceKind::Stdin => stdin_source = Some((index, multiline)),
            SourceKind::File => specs.push(FileSourceSpec {
                source: index,
                include: source.paths.clone(),
                exclude: source
                    .exclude
                    .iter()
                    .filter_map(|p| glob::Pattern::new(p).ok())
                    .collect(),
                start_at: source.start_at,
                follow: source.follow,
                rotate_wait: Duration::from_millis(source.rotate_wait_ms),
                partial_line_timeout: Duration::from_millis(source.partial_line_timeout_ms),
                multiline,
            }),
        }
    }
    let poll = config
        .sources
        .iter()
        .map(|s| Duration::from_millis(s.poll_interval_ms.max(1)))
        .min()
        .unwrap_or(Duration::from_millis(250));

    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::channel::<Batch>(BATCH_CHANNEL_CAPACITY);
    let limits = config.batch_limits();
    let compression = config.output.compression;
    let mut readers = Vec::new();
    if !specs.is_empty() {
        let reader = FileReader {
            tailer: Tailer::new(specs, checkpoints.positions()),
            builder: BatchBuilder::new(contexts.clone(), limits, compression),
            tx: tx.clone(),
            stop: stop.clone(),
            counters: counters.clone(),
            poll,
        };
        readers.push(spawn_thread("anomalog-files", move || reader.run()));
    }
    if let Some((index, multiline)) = stdin_source {
        let reader = StdinReader {
            source: index,
            builder: BatchBuilder::new(contexts.clone(), limits, compression),
            multiline: multiline.map(Multiline::new),
            tx: tx.clone(),
            stop: stop.clone(),
            counters: counters.clone(),
        };
        readers.push(spawn_thread("anomalog-stdin-batch", move || reader.run()));
    }
    drop(tx);

    let reporter = {
        let counters = counters.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(COUNTERS_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let c = counters.snapshot();
                tracing::info!(
                    read = c.read,
                    shipped = c.shipped,
                    retried = c.retried,
                    buffered = c.buffered,
                    dropped = c.dropped,
                    rejected = c.rejected,
                    "agent counters"
                );
            }
        })
    };

    let mut shipping = Shipping {
        shipper: &shipper,
        buffer: &mut buffer,
        checkpoints: &mut checkpoints,
        counters: &counters,
        failures: 0,
        retry_at: None,
    };
    let mut held: Option<Batch> = None;
    let mut closed = false;
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Buffered batches go first, in order.
        while !shipping.buffer.is_empty() && shipping.retry_due() && deadline.is_none() {
            if !shipping.send_buffered().await {
                break;
            }
        }
        if let Some(batch) = held.take() {
            held = shipping.take(batch, deadline.is_some()).await;
        }
        if closed && held.is_none() && (shipping.buffer.is_empty() || deadline.is_some()) {
            break;
        }
        let retry_sleep = shipping
            .retry_at
            .filter(|_| !shipping.buffer.is_empty())
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let hard_stop =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            next = rx.recv(), if held.is_none() && !closed => match next {
                Some(batch) => held = shipping.take(batch, deadline.is_some()).await,
                None => closed = true,
            },
            () = tokio::time::sleep_until(retry_sleep), if held.is_none() || !shipping.buffer.is_empty() => {}
            () = tokio::time::sleep(Duration::from_millis(200)), if held.is_some() => {}
            () = &mut shutdown, if deadline.is_none() => {
                tracing::info!("stopping: flushing readers and saving checkpoints");
                stop.store(true, Ordering::Relaxed);
                deadline = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
            }
            () = tokio::time::sleep_until(hard_stop), if deadline.is_some() => {
                tracing::warn!("shutdown grace over: batches not yet durable will be read again at the next start");
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    if let Err(error) = checkpoints.save(true) {
        tracing::error!(%error, "cannot save checkpoints");
    }
    reporter.abort();
    for reader in readers {
        if reader.is_finished() {
            let _ = reader.join();
        }
    }
    let c = counters.snapshot();
    tracing::info!(
        read = c.read,
        shipped = c.shipped,
        retried = c.retried,
        buffered = c.buffered,
        dropped = c.dropped,
        rejected = c.rejected,
        "agent stopped"
    );
    drop(lock);
    Ok(c)
}

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    match std::thread::Builder::new().name(name.to_owned()).spawn(f) {
        Ok(handle) => handle,
        Err(error) => {
            tracing::error!(%error, "cannot start a reader thread");
            std::thread::spawn(|| {})
        }
    }
}

struct Shipping<'a> {
    shipper: &'a Shipper,
    buffer: &'a mut DiskBuffer,
    checkpoints: &'a mut Checkpoints,
    counters: &'a Counters,
    failures: u32,
    retry_at: Option<tokio::time::Instant>,
}

impl Shipping<'_> {
    fn retry_due(&self) -> bool {
        self.retry_at
            .is_none_or(|at| tokio::time::Instant::now() >= at)
    }

    fn durable(&mut self, batch: &Batch) {
        self.checkpoints.apply(&batch.positions, &batch.released);
        if let Err(error) = self.checkpoints.save(false) {
            tracing::error!(%error, "cannot save checkpoints");
        }
    }

    fn failed(&mut self, reason: &str, retry_after: Option<Duration>) {
        add(&self.counters.retried, 1);
        let delay = retry_after
            .unwrap_or_else(|| self.shipper.backoff_for(self.failures.min(6)))
            .max(Duration::from_millis(100));
        self.failures += 1;
        self.retry_at = Some(tokio::time::Instant::now() + delay);
        tracing::warn!(error = %reason, retry_in_ms = delay.as_millis() as u64, "ingest unavailable; buffering on disk");
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
    }

    /// A new batch: written to the disk buffer first (so a kill mid-send
    /// resends it under the same key), then sent at once when nothing waits
    /// before it. Returns it back when the buffer has no room (the caller
    /// holds it).
    async fn take(&mut self, batch: Batch, stopping: bool) -> Option<Batch> {
        // Positions only: applied now unless buffered batches must be applied first.
        if batch.events == 0 && self.buffer.is_empty() {
            self.durable(&batch);
            return None;
        }
        if !self.buffer.has_room(batch.body.len() as u64 + 256) {
            return Some(batch);
        }
        let send_now = self.buffer.is_empty() && (self.retry_due() || stopping);
        if let Err(error) = self.buffer.push(&batch) {
            tracing::error!(%error, "cannot write to the disk buffer; holding the batch");
            return Some(batch);
        }
        self.durable(&batch);
        if !(send_now && self.send_buffered().await) {
            add(&self.counters.buffered, batch.events);
        }
        None
    }

    /// Sends the oldest buffered batch; false when ingest is still unavailable.
    async fn send_buffered(&mut self) -> bool {
        let Some(front) = self.buffer.front() else {
            return true;
        };
        let batch = match front {
            Ok(batch) if batch.events == 0 => {
                let _ = self.buffer.pop();
                return true;
            }
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "unreadable buffer file; removing it");
                let _ = self.buffer.pop();
                return true;
            }
        };
        match deliver(
            self.shipper,
            batch.body,
            batch.compression,
            batch.key.as_deref(),
        )
        .await
        {
            Delivery::Done { receipt, oversized } => {
                self.succeeded();
                add(&self.counters.shipped, receipt.accepted);
                add(&self.counters.rejected, receipt.rejected);
                add(&self.counters.dropped, oversized);
            }
            Delivery::Rejected { status, message } if status != 401 && status != 403 => {
                tracing::error!(status, %message, events = batch.events, "ingest refused a batch; dropping it");
                add(&self.counters.dropped, batch.events);
            }
            Delivery::Rejected { status, message } => {
                self.failed(
                    &format!("HTTP {status}: {message} (check the API key)"),
                    None,
                );
                return false;
            }
            Delivery::Retry {
                reason,
                retry_after,
            } => {
                self.failed(&reason, retry_after);
                return false;
            }
        }
        if let Err(error) = self.buffer.pop() {
            tracing::error!(%error, "cannot remove a delivered buffer file");
        }
        true
    }
}

struct FileReader {
    tailer: Tailer,
    builder: BatchBuilder,
    tx: mpsc::Sender<Batch>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    poll: Duration,
}

impl FileReader {
    fn run(mut self) {
        let mut last = self.tailer.stats();
        loop {
            let stopping = self.stop.load(Ordering::Relaxed);
            let now = Instant::now();
            self.builder.set_now(chrono::Utc::now());
            self.tailer.scan(&mut self.builder, now);
            let read = if stopping {
                0
            } else {
                self.tailer.read(&mut self.builder, now)
            };
            let stats = self.tailer.stats();
            add(&self.counters.read, stats.lines - last.lines);
            add(&self.counters.bytes, stats.bytes - last.bytes);
            last = stats;
            let finished = self.tailer.finished();
            if stopping || finished || self.builder.due(Instant::now()) {
                self.builder.finish();
            }
            for batch in self.builder.take_ready() {
                add(&self.counters.events, batch.events);
                if !self.send(batch) {
                    return;
                }
            }
            if stopping || finished {
                return;
            }
            if read == 0 {
                let wake = self
                    .builder
                    .due_at()
                    .map_or(self.poll, |at| at.saturating_duration_since(Instant::now()))
                    .min(self.poll);
                std::thread::sleep(wake);
            }
        }
    }

    /// Sends a batch, waiting while the shipper is busy; keeps discovering (and
    /// opening) new files meanwhile. False when the shipper is gone.
    fn send(&mut self, mut batch: Batch) -> bool {
        loop {
            match self.tx.try_send(batch) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    batch = back;
                    std::thread::sleep(self.poll.min(Duration::from_millis(50)));
                    self.tailer.scan(&mut self.builder, Instant::now());
                }
            }
        }
    }
}

struct StdinReader {
    source: usize,
    builder: BatchBuilder,
    multiline: Option<Multiline>,
    tx: mpsc::Sender<Batch>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl StdinReader {
    fn run(mut self) {
        use std::io::BufRead;
        let (lines_tx, lines_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1024);
        // A blocked terminal read cannot be interrupted: it lives on its own thread.
        spawn_thread("anomalog-stdin", move || {
            let mut stdin = std::io::stdin().lock();
            loop {
                let mut line = Vec::new();
                match stdin.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        if lines_tx.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let tick = Duration::from_millis(100);
        loop {
            let now = Instant::now();
            self.builder.set_now(chrono::Utc::now());
            let ended = match lines_rx.recv_timeout(tick) {
                Ok(line) => {
                    add(&self.counters.read, 1);
                    add(&self.counters.bytes, line.len() as u64 + 1);
                    match &mut self.multiline {
                        Some(ml) => {
                            if let Some((text, _)) = ml.push(&line, 0, now) {
                                self.builder.push(self.source, &text, None);
                            }
                        }
                        None => self.builder.push(self.source, &line, None),
                    }
                    false
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => true,
            };
            let stopping = ended || self.stop.load(Ordering::Relaxed);
            if let Some(ml) = &mut self.multiline
                && (stopping || ml.expired(now))
                && let Some((text, _)) = ml.flush()
            {
                self.builder.push(self.source, &text, None);
            }
            if stopping || self.builder.due(Instant::now()) {
                self.builder.finish();
            }
            for batch in self.builder.take_ready() {
                add(&self.counters.events, batch.events);
                if self.tx.blocking_send(batch).is_err() {
                    return;
                }
            }
            if stopping {
                return;
            }
        }
    }
}

/// The host name, from `HOSTNAME` or `/etc/hostname`.
pub fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// The default state directory: `$STATE_DIRECTORY` (systemd), else
/// `$XDG_STATE_HOME/anomalog-agent`, else `~/.local/state/anomalog-agent`, else
/// `./.anomalog-agent`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STATE_DIRECTORY") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("anomalog-agent");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/state/anomalog-agent");
    }
    PathBuf::from(".anomalog-agent")
}
