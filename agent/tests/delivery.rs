//! Exact delivery accounting: the real `anomalog-agent` binary ships files to the
//! real ingest router on embedded storage, and every written line must be stored
//! exactly once and whole, through rotation, truncation, restarts and outages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use server::{Agent, Anomalog, agent_config, assert_exactly_once, numbered};

const WAIT: Duration = Duration::from_secs(30);

/// Appends lines `range` to `file` at `per_sec`, one write per line.
fn write_paced(file: &mut std::fs::File, range: std::ops::Range<usize>, per_sec: u64) {
    let started = Instant::now();
    let first = range.start;
    for i in range {
        let due = started + Duration::from_micros((i - first) as u64 * 1_000_000 / per_sec);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        file.write_all(format!("{}\n", numbered(i)).as_bytes())
            .unwrap();
    }
}

fn append_handle(path: &Path) -> std::fs::File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_rotation_at_2000_lines_per_second_with_late_writes_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "rot",
        &[&log],
        "",
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut old = append_handle(&writer_log);
        write_paced(&mut old, 0..2000, 2000);
        // logrotate `create`: rename, create the new file; the application keeps
        // writing to the renamed file for a second before it reopens.
        std::fs::rename(&writer_log, writer_log.with_extension("log.1")).unwrap();
        let mut new = append_handle(&writer_log);
        write_paced(&mut old, 2000..4000, 2000);
        write_paced(&mut new, 4000..6000, 2000);
    });
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("rot", 6000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 6000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_loses_nothing_when_the_copy_matches_the_glob() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let glob = dir.path().join("app.log*");
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "copy",
        &[&glob],
        "",
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append_handle(&writer_log);
        write_paced(&mut file, 0..2000, 2000);
        // logrotate `copytruncate`: copy, then truncate the file the application
        // keeps appending to.
        std::fs::copy(&writer_log, writer_log.with_extension("log.1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&writer_log)
            .unwrap()
            .set_len(0)
            .unwrap();
        write_paced(&mut file, 2000..4000, 2000);
    });
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("copy", 4000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 4000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncation_then_regrowth_past_the_old_offset_before_the_next_poll_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    let mut file = append_handle(&log);
    for i in 0..1000 {
        writeln!(file, "{}", numbered(i)).unwrap();
    }
    // A slow poll, so the truncation and regrowth fall between two polls.
    let config = agent_config(dir.path(), &anomalog.base, "regrow", &[&log], "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("poll_interval_ms = 25", "poll_interval_ms = 1000");
    std::fs::write(&config, text).unwrap();
    let agent = Agent::start(&config);
    let first = anomalog.wait_for("regrow", 1000, WAIT).await;
    assert_exactly_once(&first, 1000);

    file.set_len(0).unwrap();
    let mut regrown = String::new();
    for i in 1000..2500 {
        regrown.push_str(&numbered(i));
        regrown.push('\n');
    }
    file.write_all(regrown.as_bytes()).unwrap();

    let messages = anomalog.wait_for("regrow", 2500, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 2500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glob_gaining_a_file_ships_both_files_once() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut a = append_handle(&logs.join("a.log"));
    for i in 0..500 {
        writeln!(a, "{}", numbered(i)).unwrap();
    }
    let glob = logs.join("*.log");
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "glob",
        &[&glob],
        "",
    ));
    anomalog.wait_for("glob", 500, WAIT).await;

    let mut b = append_handle(&logs.join("b.log"));
    for i in 500..1500 {
        writeln!(b, "{}", numbered(i)).unwrap();
    }
    for i in 1500..2000 {
        writeln!(a, "{}", numbered(i)).unwrap();
    }

    let messages = anomalog.wait_for("glob", 2000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_file_after_sigterm_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let config = agent_config(dir.path(), &anomalog.base, "term", &[&log], "");
    let agent = Agent::start(&config);

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append_handle(&writer_log);
        write_paced(&mut file, 0..9000, 3000);
    });
    tokio::time::sleep(Duration::from_millis(900)).await;
    agent.terminate();
    // Lines keep coming while the agent is away.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let agent = Agent::start(&config);
    tokio::time::sleep(Duration::from_millis(900)).await;
    agent.terminate();
    let agent = Agent::start(&config);
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("term", 9000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 9000);
}

