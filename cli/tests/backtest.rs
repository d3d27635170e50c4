//! `anomalog backtest` and `anomalog eval` through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn anomalog(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// 400 rows of a noisy level, one spike at row 300, mixed timestamp formats.
fn series_csv() -> String {
    let mut rng = fastrand_like(3);
    let mut text = String::from("timestamp,value\n");
    for i in 0..400 {
        let at = 1_767_225_600 + i * 60;
        let ts = match i % 3 {
            0 => at.to_string(),
            1 => chrono::DateTime::from_timestamp(at, 0)
                .unwrap()
                .to_rfc3339(),
            _ => chrono::DateTime::from_timestamp(at, 0)
                .unwrap()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        };
        let value = if i == 300 { 95.0 } else { 20.0 + rng() };
        text.push_str(&format!("{ts},{value:.3}\n"));
    }
    text
}

/// A small deterministic noise source in [-1, 1).
fn fastrand_like(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

#[test]
fn series_backtest_echoes_every_row_with_a_score_and_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let input = series_csv();
    std::fs::write(dir.path().join("cpu.csv"), &input).unwrap();
    let out = stdout(&anomalog(&["backtest", "--series", "cpu.csv"], dir.path()));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("timestamp,value,score,anomaly"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let inputs: Vec<&str> = input.lines().skip(1).collect();
    assert_eq!(rows.len(), inputs.len());
    for (row, original) in rows.iter().zip(&inputs) {
        assert_eq!(
            format!("{},{}", row[0], row[1]),
            *original,
            "same rows, same order"
        );
        let score: f64 = row[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert!(row[3] == "0" || row[3] == "1");
    }
    let flagged: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[3] == "1")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged, vec![300]);
    assert!(rows[..100].iter().all(|r| r[2] == "0.000000"), "warm-up");
}

#[test]
fn a_series_without_the_expected_header_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.csv"), "time,v\n1,2\n").unwrap();
    let out = anomalog(&["backtest", "--series", "bad.csv"], dir.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`timestamp` and a `value` column"),
        "{stderr}"
    );
    let out = anomalog(&["backtest", "--series", "missing.csv"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
}

#[test]
fn log_backtest_replays_a_file_and_reports_its_anomalies() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let start = 1_767_225_600i64;
    // 20 minutes of one info line a second, then 40 errors in 8 seconds.
    for i in 0..1200 {
        lines.push(format!(
            r#"{{"ts":{},"service":"api","level":"info","message":"GET /items 200"}}"#,
            start + i
        ));
    }
    for i in 0..40 {
        lines.push(format!(
            r#"{{"ts":{},"service":"api","level":"error","message":"db connection refused {i}"}}"#,
            (start + 1200) * 1000 + i * 200
        ));
    }
    lines.push("not json at all".to_owned());
    std::fs::write(dir.path().join("app.ndjson"), lines.join("\n")).unwrap();

    let out = anomalog(&["backtest", "--logs", "app.ndjson", "--json"], dir.path());
    let anomalies: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1241"),
        "rejected line reported: {stderr}"
    );
    let burst = anomalies
        .iter()
        .find(|a| a["kind"] == "burst")
        .expect("a burst");
    assert_eq!(burst["service"], "api");
    assert_eq!(burst["observed"], 40.0);
    assert_eq!(burst["samples"][0]["message"], "db connection refused 0");

    let table = stdout(&anomalog(&["backtest", "--logs", "app.ndjson"], dir.path()));
    assert!(
        table.lines().any(|l| l.starts_with("burst  api")),
        "{table}"
    );
}

#[test]
fn the_committed_corpus_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    stdout(&anomalog(
        &["eval", "--corpus", "generated", "--write", "corpus"],
        dir.path(),
    ));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../eval/corpus");
    let mut names: Vec<String> = std::fs::read_dir(&committed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() > 20 && names.contains(&"labels.json".to_owned()));
    for name in names {
        let want = std::fs::read(committed.join(&name)).unwrap();
        let got = std::fs::read(dir.path().join("corpus").join(&name)).unwrap();
        assert!(want == got, "eval/corpus/{name} differs from the generator");
    }
}

#[test]
fn eval_reports_precision_recall_delay_and_nab_scores_for_a_labelled_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cpu.csv"), series_csv()).unwrap();
    // NAB's format: [start, end] pairs; the onset is the middle.
    std::fs::write(
        dir.path().join("labels.json"),
        r#"{"cpu.csv": [["2026-01-01 04:40:00", "2026-01-01 05:20:00"]]}"#,
    )
    .unwrap();
    let out = stdout(&anomalog(&["eval", "--dir", ".", "--verbose"], dir.path()));
    assert!(out.contains("precision 1.000  recall 1.000"), "{out}");
    assert!(out.contains("delay from onset: mean 0.0 rows"), "{out}");
    assert!(
        out.contains("NAB-style score, anomaly column: standard"),
        "{out}"
    );
}

