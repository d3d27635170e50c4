//! Line sources (stdin, files with optional tailing) and the batcher that ships them.
//!
//! Topology: a reader task sends [`Line`]s into a bounded channel of
//! [`LINE_CHANNEL_CAPACITY`] lines; [`ship_lines`] drains it into batches and ships
//! each batch with a [`Shipper`] before reading on. When the channel is full the
//! reader waits (backpressure up to the file or pipe): nothing is dropped in the
//! channel. A batch is dropped, with a warning and a count in [`ShipReport`], only
//! when the shipper gives up on it (retries exhausted or the server rejected it).

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeekExt, BufReader};
use tokio::sync::mpsc;
use tokio::time::Instant;

use anomalog_core::Level;

use crate::shipper::{ShipError, Shipper};

/// Capacity of the channel between a reader and the batcher, in lines.
/// When full, the reader waits until the batcher has shipped (backpressure).
pub const LINE_CHANNEL_CAPACITY: usize = 4096;
/// Capacity of the hand-off between the blocking stdin thread and the async side,
/// in lines. When full, the thread waits.
pub const STDIN_HANDOFF_CAPACITY: usize = 64;
/// Longest line kept whole, in bytes; a longer line is cut into pieces of this size
/// so a file without newlines cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// How often a followed file is checked for new data, truncation or rotation.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Default maximum lines per shipped batch.
pub const DEFAULT_BATCH_LINES: usize = 500;
/// Default maximum time a line waits in a partial batch.
pub const DEFAULT_BATCH_WAIT: Duration = Duration::from_secs(1);

/// One line read from a source, without its line terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text (invalid UTF-8 replaced with U+FFFD).
    pub text: String,
    /// When the agent read it; shipped as the event time.
    pub read_at: DateTime<Utc>,
}

