//! Finding the message in a raw log line.
//!
//! Raw lines start with a header: timestamps, a level, hosts, process ids,
//! thread and logger names. Mining them with the message would spread one
//! message over several patterns (a level or a logger name) or hide the
//! message behind a long run of variables. [`strip_header`] removes, from the
//! start of the line and in any order: timestamps and dates in the usual forms
//! (ISO 8601, `yyMMdd HHmmss`, `17/06/09`, `Jun 14 15:16:01`, epoch numbers,
//! `[Sun Dec 04 04:47:44 2005]`), numbers (pids, sequence numbers), `-` and `|`
//! separators, a syslog `<PRI>`, the host and `program[pid]:` after a syslog
//! timestamp (or rsyslog's ISO one, `2024-03-05T10:11:12.123456-06:00 host
//! sshd[42]:`), a time zone name after a time, node names followed by a level, a `|`-separated header
//! (`ts|component|pid|message`), a glog / klog header
//! (`I1209 03:12:06.123456  1234 file.go:12]`), and a level (`INFO`, `[warn]`, `W` after a
//! timestamp) with what follows it in Java, Android and Python layouts: a
//! `[thread]`, a `-`, a `logger.Name:` or a dotted logger name; a
//! bracketed tag glued to a `:` (`[node:event.name:severity]:`,
//! `[Server thread/INFO]:`), which ends the header; and the
//! fields before a logfmt `msg=` (`ts=... level=info msg="..."`), whose
//! quoted text that ends the line is unescaped (`\"` is `"` again), the
//! message as the program printed it (session 26, round 32). It is a
//! heuristic with no per-format settings and never returns an empty message
//! for a non-empty line. The message borrows from the line unless it was
//! unescaped.

use std::borrow::Cow;

const LEVELS: &[&str] = &[
    "TRACE",
    "DEBUG",
    "INFO",
    "INFORMATION",
    "NOTICE",
    "WARN",
    "WARNING",
    "ERROR",
    "ERR",
    "SEVERE",
    "FATAL",
    "CRITICAL",
    "CRIT",
    "ALERT",
    "EMERG",
    "EMERGENCY",
    "FINE",
    "FINER",
    "FINEST",
    "VERBOSE",
];
/// Short spellings of levels (Serilog's `INF`, `WRN`, `DBG`, `VRB`, `FTL`;
/// `TRC`; .NET's `dbug`, `trce`), read all upper- or all lower-case only, as
/// those loggers print them.
const SHORT_LEVELS: &[&str] = &["INF", "WRN", "DBG", "VRB", "FTL", "TRC", "DBUG", "TRCE"];
/// Levels read only when a `:` ends them, upper-case or capitalised
/// (`Deprecated:`: PHP), where they cannot be a message's first word.
/// PostgreSQL's `LOG:` stays in the message (the corpus's postgres
/// templates hold it, and without it `checkpoint starting: <*>` has too
/// few words around its value).
const COLON_LEVELS: &[&str] = &["DEPRECATED"];
/// Levels read only in brackets (`[Note]`, `[System]`: MySQL's error log),
/// where they cannot be the first word of a message.
const BRACKETED_LEVELS: &[&str] = &["NOTE", "SYSTEM"];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// Time zone names that follow a timestamp (`12:11:26.106 UTC`); numeric
/// offsets (`+0000`) are time-like already.
const TIME_ZONES: &[&str] = &[
    "UTC", "GMT", "Z", "CET", "CEST", "EET", "EEST", "WET", "BST", "IST", "EST", "EDT", "CST",
    "CDT", "MST", "MDT", "PST", "PDT", "JST", "KST", "AEST", "AEDT",
];
/// Longest `[...]` group read as one header field, in bytes.
const MAX_BRACKET: usize = 200;
/// Header words examined at most.
const MAX_HEADER_WORDS: usize = 20;

/// The message after a glog / klog header (Kubernetes, many Go and C++
/// programs): `I1209 03:12:06.123456    1234 kubelet.go:123] message`, a
/// level letter glued to `MMDD`, a time, a thread id, and `file:line]`.
fn strip_glog_header(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    if b.len() < 6
        || !matches!(b[0], b'I' | b'W' | b'E' | b'F' | b'D')
        || !b[1..5].iter().all(u8::is_ascii_digit)
        || b[5] != b' '
    {
        return None;
    }
    let (time, rest) = first_word(line[6..].trim_start());
    if !time.contains(':') || !is_time_like(time) {
        return None;
    }
    let (thread, rest) = first_word(rest.trim_start());
    if thread.is_empty() || !thread.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (source, rest) = first_word(rest.trim_start());
    let source = source.strip_suffix(']')?;
    let (_file, number) = source.rsplit_once(':')?;
    (!number.is_empty() && number.bytes().all(|c| c.is_ascii_digit())).then_some(rest)
}

