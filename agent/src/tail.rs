//! Following files by glob without losing or splitting a line.
//!
//! A [`Tailer`] owns one open handle per file it follows, keyed by device and
//! inode ([`FileKey`]), never by path: a renamed file is the same file, still read
//! through the same handle. Each [`Tailer::poll`]:
//!
//! 1. expands the sources' globs; a file seen for the first time is opened and
//!    starts at its checkpoint (same inode and same [`Fingerprint`], or another
//!    inode with the same fingerprint: renamed while the agent was down, or a
//!    copy made by `copytruncate`), else at the start (or, for the files present
//!    when the agent starts, at the end when the source says so);
//! 2. a followed file no longer found at any matched path (renamed away or
//!    deleted) is still read, and released only once it has been gone for the
//!    source's `rotate_wait` and is read to its end (late writes of a process
//!    that still holds the renamed file arrive);
//! 3. a file whose size fell below the read offset (truncation), or whose first
//!    bytes no longer have its fingerprint (truncated and grown again before the
//!    poll), is read again from its start; a new file that starts like a followed
//!    file is held back until that file is seen truncated (then it is its
//!    `copytruncate` copy and resumes at the offset the original stopped at),
//!    or for at most five seconds (then it is a file of its own); a new empty
//!    file is followed only once it has a first byte (a copy being made is
//!    empty at first);
//! 4. complete lines are handed to the [`EventSink`] (through the source's
//!    multi-line rule) with the offset just past them. A trailing fragment
//!    without newline waits for its newline; it is handed over as a line only
//!    after `partial_line_timeout` without growth, when its file is released, or
//!    at the end of a file read without following.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::multiline::{Multiline, MultilineRule};

/// Bytes of a file's start covered by its fingerprint (or up to its first newline).
pub const FINGERPRINT_BYTES: usize = 256;
/// Longest line kept whole; a longer one is cut into pieces of this size.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Bytes read from one file per poll before the next file gets its turn.
const READ_BUDGET_PER_FILE: u64 = 8 * 1024 * 1024;
/// Size of one read.
const READ_CHUNK: usize = 256 * 1024;
/// How long a file that looks like a copy of a followed file waits for that file
/// to be truncated (copytruncate) before it is taken for a file of its own.
const COPY_WAIT: Duration = Duration::from_secs(5);
/// How long a truncated file's fingerprint and offset are remembered, so that a
/// `copytruncate` copy found later resumes where the original stopped.
const TRUNCATION_MEMORY: Duration = Duration::from_secs(60);

/// Identity of a file: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileKey {
    pub dev: u64,
    pub ino: u64,
}

impl FileKey {
    fn of(meta: &std::fs::Metadata) -> FileKey {
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// CRC-32 of a file's first bytes: up to and including its first newline, at most
/// [`FINGERPRINT_BYTES`]. Tells a file's content apart from a new content written
/// into the same inode after a truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Bytes covered.
    pub len: u64,
    /// Their CRC-32.
    pub crc: u32,
}

impl Fingerprint {
    /// The fingerprint of `file` now; `None` when it is empty. The flag says whether
    /// it is final (a newline or [`FINGERPRINT_BYTES`] bytes were covered).
    pub fn of(file: &File) -> std::io::Result<Option<(Fingerprint, bool)>> {
        let mut buf = [0u8; FINGERPRINT_BYTES];
        let n = read_full_at(file, &mut buf, 0)?;
        if n == 0 {
            return Ok(None);
        }
        let head = &buf[..n];
        let (region, complete) = match head.iter().position(|&b| b == b'\n') {
            Some(i) => (&head[..=i], true),
            None => (head, n == FINGERPRINT_BYTES),
        };
        Ok(Some((
            Fingerprint {
                len: region.len() as u64,
                crc: crc32fast::hash(region),
            },
            complete,
        )))
    }