/// Runs `backtest --series` on `text`; returns the (score, anomaly) columns
/// after checking the rows are echoed in order with valid values.
fn backtest_text(text: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), text).unwrap();
    let out = stdout(&anomalog(&["backtest", "--series", "s.csv"], dir.path()));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("timestamp,value,score,anomaly"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let inputs: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), inputs.len());
    rows.iter()
        .zip(&inputs)
        .map(|(row, original)| {
            assert_eq!(format!("{},{}", row[0], row[1]), *original);
            let score: f64 = row[2].parse().unwrap();
            assert!((0.0..=1.0).contains(&score), "{row:?}");
            assert!(row[3] == "0" || row[3] == "1");
            (row[2].clone(), row[3].clone())
        })
        .collect()
}

#[test]
fn a_short_series_with_bad_and_negative_values_is_echoed_with_zero_scores() {
    let mut text = String::from("timestamp,value\n");
    for i in 0..40 {
        let value = match i % 10 {
            3 => String::new(),
            5 => "n/a".to_owned(),
            7 => "NaN".to_owned(),
            _ => format!("{:.2}", -3.0 - (i as f64) * 0.1),
        };
        text.push_str(&format!("{},{value}\n", 1_767_225_600 + i * 60));
    }
    let rows = backtest_text(&text);
    assert!(rows.iter().all(|(s, a)| s == "0.000000" && a == "0"));
}

#[test]
fn missing_rows_and_jittered_timestamps_keep_the_daily_view_aligned() {
    // Ten days of 5-minute values with a nightly batch job (+40 for an hour
    // from 02:00); on day 8 the job runs at 18:00 instead, and the daily
    // view sees its missing peak at 02:00. Then the same with rows dropped and timestamps jittered
    // by a few seconds, and with those rows as empty cells: the rows both
    // share score the same, and the missing peak is still found.
    let day = 288;
    let mut rng = fastrand_like(9);
    let late = 8 * day + 216;
    let rows: Vec<(i64, f64)> = (0..10 * day)
        .map(|i| {
            let at = i % day;
            let job = if i / day == 8 {
                (late..late + 12).contains(&i)
            } else {
                (24..36).contains(&at)
            };
            let v = 100.0 + 5.0 * rng() + if job { 40.0 } else { 0.0 };
            (1_767_225_600 + 300 * i as i64, v)
        })
        .collect();
    let csv = |lines: Vec<String>| -> String {
        std::iter::once("timestamp,value".to_owned())
            .chain(lines)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let whole = csv(rows.iter().map(|(t, v)| format!("{t},{v:.3}")).collect());
    let kept: Vec<usize> = (0..rows.len())
        .filter(|i| i % 17 != 5 && !(1000..1040).contains(i))
        .collect();
    let gappy = csv(kept
        .iter()
        .map(|&i| {
            let jitter = [0, 7, -9, 3][i % 4];
            format!("{},{:.3}", rows[i].0 + jitter, rows[i].1)
        })
        .collect());
    let holes = csv((0..rows.len())
        .map(|i| {
            if kept.binary_search(&i).is_ok() {
                format!("{},{:.3}", rows[i].0, rows[i].1)
            } else {
                format!("{},", rows[i].0)
            }
        })
        .collect());
    let flagged_days = |scored: &[(String, String)], index: &dyn Fn(usize) -> usize| {
        scored
            .iter()
            .enumerate()
            .filter(|(_, r)| r.1 == "1")
            .map(|(k, _)| index(k))
            .filter(|&i| i >= 4 * day)
            .collect::<Vec<usize>>()
    };
    let whole = backtest_text(&whole);
    let missing = 8 * day + 24;
    assert!(flagged_days(&whole, &|k| k).contains(&missing));
    let gappy = backtest_text(&gappy);
    let holes = backtest_text(&holes);
    for (k, &i) in kept.iter().enumerate() {
        assert_eq!(gappy[k], holes[i], "row {i}");
    }
    let found = flagged_days(&gappy, &|k| kept[k]);
    assert!(found.contains(&missing), "{found:?}");
}

#[test]
fn eval_scores_both_splits_of_the_realistic_corpus_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&anomalog(&["eval"], dir.path()));
    let tune = out.find("== realistic corpus (tune)").expect(&out);
    let holdout = out.find("== realistic corpus (holdout)").expect(&out);
    assert!(tune < holdout, "{out}");
    assert_eq!(
        out.matches("NAB-style score, anomaly column: standard")
            .count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("by category (standard): ad_exchange").count(),
        2,
        "{out}"
    );
    // Writing the corpus gives the files `eval --dir` reads back, with the
    // rows missing from the export left out.
    stdout(&anomalog(
        &["eval", "--split", "tune", "--write", "real"],
        dir.path(),
    ));
    let labels = std::fs::read_to_string(dir.path().join("real/tune/labels.json")).unwrap();
    assert!(labels.contains("traffic_speed-1.csv"), "{labels}");
    assert!(!dir.path().join("real/holdout").exists());
    let from_files = stdout(&anomalog(&["eval", "--dir", "real/tune"], dir.path()));
    let summary = |text: &str| -> String {
        text.lines()
            .filter(|l| l.starts_with("NAB-style score, anomaly column"))
            .collect()
    };
    let in_memory = stdout(&anomalog(&["eval", "--split", "tune"], dir.path()));
    assert_eq!(summary(&from_files), summary(&in_memory));
}