/// The message part of a raw log line (see the module documentation).
/// Borrowed from `line`, except for the text of a quoted logfmt `msg="..."`
/// that holds escapes, which is unescaped (see [`unescape_quoted`]).
pub fn strip_header(line: &str) -> Cow<'_, str> {
    let line = line.trim();
    let stripped = strip_fields(line).trim();
    if stripped.is_empty() {
        return Cow::Borrowed(line);
    }
    // Only a line that ends with a quote and opens with a `key=value` can
    // end with a quoted `msg=`; the other lines pay for a byte's test (an
    // access log's, whose user agent ends it, for its first word's).
    if line.ends_with('"')
        && first_word(line).0.contains('=')
        && let Some(message) = unescaped_message(line, stripped)
    {
        return Cow::Owned(message);
    }
    Cow::Borrowed(stripped)
}

/// `message`, the text of a quoted logfmt `msg=` that ends `line` (whose
/// first word holds a `=`), unescaped and trimmed; `None` when it holds no
/// escape, when `line` is no such logfmt (a line whose first word holds a
/// `=` matches none of the layouts [`strip_fields`] tries before
/// logfmt's), or when it was all escaped space (kept as it stands). Out
/// of line: the common path stays small.
#[inline(never)]
fn unescaped_message(line: &str, message: &str) -> Option<String> {
    if !message.contains('\\') || !logfmt_message(line).is_some_and(|(_, quoted)| quoted) {
        return None;
    }
    let text = unescape_quoted(message);
    // An escaped newline may open or end it.
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(if trimmed.len() == text.len() {
        text.into_owned()
    } else {
        trimmed.to_owned()
    })
}

