//! Syslog listeners: RFC 5424 and RFC 3164 messages over TCP (RFC 6587
//! octet-counting or newline framing, detected per message) and UDP (one
//! message per datagram), for `anomalog up` when `[syslog]` sets an address.
//!
//! Messages are decoded and mapped to events by
//! [`anomalog_core::shippers::syslog`] (with `syslog_loose`; a line that is
//! neither RFC format is kept whole as the message, its level inferred), the
//! mapping the agent uses for syslog file lines too. A 3164 timestamp has no year or zone:
//! it is read as UTC in the receive time's year (the previous year when that
//! would put it more than a day ahead).
//!
//! # Batching and acknowledgement
//!
//! Connections feed one bounded channel ([`CHANNEL_CAPACITY`] messages); one
//! task appends them to the queue in batches of up to
//! `syslog.batch_max_events`, at the latest `syslog.flush_interval_ms` after
//! the first message of a batch arrived. Syslog has no acknowledgements: a TCP
//! sender counts a message as delivered once its kernel took it. A message is
//! durable only once its batch's append returned, so if anomalog dies a TCP
//! sender loses what was in flight: messages in socket buffers, in the channel
//! and in the open batch (at most one flush interval of traffic plus the
//! channel). A clean stop (Ctrl-C, SIGTERM) stops reading and appends what was
//! read. While the queue refuses appends (full, or its backend down) the batch
//! is retried with back-off and nothing more is read from TCP, so senders are
//! slowed by TCP's own flow control instead of losing data; UDP datagrams that
//! find the channel full are dropped and counted as rejected (UDP syslog is
//! lossy by design). Syslog batches skip the per-client rate limit: the
//! listener's address is the operator's choice.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use anomalog_core::LogEvent;
use anomalog_core::config::SyslogConfig;
use anomalog_core::parse::{ParseDefaults, ParseLimits};
use anomalog_core::shippers::syslog::to_event;

use crate::{IngestState, metrics};

/// Messages read but not yet batched; when full, TCP reading pauses and UDP
/// datagrams are dropped.
pub const CHANNEL_CAPACITY: usize = 10_000;

/// Most TCP connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// Longest wait between retries of a refused append.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// What a connection hands the batcher.
pub(crate) enum Frame {
    Message(Vec<u8>),
    /// A message longer than `ingest.max_line_bytes`, skipped.
    TooLong(usize),
}

/// Bound syslog sockets, ready to [`SyslogListener::run`].
pub struct SyslogListener {
    tcp: Option<TcpListener>,
    udp: Option<UdpSocket>,
    state: IngestState,
    config: SyslogConfig,
}

impl SyslogListener {
    /// Binds the configured addresses (either may be absent).
    pub async fn bind(config: &SyslogConfig, state: IngestState) -> io::Result<SyslogListener> {
        let tcp = match &config.tcp {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let udp = match &config.udp {
            Some(addr) => Some(UdpSocket::bind(addr).await?),
            None => None,
        };
        Ok(SyslogListener {
            tcp,
            udp,
            state,
            config: config.clone(),
        })
    }

    /// The bound TCP address, when there is a TCP listener.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound UDP address, when there is a UDP listener.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp.as_ref().and_then(|s| s.local_addr().ok())
    }