/// SIGKILL gives the agent no chance to save anything: the checkpoints and the
/// disk buffer on disk must be consistent at every moment. While anomalog is
/// unreachable no request can be in flight, so the count must be exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_sigkill_during_an_outage_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let config = agent_config(dir.path(), &anomalog.base, "kill", &[&log], "");
    let agent = Agent::start(&config);

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append_handle(&writer_log);
        write_paced(&mut file, 0..9000, 3000);
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    anomalog.stop_http().await;
    // Two kills while anomalog is down: batches are in the disk buffer or not
    // yet read, never in flight.
    tokio::time::sleep(Duration::from_millis(800)).await;
    agent.kill();
    let agent = Agent::start(&config);
    tokio::time::sleep(Duration::from_millis(700)).await;
    agent.kill();
    let agent = Agent::start(&config);
    tokio::time::sleep(Duration::from_millis(300)).await;
    anomalog.resume().await;
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("kill", 9000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 9000);
}

/// SIGKILL while a request is in flight: ingest may have queued the batch
/// without the agent learning it. The batch was written to the disk buffer
/// before it was sent, and is sent again at the next start under the same
/// `Idempotency-Key`: ingest does not queue it twice. Several kills at
/// different moments; nothing lost, nothing repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_shipping_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let config = agent_config(dir.path(), &anomalog.base, "inflight", &[&log], "");
    let mut agent = Agent::start(&config);

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append_handle(&writer_log);
        write_paced(&mut file, 0..6000, 3000);
    });
    for pause_ms in [450, 610, 330, 520] {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        agent.kill();
        agent = Agent::start(&config);
    }
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("inflight", 6000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 6000);
}

/// The worst moment of a kill, made deterministic: ingest queued every batch
/// but the agent never learnt it (its state is put back to before the
/// answers). The next start sends every batch again, under the same keys, and
/// nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_sent_again_after_lost_answers_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    anomalog.stop_http().await;
    let log = dir.path().join("app.log");
    let mut file = append_handle(&log);
    for i in 0..3000 {
        writeln!(file, "{}", numbered(i)).unwrap();
    }
    drop(file);
    let config = agent_config(dir.path(), &anomalog.base, "lost", &[&log], "");
    let state = dir.path().join("agent-state");
    // Anomalog is down: everything read goes to the disk buffer.
    let agent = Agent::start(&config);
    let deadline = Instant::now() + WAIT;
    while buffered_events(&state) < 3000 {
        assert!(
            Instant::now() < deadline,
            "the agent never buffered the file"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.terminate();
    let before_answers = dir.path().join("state-before-answers");
    copy_dir(&state, &before_answers);

    anomalog.resume().await;
    let agent = Agent::start(&config);
    let first = anomalog.wait_for("lost", 3000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&first, 3000);

    std::fs::remove_dir_all(&state).unwrap();
    std::fs::rename(&before_answers, &state).unwrap();
    assert_eq!(buffered_events(&state), 3000);
    let agent = Agent::start(&config);
    let deadline = Instant::now() + WAIT;
    while buffered_events(&state) > 0 {
        assert!(
            Instant::now() < deadline,
            "the agent never resent its buffer"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let messages = anomalog
        .wait_for("lost", 3001, Duration::from_millis(500))
        .await;
    agent.terminate();
    assert_exactly_once(&messages, 3000);
}

/// Events in the agent's disk buffer, from the buffer files' headers.
fn buffered_events(state: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(state.join("buffer")) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|bytes| {
            let header = bytes.split(|&b| b == b'\n').next()?;
            serde_json::from_slice::<serde_json::Value>(header).ok()?["events"].as_u64()
        })
        .sum()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Ingest refuses requests over its size limit with 413: the agent sends the
/// batch in halves, down to one event, and loses nothing; the one line larger
/// than the limit on its own is dropped (and counted), nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_splits_the_batch_and_only_a_line_over_the_limit_alone_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = anomalog_core::Config::default();
    config.ingest.max_decoded_bytes = 8 * 1024;
    let anomalog = Anomalog::start_with(&dir.path().join("anomalog"), config).await;
    let log = dir.path().join("app.log");
    let mut file = append_handle(&log);
    for i in 0..2000 {
        writeln!(file, "{}", numbered(i)).unwrap();
        if i == 700 {
            writeln!(file, "giant {}", "x".repeat(12_000)).unwrap();
        }
    }
    drop(file);
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "split",
        &[&log],
        "",
    ));
    let messages = anomalog.wait_for("split", 2000, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, 2000);
}