/// The text of a quoted logfmt value as the program printed it: logfmt
/// (go-kit's encoder) and logrus (Go's `%q`) escape a `"` as `\"`, a `\`
/// as `\\`, a newline, tab and carriage return as `\n`, `\t`, `\r`, and
/// other control characters as `\u00XX`; those are read back. Any other
/// escape (`\x..`, Go's mark of a byte that is no UTF-8) is kept as it
/// stands. Without a `\` the text is borrowed, never copied.
fn unescape_quoted(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find('\\') else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut rest = &text[first..];
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at + 1..];
        let (read, len) = match escape.as_bytes().first() {
            Some(b'"') => (Some('"'), 1),
            Some(b'\\') => (Some('\\'), 1),
            Some(b'n') => (Some('\n'), 1),
            Some(b't') => (Some('\t'), 1),
            Some(b'r') => (Some('\r'), 1),
            Some(b'u') => (
                escape
                    .get(1..5)
                    .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32),
                5,
            ),
            _ => (None, 0),
        };
        match read {
            Some(c) => {
                out.push(c);
                rest = &escape[len..];
            }
            None => {
                out.push('\\');
                rest = escape;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn strip_fields(line: &str) -> &str {
    if let Some(message) = strip_glog_header(line) {
        return message;
    }
    // Whole layouts, each tried only when the line's first byte or word
    // can open it.
    let (first, _) = first_word(line);
    let whole = match line.as_bytes().first() {
        Some(b'<') => strip_rfc5424_header(line),
        Some(b) if b.is_ascii_uppercase() && first.contains(':') => {
            strip_glued_level(first).map(|glued| &line[first.len() - glued.len()..])
        }
        Some(b) if b.is_ascii_lowercase() && first.ends_with(':') => strip_category_level(line),
        _ => None,
    };
    let whole = whole.or_else(|| {
        first
            .contains('=')
            .then(|| strip_logfmt_header(line))
            .flatten()
    });
    if let Some(message) = whole {
        return message;
    }
    let mut rest = strip_pipe_header(line);
    let mut removed = 0usize;
    let mut month_seen = false;
    // The month came in a `24-Feb` date.
    let mut day_month = false;
    // The previous word was a time of day: a zone name may follow.
    let mut after_time = false;
    // The previous word was a host name read by `is_host_name`.
    let mut after_host = false;
    for _ in 0..MAX_HEADER_WORDS {
        rest = rest.trim_start();
        let (word, after) = first_word(rest);
        if word.is_empty() {
            break;
        }
        if word.starts_with('[') {
            let Some(end) = bracket_end(rest) else {
                break;
            };
            // Padded levels are common (`[INFO ]`, log4j's `[%-5p]`).
            let inner = rest[1..end - 1].trim();
            // A one-letter level in brackets after a time (`[I]`, `[W]`,
            // `[N]`: GPFS-like `mmfs.log`, glog-like layouts).
            if is_level(inner, true)
                || is_bracketed_level(inner)
                || is_other_level(inner)
                || is_module_level(inner)
                || (removed > 0 && (is_letter_level(inner) || inner == "N"))
            {
                return after_level(&rest[end..]);
            }
            if let Some(message) = letter_level_after_bracketed_time(removed, inner, &rest[end..]) {
                return message;
            }
            if let Some(message) = after_bracketed_tag(&rest[end..]) {
                return message;
            }
            // A thread in brackets before the level (logback's and log4j2's
            // default `%d [%thread] %-5level`), digits or not.
            if inner.bytes().any(|b| b.is_ascii_digit())
                || (removed > 0 && level_next(&rest[end..]))
            {
                rest = &rest[end..];
                removed += 1;
                continue;
            }
            break;
        }
        if removed == 0
            && word.len() > 2
            && word.starts_with('<')
            && word.ends_with('>')
            && word[1..word.len() - 1].bytes().all(|b| b.is_ascii_digit())
        {
            rest = after;
            removed += 1;
            continue;
        }
        let bare = word.trim_end_matches([':', ',']);
        let host_before = std::mem::replace(&mut after_host, false);
        if is_level(bare, removed > 0)
            || (removed > 0 && is_other_level(word))
            || (removed >= 2 && is_letter_level(bare))
            || (host_before && is_status_level(bare))
        {
            // A level's own `:` ends the header (`PHP Warning:  ...`,
            // `FATAL:  ...`), as PHP's `Fatal error:` does.
            let (next, message) = first_word(after.trim_start());
            if word.ends_with(':') {
                return after;
            }
            if next == "error:" {
                return message;
            }
            return after_level(after);
        }
        // A one-letter level that opens the line before a bracketed time
        // (`I [13/Feb/2024:13:11:30 +0000] ...`, CUPS-like error logs).
        if removed == 0
            && is_letter_level(word)
            && after.trim_start().starts_with('[')
            && bracket_end(after.trim_start()).is_some_and(|end| {
                let time = first_word(&after.trim_start()[1..end - 1]).0;
                time.as_bytes().first().is_some_and(u8::is_ascii_digit) && time.contains(':')
            })
        {
            rest = after;
            removed += 1;
            continue;
        }
        // Ruby's Logger: `I, [2024-03-05T10:11:12.345678 #1234]  INFO -- :`.
        if removed == 0
            && word.len() == 2
            && word.ends_with(',')
            && is_letter_level(bare)
            && after.trim_start().starts_with('[')
        {
            rest = after;
            removed += 1;
            continue;
        }
        if word == "-" || word == "|" {
            rest = after;
            continue;
        }
        if MONTHS.contains(&bare) || WEEKDAYS.contains(&bare) {
            month_seen |= MONTHS.contains(&bare);
            rest = after;
            removed += 1;
            continue;
        }
        // A day and month joined by `-` (`24-Feb`, `06-Dec-2024`) is a
        // date as `Feb 24` is.
        if is_day_month(bare) {
            month_seen = true;
            day_month = true;
            rest = after;
            removed += 1;
            continue;
        }
        if after_time && TIME_ZONES.contains(&bare) {
            rest = after;
            removed += 1;
            after_time = false;
            continue;
        }
        after_time = false;
        // `2385652948: client=...`: a number ending in `:` as the first word
        // is a key of the message (a queue id), not a header field; so is
        // one of eight digits or more after a time (a sequence number or
        // pid there is shorter).
        let number_key = word.len() > 1
            && word.ends_with(':')
            && word[..word.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if number_key && (removed == 0 || word.len() >= 9) {
            break;
        }
        // `12/06/2024 02:46:33|worker|host|W|job ...`: a `|`-separated
        // header glued to the time, after a date.
        if removed > 0
            && let Some(last) = word.rfind('|')
            && is_time_like(word.split('|').next().unwrap_or(""))
        {
            return &rest[last + 1..];
        }
        if is_time_like(word) {
            rest = after;
            removed += 1;
            after_time = word.contains(':');
            // A year after the time is ctime's (`Tue Mar  5 10:11:12 2024
            // -`: uWSGI), not a syslog host.
            // A bracketed word after the time is a thread, never a
            // syslog host (`Feb 21, 2024 14:35:28.063 [0x7f14] DEBUG -`).
            // After a `24-Feb` date, a level after the time is read as
            // the level (`06-Dec-2024 10:12:01.123 INFO [main]`: Tomcat's).
            if month_seen
                && word.contains(':')
                && !starts_with_year(rest)
                && !rest.trim_start().starts_with('[')
                && !(day_month && level_next(rest))
            {
                return strip_device_clock(after_syslog_time(rest));
            }
            // rsyslog's ISO time (`2024-03-05T10:11:12.123456-06:00`)
            // before a host and `program[pid]:`, as a syslog time is.
            if word.contains('T')
                && word.contains(':')
                && let Some(message) = after_iso_syslog_time(rest)
            {
                return message;
            }
            continue;
        }
        let has_digit = word.bytes().any(|b| b.is_ascii_digit());
        if has_digit && header_marker_ahead(after, 5) {
            rest = after;
            removed += 1;
            continue;
        }
        // A thread id in hex after a time (`7f2c3b7fe700`), as a number
        // (`140164`) is.
        if removed > 0 && is_hex_id(word) {
            rest = after;
            removed += 1;
            continue;
        }
        // A host name without a digit (`bmc-db-master`) right before a
        // level, as `node-114` is.
        if removed > 0 && is_host_name(word) && {
            let next = after.split_ascii_whitespace().next().unwrap_or("");
            let bare = next.trim_end_matches([':', ',']);
            is_level(bare, false) || is_status_level(bare) || is_other_level(next)
        } {
            rest = after;
            removed += 1;
            after_host = true;
            continue;
        }
        // PostgreSQL's `%u@%d` (`app@orders`) and the severity after it, an
        // upper-case word and a `:` (`LOG:`, `WARNING:`); a line without a
        // session (`%q`) keeps its `LOG:`, as no template has both forms.
        if removed > 0 && is_user_at_database(word) {
            let (next, message) = first_word(after.trim_start());
            if next.len() > 1 && next.ends_with(':') && is_upper_word(&next[..next.len() - 1]) {
                return message;
            }
        }
        // A logger before the level (Python's `%(name)s - %(levelname)s`),
        // and `key=value` context before it (Elixir's metadata,
        // `request_id=F1x2 [info]`).
        if removed > 0 && (is_logger(word) || is_key_value(word)) && level_next(after) {
            rest = after;
            removed += 1;
            continue;
        }
        if removed > 0 && is_upper_word(word) && level_ahead(after, 2) {
            rest = after;
            removed += 1;
            continue;
        }
        break;
    }
    rest
}

/// `ts|component|pid|message`: the fields of the first word before its last
/// `|`, when the first of them is a timestamp.
fn strip_pipe_header(line: &str) -> &str {
    let (word, _) = first_word(line);
    if let Some(last) = word.rfind('|') {
        let first = word.split('|').next().unwrap_or("");
        if is_time_like(first) {
            return &line[last + 1..];
        }
    }
    line
}

/// After a syslog timestamp: the host, then an optional `program[pid]:`.
fn after_syslog_time(rest: &str) -> &str {
    let (host, after) = first_word(rest.trim_start());
    if host.is_empty() || is_level(host.trim_end_matches(':'), true) {
        return rest;
    }
    let after = after.trim_start();
    let (program, after_program) = first_word(after);
    if program.len() > 1 && program.ends_with(':') {
        return after_program;
    }
    after
}

/// After an ISO time: a host name of lower-case letters, digits, `-` and
/// `.`, then a program name ending in `:` (`kernel:`, `sshd[79606]:`);
/// `None` when the words after the time are not those two.
fn after_iso_syslog_time(rest: &str) -> Option<&str> {
    let (host, after) = first_word(rest.trim_start());
    let (program, message) = first_word(after.trim_start());
    let hb = host.as_bytes();
    let host_like = hb.len() >= 2
        && hb[0].is_ascii_lowercase()
        && hb
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.');
    let name = program.strip_suffix(':')?;
    let name = match name.split_once('[') {
        Some((name, pid)) => {
            let pid = pid.strip_suffix(']')?;
            is_number(pid).then_some(name)?
        }
        None => name,
    };
    let nb = name.as_bytes();
    let program_like = nb.len() >= 2
        && nb[0].is_ascii_lowercase()
        && nb
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'));
    (host_like && program_like && !is_level(name, true)).then_some(message)
}

/// After a relay's syslog header and the device's sequence number, the
/// device's own clock (network devices: `136129: *Jan  8 03:32:16.620 UTC:
/// %LINK-3-UPDOWN: ...`; `*` or `.` marks an unsynchronised clock): a month,
/// a day, a time and an optional zone, up to a word ending in `:`. A message
/// that only starts with a month name (no time of day) is left whole.
fn strip_device_clock(message: &str) -> &str {
    let mut rest = message.trim_start();
    let (first, _) = first_word(rest);
    if !MONTHS.contains(&first.trim_start_matches(['*', '.'])) {
        return message;
    }
    let mut time = false;
    for _ in 0..6 {
        let (word, after) = first_word(rest);
        let bare = word.trim_start_matches(['*', '.']).trim_end_matches(':');
        let clock = MONTHS.contains(&bare)
            || WEEKDAYS.contains(&bare)
            || (time && TIME_ZONES.contains(&bare))
            || is_time_like(bare);
        if !clock {
            break;
        }
        time |= bare.contains(':');
        rest = after.trim_start();
        if word.ends_with(':') {
            break;
        }
    }
    if time { rest } else { message }
}

/// After a level: optional `[thread]`s and `[context]`s, `-`, `--` or
/// `---` separators and a lone `:`, a pid (`12345 ---`: Spring Boot;
/// `(1234):`: pino-pretty and HAProxy; `1234#0: *56`: nginx's pid, thread
/// and connection), and a logger name (also before a padded ` :`).
fn after_level(rest: &str) -> &str {
    let mut rest = rest.trim_start();
    // After a separator of dashes (Ruby's Logger: `INFO -- puma: OK`), a
    // `name:` is the program's name, header before a message of any
    // length (session 22, round 19).
    let mut after_dashes = false;
    for _ in 0..8 {
        let (word, after) = first_word(rest);
        if word.starts_with('[') {
            match bracket_end(rest) {
                Some(end) => rest = rest[end..].trim_start(),
                None => break,
            }
            continue;
        }
        let next = first_word(after.trim_start()).0;
        let dashes = |w: &str| !w.is_empty() && w.bytes().all(|b| b == b'-');
        // A lone `:` ends the header, as a `logger:` does.
        if word == ":" {
            return after;
        }
        if dashes(word)
            || (is_number(word) && dashes(next))
            || is_pid_field(word)
            || (is_logger(word) && next == ":")
        {
            after_dashes = dashes(word) && word.len() >= 2;
            rest = after.trim_start();
            continue;
        }
        // A `Name:` before a message of one word is the message's own
        // label (`Request: host/path`), not a logger.
        // Nor is an event code (`AH01382:`: Apache's), which names the
        // message.
        let name = word.strip_suffix(':').unwrap_or("");
        if is_logger(name)
            && !is_event_code(name)
            && (after_dashes || after.split_ascii_whitespace().nth(1).is_some())
        {
            return after;
        }
        after_dashes = false;
        if word.contains('.')
            && !word.ends_with('.')
            && !word.contains('(')
            && is_logger(word)
            && !is_file_name(word)
        {
            rest = after.trim_start();
            continue;
        }
        break;
    }
    rest
}

/// The message after a one-letter level that follows a bracketed time
/// opening the line (`[2024-01-02 14:38:02.382733 +0000] E [MSGID: 106004]
/// ...`: GlusterFS's layout), as after one that opens the line before
/// such a time (`I [13/Feb/2024:13:11:30 +0000]`, CUPS-like); the
/// brackets after the level stay in the message (session 24).
fn letter_level_after_bracketed_time<'a>(
    removed: usize,
    inner: &str,
    after: &'a str,
) -> Option<&'a str> {
    let time = first_word(inner).0;
    let (level, message) = first_word(after.trim_start());
    (removed == 0
        && time.contains(['-', '/', ':'])
        && is_time_like(time)
        && is_letter_level(level)
        && !message.trim().is_empty())
    .then(|| message.trim_start())
}

/// The message after a bracketed group glued to a `:` (`[node:event.name:
/// severity]: ...`, an EMS-like event tag; `[Component id=1]: ...`), which
/// ends the header as a syslog `program[pid]:` does, whatever its words
/// hold: `after` is the line past the `]`. Read as a thread only when its
/// words held a digit, such a tag was stripped behind some node names
/// (`fas8200-01`) and kept behind others (`filer-lab`), one event split in
/// two by the node that logged it (session 26, round 32).
fn after_bracketed_tag(after: &str) -> Option<&str> {
    let message = after.strip_prefix(':')?;
    (message.starts_with(|c: char| c.is_ascii_whitespace()) && !message.trim().is_empty())
        .then_some(message)
}

/// An event code: upper-case letters, then three digits or more, a `-`
/// between them or not (`AH01382`, `MY-010926`).
fn is_event_code(word: &str) -> bool {
    let digits = word.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let letters = word.len() - digits.len();
    let digits = digits.strip_prefix('-').unwrap_or(digits);
    letters > 0 && digits.len() >= 3 && is_number(digits)
}

fn is_number(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

/// A process field after a level: `(1234)`, `(1234):`, `(app/1234):`,
/// nginx's `1234#0:` (pid and thread) and `*56` (connection).
fn is_pid_field(word: &str) -> bool {
    let bare = word.strip_suffix(':').unwrap_or(word);
    if let Some(inner) = bare.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
        let pid = inner.rsplit_once('/').map_or(inner, |(_, pid)| pid);
        return is_number(pid);
    }
    if let Some((pid, thread)) = word.strip_suffix(':').and_then(|w| w.split_once('#')) {
        return is_number(pid) && is_number(thread);
    }
    word.strip_prefix('*').is_some_and(is_number)
}

/// `key=value` with a key of letters, digits, `_`, `.` and `-`, opening
/// with a letter.
fn is_key_value(word: &str) -> bool {
    let Some((key, value)) = word.split_once('=') else {
        return false;
    };
    !value.is_empty()
        && key.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// PostgreSQL's `%u@%d` (`app@orders`): a user and a database.
fn is_user_at_database(word: &str) -> bool {
    let Some((user, database)) = word.split_once('@') else {
        return false;
    };
    let name = |w: &str| {
        w.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
    };
    name(user) && name(database)
}

/// Apache 2.4's `[module:level]` (`[proxy:error]`, `[core:notice]`).
fn is_module_level(inner: &str) -> bool {
    inner.split_once(':').is_some_and(|(module, level)| {
        !module.is_empty()
            && module
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && is_level(level, true)
    })
}

/// Whether a level follows, past `-` separators and `key=value` context:
/// an upper-case word (`INFO`, `WRN`) or one in brackets of any case
/// (`[info]`).
fn level_next(rest: &str) -> bool {
    for word in rest.split_ascii_whitespace().take(4) {
        if let Some(inner) = word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            let inner = inner.trim();
            return is_level(inner, true) || is_other_level(inner);
        }
        if is_upper_level(word) || is_level_tag(word) {
            return true;
        }
        if !(word.bytes().all(|b| b == b'-') || is_key_value(word)) {
            return false;
        }
    }
    false
}

/// An Android-like level glued to its tag, `I/PlaybackService:` (a
/// one-letter level, `/`, a tag that opens with a letter, `:`).
fn is_level_tag(word: &str) -> bool {
    let Some(tag) = word
        .strip_suffix(':')
        .and_then(|w| w.split_once('/'))
        .filter(|(level, _)| is_letter_level(level))
        .map(|(_, tag)| tag)
    else {
        return false;
    };
    tag.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$' | b'-'))
}

/// Whether `rest` opens with a year (`2024`), as a ctime-like time ends.
fn starts_with_year(rest: &str) -> bool {
    let year = first_word(rest.trim_start()).0;
    year.len() == 4 && is_number(year) && (year.starts_with("19") || year.starts_with("20"))
}

/// An RFC 5424 syslog header: `<PRI>1 time host app procid msgid` and the
/// structured data (`-` or `[id key="value"]...`).
fn strip_rfc5424_header(line: &str) -> Option<&str> {
    let (pri, mut rest) = first_word(line);
    let pri = pri.strip_prefix('<')?.strip_suffix(">1")?;
    if pri.is_empty() || pri.len() > 3 || !is_number(pri) {
        return None;
    }
    for _ in 0..5 {
        let (word, after) = first_word(rest.trim_start());
        if word.is_empty() {
            return None;
        }
        rest = after;
    }
    let rest = rest.trim_start();
    let (data, after) = first_word(rest);
    if data == "-" {
        return Some(after);
    }
    let mut rest = rest;
    while rest.starts_with('[') {
        rest = &rest[bracket_end(rest)?..];
    }
    Some(rest)
}

/// Python's `logging.basicConfig()` default, `LEVEL:logger:message`, the
/// message glued to the header.
fn strip_glued_level(line: &str) -> Option<&str> {
    let (level, rest) = line.split_once(':')?;
    let (logger, message) = rest.split_once(':')?;
    (is_upper_level(level) && is_logger(logger) && !message.trim().is_empty()).then_some(message)
}

/// .NET's console logger on single lines: `info: Category.Name[EventId]
/// message`, a lower-case level (`fail`, `dbug`, `trce` are its own).
fn strip_category_level(line: &str) -> Option<&str> {
    let (level, rest) = first_word(line);
    let level = level.strip_suffix(':')?;
    if !(is_level(level, true) || is_other_level(level) || level == "fail") {
        return None;
    }
    let (category, message) = first_word(rest.trim_start());
    let (name, id) = category.strip_suffix(']')?.split_once('[')?;
    (is_logger(name) && is_number(id)).then_some(message)
}

/// logfmt (`ts=... level=info msg="..."`: go-kit, logrus, the Docker
/// daemon): the fields before `msg=` are header. The message is the text
/// of `msg` when it ends the line (its quotes removed here, its escapes
/// read back by [`strip_header`]), else `msg=` and the fields after it.
fn strip_logfmt_header(line: &str) -> Option<&str> {
    logfmt_message(line).map(|(message, _)| message)
}

/// The message of a logfmt line (see [`strip_logfmt_header`]), and whether
/// it is the text of a quoted `msg` that ends the line.
fn logfmt_message(line: &str) -> Option<(&str, bool)> {
    let mut rest = line;
    for fields in 0..8 {
        rest = rest.trim_start();
        let (word, after) = first_word(rest);
        let key = word.split_once('=').map_or("", |(key, _)| key);
        if key == "msg" || key == "message" {
            if fields == 0 {
                return None;
            }
            let text = &rest[key.len() + 1..];
            let Some(quoted) = text.strip_prefix('"') else {
                return Some((text, false));
            };
            let mut escaped = false;
            for (i, b) in quoted.bytes().enumerate() {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' if quoted[i + 1..].trim().is_empty() => return Some((&quoted[..i], true)),
                    b'"' => return Some((rest, false)),
                    _ => {}
                }
            }
            return Some((rest, false));
        }
        if !is_key_value(word) {
            return None;
        }
        rest = after;
    }
    None
}