    /// Whether `file` still starts with the bytes this fingerprint covers.
    pub fn matches(&self, file: &File) -> std::io::Result<bool> {
        let mut buf = [0u8; FINGERPRINT_BYTES];
        let want = (self.len as usize).min(FINGERPRINT_BYTES);
        let n = read_full_at(file, &mut buf[..want], 0)?;
        Ok(n == want && crc32fast::hash(&buf[..n]) == self.crc)
    }
}

fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A durable reading position: where the next unshipped event of a file starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePosition {
    pub key: FileKey,
    pub fingerprint: Option<Fingerprint>,
    pub offset: u64,
    pub path: PathBuf,
}

/// Where to start in files present when the agent starts and without checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    /// Ship the existing content.
    #[default]
    Beginning,
    /// Only lines written from now on.
    End,
}

/// One file source: which paths, and how they are followed.
#[derive(Debug, Clone)]
pub struct FileSourceSpec {
    /// Index of the source in the configuration, handed to the sink with every event.
    pub source: usize,
    /// Glob patterns of the files to follow.
    pub include: Vec<String>,
    /// Paths matching one of these are ignored (e.g. `*.gz`).
    pub exclude: Vec<glob::Pattern>,
    pub start_at: StartAt,
    /// Keep following (false: read each file to its end once, then stop).
    pub follow: bool,
    /// How long a renamed or deleted file is still read after it was last found at its end.
    pub rotate_wait: Duration,
    /// How long a trailing fragment may wait for its newline before it is shipped as a line.
    pub partial_line_timeout: Duration,
    /// Multi-line grouping, if any.
    pub multiline: Option<std::sync::Arc<MultilineRule>>,
}

/// Receives the events a [`Tailer`] reads.
pub trait EventSink {
    /// One event (a line, or several joined by a multi-line rule, without the final
    /// newline) of `source`; `position` is just past it in its file.
    fn event(&mut self, source: usize, text: &[u8], position: &FilePosition);
    /// The file is done (released after rotation or deletion): forget its checkpoint.
    fn released(&mut self, key: FileKey);
}

struct Tracked {
    spec: usize,
    /// The spec's `source`, handed to the sink.
    source: usize,
    file: File,
    position: FilePosition,
    /// True once the fingerprint covers a newline or FINGERPRINT_BYTES.
    fingerprint_final: bool,
    /// Next byte to read (`position.offset` plus the fragment plus pending multi-line).
    read_offset: u64,
    /// Offset just past the last complete line handed to the multi-line stage.
    line_end: u64,
    /// Bytes after the last newline.
    fragment: Vec<u8>,
    /// Since when the fragment has had its current length.
    fragment_since: Option<(usize, Instant)>,
    multiline: Option<Multiline>,
    /// When the file was first missing from every matched path.
    gone_since: Option<Instant>,
    /// When the file was last found with nothing more to read.
    at_eof: bool,
}

/// Counters of a [`Tailer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Lines read (before multi-line joining).
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files released after rotation or deletion.
    pub released: u64,
    /// Truncations detected.
    pub truncations: u64,
}

/// Follows the files of several sources; see the module documentation.
pub struct Tailer {
    specs: Vec<FileSourceSpec>,
    files: BTreeMap<FileKey, Tracked>,
    /// Checkpoints loaded at start, consumed as files are found.
    checkpoints: HashMap<FileKey, FilePosition>,
    /// Fingerprints and offsets of recently truncated files, so that a copy of
    /// their old content found later resumes where they stopped.
    finished: Vec<(Fingerprint, u64, Instant)>,
    /// Files held back as possible copies, since when.
    deferred: HashMap<FileKey, Instant>,
    first_scan: bool,
    buf: Vec<u8>,
    stats: TailStats,
}

