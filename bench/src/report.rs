//! The results table: every measurement of a `scripts/bench` run is one
//! [`Row`] appended to a JSON-lines file; the table is rendered from it and
//! written between markers in docs/benchmarks.md.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BenchError;

/// One line of the table. Absent numbers print as `-`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// Group: `limits`, `ingest`, `baseline`, `sustained`, `storage`, `query`, `memory`.
    pub group: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_per_sec: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mib_per_sec: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// p99 for requests under load, p95 for queries (the label says which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_label: Option<String>,
    /// Exact counts and anything else worth knowing, for people.
    #[serde(default)]
    pub detail: String,
}

/// Appends `row` to the JSON-lines file at `path` (created if missing).
pub fn append(path: &Path, row: &Row) -> Result<(), BenchError> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| BenchError::Io(format!("{}: {e}", path.display())))?;
    let line = serde_json::to_string(row).map_err(|e| BenchError::Io(e.to_string()))?;
    writeln!(f, "{line}").map_err(|e| BenchError::Io(format!("{}: {e}", path.display())))
}

/// Reads every row of a JSON-lines file.
pub fn read(path: &Path) -> Result<Vec<Row>, BenchError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BenchError::Io(format!("{}: {e}", path.display())))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| BenchError::Io(format!("{} line {}: {e}", path.display(), i + 1)))
        })
        .collect()
}

fn rate(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 100.0 => group_thousands(v.round() as u64),
        Some(v) => format!("{v:.1}"),
    }
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 100.0 => format!("{v:.0} ms"),
        Some(v) if v >= 10.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.2} ms"),
    }
}

/// `1234567` -> `1 234 567` (the style of docs/benchmarks.md).
pub fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The markdown table of `rows`, in their order.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| group | measurement | events/s | MiB/s | p50 | p99 / p95 | exact counts, notes |\n\
         |---|---|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        let tail = match (&r.tail_label, r.tail_ms) {
            (Some(label), Some(_)) => format!("{} ({label})", ms(r.tail_ms)),
            _ => ms(r.tail_ms),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.group,
            r.name,
            rate(r.events_per_sec),
            rate(r.mib_per_sec),
            ms(r.p50_ms),
            tail,
            r.detail.replace('|', "/")
        ));
    }
    out
}

/// Marker lines of the generated section of docs/benchmarks.md.
pub const BEGIN: &str = "<!-- scripts/bench: begin (generated; edit the script, not this) -->";
pub const END: &str = "<!-- scripts/bench: end -->";

/// `doc` with the text between the markers replaced by `section` (the
/// markers and `section` appended at the end when absent).
pub fn replace_section(doc: &str, section: &str) -> String {
    let body = format!("{BEGIN}\n{}\n{END}", section.trim_end());
    match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{body}{}", &doc[..b], &doc[e + END.len()..])
        }
        _ => format!("{}\n\n{body}\n", doc.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_in_place_and_the_rest_kept() {
        let doc = format!("# B\n\nbefore\n\n{BEGIN}\nold\n{END}\n\nafter\n");
        let new = replace_section(&doc, "new table\n");
        assert_eq!(
            new,
            format!("# B\n\nbefore\n\n{BEGIN}\nnew table\n{END}\n\nafter\n")
        );
        assert_eq!(replace_section(&new, "new table"), new);
    }

    #[test]
    fn a_missing_section_is_appended() {
        let new = replace_section("# B\n", "t");
        assert_eq!(new, format!("# B\n\n{BEGIN}\nt\n{END}\n"));
    }

    #[test]
    fn numbers_print_in_the_docs_style() {
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(group_thousands(999), "999");
        let t = table(&[Row {
            group: "ingest".into(),
            name: "embedded".into(),
            events_per_sec: Some(126_000.4),
            p50_ms: Some(3.456),
            tail_ms: Some(12.0),
            tail_label: Some("p99".into()),
            detail: "a|b".into(),
            ..Row::default()
        }]);
        assert!(
            t.ends_with("| ingest | embedded | 126 000 | - | 3.46 ms | 12.0 ms (p99) | a/b |\n"),
            "{t}"
        );
    }
}