    /// Serves until `stop` turns true, then appends what was read and returns.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let max_line = self.state.config.max_line_bytes;
        let mut readers = tokio::task::JoinSet::new();
        if let Some(listener) = self.tcp {
            readers.spawn(accept_loop(listener, tx.clone(), max_line, stop.clone()));
        }
        if let Some(socket) = self.udp {
            readers.spawn(udp_loop(socket, tx.clone(), max_line, stop.clone()));
        }
        drop(tx);
        let batcher = batch_loop(rx, self.state, self.config, stop);
        tokio::join!(batcher, async {
            while readers.join_next().await.is_some() {}
        });
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn accept_loop(
    listener: TcpListener,
    tx: mpsc::Sender<Frame>,
    max_line: usize,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let connection_stop = stop.clone();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        tokio::select! {
            () = until_stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let tx = tx.clone();
                    let stop = connection_stop.clone();
                    connections.spawn(async move {
                        if let Err(e) = read_connection(stream, &tx, max_line, stop).await {
                            tracing::debug!(%peer, error = %e, "syslog connection ended");
                        }
                        drop(permit);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "syslog accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

async fn read_connection(
    stream: TcpStream,
    tx: &mpsc::Sender<Frame>,
    max_line: usize,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let frame = tokio::select! {
            () = until_stopped(&mut stop) => return Ok(()),
            frame = read_frame(&mut reader, max_line) => frame?,
        };
        let Some(frame) = frame else {
            return Ok(());
        };
        // Waits while the channel is full: TCP flow control slows the sender.
        if tx.send(frame).await.is_err() {
            return Ok(());
        }
    }
}

/// Reads one message: octet-counting (`<len> <msg>`) when it starts with a
/// digit, else up to the next newline. `None` at the end of the stream.
pub(crate) async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max_line: usize,
) -> io::Result<Option<Frame>> {
    // Skip separators between messages (stray newlines, NULs).
    loop {
        let buf = reader.fill_buf().await?;
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first == b'\n' || first == b'\r' || first == 0 {
            reader.consume(1);
            continue;
        }
        if first.is_ascii_digit() {
            return read_counted(reader, max_line).await;
        }
        break;
    }
    let limit = u64::try_from(max_line)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut line = Vec::new();
    (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .await?;
    if line.last() != Some(&b'\n') && line.len() > max_line {
        // Too long: skip the rest of the line.
        let mut skipped = line.len();
        loop {
            let mut rest = Vec::new();
            let n = (&mut *reader)
                .take(64 * 1024)
                .read_until(b'\n', &mut rest)
                .await?;
            skipped += n;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(Frame::TooLong(skipped)));
    }
    while matches!(line.last(), Some(b'\n' | b'\r' | 0)) {
        line.pop();
    }
    Ok(Some(Frame::Message(line)))
}

async fn read_counted<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max_line: usize,
) -> io::Result<Option<Frame>> {
    let mut digits = Vec::new();
    (&mut *reader)
        .take(12)
        .read_until(b' ', &mut digits)
        .await?;
    let len = std::str::from_utf8(digits.strip_suffix(b" ").unwrap_or(&[]))
        .ok()
        .and_then(|d| d.parse::<usize>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "octet-counting frame without a valid length",
            )
        })?;
    let wanted = u64::try_from(len).unwrap_or(u64::MAX);
    if len > max_line {
        let skipped =
            tokio::io::copy(&mut (&mut *reader).take(wanted), &mut tokio::io::sink()).await?;
        return Ok(Some(Frame::TooLong(
            usize::try_from(skipped).unwrap_or(len),
        )));
    }
    let mut message = vec![0; len];
    reader.read_exact(&mut message).await?;
    while matches!(message.last(), Some(b'\n' | b'\r' | 0)) {
        message.pop();
    }
    Ok(Some(Frame::Message(message)))
}

async fn udp_loop(
    socket: UdpSocket,
    tx: mpsc::Sender<Frame>,
    max_line: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let received = tokio::select! {
            () = until_stopped(&mut stop) => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let len = match received {
            Ok((len, _)) => len,
            Err(e) => {
                tracing::debug!(error = %e, "syslog UDP receive failed");
                continue;
            }
        };
        let mut datagram = buf.get(..len).unwrap_or_default().to_vec();
        while matches!(datagram.last(), Some(b'\n' | b'\r' | 0)) {
            datagram.pop();
        }
        let frame = if datagram.len() > max_line {
            Frame::TooLong(datagram.len())
        } else {
            Frame::Message(datagram)
        };
        if tx.try_send(frame).is_err() {
            metrics::count(metrics::EVENTS_REJECTED, 1);
            tracing::warn!("syslog UDP datagram dropped: the batcher is behind");
        }
    }
}

async fn batch_loop(
    mut rx: mpsc::Receiver<Frame>,
    state: IngestState,
    config: SyslogConfig,
    mut stop: watch::Receiver<bool>,
) {
    let interval = Duration::from_millis(config.flush_interval_ms);
    let stopped = stop.clone();
    let mut batch: Vec<Frame> = Vec::new();
    let mut deadline = Instant::now();
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Some(frame) => {
                    if batch.is_empty() {
                        deadline = Instant::now() + interval;
                    }
                    batch.push(frame);
                    if batch.len() >= config.batch_max_events {
                        flush(&mut batch, &state, &config, &stopped).await;
                    }
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline), if !batch.is_empty() => {
                flush(&mut batch, &state, &config, &stopped).await;
            }
            () = until_stopped(&mut stop) => break,
        }
    }
    // Stopping: the readers stop too; keep what they already handed over.
    rx.close();
    while let Some(frame) = rx.recv().await {
        batch.push(frame);
        if batch.len() >= config.batch_max_events {
            flush(&mut batch, &state, &config, &stopped).await;
        }
    }
    flush(&mut batch, &state, &config, &stopped).await;
}

