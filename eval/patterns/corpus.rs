//! The labelled pattern corpus: generates raw log lines, each labelled with
//! its true template, from the system files in `eval/patterns/*.txt`, and
//! scores a grouping by grouping accuracy. Shared by the accuracy test
//! (`core/tests/pattern_accuracy.rs`), the miner benchmark
//! (`core/benches/patterns.rs`) and the CLI test, through `#[path]`.
//!
//! A system file holds `key: value` settings, then one template per line.
//! `split:` is `tune`, `holdout` or `holdout2`; `lines:` the number of lines
//! to generate;
//! `header:` the line prefix (timestamps, pids, hosts), generated per line and
//! not part of the label. In templates `{kind}` or `{kind:arg}` is a variable
//! slot (see [`fill`]), `{{` and `}}` are literal braces, `#` starts a comment
//! line. Templates are drawn with Zipf-like weights (a seeded order), so some
//! are frequent and some rare, as in real logs.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which side of the corpus a system is on. Holdout systems were written
/// before any tuning and are never looked at while tuning; `Holdout2`
/// (`split: holdout2`, session 13; six new systems since session 17) is a
/// second holdout of kinds and formats the others lack, read as a mean only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Tune,
    Holdout,
    Holdout2,
}

/// One system's generated, labelled lines.
pub struct System {
    pub name: String,
    pub split: Split,
    /// Raw lines (header included).
    pub lines: Vec<String>,
    /// The index of each line's true template.
    pub truth: Vec<usize>,
    /// The templates as written in the file.
    pub templates: Vec<String>,
    /// The header template (empty when the templates carry their own).
    pub header: String,
}

/// The directory of the system files.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../eval/patterns")
}

/// The system files, sorted by name.
pub fn system_paths() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
}

/// Every system of the corpus, generated with `seed`, sorted by name.
pub fn load_all(seed: u64) -> Vec<System> {
    system_paths().iter().map(|p| load(p, seed)).collect()
}

/// Generates one system file's lines.
pub fn load(path: &Path, seed: u64) -> System {
    load_with_header(path, seed, None)
}

/// Generates one system file's lines with `header` (a header template, `""`
/// for none) in place of the file's own header when given.
pub fn load_with_header(path: &Path, seed: u64, header_override: Option<&str>) -> System {
    generate(path, seed, header_override, false)
}

/// Mean length of a run of one template in locality mode (geometric).
pub const LOCALITY_RUN_MEAN: f64 = 8.0;
/// In locality mode, the chance that a variable slot keeps the value it had
/// in the run's previous line.
pub const LOCALITY_KEEP: f64 = 0.7;

/// Generates one system file's lines as a stream with locality, as real logs
/// arrive: templates come in runs (geometric lengths, mean
/// [`LOCALITY_RUN_MEAN`] lines, each run's template drawn with the same
/// Zipf-like weights), and within a run each variable slot keeps its value
/// from the run's previous line with probability [`LOCALITY_KEEP`] (redrawn
/// otherwise; `ts` slots always follow the clock). Headers (times, pids)
/// advance as in [`load`]; labels are the same. [`load`] is unchanged by it.
pub fn load_with_locality(path: &Path, seed: u64) -> System {
    generate(path, seed, None, true)
}

