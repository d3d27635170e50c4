//! `anomalog eval`: the value-series detector against labelled series.
//!
//! By default on both splits of the realistic corpus
//! (`anomalog_eval::realistic`, see eval/README.md), reported side by side;
//! `--corpus generated` on the first generated corpus (`anomalog_eval::corpus`);
//! `--dir` evaluates a directory of `timestamp,value` CSV files described by
//! a `labels.json` (ours, or the Numenta Anomaly Benchmark's window format);
//! `--write` saves the generated corpus in that form.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use anomalog_core::Config;
use anomalog_core::detect::series::SeriesConfig;
use anomalog_core::parse::parse_timestamp;
use anomalog_eval::corpus::{LabelledSeries, generate};
use anomalog_eval::harness::{rolling_z, score_labelled, score_rows};
use anomalog_eval::nab::{
    LabelWindow, PROFILES, SeriesOutcome, Summary, best_thresholds, evaluate, summarize,
};
use anomalog_eval::realistic::{self, Split};

use crate::series_csv::read_series;

/// Seed of the corpus committed under `eval/corpus`.
pub const DEFAULT_SEED: u64 = 1;

/// Which labelled series `anomalog eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CorpusKind {
    /// The realistic corpus (`anomalog_eval::realistic`), by split.
    Realistic,
    /// The first generated corpus (`anomalog_eval::corpus`), by seed; the
    /// committed eval/corpus is its seed 1.
    Generated,
}

/// Which split of the realistic corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Tune,
    Holdout,
    Both,
}

/// Arguments of `anomalog eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The labelled series to score (ignored with `--dir`).
    #[arg(long, value_enum, default_value_t = CorpusKind::Realistic)]
    pub corpus: CorpusKind,
    /// Split of the realistic corpus: `tune` (the only one to tune on),
    /// `holdout` (never tuned on) or both, reported side by side.
    #[arg(long, value_enum, default_value_t = SplitArg::Both)]
    pub split: SplitArg,
    /// Seed of the generated corpus (the committed one is 1; others give
    /// fresh series of the same kinds).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Evaluate the CSV files of this directory, labelled by its labels.json.
    #[arg(long, value_name = "DIR", conflicts_with = "write")]
    pub dir: Option<PathBuf>,
    /// Write the chosen corpus (CSV files and labels.json) to DIR; the
    /// realistic corpus goes to DIR/tune and DIR/holdout.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Also list every series.
    #[arg(long, short)]
    pub verbose: bool,
    /// Score a classic rolling z-score instead (mean and standard deviation
    /// of the previous 300 points, |z| of 4 scores 0.5), for comparison.
    #[arg(long)]
    pub rolling_z: bool,
}