/// Maps and appends `frames` as one queue entry, retrying refused appends
/// with back-off (a stop allows one last attempt).
async fn flush(
    frames: &mut Vec<Frame>,
    state: &IngestState,
    config: &SyslogConfig,
    stop: &watch::Receiver<bool>,
) {
    if frames.is_empty() {
        return;
    }
    let now = Utc::now();
    let events = to_events(frames.drain(..), config, &state.config.parse_limits(), now);
    if events.is_empty() {
        return;
    }
    let mut wait = Duration::from_millis(100);
    loop {
        match state.queue.append(&events).await {
            Ok(entry) => {
                metrics::count(metrics::EVENTS_ACCEPTED, events.len());
                tracing::debug!(entry, events = events.len(), "syslog batch queued");
                return;
            }
            Err(e) if *stop.borrow() => {
                metrics::count(metrics::EVENTS_REJECTED, events.len());
                tracing::error!(error = %e, lost = events.len(), "syslog batch not queued at stop");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, events = events.len(), retry_in = ?wait, "syslog batch not queued, retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY_WAIT);
            }
        }
    }
}

fn to_events(
    frames: impl Iterator<Item = Frame>,
    config: &SyslogConfig,
    limits: &ParseLimits,
    now: DateTime<Utc>,
) -> Vec<LogEvent> {
    let defaults = ParseDefaults {
        service: Some(config.service.clone()),
        host: None,
        source: None,
        received_at: now,
    };
    let mut events = Vec::new();
    for frame in frames {
        let result = match frame {
            Frame::TooLong(len) => Err(format!(
                "message is {len} bytes, more than the limit of {}",
                limits.max_line_bytes
            )),
            Frame::Message(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                to_event(decode(&text, now), &defaults, limits)
            }
        };
        match result {
            Ok(event) => events.push(event),
            Err(reason) => {
                metrics::count(metrics::EVENTS_REJECTED, 1);
                tracing::warn!(%reason, "syslog message rejected");
            }
        }
    }
    events
}

/// Decodes one message of either RFC (core's mapping, shared with the agent).
pub use anomalog_core::shippers::syslog::decode;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_read_by_octet_count_or_newline() {
        let input: &[u8] = b"11 <13>1 - - x\n<14>hello\r\n\n5 abcdefghij\nwaytoolongline\nok\n";
        let mut reader = BufReader::new(input);
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut reader, 12).await.unwrap() {
            frames.push(match frame {
                Frame::Message(m) => String::from_utf8(m).unwrap(),
                Frame::TooLong(n) => format!("too long: {n}"),
            });
        }
        assert_eq!(
            frames,
            [
                "<13>1 - - x",
                "<14>hello",
                "abcde",
                "fghij",
                "too long: 15",
                "ok"
            ]
        );
    }
}