/// A file or program name (`chrome.exe`, `Teams.exe`, `svc.py`): one dot
/// and a short lower-case extension after it. A logger name without a `:` after it has
/// packages (`o.e.n.Node`, `neutron.agent.l3.agent`) or a class name after
/// its dot (`app.Main`); a program name before `-` is the message's first
/// field (`chrome.exe - host:443 open`), and taking it for a logger would
/// strip it from some lines and not from others (`svchost.exe *64 - ...`).
fn is_file_name(word: &str) -> bool {
    let Some((name, ext)) = word.split_once('.') else {
        return false;
    };
    !name.is_empty() && (2..=3).contains(&ext.len()) && ext.bytes().all(|c| c.is_ascii_lowercase())
}

fn is_logger(name: &str) -> bool {
    let b = name.as_bytes();
    // A hex id (`dfbe66ac83:`, a Postfix queue id) is a value, not a logger.
    let hex_id = b.iter().any(u8::is_ascii_digit) && b.iter().all(u8::is_ascii_hexdigit);
    !b.is_empty()
        && !hex_id
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'.' | b'_' | b'$' | b'#' | b'-' | b'/' | b'(' | b')' | b'[' | b']'
                )
        })
}

fn first_word(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// The byte index just past the `]` that closes the `[` at the start of `s`.
fn bracket_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate().take(MAX_BRACKET) {
        match b {
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_level(word: &str, loose: bool) -> bool {
    if word.len() < 3 {
        return false;
    }
    let upper_or_title = word.bytes().skip(1).all(|b| !b.is_ascii_lowercase())
        || word.bytes().skip(1).all(|b| !b.is_ascii_uppercase());
    let cased = word.as_bytes()[0].is_ascii_uppercase() && upper_or_title;
    (cased || (loose && word.bytes().all(|b| b.is_ascii_lowercase())))
        && LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word))
}

/// A level in one of the spellings that are not full words: `INF`, `dbug`
/// (see [`SHORT_LEVELS`]), or `LOG:` (see [`COLON_LEVELS`]); `word` as
/// the line holds it, a `:` or `,` after it included.
fn is_other_level(word: &str) -> bool {
    let bare = word.trim_end_matches([':', ',']);
    let upper = bare.bytes().all(|b| b.is_ascii_uppercase());
    let lower = bare.bytes().all(|b| b.is_ascii_lowercase());
    let cased = bare.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && bare.bytes().skip(1).all(|b| b.is_ascii_lowercase());
    ((upper || lower) && SHORT_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(bare)))
        || (word.ends_with(':')
            && (upper || cased)
            && COLON_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(bare)))
}

