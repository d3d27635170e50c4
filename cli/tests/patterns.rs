//! `anomalog patterns` through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn anomalog(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// `(id, template)` per stdout line, after checking the shape of each.
fn rows(out: &Output) -> Vec<(String, String)> {
    assert!(
        out.status.success(),
        "exit {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| {
            let (id, template) = line.split_once('\t').unwrap_or_else(|| panic!("{line:?}"));
            assert_eq!(id.len(), 16, "{line:?}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{line:?}");
            (id.to_owned(), template.to_owned())
        })
        .collect()
}

/// Raw lines of three formats, each with its true template number.
fn mixed_log() -> (String, Vec<usize>) {
    let users = ["root", "alice", "bob", "www-data", "deploy"];
    let mut text = String::new();
    let mut truth = Vec::new();
    for i in 0..300u32 {
        let (line, t) = match i % 6 {
            0 => (
                format!(
                    "Jun 14 15:{:02}:{:02} gw sshd[{}]: Failed password for {} from 10.0.{}.{} port {} ssh2",
                    i % 60,
                    i % 59,
                    4000 + i,
                    users[i as usize % 5],
                    i % 7,
                    i % 250,
                    30000 + i
                ),
                0,
            ),
            1 => (
                format!(
                    "Jun 14 15:{:02}:{:02} gw sshd[{}]: Accepted publickey for {} from 10.1.{}.{} port {} ssh2",
                    i % 60,
                    i % 59,
                    4000 + i,
                    users[i as usize % 5],
                    i % 7,
                    i % 250,
                    30000 + i
                ),
                1,
            ),
            2 => (
                format!(
                    "081109 2036{:02} {} INFO dfs.DataNode$PacketResponder: PacketResponder {} for block blk_{} terminating",
                    i % 60,
                    100 + i,
                    i % 3,
                    -(i as i64) * 7_919_123_457
                ),
                2,
            ),
            3 => (
                format!(
                    "2026-05-06 12:00:{:02},{:03} ERROR [main] com.example.Billing: payment {} declined after {}ms",
                    i % 60,
                    i,
                    i * 31,
                    i % 900
                ),
                3,
            ),
            4 => (
                format!(
                    "{{\"ts\":\"2026-05-06T12:00:00Z\",\"level\":\"info\",\"message\":\"cache miss for key user:{}\"}}",
                    i
                ),
                4,
            ),
            _ => (
                format!(
                    "ts=2026-05-06T12:00:00Z level=warn msg=\"slow query on table {}\" took={}ms",
                    ["orders", "users", "carts"][(i as usize / 6) % 3],
                    i
                ),
                5,
            ),
        };
        text.push_str(&line);
        text.push('\n');
        truth.push(t);
    }
    (text, truth)
}

#[test]
fn one_line_out_per_line_in_grouped_like_the_truth() {
    let (log, truth) = mixed_log();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &log).unwrap();
    let out = anomalog(&["patterns", path.to_str().unwrap()], None);
    let rows = rows(&out);
    assert_eq!(rows.len(), truth.len());

    // An id always prints the same (final) template.
    let mut template_of: HashMap<&str, &str> = HashMap::new();
    for (id, template) in &rows {
        assert_eq!(
            *template_of.entry(id).or_insert(template),
            template.as_str()
        );
    }
    // The grouping is exactly the truth's.
    let mut groups: HashMap<usize, HashSet<&str>> = HashMap::new();
    for ((id, _), t) in rows.iter().zip(&truth) {
        groups.entry(*t).or_default().insert(id);
    }
    for (t, ids) in &groups {
        assert_eq!(ids.len(), 1, "template {t} split over {ids:?}");
    }
    let distinct: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(distinct.len(), 6);

    // Headers are stripped and variables masked.
    assert_eq!(rows[0].1, "Failed password for <*> from <*> port <*>");
    assert_eq!(rows[2].1, "PacketResponder <*> for block <*> terminating");
    assert_eq!(rows[3].1, "payment <*> declined after <*>");
    assert_eq!(rows[4].1, "cache miss for key user:<*>");
    assert_eq!(rows[5].1, "slow query on table <*>");

    // Progress and the summary go to stderr, never stdout.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("patterns mined"), "{stderr}");
}

#[test]
fn stdin_gives_the_same_ids_as_the_file() {
    let (log, _) = mixed_log();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &log).unwrap();
    let from_file = rows(&anomalog(&["patterns", path.to_str().unwrap()], None));
    let from_stdin = rows(&anomalog(&["patterns", "-"], Some(&log)));
    assert_eq!(from_file, from_stdin);
}

#[test]
fn service_and_format_options_change_ids_and_messages() {
    let log = "2026-05-06 12:00:01 INFO job 17 done\n2026-05-06 12:00:02 INFO job 18 done\n";
    let default = rows(&anomalog(&["patterns", "-"], Some(log)));
    let other = rows(&anomalog(
        &["patterns", "-", "--service", "billing"],
        Some(log),
    ));
    assert_eq!(default[0].1, "job <*> done");
    assert_eq!(other[0].1, "job <*> done");
    assert_ne!(default[0].0, other[0].0, "ids are per service");

    let raw = rows(&anomalog(&["patterns", "-", "--format", "raw"], Some(log)));
    assert_eq!(raw[0].1, "<*> INFO job <*> done");
    assert_eq!(raw[0].0, raw[1].0);

    let json = "{\"msg\":\"disk sda1 full\",\"service\":\"db\"}\nnot json at all\n";
    let out = rows(&anomalog(
        &["patterns", "-", "--format", "json"],
        Some(json),
    ));
    assert_eq!(out.len(), 2, "a line that is not JSON still gets its line");
    assert_eq!(out[0].1, "disk <*> full");
    assert_eq!(out[1].1, "not json at all");
}

#[test]
fn a_missing_file_is_an_error_with_nothing_on_stdout() {
    let out = anomalog(&["patterns", "/nonexistent/anomalog.log"], None);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/anomalog.log"));
}