impl Tailer {
    /// A tailer over `specs`, resuming from `checkpoints`.
    pub fn new(specs: Vec<FileSourceSpec>, checkpoints: Vec<FilePosition>) -> Tailer {
        Tailer {
            specs,
            files: BTreeMap::new(),
            checkpoints: checkpoints.into_iter().map(|c| (c.key, c)).collect(),
            finished: Vec::new(),
            deferred: HashMap::new(),
            first_scan: true,
            buf: vec![0; READ_CHUNK],
            stats: TailStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// Files currently open.
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Whether every source is done: no source follows and every file was read.
    pub fn finished(&self) -> bool {
        !self.first_scan && self.specs.iter().all(|s| !s.follow) && self.files.is_empty()
    }

    /// Finds new, renamed and deleted files, opening new ones (which keeps their
    /// data readable even if they are renamed or deleted before they are read).
    /// Checkpoints of files that no longer exist are reported as released after
    /// the first scan.
    pub fn scan(&mut self, sink: &mut dyn EventSink, now: Instant) {
        let mut seen = std::collections::HashSet::new();
        for spec_index in 0..self.specs.len() {
            let spec = &self.specs[spec_index];
            let mut paths = Vec::new();
            for pattern in &spec.include {
                match glob::glob(pattern) {
                    Ok(found) => paths.extend(found.flatten()),
                    Err(error) => tracing::warn!(%pattern, %error, "invalid glob"),
                }
            }
            paths.retain(|p| !spec.exclude.iter().any(|x| x.matches_path(p)));
            paths.sort();
            for path in paths {
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                let key = FileKey::of(&meta);
                if !seen.insert(key) {
                    continue;
                }
                if let Some(tracked) = self.files.get_mut(&key) {
                    tracked.position.path = path;
                    tracked.gone_since = None;
                    continue;
                }
                if !self.first_scan && !self.specs[spec_index].follow {
                    continue;
                }
                if let Err(error) = self.open(spec_index, &path, now) {
                    tracing::warn!(path = %path.display(), %error, "cannot open file");
                }
            }
        }
        for (key, tracked) in &mut self.files {
            if !seen.contains(key) && tracked.gone_since.is_none() {
                tracing::info!(path = %tracked.position.path.display(), "file renamed away or deleted; reading it to its end");
                tracked.gone_since = Some(now);
            }
        }
        if self.first_scan {
            self.first_scan = false;
            for (key, stale) in self.checkpoints.drain() {
                tracing::debug!(path = %stale.path.display(), "forgetting the checkpoint of a file that is gone");
                sink.released(key);
            }
        }
        self.finished
            .retain(|(_, _, at)| now.duration_since(*at) < TRUNCATION_MEMORY);
        self.deferred
            .retain(|key, _| seen.contains(key) && !self.files.contains_key(key));
    }

    fn open(&mut self, spec_index: usize, path: &Path, now: Instant) -> std::io::Result<()> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let key = FileKey::of(&meta);
        let size = meta.len();
        let fingerprint = Fingerprint::of(&file)?;
        let start_at = self.specs[spec_index].start_at;
        let Some(start) =
            self.start_offset(&file, key, size, fingerprint.map(|f| f.0), start_at, now)?
        else {
            return Ok(());
        };
        let spec = &self.specs[spec_index];
        tracing::info!(path = %path.display(), offset = start, "following file");
        let multiline = spec.multiline.clone().map(Multiline::new);
        self.files.insert(
            key,
            Tracked {
                spec: spec_index,
                source: spec.source,
                file,
                position: FilePosition {
                    key,
                    fingerprint: fingerprint.map(|f| f.0),
                    offset: start,
                    path: path.to_owned(),
                },
                fingerprint_final: fingerprint.is_some_and(|f| f.1),
                read_offset: start,
                line_end: start,
                fragment: Vec::new(),
                fragment_since: None,
                multiline,
                gone_since: None,
                at_eof: false,
            },
        );
        Ok(())
    }

    /// Where a newly found file starts (`None`: not yet, it is a copy of a file
    /// still being read); see the module documentation.
    fn start_offset(
        &mut self,
        file: &File,
        key: FileKey,
        size: u64,
        fingerprint: Option<Fingerprint>,
        start_at: StartAt,
        now: Instant,
    ) -> std::io::Result<Option<u64>> {
        let fits = |fp: &Option<Fingerprint>, offset: u64| -> std::io::Result<bool> {
            Ok(match fp {
                Some(fp) => offset <= size && fp.matches(file)?,
                None => offset == 0,
            })
        };
        if let Some(checkpoint) = self.checkpoints.remove(&key) {
            if fits(&checkpoint.fingerprint, checkpoint.offset)? {
                return Ok(Some(checkpoint.offset));
            }
            tracing::info!(path = %checkpoint.path.display(), "content changed since the checkpoint (truncated); reading from the start");
            // Its old content may live on in a copy (copytruncate while the agent was down).
            if let Some(fp) = checkpoint.fingerprint {
                self.finished.push((fp, checkpoint.offset, now));
            }
            return Ok(Some(0));
        }
        if fingerprint.is_none() && !(self.first_scan && start_at == StartAt::End) {
            // Empty: it may be a `copytruncate` copy created and not yet
            // filled (a copy of a followed file must be told from a file of
            // its own by its first bytes). Decided once it has some; until
            // then there is nothing to read either way.
            return Ok(None);
        }
        if fingerprint.is_some() {
            // A copy of a file being read: wait until that file is seen truncated
            // (copytruncate), then resume where it stopped.
            for tracked in self.files.values() {
                if let Some(fp) = &tracked.position.fingerprint
                    && tracked.line_end > 0
                    && tracked.fingerprint_final
                    && fits(&Some(*fp), 0)?
                {
                    let original_intact = fp.matches(&tracked.file)?
                        && tracked.file.metadata()?.len() >= tracked.read_offset;
                    let first_deferred = *self.deferred.entry(key).or_insert(now);
                    if original_intact {
                        if now.duration_since(first_deferred) < COPY_WAIT {
                            return Ok(None);
                        }
                        // Not a copytruncate copy: another file with the same first line.
                        break;
                    }
                    tracing::info!(of = %tracked.position.path.display(), "new file is a copy of a truncated file; resuming at its offset");
                    return Ok(Some(tracked.line_end.min(size)));
                }
            }
            // Renamed while the agent was down (another inode: a copy).
            let mut moved = None;
            for (old_key, checkpoint) in &self.checkpoints {
                if checkpoint.fingerprint.is_some()
                    && checkpoint.offset > 0
                    && fits(&checkpoint.fingerprint, checkpoint.offset)?
                {
                    moved = Some((*old_key, checkpoint.offset));
                    break;
                }
            }
            if let Some((old_key, offset)) = moved {
                self.checkpoints.remove(&old_key);
                return Ok(Some(offset));
            }
            for (fp, offset, _) in &self.finished {
                if fits(&Some(*fp), *offset)? {
                    tracing::info!(
                        "new file is a copy of a truncated file; resuming at its offset"
                    );
                    return Ok(Some(*offset));
                }
            }
        }
        if self.first_scan && start_at == StartAt::End {
            return last_line_end(file, size).map(Some);
        }
        Ok(Some(0))
    }

    /// Reads every followed file as far as it goes (within a budget per file) and
    /// releases drained files. Returns the bytes read.
    pub fn read(&mut self, sink: &mut dyn EventSink, now: Instant) -> u64 {
        let mut total = 0;
        // Renamed-away files first: their lines are older than the new file's.
        let mut keys: Vec<(bool, FileKey)> = self
            .files
            .iter()
            .map(|(k, t)| (t.gone_since.is_none(), *k))
            .collect();
        keys.sort();
        let mut done = Vec::new();
        for (_, key) in keys {
            let Some(tracked) = self.files.get_mut(&key) else {
                continue;
            };
            let spec = &self.specs[tracked.spec];
            match read_tracked(tracked, spec, &mut self.buf, sink, now, &mut self.stats) {
                Ok(Progress { bytes, truncated }) => {
                    total += bytes;
                    if let Some(record) = truncated {
                        self.finished.push((record.0, record.1, now));
                    }
                }
                Err(error) => {
                    tracing::warn!(path = %tracked.position.path.display(), %error, "read failed; will retry");
                    continue;
                }
            }
            let released = tracked.at_eof
                && (!spec.follow
                    || tracked
                        .gone_since
                        .is_some_and(|at| now.duration_since(at) >= spec.rotate_wait));
            if released {
                flush_all(tracked, sink, now);
                done.push(key);
            }
        }
        for key in done {
            if let Some(tracked) = self.files.remove(&key) {
                tracing::info!(path = %tracked.position.path.display(), "file drained and released");
                self.stats.released += 1;
                sink.released(key);
            }
        }
        total
    }

    /// Hands over what waits for more input (fragments, multi-line events) of
    /// every file, as at the end of input. Used when stdin-like sources end; files
    /// keep them instead (they are read again after a restart).
    pub fn flush_everything(&mut self, sink: &mut dyn EventSink, now: Instant) {
        for tracked in self.files.values_mut() {
            flush_all(tracked, sink, now);
        }
    }
}

struct Progress {
    bytes: u64,
    truncated: Option<(Fingerprint, u64)>,
}

fn read_tracked(
    t: &mut Tracked,
    spec: &FileSourceSpec,
    buf: &mut [u8],
    sink: &mut dyn EventSink,
    now: Instant,
    stats: &mut TailStats,
) -> std::io::Result<Progress> {
    let size = t.file.metadata()?.len();
    let mut truncated = None;
    let changed = match &t.position.fingerprint {
        Some(fp) => size < t.read_offset || !fp.matches(&t.file)?,
        None => size < t.read_offset,
    };
    if changed {
        tracing::warn!(path = %t.position.path.display(), old_offset = t.read_offset, size, "file truncated; reading it from its start");
        stats.truncations += 1;
        // Complete lines waiting for a multi-line continuation are still events.
        if let Some(ml) = &mut t.multiline
            && let Some((text, end)) = ml.flush()
        {
            t.position.offset = end;
            sink.event(spec.source, &text, &t.position);
        }
        if let Some(fp) = t.position.fingerprint {
            truncated = Some((fp, t.position.offset));
        }
        t.fragment.clear();
        t.fragment_since = None;
        t.read_offset = 0;
        t.line_end = 0;
        t.position.offset = 0;
        t.position.fingerprint = None;
        t.fingerprint_final = false;
    }
    if !t.fingerprint_final {
        let fp = Fingerprint::of(&t.file)?;
        t.position.fingerprint = fp.map(|f| f.0);
        t.fingerprint_final = fp.is_some_and(|f| f.1);
    }
    let mut bytes = 0;
    t.at_eof = false;
    loop {
        if bytes >= READ_BUDGET_PER_FILE {
            return Ok(Progress { bytes, truncated });
        }
        let n = match t.file.read_at(buf, t.read_offset) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        bytes += n as u64;
        stats.bytes += n as u64;
        t.read_offset += n as u64;
        let mut chunk = &buf[..n];
        while let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            let end = t.line_end + t.fragment.len() as u64 + i as u64 + 1;
            if t.fragment.is_empty() {
                deliver(t, spec, &chunk[..i], end, sink, now, stats);
            } else {
                let mut line = std::mem::take(&mut t.fragment);
                line.extend_from_slice(&chunk[..i]);
                deliver(t, spec, &line, end, sink, now, stats);
                line.clear();
                t.fragment = line;
            }
            chunk = &chunk[i + 1..];
        }
        t.fragment.extend_from_slice(chunk);
        while t.fragment.len() >= MAX_LINE_BYTES {
            let rest = t.fragment.split_off(MAX_LINE_BYTES);
            let piece = std::mem::replace(&mut t.fragment, rest);
            let end = t.line_end + piece.len() as u64;
            deliver(t, spec, &piece, end, sink, now, stats);
        }
    }
    t.at_eof = true;
    if t.fragment.is_empty() {
        t.fragment_since = None;
    } else {
        let since = match t.fragment_since {
            Some((len, at)) if len == t.fragment.len() => at,
            _ => {
                t.fragment_since = Some((t.fragment.len(), now));
                now
            }
        };
        if !spec.follow || now.duration_since(since) >= spec.partial_line_timeout {
            flush_fragment(t, sink, now);
        }
    }
    if let Some(ml) = &mut t.multiline
        && ml.expired(now)
        && let Some((text, end)) = ml.flush()
    {
        t.position.offset = end;
        sink.event(spec.source, &text, &t.position);
    }
    if !spec.follow
        && let Some(ml) = &mut t.multiline
        && let Some((text, end)) = ml.flush()
    {
        t.position.offset = end;
        sink.event(spec.source, &text, &t.position);
    }
    Ok(Progress { bytes, truncated })
}