fn generate(path: &Path, seed: u64, header_override: Option<&str>, locality: bool) -> System {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut split = None;
    let mut count = 1000;
    let mut header = String::new();
    let mut templates = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(v) = line.strip_prefix("split: ") {
            split = Some(match v.trim() {
                "tune" => Split::Tune,
                "holdout" => Split::Holdout,
                "holdout2" => Split::Holdout2,
                other => panic!("{name}: unknown split {other}"),
            });
        } else if let Some(v) = line.strip_prefix("lines: ") {
            count = v.trim().parse().unwrap();
        } else if let Some(v) = line.strip_prefix("header: ") {
            header = v.to_owned();
        } else {
            templates.push(line.to_owned());
        }
    }
    let split = split.unwrap_or_else(|| panic!("{name}: no split"));
    if let Some(h) = header_override {
        header = h.to_owned();
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ fnv(&name));
    // Zipf-like weights over a seeded order of the templates.
    let mut order: Vec<usize> = (0..templates.len()).collect();
    rng.shuffle(&mut order);
    let mut weights = vec![0.0; templates.len()];
    for (rank, &t) in order.iter().enumerate() {
        weights[t] = 1.0 / ((rank + 1) as f64).powf(0.9);
    }
    let total: f64 = weights.iter().sum();
    let mut state = Clock {
        secs: 1_700_000_000 + rng.i64(0..10_000_000),
    };
    let mut lines = Vec::with_capacity(count);
    let mut truth = Vec::with_capacity(count);
    // Locality mode: the current run's template and its slots' last values.
    let mut run: Option<(usize, Vec<Option<String>>)> = None;
    for _ in 0..count {
        let continues = locality && run.is_some() && rng.f64() >= 1.0 / LOCALITY_RUN_MEAN;
        let t = match &run {
            Some((t, _)) if continues => *t,
            _ => {
                let mut x = rng.f64() * total;
                let mut t = 0;
                while t + 1 < weights.len() && x >= weights[t] {
                    x -= weights[t];
                    t += 1;
                }
                t
            }
        };
        if locality && !continues {
            run = Some((t, Vec::new()));
        }
        state.secs += rng.i64(0..5);
        let mut line = String::new();
        if !header.is_empty() {
            line.push_str(&expand(&header, &mut rng, &state, None));
            line.push(' ');
        }
        let memory = run.as_mut().map(|(_, m)| m);
        line.push_str(&expand(&templates[t], &mut rng, &state, memory));
        lines.push(line);
        truth.push(t);
    }
    System {
        name,
        split,
        lines,
        truth,
        templates,
        header,
    }
}

/// Mines `system`'s raw lines (headers stripped by `strip_header`) with the
/// one default setting: the miner, and the id each line got when mined.
pub fn mine(
    system: &System,
) -> (
    anomalog_core::pattern::Miner,
    Vec<anomalog_core::pattern::PatternId>,
) {
    use anomalog_core::pattern::header::strip_header;
    use anomalog_core::pattern::{Miner, MinerConfig};

    let mut miner = Miner::new(&system.name, MinerConfig::default());
    let ids = system
        .lines
        .iter()
        .map(|line| miner.mine(&strip_header(line)).id)
        .collect();
    (miner, ids)
}

/// Grouping accuracy of the miner on `system`, each line's pattern resolved
/// after the whole run.
pub fn accuracy(system: &System) -> f64 {
    let (miner, ids) = mine(system);
    let ids: Vec<_> = ids
        .iter()
        .map(|id| miner.resolve(*id).unwrap_or(*id))
        .collect();
    grouping_accuracy(&system.truth, &ids)
}

/// Grouping accuracy: the share of lines whose predicted group holds exactly
/// the lines of their true group.
pub fn grouping_accuracy<P: std::hash::Hash + Eq + Copy>(truth: &[usize], predicted: &[P]) -> f64 {
    assert_eq!(truth.len(), predicted.len());
    let mut pair: HashMap<(usize, P), usize> = HashMap::new();
    let mut by_truth: HashMap<usize, usize> = HashMap::new();
    let mut by_pred: HashMap<P, usize> = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *pair.entry((t, p)).or_default() += 1;
        *by_truth.entry(t).or_default() += 1;
        *by_pred.entry(p).or_default() += 1;
    }
    let correct: usize = pair
        .iter()
        .filter(|((t, p), n)| by_truth[t] == **n && by_pred[p] == **n)
        .map(|(_, n)| n)
        .sum();
    correct as f64 / truth.len().max(1) as f64
}

