//! Joining the lines of one event (stack traces) before shipping.
//!
//! A line either starts a new event or continues the pending one. With a
//! configured `start` pattern, a line starts an event exactly when it matches.
//! Without one, the built-in rule applies: a line continues the pending event when
//! it is blank, starts with whitespace, or looks like a line of a Java, Python, Go
//! or Rust stack trace that is not indented (`Caused by:`, `Traceback (most recent
//! call last):`, `ValueError: ...`, `goroutine 1 [running]:`, `main.main()`,
//! `stack backtrace:` ...). Every other line starts a new event.
//!
//! A pending event is handed over when the next event starts, when it reaches
//! `max_lines` or `max_bytes`, or after `timeout` without a new line.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use regex::bytes::Regex;

/// Default wait for a continuation line before a pending event is shipped.
pub const DEFAULT_MULTILINE_TIMEOUT: Duration = Duration::from_millis(1000);
/// Default most lines in one event.
pub const DEFAULT_MAX_LINES: usize = 500;
/// Default most bytes in one event.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;

/// Unindented lines of stack traces that continue an event.
static CONTINUATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:Caused by:|Suppressed:|Traceback \(most recent call last\)",
        r"|During handling of the above exception|The above exception was the direct cause",
        r"|\.\.\. \d+ (?:more|common frames omitted)",
        r"|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:Error|Exception|Throwable|Interrupt|Exit)(?::|$)",
        r"|goroutine \d+ \[|created by |[\w./*()\[\]-]+\(.*\)$|\[signal |exit status \d+",
        r"|stack backtrace:|note: run with )"
    ))
    .ok()
});

/// A Rust panic header: its message follows on the next line, unindented.
static RUST_PANIC: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^thread '[^']*' panicked at .*:$").ok());

/// How lines are grouped into events.
#[derive(Debug, Clone)]
pub struct MultilineRule {
    /// A line matching this starts an event; `None`: the built-in rule.
    pub start: Option<Regex>,
    pub max_lines: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for MultilineRule {
    fn default() -> Self {
        MultilineRule {
            start: None,
            max_lines: DEFAULT_MAX_LINES,
            max_bytes: DEFAULT_MAX_BYTES,
            timeout: DEFAULT_MULTILINE_TIMEOUT,
        }
    }
}

impl MultilineRule {
    /// The built-in rule, or `start` when given (an error names the bad pattern).
    pub fn with_start(start: Option<&str>) -> Result<MultilineRule, regex::Error> {
        Ok(MultilineRule {
            start: start.map(Regex::new).transpose()?,
            ..MultilineRule::default()
        })
    }

    /// Whether `line` starts a new event.
    pub fn is_start(&self, line: &[u8]) -> bool {
        if let Some(start) = &self.start {
            return start.is_match(line);
        }
        match line.first() {
            None => false,
            Some(b) if b.is_ascii_whitespace() => false,
            // Timestamps, brackets and JSON objects start events: skip the regex.
            Some(b'0'..=b'9' | b'[' | b'{' | b'<') => true,
            Some(_) => !CONTINUATION.as_ref().is_some_and(|re| re.is_match(line)),
        }
    }
}

fn announces_continuation(line: &[u8]) -> bool {
    line.starts_with(b"thread '") && RUST_PANIC.as_ref().is_some_and(|re| re.is_match(line))
}

/// The pending event of one file.
#[derive(Debug)]
pub struct Multiline {
    rule: Arc<MultilineRule>,
    text: Vec<u8>,
    lines: usize,
    end: u64,
    last_line_at: Option<Instant>,
    /// The last line announced a continuation (a Rust panic header).
    continues: bool,
}

impl Multiline {
    pub fn new(rule: Arc<MultilineRule>) -> Multiline {
        Multiline {
            rule,
            text: Vec::new(),
            lines: 0,
            end: 0,
            last_line_at: None,
            continues: false,
        }
    }

    /// Whether lines wait for their event to complete.
    pub fn pending(&self) -> bool {
        self.lines > 0
    }

