//! `anomalog patterns FILE`: the template miner over a log file.
//!
//! Prints exactly one line per input line, in order: `<pattern id>\t<template>`,
//! where the template is the pattern's form at the end of the run (lines of
//! one group print the same template; the id is the one the line got, resolved
//! through later merges). Nothing else goes to stdout; a summary goes to the
//! log on stderr.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;

use anomalog_core::parse::{ParseDefaults, ParseLimits, parse_json_record, parse_text_line};
use anomalog_core::pattern::header::strip_header;
use anomalog_core::pattern::{Miner, MinerConfig, PatternId};

/// Arguments of `anomalog patterns`.
#[derive(clap::Args)]
pub struct PatternsArgs {
    /// A log file, one record per line (`-` for stdin).
    pub file: PathBuf,
    /// Service of lines that name none (pattern ids are per service).
    #[arg(long, default_value = "default")]
    pub service: String,
    /// Where the message is in a line.
    #[arg(long, value_enum, default_value_t = LineFormat::Auto)]
    pub format: LineFormat,
}

/// How to find the message in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineFormat {
    /// JSON objects and logfmt lines as such, other lines as text.
    Auto,
    /// The whole line is the message.
    Raw,
    /// A raw log line: the header (timestamps, level, host, pid, logger) is
    /// stripped.
    Text,
    /// One JSON object per line (message under `message`, `msg`, `log`...).
    Json,
    /// `key=value` pairs (message under `msg` or `message`).
    Logfmt,
}

pub fn run(args: &PatternsArgs) -> anyhow::Result<()> {
    let input = open(&args.file)?;
    let defaults = ParseDefaults {
        service: Some(args.service.clone()),
        host: None,
        source: None,
        received_at: Utc::now(),
    };
    let limits = ParseLimits::default();
    let mut miners: Vec<Miner> = Vec::new();
    let mut by_service: HashMap<String, usize> = HashMap::new();
    let mut lines: Vec<(usize, PatternId)> = Vec::new();
    let mut first_forms: HashMap<(usize, PatternId), String> = HashMap::new();
    let mut unreadable = 0u64;
    for (n, line) in input.split(b'\n').enumerate() {
        let bytes = line.with_context(|| format!("reading line {}", n + 1))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let (service, message) = match message_of(text, args.format, &defaults, &limits) {
            Some(found) => found,
            None => {
                unreadable += 1;
                (None, strip_header(text).into_owned())
            }
        };
        let service = service.unwrap_or_else(|| args.service.clone());
        let index = match by_service.get(&service) {
            Some(&i) => i,
            None => {
                miners.push(Miner::new(&service, MinerConfig::default()));
                by_service.insert(service, miners.len() - 1);
                miners.len() - 1
            }
        };
        let mined = miners[index].mine(&message);
        if mined.new {
            first_forms.insert(
                (index, mined.id),
                miners[index].template(mined.id).unwrap_or_default(),
            );
        }
        lines.push((index, mined.id));
        if (n + 1) % 1_000_000 == 0 {
            tracing::info!(lines = n + 1, "mining");
        }
    }

    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::new(stdout);
    let mut resolved: HashMap<(usize, PatternId), (PatternId, String)> = HashMap::new();
    for (index, id) in &lines {
        let (final_id, template) = resolved.entry((*index, *id)).or_insert_with(|| {
            let miner = &miners[*index];
            match miner.resolve(*id) {
                Some(now) => (now, miner.template(now).unwrap_or_default()),
                // Evicted since: the line's own id and first form.
                None => (
                    *id,
                    first_forms.get(&(*index, *id)).cloned().unwrap_or_default(),
                ),
            }
        });
        writeln!(out, "{final_id}\t{template}")?;
    }
    out.flush()?;

    let patterns: usize = miners.iter().map(Miner::len).sum();
    let evicted: u64 = miners.iter().map(|m| m.stats().evicted).sum();
    tracing::info!(
        lines = lines.len(),
        services = miners.len(),
        patterns,
        evicted,
        unreadable,
        "patterns mined"
    );
    Ok(())
}

/// The service (when the line names one) and message of a line; `None` when
/// the line is not in the requested format.
fn message_of(
    line: &str,
    format: LineFormat,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Option<(Option<String>, String)> {
    let json = |line: &str| {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let event = parse_json_record(&value, defaults, limits).ok()?;
        Some((Some(event.service), event.message))
    };
    let logfmt = |line: &str| {
        let event = parse_text_line(line, defaults, limits).ok()?;
        Some((Some(event.service), event.message))
    };
    match format {
        LineFormat::Raw => Some((None, line.to_owned())),
        LineFormat::Text => Some((None, strip_header(line).into_owned())),
        LineFormat::Json => json(line),
        LineFormat::Logfmt => logfmt(line),
        LineFormat::Auto => {
            let trimmed = line.trim_start();
            if trimmed.starts_with('{')
                && let Some(found) = json(trimmed)
            {
                return Some(found);
            }
            if (line.contains("msg=") || line.contains("message="))
                && let Some(found) = logfmt(line)
            {
                return Some(found);
            }
            Some((None, strip_header(line).into_owned()))
        }
    }
}

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(std::io::BufReader::new(file)))
}