/// One complete line ending at `end`: to the multi-line stage, or straight out.
fn deliver(
    t: &mut Tracked,
    spec: &FileSourceSpec,
    line: &[u8],
    end: u64,
    sink: &mut dyn EventSink,
    now: Instant,
    stats: &mut TailStats,
) {
    stats.lines += 1;
    t.line_end = end;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match &mut t.multiline {
        Some(ml) => {
            if let Some((text, event_end)) = ml.push(line, end, now) {
                t.position.offset = event_end;
                sink.event(spec.source, &text, &t.position);
            }
            if !ml.pending() {
                t.position.offset = end;
            }
        }
        None => {
            t.position.offset = end;
            sink.event(spec.source, line, &t.position);
        }
    }
}

fn flush_fragment(t: &mut Tracked, sink: &mut dyn EventSink, now: Instant) {
    let source = t.source;
    if t.fragment.is_empty() {
        return;
    }
    let fragment = std::mem::take(&mut t.fragment);
    let end = t.line_end + fragment.len() as u64;
    t.line_end = end;
    t.fragment_since = None;
    match &mut t.multiline {
        Some(ml) => {
            if let Some((text, event_end)) = ml.push(&fragment, end, now) {
                t.position.offset = event_end;
                sink.event(source, &text, &t.position);
            }
        }
        None => {
            t.position.offset = end;
            sink.event(source, &fragment, &t.position);
        }
    }
}