    /// Adds a line ending at file offset `end`; returns the previous event (text
    /// and the offset just past it) when this line starts a new one.
    pub fn push(&mut self, line: &[u8], end: u64, now: Instant) -> Option<(Vec<u8>, u64)> {
        if self.lines == 0 {
            if line.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            self.start(line, end, now);
            return None;
        }
        let full = self.lines >= self.rule.max_lines
            || self.text.len() + line.len() + 1 > self.rule.max_bytes;
        let continues = std::mem::take(&mut self.continues);
        if full || (!continues && self.rule.is_start(line)) {
            let done = self.flush();
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.start(line, end, now);
            }
            return done;
        }
        self.text.push(b'\n');
        self.text.extend_from_slice(line);
        self.lines += 1;
        self.end = end;
        self.last_line_at = Some(now);
        self.continues = announces_continuation(line);
        None
    }

    fn start(&mut self, line: &[u8], end: u64, now: Instant) {
        self.text.clear();
        self.text.extend_from_slice(line);
        self.lines = 1;
        self.end = end;
        self.last_line_at = Some(now);
        self.continues = announces_continuation(line);
    }

    /// Whether the pending event has waited `timeout` for a continuation.
    pub fn expired(&self, now: Instant) -> bool {
        self.lines > 0
            && self
                .last_line_at
                .is_some_and(|at| now.duration_since(at) >= self.rule.timeout)
    }

    /// Hands over the pending event, if any (trailing blank lines removed).
    pub fn flush(&mut self) -> Option<(Vec<u8>, u64)> {
        if self.lines == 0 {
            return None;
        }
        self.lines = 0;
        self.last_line_at = None;
        self.continues = false;
        let mut text = std::mem::take(&mut self.text);
        while text.last().is_some_and(u8::is_ascii_whitespace) {
            text.pop();
        }
        Some((text, self.end))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn events(input: &str) -> Vec<String> {
        let mut ml = Multiline::new(Arc::new(MultilineRule::default()));
        let now = Instant::now();
        let mut out = Vec::new();
        let mut end = 0;
        for line in input.lines() {
            end += line.len() as u64 + 1;
            out.extend(ml.push(line.as_bytes(), end, now));
        }
        out.extend(ml.flush());
        out.into_iter()
            .map(|(t, _)| String::from_utf8(t).unwrap())
            .collect()
    }

    #[test]
    fn java_trace_is_one_event() {
        let got = events(
            "2024-01-01 12:00:00 ERROR failed\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\t... 3 more\nCaused by: java.io.IOException: x\n\tat d.E.f(E.java:2)\n2024-01-01 12:00:01 INFO next",
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("(E.java:2)"));
        assert_eq!(got[1], "2024-01-01 12:00:01 INFO next");
    }

    #[test]
    fn python_go_and_rust_traces_are_one_event_each() {
        let got = events(concat!(
            "ERROR boom\nTraceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    f()\nZeroDivisionError: division by zero\n",
            "panic: runtime error: index out of range [1] with length 0\n\ngoroutine 1 [running]:\nmain.main()\n\t/tmp/x.go:5 +0x1d\nexit status 2\n",
            "thread 'main' panicked at src/main.rs:2:5:\nboom\nstack backtrace:\n   0: rust_begin_unwind\nnote: run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
            "INFO done\n"
        ));
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].ends_with("division by zero"));
        assert!(got[1].starts_with("panic:") && got[1].ends_with("exit status 2"));
        assert!(got[2].starts_with("thread 'main'") && got[2].ends_with("verbose backtrace."));
    }

    #[test]
    fn a_start_pattern_decides_alone() {
        let mut ml = Multiline::new(Arc::new(MultilineRule::with_start(Some("^>")).unwrap()));
        let now = Instant::now();
        assert!(ml.push(b"> one", 6, now).is_none());
        assert!(ml.push(b"2024 two", 15, now).is_none());
        let (text, end) = ml.push(b"> three", 23, now).unwrap();
        assert_eq!((text.as_slice(), end), (&b"> one\n2024 two"[..], 15));
    }
}