pub struct Clock {
    pub secs: i64,
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Replaces the slots of a template. With `memory` (locality mode), the
/// i-th slot keeps its value from the previous line of the run with
/// probability [`LOCALITY_KEEP`] (`ts` slots never do).
fn expand(
    template: &str,
    rng: &mut fastrand::Rng,
    clock: &Clock,
    mut memory: Option<&mut Vec<Option<String>>>,
) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut slot_index = 0;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        let end = tail
            .find('}')
            .unwrap_or_else(|| panic!("unclosed slot in {template}"));
        let slot = &tail[1..end];
        let (kind, arg) = slot.split_once(':').unwrap_or((slot, ""));
        match memory.as_deref_mut() {
            None => out.push_str(&fill(kind, arg, rng, clock)),
            Some(memory) => {
                if memory.len() <= slot_index {
                    memory.resize(slot_index + 1, None);
                }
                let kept = match &memory[slot_index] {
                    Some(previous) if kind != "ts" && rng.f64() < LOCALITY_KEEP => {
                        Some(previous.clone())
                    }
                    _ => None,
                };
                let value = kept.unwrap_or_else(|| fill(kind, arg, rng, clock));
                out.push_str(&value);
                memory[slot_index] = Some(value);
            }
        }
        slot_index += 1;
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

const USERS: &[&str] = &[
    "root", "admin", "alice", "bob", "carol", "dave", "www-data", "nobody", "postgres", "oracle",
    "guest", "test", "ubuntu", "deploy", "jenkins", "mysql", "cyrus", "news", "operator", "backup",
];
const HOSTS: &[&str] = &[
    "web-01",
    "web-02",
    "db-master",
    "db-replica-3",
    "cache-7",
    "gateway",
    "combo",
    "localhost",
    "api.internal",
    "node-114",
    "worker-9.cluster.local",
    "bastion",
    "mail.example.org",
    "lb-2",
];
const FILES: &[&str] = &[
    "config.yaml",
    "settings.json",
    "app.log",
    "index.html",
    "favicon.ico",
    "style.css",
    "main.js",
    "robots.txt",
    "passwd",
    "hosts",
    "resolv.conf",
    "server.key",
    "data.db",
];
const CLASSES: &[&str] = &[
    "org.apache.spark.storage.BlockManager",
    "com.example.billing.InvoiceService",
    "org.apache.hadoop.ipc.Client",
    "io.netty.channel.DefaultChannelPipeline",
    "com.example.auth.TokenFilter",
    "org.eclipse.jetty.server.Server",
    "java.util.concurrent.ThreadPoolExecutor",
    "org.apache.zookeeper.ClientCnxn",
];
const PACKAGES: &[&str] = &[
    "com.android.systemui",
    "com.google.android.gms",
    "com.whatsapp",
    "com.android.phone",
    "com.example.fitness",
    "com.spotify.music",
    "com.android.settings",
    "com.tencent.mm",
];
const NAMES: &[&str] = &[
    "orders",
    "payments",
    "inventory",
    "sessions",
    "users",
    "audit",
    "default",
    "analytics",
    "checkout",
    "search",
    "billing",
    "notifications",
    "reports",
    "metrics",
    "events",
];
const WORDS: &[&str] = &[
    "timeout",
    "refused",
    "unreachable",
    "reset",
    "denied",
    "busy",
    "closed",
    "invalid",
    "expired",
    "missing",
    "corrupt",
    "stale",
    "unknown",
    "overloaded",
    "throttled",
];
const EXTS: &[&str] = &["log", "conf", "tmp", "dat", "json", "xml", "so", "jar"];

/// One value for a slot.
///
/// Kinds: `int[:a-b]`, `blk` (signed 64-bit id), `hex[:n]`, `ip`, `ip6`,
/// `port`, `mac`, `uuid`, `float`, `dur`, `size`, `path`, `wpath`, `url`,
/// `email`, `user`, `host`, `file`, `class`, `pkg`, `name`, `word` (plain
/// words), `pick:a|b|c` (few values), `q` (quoted words), `ts:<strftime>`,
/// `part` (a Kafka topic-partition), `qname` (a quoted name), `b64` (a
/// 22-character URL-safe base64 id, as Elasticsearch prints), `list:KIND`
/// (one to four values of KIND joined by `, `).
pub fn fill(kind: &str, arg: &str, rng: &mut fastrand::Rng, clock: &Clock) -> String {
    let pick = |rng: &mut fastrand::Rng, pool: &[&str]| pool[rng.usize(..pool.len())].to_owned();
    match kind {
        "int" => {
            // `a-b`, where `a` may be negative.
            let (lo, hi) = match arg.get(1..).and_then(|a| a.find('-')) {
                Some(i) => (arg[..=i].parse().unwrap(), arg[i + 2..].parse().unwrap()),
                None => (0i64, 99_999i64),
            };
            rng.i64(lo..=hi).to_string()
        }
        "blk" => {
            let n = rng.i64(1_000_000_000_000_000..i64::MAX);
            if rng.bool() {
                format!("-{n}")
            } else {
                n.to_string()
            }
        }
        "hex" => {
            let n: usize = if arg.is_empty() {
                8
            } else {
                arg.parse().unwrap()
            };
            (0..n)
                .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
                .collect()
        }
        "ip" => format!(
            "{}.{}.{}.{}",
            rng.u8(1..=223),
            rng.u8(..),
            rng.u8(..),
            rng.u8(1..255)
        ),
        "ip6" => format!("2001:db8:{:x}::{:x}", rng.u16(..), rng.u16(1..)),
        "port" => rng.u16(1024..).to_string(),
        "mac" => (0..6)
            .map(|_| format!("{:02x}", rng.u8(..)))
            .collect::<Vec<_>>()
            .join(":"),
        "uuid" => format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            rng.u32(..),
            rng.u16(..),
            rng.u16(..0x1000),
            rng.u16(0x8000..0xc000),
            rng.u64(..1 << 48)
        ),
        "float" => format!("{:.3}", rng.f64() * 1000.0),
        "dur" => match rng.u8(..4) {
            0 => format!("{}ms", rng.u32(1..5000)),
            1 => format!("{:.2}s", rng.f64() * 60.0),
            2 => format!("{}us", rng.u32(1..900)),
            _ => format!("{}m{}s", rng.u32(1..59), rng.u32(0..59)),
        },
        "size" => match rng.u8(..3) {
            0 => format!("{}B", rng.u32(1..1024)),
            1 => format!("{:.1}KB", rng.f64() * 1000.0),
            _ => format!("{:.1}MB", rng.f64() * 500.0),
        },
        "path" => {
            let depth = rng.usize(1..4);
            let mut p = String::new();
            for _ in 0..depth {
                p.push('/');
                p.push_str(&pick(rng, NAMES));
            }
            p.push('/');
            p.push_str(&pick(rng, NAMES));
            if rng.bool() {
                p.push_str(&format!("-{}", rng.u16(..)));
            }
            p.push('.');
            p.push_str(&pick(rng, EXTS));
            p
        }
        "wpath" => format!("C:\\Windows\\{}\\{}", pick(rng, NAMES), pick(rng, FILES)),
        "url" => format!(
            "https://{}/{}/{}?id={}",
            pick(rng, HOSTS),
            pick(rng, NAMES),
            pick(rng, NAMES),
            rng.u32(..)
        ),
        "email" => format!(
            "{}@{}.example.com",
            pick(rng, USERS).replace('-', ""),
            pick(rng, NAMES)
        ),
        "user" => pick(rng, USERS),
        "host" => pick(rng, HOSTS),
        "file" => pick(rng, FILES),
        "class" => pick(rng, CLASSES),
        "pkg" => pick(rng, PACKAGES),
        "name" => pick(rng, NAMES),
        "word" => pick(rng, WORDS),
        "pick" => {
            let options: Vec<&str> = arg.split('|').collect();
            options[rng.usize(..options.len())].to_owned()
        }
        "q" => {
            let n = rng.usize(1..4);
            let words: Vec<String> = (0..n).map(|_| pick(rng, WORDS)).collect();
            format!("\"{}\"", words.join(" "))
        }
        "ts" => {
            let at =
                chrono::DateTime::from_timestamp(clock.secs, rng.u32(..1_000_000_000)).unwrap();
            at.format(arg).to_string()
        }
        "part" => format!("{}-{}", pick(rng, NAMES), rng.u8(..32)),
        "qname" => format!("\"{}\"", pick(rng, NAMES)),
        "b64" => (0..22)
            .map(|_| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        [rng.usize(..64)],
                )
            })
            .collect(),
        "list" => {
            let n = rng.usize(1..5);
            let items: Vec<String> = (0..n).map(|_| fill(arg, "", rng, clock)).collect();
            items.join(", ")
        }
        other => panic!("unknown slot kind {other}"),
    }
}