/// One labelled anomaly in labels.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Label {
    start: String,
    end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    onset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub fn run(config: &Config, args: &EvalArgs) -> anyhow::Result<()> {
    let cfg = &config.detect.series;
    let mut out = std::io::stdout().lock();
    if let Some(dir) = &args.dir {
        let scored = score_dir(dir, cfg, args.rolling_z)?;
        return report(&mut out, &scored, args);
    }
    let corpora: Vec<(&str, Vec<LabelledSeries>)> = match args.corpus {
        CorpusKind::Generated => vec![("generated", generate(args.seed))],
        CorpusKind::Realistic => {
            let splits: &[Split] = match args.split {
                SplitArg::Tune => &[Split::Tune],
                SplitArg::Holdout => &[Split::Holdout],
                SplitArg::Both => &[Split::Tune, Split::Holdout],
            };
            splits
                .iter()
                .map(|&s| (s.name(), realistic::generate(s)))
                .collect()
        }
    };
    for (name, corpus) in &corpora {
        if let Some(dir) = &args.write {
            let dir = match args.corpus {
                CorpusKind::Generated => dir.clone(),
                CorpusKind::Realistic => dir.join(name),
            };
            write_corpus(&dir, corpus)?;
            continue;
        }
        if corpora.len() > 1 || args.corpus == CorpusKind::Realistic {
            writeln!(out, "== {} ({name})", corpus_title(args.corpus))?;
        }
        let scored: Scored = corpus
            .iter()
            .map(|s| {
                let scores = if args.rolling_z {
                    rolling_z(cfg.warmup, &s.values)
                } else {
                    score_labelled(cfg, s)
                };
                (s.name.clone(), s.bucket_secs, scores, s.windows())
            })
            .collect();
        report(&mut out, &scored, args)?;
        if args.corpus == CorpusKind::Realistic {
            by_category(&mut out, &scored)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn corpus_title(kind: CorpusKind) -> &'static str {
    match kind {
        CorpusKind::Realistic => "realistic corpus",
        CorpusKind::Generated => "generated corpus",
    }
}

/// The standard NAB-style score of each category (as NAB reports them).
fn by_category(out: &mut impl Write, scored: &Scored) -> anyhow::Result<()> {
    let mut groups: BTreeMap<&str, Vec<SeriesOutcome>> = BTreeMap::new();
    for (name, _, rows, windows) in scored {
        let flags: Vec<bool> = rows.iter().map(|r| r.1).collect();
        groups
            .entry(realistic::category_of(name))
            .or_default()
            .push(evaluate(name, &flags, windows));
    }
    write!(out, "by category (standard):")?;
    for (category, outcomes) in &groups {
        write!(out, " {category} {:.1}", summarize(outcomes).nab[0])?;
    }
    writeln!(out)?;
    Ok(())
}

/// Per series: name, bucket width, (score, verdict) per row, windows.
type Scored = Vec<(String, i64, Vec<(f64, bool)>, Vec<LabelWindow>)>;

fn write_corpus(dir: &Path, corpus: &[LabelledSeries]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut labels: BTreeMap<String, Vec<Label>> = BTreeMap::new();
    for s in corpus {
        let file = format!("{}.csv", s.name);
        let mut text = String::from("timestamp,value\n");
        for (i, v) in s.values.iter().enumerate() {
            // A missing value is an empty cell, as in real exports.
            let v = if v.is_finite() {
                v.to_string()
            } else {
                String::new()
            };
            text.push_str(&format!("{},{v}\n", s.timestamp(i).format(TIME_FORMAT)));
        }
        std::fs::write(dir.join(&file), text).with_context(|| format!("writing {file}"))?;
        let entries = s
            .windows()
            .iter()
            .zip(&s.anomalies)
            .map(|(w, a)| Label {
                start: s.timestamp(w.start).format(TIME_FORMAT).to_string(),
                end: s.timestamp(w.end).format(TIME_FORMAT).to_string(),
                onset: Some(s.timestamp(w.onset).format(TIME_FORMAT).to_string()),
                kind: Some(a.kind.to_owned()),
            })
            .collect();
        labels.insert(file, entries);
    }
    let json = serde_json::to_string_pretty(&labels)?;
    std::fs::write(dir.join("labels.json"), json + "\n").context("writing labels.json")?;
    eprintln!(
        "wrote {} series and labels.json to {}",
        corpus.len(),
        dir.display()
    );
    Ok(())
}

fn time(text: &str, file: &str) -> anyhow::Result<DateTime<Utc>> {
    parse_timestamp(&Value::String(text.to_owned()))
        .map_err(|e| anyhow::anyhow!("labels.json: {file}: {e}"))
}

/// Reads labels.json: per file, a list of `{start, end, onset?, kind?}`
/// objects or of `[start, end]` pairs (the NAB format; the onset is then the
/// middle of the window).
fn read_labels(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<Label>>> {
    let path = dir.join("labels.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let raw: BTreeMap<String, Vec<Value>> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut out = BTreeMap::new();
    for (file, entries) in raw {
        let mut labels = Vec::new();
        for entry in entries {
            let label = match entry {
                Value::Array(pair) if pair.len() == 2 => Label {
                    start: pair[0].as_str().unwrap_or_default().to_owned(),
                    end: pair[1].as_str().unwrap_or_default().to_owned(),
                    onset: None,
                    kind: None,
                },
                other => serde_json::from_value(other).with_context(|| {
                    format!("labels.json: {file}: expected {{start, end}} or [start, end]")
                })?,
            };
            labels.push(label);
        }
        out.insert(file, labels);
    }
    Ok(out)
}

fn score_dir(dir: &Path, cfg: &SeriesConfig, use_rolling_z: bool) -> anyhow::Result<Scored> {
    let labels = read_labels(dir)?;
    if labels.is_empty() {
        bail!("{}: labels.json lists no series", dir.display());
    }
    let mut scored = Vec::new();
    for (file, entries) in labels {
        let path = dir.join(&file);
        let reader =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let series = read_series(std::io::BufReader::new(reader))
            .with_context(|| format!("in {}", path.display()))?;
        let times: Vec<Option<DateTime<Utc>>> = series.rows.iter().map(|r| r.ts).collect();
        let first_at_or_after =
            |t: DateTime<Utc>| times.iter().position(|x| x.is_some_and(|x| x >= t));
        let last_at_or_before =
            |t: DateTime<Utc>| times.iter().rposition(|x| x.is_some_and(|x| x <= t));
        let mut windows = Vec::new();
        for label in &entries {
            let (start, end) = (time(&label.start, &file)?, time(&label.end, &file)?);
            let onset = match &label.onset {
                Some(o) => time(o, &file)?,
                None => start + (end - start) / 2,
            };
            let (Some(s), Some(e)) = (first_at_or_after(start), last_at_or_before(end)) else {
                continue;
            };
            let o = first_at_or_after(onset).unwrap_or(s).clamp(s, e.max(s));
            windows.push(LabelWindow {
                start: s,
                end: e.max(s),
                onset: o,
            });
        }
        let scores = if use_rolling_z {
            let values: Vec<f64> = series.rows.iter().map(|r| r.number).collect();
            rolling_z(cfg.warmup, &values)
        } else {
            let rows: Vec<(Option<DateTime<Utc>>, f64)> =
                series.rows.iter().map(|r| (r.ts, r.number)).collect();
            score_rows(cfg, series.bucket_secs, &rows)
        };
        scored.push((file, series.bucket_secs, scores, windows));
    }
    Ok(scored)
}

fn human(secs: f64) -> String {
    let abs = secs.abs();
    let sign = if secs < 0.0 { "-" } else { "" };
    if abs >= 3600.0 {
        format!("{sign}{:.1} h", abs / 3600.0)
    } else if abs >= 60.0 {
        format!("{sign}{:.0} min", abs / 60.0)
    } else {
        format!("{sign}{abs:.0} s")
    }
}

fn report(out: &mut impl Write, scored: &Scored, args: &EvalArgs) -> anyhow::Result<()> {
    let outcomes: Vec<SeriesOutcome> = scored
        .iter()
        .map(|(name, _, rows, windows)| {
            let flags: Vec<bool> = rows.iter().map(|r| r.1).collect();
            evaluate(name, &flags, windows)
        })
        .collect();
    if args.verbose {
        writeln!(
            out,
            "{:<32} {:>6} {:>7} {:>8} {:>9}  delays (rows)",
            "series", "rows", "windows", "detected", "false pos"
        )?;
        for (o, (_, _, rows, windows)) in outcomes.iter().zip(scored) {
            // Where the false positives fell: the first row of each run of
            // flagged rows outside every window.
            let outside: Vec<usize> = (0..rows.len())
                .filter(|&i| {
                    rows[i].1
                        && (i == 0 || !rows[i - 1].1)
                        && !windows.iter().any(|w| w.start <= i && i <= w.end)
                })
                .collect();
            writeln!(
                out,
                "{:<32} {:>6} {:>7} {:>8} {:>9}  {:?}  false at {:?}",
                o.name, o.rows, o.windows, o.detected, o.false_events, o.delays, outside
            )?;
        }
        writeln!(out)?;
    }
    let summary = summarize(&outcomes);
    // Delay in time: rows times each series' bucket width.
    let mut delay_secs: Vec<f64> = outcomes
        .iter()
        .zip(scored)
        .flat_map(|(o, (_, bucket, _, _))| o.delays.iter().map(move |&d| d as f64 * *bucket as f64))
        .collect();
    delay_secs.sort_by(f64::total_cmp);
    let median_secs = delay_secs.get(delay_secs.len() / 2).copied().unwrap_or(0.0);
    print_summary(out, &summary, median_secs)?;
    let by_score: Vec<(&str, Vec<f64>, Vec<LabelWindow>)> = scored
        .iter()
        .map(|(name, _, rows, windows)| {
            (
                name.as_str(),
                rows.iter().map(|r| r.0).collect(),
                windows.clone(),
            )
        })
        .collect();
    let best = best_thresholds(&by_score);
    write!(out, "NAB-style score, best threshold on the score column:")?;
    for (profile, (score, threshold)) in PROFILES.iter().zip(best) {
        write!(out, " {} {score:.1} (at {threshold:.2})", profile.name)?;
    }
    writeln!(out)?;
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &Summary, median_secs: f64) -> std::io::Result<()> {
    writeln!(
        out,
        "series {}  windows {}  detected {}  false positives {} (events), {} (rows)",
        s.series, s.windows, s.detected, s.false_events, s.false_rows
    )?;
    writeln!(
        out,
        "precision {:.3}  recall {:.3}  F1 {:.3}",
        s.precision, s.recall, s.f1
    )?;
    writeln!(
        out,
        "detection delay from onset: mean {:.1} rows, median {:.1} rows ({})",
        s.mean_delay,
        s.median_delay,
        human(median_secs)
    )?;
    write!(out, "NAB-style score, anomaly column:")?;
    for (profile, score) in PROFILES.iter().zip(s.nab) {
        write!(out, " {} {score:.1}", profile.name)?;
    }
    writeln!(out)
}
