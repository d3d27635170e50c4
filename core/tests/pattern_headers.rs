//! The miner must not depend on the header format of a system: the same
//! messages behind another common header (ISO with a level, syslog, log4j
//! with a padded bracketed level and a logger, a bracketed timestamp and
//! level, an epoch with a level, or none at all) must group about as well
//! as behind their own. Two systems of the corpus once scored 0.000 because
//! `strip_header` missed a padded `[INFO ]` and MySQL's `[Note]`; this test
//! would have caught both. Systems whose templates carry their own header
//! (no `header:` line: nginx, HealthApp) are left out: a second header in
//! front of one is no real format. So are holdout systems: they are never
//! tuned on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../eval/patterns/corpus.rs"]
mod corpus;

use corpus::{accuracy, load_with_header, system_paths};

/// Header templates (corpus slot syntax) a message may come behind.
const HEADERS: &[(&str, &str)] = &[
    ("none", ""),
    (
        "iso",
        "{ts:%Y-%m-%dT%H:%M:%S%.3fZ} {pick:INFO|WARN|ERROR|DEBUG}",
    ),
    (
        "syslog",
        "{ts:%b %e %H:%M:%S} {host} {pick:app|worker|agentd}[{int:100-65000}]:",
    ),
    (
        "log4j",
        "{ts:%Y-%m-%d %H:%M:%S,%3f} [{pick:INFO |WARN |ERROR|DEBUG}] [{pick:main|pool-1-thread-3|http-nio-8080-exec-7}] {class}:",
    ),
    (
        "bracketed",
        "[{ts:%Y-%m-%d %H:%M:%S}] [{pick:info|warning|error}]",
    ),
    (
        "epoch",
        "{int:1600000000-1700000000} {pick:info|warn|error}",
    ),
    (
        "mysql",
        "{ts:%Y-%m-%dT%H:%M:%S%.6fZ} {int:0-99} [{pick:Note|Warning|System}]",
    ),
];

/// Systems whose templates carry the second half of their header (the
/// logger and a request context after the level the header ends with:
/// `cinder.volume.manager [req-<*> ...] message`): behind a header without
/// a level nothing marks those fields as header, a line no real program
/// prints. cinder (session 15) scores 0.524 so without a header and 0.633
/// behind its own, with the miner of session 14 as with session 15's.
const CARRY_THEIR_LOGGER: &[&str] = &["cinder"];

/// Largest drop of one system's accuracy behind another header.
const MARGIN: f64 = 0.10;

#[test]
fn grouping_does_not_depend_on_the_header_format() {
    let mut failures = Vec::new();
    let mut tested = 0;
    for path in system_paths() {
        let original = load_with_header(&path, 1, None);
        // Holdout systems are scored by pattern_accuracy, never tuned on.
        if original.header.is_empty()
            || original.split != corpus::Split::Tune
            || CARRY_THEIR_LOGGER.contains(&original.name.as_str())
        {
            continue;
        }
        tested += 1;
        let own = accuracy(&original);
        let mut row = Vec::new();
        for (name, header) in HEADERS {
            let system = load_with_header(&path, 1, Some(header));
            let score = accuracy(&system);
            row.push(format!("{name} {score:.3}"));
            if score < own - MARGIN {
                failures.push(format!(
                    "{}: {score:.3} behind the {name} header, {own:.3} behind its own",
                    system.name
                ));
            }
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        println!("{name:<14} own {own:.3}  {}", row.join("  "));
    }
    assert!(tested >= 25, "only {tested} systems with a header");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