/// An upper-case level (`INFO`, `WARNING`, `INF`), as Python's and Java's
/// layouts print it.
fn is_upper_level(word: &str) -> bool {
    let bare = word.trim_end_matches([':', ',']);
    bare.bytes().all(|b| b.is_ascii_uppercase()) && (is_level(bare, false) || is_other_level(bare))
}

fn is_bracketed_level(word: &str) -> bool {
    word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && BRACKETED_LEVELS
            .iter()
            .any(|l| l.eq_ignore_ascii_case(word))
}

/// A hardware or monitor status used as a severity (`Ok`, next to
/// `Warning` and `Critical` in a BMC's event log); read only right after a
/// host name.
fn is_status_level(word: &str) -> bool {
    matches!(word, "OK" | "Ok")
}

/// A thread or context id in hex: eight or more hex digits, a digit and a
/// letter among them (all digits is a number already).
fn is_hex_id(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 8
        && b.iter().all(u8::is_ascii_hexdigit)
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}

/// A host name of lower-case words joined by `-` or `.` (`bmc-db-master`,
/// `mail.example.org`).
fn is_host_name(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_lowercase()
        && b.iter().any(|&c| c == b'-' || c == b'.')
        && !b.ends_with(b".")
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
}

/// Android's one-letter levels.
fn is_letter_level(word: &str) -> bool {
    matches!(word, "V" | "D" | "I" | "W" | "E" | "F")
}