/// A reading failure, naming the source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An I/O error on a file or stdin.
    #[error("{path}: {source}")]
    Io {
        /// The file path, or `-` for stdin.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
        move |source| SourceError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The bounded channel between a reader and [`ship_lines`] ([`LINE_CHANNEL_CAPACITY`]).
pub fn line_channel() -> (mpsc::Sender<Line>, mpsc::Receiver<Line>) {
    mpsc::channel(LINE_CHANNEL_CAPACITY)
}

/// Reads standard input to its end, one [`Line`] per line. Returns the lines sent.
///
/// The reading happens on a dedicated thread (a blocked terminal read cannot be
/// cancelled) which hands lines over through a channel of [`STDIN_HANDOFF_CAPACITY`]
/// lines (the thread waits when it is full). This future forwards them to `tx`;
/// dropping it drops `tx` at once, and the thread ends at its next line or at exit.
pub async fn read_stdin(tx: mpsc::Sender<Line>) -> Result<u64, SourceError> {
    let (handoff_tx, mut handoff_rx) = mpsc::channel(STDIN_HANDOFF_CAPACITY);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("anomalog-stdin".to_owned())
        .spawn(move || {
            let result = read_lines_blocking(std::io::stdin().lock(), &handoff_tx);
            // The receiver is gone only if the caller stopped waiting.
            let _ = done_tx.send(result);
        });
    let stdin_error = SourceError::io(Path::new("-"));
    if let Err(error) = spawned {
        return Err(stdin_error(error));
    }
    let mut forwarded = 0;
    while let Some(line) = handoff_rx.recv().await {
        if tx.send(line).await.is_err() {
            return Ok(forwarded);
        }
        forwarded += 1;
    }
    match done_rx.await {
        Ok(result) => result.map(|_| forwarded).map_err(stdin_error),
        Err(_) => Err(stdin_error(std::io::Error::other(
            "stdin reader thread panicked",
        ))),
    }
}

/// The blocking twin of [`read_lines`], for readers that cannot be made async.
/// Must not be called from an async task (it blocks on a full channel).
pub fn read_lines_blocking<R: std::io::BufRead>(
    mut reader: R,
    tx: &mpsc::Sender<Line>,
) -> std::io::Result<u64> {
    use std::io::{BufRead, Read};
    let mut buf = Vec::new();
    let mut sent = 0;
    loop {
        let room = MAX_LINE_BYTES.saturating_sub(buf.len()) as u64;
        let n = (&mut reader).take(room).read_until(b'\n', &mut buf)?;
        if n == 0 && buf.is_empty() {
            return Ok(sent);
        }
        if (n == 0 || line_complete(&buf))
            && let Some(line) = take_line(&mut buf)
        {
            if tx.blocking_send(line).is_err() {
                return Ok(sent);
            }
            sent += 1;
        }
    }
}

/// Reads any byte stream to its end, one [`Line`] per line; empty lines are
/// skipped. Stops early (with `Ok`) if the receiver is gone.
pub async fn read_lines<R: AsyncRead + Unpin>(
    reader: R,
    tx: mpsc::Sender<Line>,
) -> std::io::Result<u64> {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut sent = 0;
    loop {
        let n = read_line_bounded(&mut reader, &mut buf).await?;
        if n == 0 && buf.is_empty() {
            return Ok(sent);
        }
        if n == 0 || line_complete(&buf) {
            match emit(&mut buf, &tx).await {
                Emitted::Sent => sent += 1,
                Emitted::Skipped => {}
                Emitted::Closed => return Ok(sent),
            }
        }
    }
}

/// Where and how to read a file.
#[derive(Debug, Clone)]
pub struct FileSourceOptions {
    /// The file to read.
    pub path: PathBuf,
    /// Read existing content from the beginning; otherwise start at the end
    /// (only lines appended later are read, which requires `follow`).
    pub from_start: bool,
    /// Keep reading as the file grows, like `tail -F`: a file that shrinks is read
    /// again from its start (truncation), a file replaced by a new one at the same
    /// path is reopened (rotation, detected by inode on Unix).
    pub follow: bool,
    /// How often to look for new data when at the end of a followed file.
    pub poll_interval: Duration,
}

impl FileSourceOptions {
    /// Options for `path`: from the start, not following, default poll interval.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSourceOptions {
            path: path.into(),
            from_start: true,
            follow: false,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

/// Reads a file into `tx`, one [`Line`] per line, and returns the lines sent.
///
/// Without `follow` it returns at the end of the file. With `follow` it runs until
/// the receiver is dropped, or until the future is dropped (e.g. by a
/// `tokio::select!` on a shutdown signal); dropping it loses at most a partly read
/// line.
pub async fn read_file(
    options: &FileSourceOptions,
    tx: mpsc::Sender<Line>,
) -> Result<u64, SourceError> {
    let path = options.path.as_path();
    let (mut reader, mut identity) = open(path, options.from_start).await?;
    let mut position = reader
        .stream_position()
        .await
        .map_err(SourceError::io(path))?;
    let mut buf = Vec::new();
    let mut sent = 0;
    loop {
        let n = read_line_bounded(&mut reader, &mut buf)
            .await
            .map_err(SourceError::io(path))?;
        position += n as u64;
        if n > 0 && !line_complete(&buf) {
            // Reached the end in the middle of a line: look again before deciding.
            continue;
        }
        if n > 0 || (!options.follow && !buf.is_empty()) {
            match emit(&mut buf, &tx).await {
                Emitted::Sent => sent += 1,
                Emitted::Skipped => {}
                Emitted::Closed => return Ok(sent),
            }
            continue;
        }
        if !options.follow {
            return Ok(sent);
        }
        if tx.is_closed() {
            return Ok(sent);
        }
        tokio::time::sleep(options.poll_interval).await;
        match tokio::fs::metadata(path).await {
            Ok(meta) if file_identity(&meta) != identity => {
                tracing::info!(path = %path.display(), "file was replaced (rotation), reopening");
                flush_partial(&mut buf, &tx, &mut sent).await;
                (reader, identity) = open(path, true).await?;
                position = 0;
            }
            Ok(meta) if meta.len() < position => {
                tracing::info!(path = %path.display(), "file shrank (truncation), reading from its start");
                flush_partial(&mut buf, &tx, &mut sent).await;
                position = reader
                    .seek(SeekFrom::Start(0))
                    .await
                    .map_err(SourceError::io(path))?;
            }
            // Unchanged or grown: the next read picks the new data up. A missing
            // path (rotated away, not yet recreated) is waited for.
            Ok(_) | Err(_) => {}
        }
    }
}

async fn open(
    path: &Path,
    from_start: bool,
) -> Result<(BufReader<File>, FileIdentity), SourceError> {
    let mut file = File::open(path).await.map_err(SourceError::io(path))?;
    let meta = file.metadata().await.map_err(SourceError::io(path))?;
    if !from_start {
        file.seek(SeekFrom::End(0))
            .await
            .map_err(SourceError::io(path))?;
    }
    Ok((BufReader::new(file), file_identity(&meta)))
}

#[cfg(unix)]
type FileIdentity = (u64, u64);

#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> FileIdentity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

// Without inodes rotation is only noticed when the new file is smaller (truncation).
#[cfg(not(unix))]
type FileIdentity = ();

#[cfg(not(unix))]
fn file_identity(_meta: &std::fs::Metadata) -> FileIdentity {}

/// Reads up to the next newline, at most [`MAX_LINE_BYTES`] in `buf` in total.
async fn read_line_bounded<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let room = MAX_LINE_BYTES.saturating_sub(buf.len()) as u64;
    reader.take(room).read_until(b'\n', buf).await
}

fn line_complete(buf: &[u8]) -> bool {
    buf.last() == Some(&b'\n') || buf.len() >= MAX_LINE_BYTES
}

enum Emitted {
    Sent,
    Skipped,
    Closed,
}

/// Turns `buf` into a line (terminator stripped; `None` when blank) and clears it.
fn take_line(buf: &mut Vec<u8>) -> Option<Line> {
    let text = String::from_utf8_lossy(buf)
        .trim_end_matches(['\n', '\r'])
        .to_owned();
    buf.clear();
    if text.trim().is_empty() {
        return None;
    }
    Some(Line {
        text,
        read_at: Utc::now(),
    })
}

/// Sends `buf` as a line (see [`take_line`]) and clears it.
async fn emit(buf: &mut Vec<u8>, tx: &mpsc::Sender<Line>) -> Emitted {
    let Some(line) = take_line(buf) else {
        return Emitted::Skipped;
    };
    match tx.send(line).await {
        Ok(()) => Emitted::Sent,
        Err(_) => Emitted::Closed,
    }
}

async fn flush_partial(buf: &mut Vec<u8>, tx: &mpsc::Sender<Line>, sent: &mut u64) {
    if let Emitted::Sent = emit(buf, tx).await {
        *sent += 1;
    }
}

/// How [`ship_lines`] groups lines and labels the events.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Ship when a batch holds this many lines.
    pub max_lines: usize,
    /// Ship a partial batch when its first line has waited this long.
    pub max_wait: Duration,
    /// The `service` of every event.
    pub service: String,
    /// The `source` of every event (file path, or `stdin`).
    pub source: Option<String>,
    /// The `host` of every event, when known.
    pub host: Option<String>,
}