fn flush_all(t: &mut Tracked, sink: &mut dyn EventSink, now: Instant) {
    flush_fragment(t, sink, now);
    if let Some(ml) = &mut t.multiline
        && let Some((text, end)) = ml.flush()
    {
        t.position.offset = end;
        sink.event(t.source, &text, &t.position);
    }
}

/// The offset just past the last newline in the final 64 KiB of `file`, so a
/// start at the end never begins in the middle of a line.
fn last_line_end(file: &File, size: u64) -> std::io::Result<u64> {
    let window = size.min(64 * 1024);
    let mut buf = vec![0u8; window as usize];
    let n = read_full_at(file, &mut buf, size - window)?;
    Ok(match buf[..n].iter().rposition(|&b| b == b'\n') {
        Some(i) => size - window + i as u64 + 1,
        None => size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Vec<String>);

    impl EventSink for Lines {
        fn event(&mut self, _source: usize, text: &[u8], _position: &FilePosition) {
            self.0.push(String::from_utf8_lossy(text).into_owned());
        }
        fn released(&mut self, _key: FileKey) {}
    }

    /// `copytruncate` seen mid-copy: the copy exists but is still empty when
    /// a scan finds it. It is not taken for a file of its own read from its
    /// start (which sent every copied line twice, a CI flake of the delivery
    /// test); once filled and the original truncated, it resumes where the
    /// original stopped.
    #[test]
    fn a_copy_found_empty_is_not_read_again_once_filled() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let copy = dir.path().join("app.log.1");
        let text: String = (0..50).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, &text).unwrap();
        let spec = FileSourceSpec {
            source: 0,
            include: vec![dir.path().join("app.log*").display().to_string()],
            exclude: Vec::new(),
            start_at: StartAt::Beginning,
            follow: true,
            rotate_wait: Duration::from_secs(5),
            partial_line_timeout: Duration::from_secs(5),
            multiline: None,
        };
        let mut tailer = Tailer::new(vec![spec], Vec::new());
        let mut sink = Lines::default();
        let now = Instant::now();
        tailer.scan(&mut sink, now);
        tailer.read(&mut sink, now);
        assert_eq!(sink.0.len(), 50);

        File::create(&copy).unwrap();
        tailer.scan(&mut sink, now);
        tailer.read(&mut sink, now);
        std::fs::write(&copy, &text).unwrap();
        File::options()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(0)
            .unwrap();
        std::fs::write(&log, "line 50\n").unwrap();
        for _ in 0..3 {
            tailer.scan(&mut sink, now);
            tailer.read(&mut sink, now);
        }
        let expected: Vec<String> = (0..51).map(|i| format!("line {i}")).collect();
        assert_eq!(sink.0, expected);
    }
}
