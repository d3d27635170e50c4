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
//! `[thread]`, a `-`, a `logger.Name:` or a dotted logger name. It is a
//! heuristic with no per-format settings and never returns an empty message
//! for a non-empty line.

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
pub fn strip_header(line: &str) -> &str {
    let line = line.trim();
    let stripped = strip_fields(line).trim();
    if stripped.is_empty() { line } else { stripped }
}

fn strip_fields(line: &str) -> &str {
    if let Some(message) = strip_glog_header(line) {
        return message;
    }
    let mut rest = strip_pipe_header(line);
    let mut removed = 0usize;
    let mut month_seen = false;
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
                || (removed > 0 && (is_letter_level(inner) || inner == "N"))
            {
                return after_level(&rest[end..]);
            }
            if inner.bytes().any(|b| b.is_ascii_digit()) {
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
            || (removed >= 2 && is_letter_level(bare))
            || (host_before && is_status_level(bare))
        {
            return after_level(after);
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
        if after_time && TIME_ZONES.contains(&bare) {
            rest = after;
            removed += 1;
            after_time = false;
            continue;
        }
        after_time = false;
        // `2385652948: client=...`: a number ending in `:` as the first word
        // is a key of the message (a queue id), not a header field.
        let number_key = word.len() > 1
            && word.ends_with(':')
            && word[..word.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if number_key && removed == 0 {
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
            if month_seen && word.contains(':') {
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
            let next = next.trim_end_matches([':', ',']);
            is_level(next, false) || is_status_level(next)
        } {
            rest = after;
            removed += 1;
            after_host = true;
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
            (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)?
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

/// After a level: an optional `[thread]`, `-`, and logger name.
fn after_level(rest: &str) -> &str {
    let mut rest = rest.trim_start();
    for _ in 0..4 {
        let (word, after) = first_word(rest);
        if word.starts_with('[') {
            match bracket_end(rest) {
                Some(end) => rest = rest[end..].trim_start(),
                None => break,
            }
            continue;
        }
        if word == "-" {
            rest = after.trim_start();
            continue;
        }
        // A `Name:` before a message of one word is the message's own
        // label (`Request: host/path`), not a logger.
        if is_logger(word.strip_suffix(':').unwrap_or(""))
            && after.split_ascii_whitespace().nth(1).is_some()
        {
            return after;
        }
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
                    b'.' | b'_' | b'$' | b'-' | b'/' | b'(' | b')' | b'[' | b']'
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

fn is_upper_word(word: &str) -> bool {
    word.len() >= 2 && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

fn level_ahead(rest: &str, words: usize) -> bool {
    rest.split_ascii_whitespace()
        .take(words)
        .any(|w| is_level(w.trim_end_matches([':', ',']), true))
}

fn header_marker_ahead(rest: &str, words: usize) -> bool {
    rest.split_ascii_whitespace().take(words).any(|w| {
        let w = w.trim_end_matches([':', ',']);
        is_level(w, false) || MONTHS.contains(&w)
    })
}

#[cfg(test)]
mod tests {
    use super::strip_header;

    #[test]
    fn common_headers_are_removed() {
        let cases = [
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating",
                "PacketResponder 1 for block blk_1 terminating",
            ),
            (
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
                "instruction cache parity error corrected",
            ),
            (
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0",
                "authentication failure; logname= uid=0",
            ),
            (
                "Jan  8 03:32:16 10.1.2.3 136129: *Jan  8 03:32:16.620 UTC: %LINK-3-UPDOWN: Interface Gi1/0/16, changed state to down",
                "%LINK-3-UPDOWN: Interface Gi1/0/16, changed state to down",
            ),
            (
                "Jan  8 03:32:16 backup-1 cron: Jan reports were sent",
                "Jan reports were sent",
            ),
            // rsyslog's high-precision ISO time before a host and a
            // program (session 16).
            (
                "2024-03-05T10:11:12.123456-06:00 tbadmin1 sshd[79606]: Received disconnect from 10.0.0.1",
                "Received disconnect from 10.0.0.1",
            ),
            (
                "2024-03-05T10:11:12+00:00 login-2 kernel: EDAC MC0: 1 CE memory read error",
                "EDAC MC0: 1 CE memory read error",
            ),
            (
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app",
                "printFreezingDisplayLogs opening app",
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
                "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            ),
            (
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
                "Notification time out: 3200",
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster",
                "Created MRAppMaster",
            ),
            (
                "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
                "onStandStepChanged 3579",
            ),
            (
                "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack",
                "CBS    Loaded Servicing Stack",
            ),
            (
                "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1 - - -] 10.11.10.1 \"GET /v2\"",
                "10.11.10.1 \"GET /v2\"",
            ),
            (
                "2026-05-06T12:00:00Z ERROR payment declined for order 7",
                "payment declined for order 7",
            ),
            (
                "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
                "session closed for user root",
            ),
            (
                "2023-12-02 12:11:26.106 UTC [2510] LOG:  checkpoint starting: time",
                "LOG:  checkpoint starting: time",
            ),
            (
                "UTC offset is plain text here",
                "UTC offset is plain text here",
            ),
            (
                "plain message without header",
                "plain message without header",
            ),
            ("2026-05-06 12:00:00", "2026-05-06 12:00:00"),
            (
                "I1209 03:12:06.123456    1234 kubelet.go:2430] \"SyncLoop ADD\" source=\"api\"",
                "\"SyncLoop ADD\" source=\"api\"",
            ),
            (
                "E0101 00:00:01.5 7 server.cc:88] Check failed: ok",
                "Check failed: ok",
            ),
            ("I1209 is not a glog header", "I1209 is not a glog header"),
            // Session 14: a `|` header glued to the time after a date, a
            // thread id in hex, a host name without a digit before a level,
            // and `Ok` as a severity after two header fields.
            (
                "12/06/2024 02:46:33|worker|qmaster01|W|job 17.1 finished on host web-01",
                "job 17.1 finished on host web-01",
            ),
            (
                "2024-12-06 02:46:33.123 7f2c3b7fe700 Connect: Accepted connection",
                "Connect: Accepted connection",
            ),
            (
                "2023-12-03T03:37:27-05:00 bmc-db-master Critical TMP0120 The board is hot",
                "TMP0120 The board is hot",
            ),
            (
                "2023-12-03T03:37:27-05:00 idrac-r740-01 Ok FAN0000 The fan is fine",
                "FAN0000 The fan is fine",
            ),
            (
                "2023-12-03T03:37:27-05:00 bmc-db-master Ok FAN0000 The fan is fine",
                "FAN0000 The fan is fine",
            ),
            ("2023-12-03 12:00:00 Ok then we go", "Ok then we go"),
            (
                "2024-06-12_14:02:33.123+0100: [I] Accepted and connected to gw",
                "Accepted and connected to gw",
            ),
            (
                "2024-06-12_14:02:33.123+0100: [N] Node 10.0.0.1 (gw) is up.",
                "Node 10.0.0.1 (gw) is up.",
            ),
            ("[I] opens the message", "[I] opens the message"),
            (
                "2024-03-04T04:00:00.123Z INFO Request: web-01/index.html",
                "Request: web-01/index.html",
            ),
        ];
        for (line, message) in cases {
            assert_eq!(strip_header(line), message, "{line}");
        }
    }

    #[test]
    fn a_program_name_after_a_level_is_no_logger() {
        // `chrome.exe -` opens the message (the program of a record), as
        // `svchost.exe *64 -` does in lines of the same template.
        assert_eq!(
            strip_header("2024-03-04T04:00:00.123Z INFO chrome.exe - web-02:443 open directly"),
            "chrome.exe - web-02:443 open directly"
        );
        assert_eq!(
            strip_header(
                "2024-03-04T04:00:00.123Z INFO svchost.exe *64 - web-02:443 open directly"
            ),
            "svchost.exe *64 - web-02:443 open directly"
        );
        // Logger names stay header fields.
        assert_eq!(
            strip_header("2024-03-04T04:00:00.123Z INFO o.e.n.Node - started"),
            "started"
        );
        assert_eq!(
            strip_header("2024-03-04 04:00:00.123 4242 INFO neutron.wsgi - request done"),
            "request done"
        );
    }
}