impl BatchOptions {
    /// Defaults ([`DEFAULT_BATCH_LINES`], [`DEFAULT_BATCH_WAIT`]) for `service`.
    pub fn new(service: impl Into<String>) -> Self {
        BatchOptions {
            max_lines: DEFAULT_BATCH_LINES,
            max_wait: DEFAULT_BATCH_WAIT,
            service: service.into(),
            source: None,
            host: None,
        }
    }
}

/// Counters of one [`ship_lines`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipReport {
    /// Lines received from the channel.
    pub lines: u64,
    /// Batches the shipper delivered.
    pub batches: u64,
    /// Events the server accepted.
    pub accepted: u64,
    /// Events the server refused individually.
    pub rejected: u64,
    /// Lines dropped because their batch could not be delivered.
    pub dropped: u64,
}

/// Groups lines from `rx` into batches of at most `max_lines` lines or `max_wait`,
/// ships each as JSON events and returns when the channel is closed and drained
/// (the last partial batch is shipped first).
///
/// A batch the shipper gives up on is logged and dropped. An authentication failure
/// (401/403) stops the run with an error, since every later batch would fail too.
pub async fn ship_lines(
    mut rx: mpsc::Receiver<Line>,
    shipper: &Shipper,
    options: &BatchOptions,
) -> Result<ShipReport, ShipError> {
    let max_lines = options.max_lines.max(1);
    let mut report = ShipReport::default();
    let mut batch: Vec<Value> = Vec::with_capacity(max_lines);
    let mut deadline: Option<Instant> = None;
    loop {
        let next = match deadline {
            None => rx.recv().await,
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(next) => next,
                Err(_elapsed) => {
                    ship_batch(shipper, &mut batch, &mut report).await?;
                    deadline = None;
                    continue;
                }
            },
        };
        let Some(line) = next else {
            ship_batch(shipper, &mut batch, &mut report).await?;
            return Ok(report);
        };
        report.lines += 1;
        if batch.is_empty() {
            deadline = Some(Instant::now() + options.max_wait);
        }
        batch.push(line_event(&line, options));
        if batch.len() >= max_lines {
            ship_batch(shipper, &mut batch, &mut report).await?;
            deadline = None;
        }
    }
}