fn is_time_like(word: &str) -> bool {
    let b = word.as_bytes();
    b.iter().any(u8::is_ascii_digit)
        && b.iter().all(|c| {
            c.is_ascii_digit()
                || matches!(
                    c,
                    b'-' | b'/' | b':' | b'.' | b',' | b'+' | b'_' | b'T' | b'Z'
                )
        })
}

/// A day and a month name joined by `-`, with a year or not: `24-Feb`,
/// `06-Dec-2024`.
fn is_day_month(word: &str) -> bool {
    let mut parts = word.split('-');
    let day = parts.next().unwrap_or("");
    let month = parts.next().unwrap_or("");
    let year = parts.next();
    (1..=2).contains(&day.len())
        && is_number(day)
        && MONTHS.contains(&month)
        && year.is_none_or(|y| y.len() == 4 && is_number(y))
        && parts.next().is_none()
}

fn is_upper_word(word: &str) -> bool {
    word.len() >= 2 && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

fn level_ahead(rest: &str, words: usize) -> bool {
    rest.split_ascii_whitespace()
        .take(words)
        .any(|w| is_level(w.trim_end_matches([':', ',']), true) || is_other_level(w))
}

fn header_marker_ahead(rest: &str, words: usize) -> bool {
    rest.split_ascii_whitespace().take(words).any(|w| {
        let w = w.trim_end_matches([':', ',']);
        is_level(w, false) || MONTHS.contains(&w)
    })
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
