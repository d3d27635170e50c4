//! Golden files for the body parsers.
//!
//! Each input under `tests/fixtures/parse/` (`.json`, `.ndjson` or `.txt`, which
//! selects the [`BodyFormat`]) is parsed with fixed defaults, and the result is
//! compared with `<input>.expected.json`. After an intended change, regenerate the
//! expected files with `ANOMALOG_BLESS=1 cargo test -p anomalog-core --test
//! parse_golden` and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};
use chrono::{TimeZone, Utc};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse")
}

fn format_of(path: &Path) -> Option<BodyFormat> {
    match path.extension()?.to_str()? {
        "json" if !path.to_string_lossy().ends_with(".expected.json") => Some(BodyFormat::Json),
        "ndjson" => Some(BodyFormat::Ndjson),
        "txt" => Some(BodyFormat::Text),
        _ => None,
    }
}

/// The parse result of one input, as pretty JSON with a trailing newline.
fn render(format: BodyFormat, body: &[u8]) -> String {
    let defaults = ParseDefaults {
        service: Some("golden".to_owned()),
        host: None,
        source: Some("fixture".to_owned()),
        received_at: Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap(),
    };
    let rendered = match parse_body(format, body, &defaults, &ParseLimits::default()) {
        Ok(batch) => serde_json::json!({
            "events": batch.events,
            "rejections": batch.rejections,
        }),
        Err(err) => serde_json::json!({ "error": err.to_string() }),
    };
    let mut text = serde_json::to_string_pretty(&rendered).expect("JSON values serialize");
    text.push('\n');
    text
}

#[test]
fn parser_output_matches_the_golden_files() {
    let bless = std::env::var_os("ANOMALOG_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| format_of(path).is_some())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 3, "fixtures missing: {inputs:?}");

    let mut mismatches = Vec::new();
    for input in &inputs {
        let format = format_of(input).unwrap();
        let actual = render(format, &std::fs::read(input).unwrap());
        let expected_path = PathBuf::from(format!("{}.expected.json", input.display()));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        if actual != expected {
            mismatches.push(format!(
                "{} differs from {}; actual output:\n{actual}",
                input.display(),
                expected_path.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