/// The issue asks for a 60 s outage; CI uses 6 s, which exercises the same path
/// (disk buffer, then in-order replay) in a tenth of the time. The 60 s run is
/// `anomalog_down_for_60_s_under_load_buffers_on_disk_and_replays_everything`,
/// ignored by default (about 75 s): run it with `-- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anomalog_down_under_load_buffers_on_disk_and_replays_everything() {
    outage_under_load(Duration::from_secs(6)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes about 75 s; the 6 s outage test covers the same path in CI"]
async fn anomalog_down_for_60_s_under_load_buffers_on_disk_and_replays_everything() {
    outage_under_load(Duration::from_secs(60)).await;
}

/// 2,000 lines/s from 2 s before the outage to 2 s after it; every line stored once.
async fn outage_under_load(outage: Duration) {
    let lines = usize::try_from((outage.as_secs() + 4) * 2000).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    append_handle(&log);
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "outage",
        &[&log],
        "",
    ));

    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append_handle(&writer_log);
        write_paced(&mut file, 0..lines, 2000);
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    anomalog.stop_http().await;
    tokio::time::sleep(outage).await;
    let buffered = std::fs::read_dir(dir.path().join("agent-state/buffer"))
        .unwrap()
        .count();
    assert!(
        buffered > 0,
        "batches were buffered on disk during the outage"
    );
    anomalog.resume().await;
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let messages = anomalog.wait_for("outage", lines, WAIT).await;
    agent.terminate();
    assert_exactly_once(&messages, lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_and_python_tracebacks_arrive_as_one_event_each() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    let java = concat!(
        "2026-01-02 03:04:05,123 ERROR [main] c.e.Orders - order failed\n",
        "java.lang.IllegalStateException: stock is negative\n",
        "\tat com.example.Orders.place(Orders.java:42)\n",
        "\tat com.example.Api.handle(Api.java:7)\n",
        "Caused by: java.sql.SQLException: deadlock\n",
        "\tat com.example.Db.run(Db.java:99)\n",
        "\t... 2 more\n",
    );
    let python = concat!(
        "2026-01-02 03:04:06,001 ERROR worker crashed\n",
        "Traceback (most recent call last):\n",
        "  File \"worker.py\", line 10, in <module>\n",
        "    run()\n",
        "  File \"worker.py\", line 6, in run\n",
        "    1 / 0\n",
        "ZeroDivisionError: division by zero\n",
    );
    let tail = "2026-01-02 03:04:07,000 INFO recovered\n";
    std::fs::write(&log, format!("{java}{python}{tail}")).unwrap();
    let config = agent_config(dir.path(), &anomalog.base, "traces", &[&log], "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("multiline = false", "multiline = { timeout_ms = 300 }");
    std::fs::write(&config, text).unwrap();
    let agent = Agent::start(&config);

    let messages = anomalog.wait_for("traces", 3, WAIT).await;
    agent.terminate();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages[0]
            .starts_with("[main] c.e.Orders - order failed\njava.lang.IllegalStateException"),
        "{}",
        messages[0]
    );
    assert!(messages[0].ends_with("\t... 2 more"), "{}", messages[0]);
    assert!(
        messages[1].contains("Traceback (most recent call last):"),
        "{}",
        messages[1]
    );
    assert!(
        messages[1].ends_with("ZeroDivisionError: division by zero"),
        "{}",
        messages[1]
    );
    assert_eq!(messages[2], "recovered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_hour_old_file_keeps_each_events_own_time() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("old.log");
    let start = chrono::Utc::now() - chrono::TimeDelta::hours(2);
    let mut text = String::new();
    // 360 lines, one every 10 s, from two hours ago to one hour ago.
    for i in 0..360 {
        let ts = start + chrono::TimeDelta::seconds(i * 10);
        let level = if i % 10 == 0 { "ERROR" } else { "INFO" };
        text.push_str(&format!(
            "{} {level} backfill line {i}\n",
            ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ));
    }
    std::fs::write(&log, text).unwrap();
    let agent = Agent::start(&agent_config(
        dir.path(),
        &anomalog.base,
        "backfill",
        &[&log],
        "",
    ));
    let messages = anomalog.wait_for("backfill", 360, WAIT).await;
    agent.terminate();
    assert_eq!(messages.len(), 360);

    let volume: serde_json::Value = reqwest::get(format!(
        "{}/api/stats/volume?service=backfill&from=now-3h&to=now&step=600",
        anomalog.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let buckets = volume["buckets"].as_array().unwrap();
    let hour_ago = chrono::Utc::now() - chrono::TimeDelta::minutes(59);
    let (mut old, mut recent, mut errors) = (0, 0, 0);
    for bucket in buckets {
        let ts: chrono::DateTime<chrono::Utc> = bucket["ts"].as_str().unwrap().parse().unwrap();
        let total = bucket["total"].as_u64().unwrap();
        if ts < hour_ago {
            old += total;
        } else {
            recent += total;
        }
        errors += bucket["counts"]["ERROR"].as_u64().unwrap_or(0);
    }
    assert_eq!((old, recent), (360, 0), "{volume}");
    assert_eq!(errors, 36, "levels come from the lines too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_file_form_and_stdin_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let anomalog = Anomalog::start(&dir.path().join("anomalog")).await;
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "existing line, not shipped when following from the end\n",
    )
    .unwrap();
    let agent = std::process::Command::new(env!("CARGO_BIN_EXE_anomalog-agent"))
        .args(["--url", &anomalog.base, "--service", "one", "--data-dir"])
        .arg(dir.path().join("state-file"))
        .arg("file")
        .arg(&log)
        .arg("--follow")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let _guard = server::KillOnDrop(agent);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut file = append_handle(&log);
    for i in 0..100 {
        writeln!(file, "{}", numbered(i)).unwrap();
    }
    assert_exactly_once(&anomalog.wait_for("one", 100, WAIT).await, 100);

    let mut stdin_agent = std::process::Command::new(env!("CARGO_BIN_EXE_anomalog-agent"))
        .args(["--url", &anomalog.base, "--service", "piped", "--data-dir"])
        .arg(dir.path().join("state-stdin"))
        .arg("stdin")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = stdin_agent.stdin.take().unwrap();
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&numbered(i));
        text.push('\n');
    }
    input.write_all(text.as_bytes()).unwrap();
    drop(input);
    let status = tokio::task::spawn_blocking(move || stdin_agent.wait().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "the stdin agent ends with its input: {status}"
    );
    assert_exactly_once(&anomalog.wait_for("piped", 300, WAIT).await, 300);
}

#[test]
fn check_config_accepts_the_example_and_names_the_bad_key() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/agent.example.toml");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_anomalog-agent"))
        .args(["check-config", example])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains(": ok"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[output]\nurl = \"http://127.0.0.1:8080\"\n[[sources]]\npaths = [\"/tmp/*.log\"]\nstart_at = \"middle\"\n",
    )
    .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_anomalog-agent"))
        .args(["check-config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("start_at"), "{stderr}");
}