async fn ship_batch(
    shipper: &Shipper,
    batch: &mut Vec<Value>,
    report: &mut ShipReport,
) -> Result<(), ShipError> {
    if batch.is_empty() {
        return Ok(());
    }
    match shipper.send(batch).await {
        Ok(receipt) => {
            report.batches += 1;
            report.accepted += receipt.accepted;
            report.rejected += receipt.rejected;
            for error in receipt.errors.iter().take(3) {
                tracing::warn!(index = error.index, reason = %error.reason, "ingest rejected a line");
            }
        }
        Err(error) if error.is_auth_failure() => return Err(error),
        Err(error) => {
            tracing::error!(lines = batch.len(), %error, "dropping a batch of lines that could not be shipped");
            report.dropped += batch.len() as u64;
        }
    }
    batch.clear();
    Ok(())
}

/// The ingest event for one line: `ts` (read time), `service`, `message`, and
/// `source`, `host` and `level` when known.
pub fn line_event(line: &Line, options: &BatchOptions) -> Value {
    let mut event = Map::new();
    event.insert(
        "ts".into(),
        json!(line.read_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    event.insert("service".into(), json!(options.service));
    if let Some(level) = infer_level(&line.text) {
        event.insert("level".into(), json!(level.as_str()));
    }
    event.insert("message".into(), json!(line.text));
    if let Some(source) = &options.source {
        event.insert("source".into(), json!(source));
    }
    if let Some(host) = &options.host {
        event.insert("host".into(), json!(host));
    }
    Value::Object(event)
}

/// The level of a plain-text log line, when one of its first tokens names one in a
/// conventional way: `ERROR`, `[warn]`, `<INFO>`, `level=error`, `severity=WARNING`.
///
/// Lower-case bare words are ignored so prose ("failed to fail over") is not misread.
pub fn infer_level(line: &str) -> Option<Level> {
    for token in line.split_whitespace().take(6) {
        let (value, explicit) = match token.split_once('=') {
            Some((key, value))
                if matches!(
                    key.to_ascii_lowercase().as_str(),
                    "level" | "lvl" | "severity" | "loglevel"
                ) =>
            {
                (value, true)
            }
            _ => (token, false),
        };
        let bracketed = value.starts_with(['[', '<', '(']);
        let name = value.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if name.len() < 3 || name.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let shouting = name.chars().all(|c| c.is_ascii_uppercase());
        if !(explicit || bracketed || shouting) {
            continue;
        }
        if let Some(level) = Level::parse_name(name) {
            return Some(level);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_conventional_level_markers() {
        assert_eq!(
            infer_level("2024-05-01 12:00:00 ERROR boom"),
            Some(Level::Error)
        );
        assert_eq!(infer_level("[warn] disk almost full"), Some(Level::Warn));
        assert_eq!(infer_level("ts=1 level=debug msg=x"), Some(Level::Debug));
        assert_eq!(infer_level("<CRIT> kernel panic"), Some(Level::Fatal));
        assert_eq!(infer_level("we will fail over to the replica"), None);
        assert_eq!(infer_level("GET /index.html 200"), None);
    }

    #[tokio::test]
    async fn read_lines_strips_terminators_and_skips_blank_lines() {
        let input: &[u8] = b"first\r\n\n  \nsecond\nlast without newline";
        let (tx, mut rx) = line_channel();
        let sent = read_lines(input, tx).await.unwrap();
        assert_eq!(sent, 3);
        let mut texts = Vec::new();
        while let Some(line) = rx.recv().await {
            texts.push(line.text);
        }
        assert_eq!(texts, ["first", "second", "last without newline"]);
    }
}
