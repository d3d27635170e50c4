//! The checks of `tests/tidy.rs`, as plain functions over plain data so each can
//! be shown to fail on a planted violation (the unit tests below) as well as to
//! pass on the real workspace (the tidy test).
//!
//! As rust-analyzer's `xtask tidy` does: what a reviewer would otherwise have to
//! remember about ARCHITECTURE.md's invariants fails `cargo test` instead.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata};

/// The normal (not dev, not build) dependency graph of a workspace, by package
/// name, as resolved with the default features.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DepGraph {
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl DepGraph {
    /// The graph `cargo metadata` resolved.
    pub fn from_metadata(metadata: &Metadata) -> DepGraph {
        let mut graph = DepGraph::default();
        let Some(resolve) = &metadata.resolve else {
            return graph;
        };
        let name_of: BTreeMap<_, _> = metadata
            .packages
            .iter()
            .map(|p| (&p.id, p.name.to_string()))
            .collect();
        for node in &resolve.nodes {
            let Some(name) = name_of.get(&node.id) else {
                continue;
            };
            let entry = graph.deps.entry(name.clone()).or_default();
            for dep in &node.deps {
                let normal = dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == DependencyKind::Normal);
                if normal && let Some(dep_name) = name_of.get(&dep.pkg) {
                    entry.insert(dep_name.clone());
                }
            }
        }
        graph
    }

    /// Adds the edge `from -> to` (for fixtures).
    pub fn with(mut self, from: &str, to: &str) -> DepGraph {
        self.deps
            .entry(from.to_owned())
            .or_default()
            .insert(to.to_owned());
        self.deps.entry(to.to_owned()).or_default();
        self
    }

    /// One shortest dependency path from `root` to each package it needs.
    fn paths_from(&self, root: &str) -> BTreeMap<String, Vec<String>> {
        let mut paths = BTreeMap::from([(root.to_owned(), vec![root.to_owned()])]);
        let mut queue = VecDeque::from([root.to_owned()]);
        while let Some(name) = queue.pop_front() {
            let path = paths.get(&name).cloned().unwrap_or_default();
            for dep in self.deps.get(&name).into_iter().flatten() {
                if !paths.contains_key(dep) {
                    let mut longer = path.clone();
                    longer.push(dep.clone());
                    paths.insert(dep.clone(), longer);
                    queue.push_back(dep.clone());
                }
            }
        }
        paths
    }
}

/// Whether a package name matches a pattern: exact, or a prefix ending in `*`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// Packages in the normal dependency tree of `root` that match a `forbidden`
/// pattern, each with the path that pulls it in (`a -> b -> c`).
pub fn forbidden_dependencies(graph: &DepGraph, root: &str, forbidden: &[&str]) -> Vec<String> {
    graph
        .paths_from(root)
        .into_iter()
        .filter(|(name, _)| name != root && forbidden.iter().any(|p| matches(p, name)))
        .map(|(_, path)| path.join(" -> "))
        .collect()
}

/// Packages of a `cargo tree --prefix none --format {p}` listing (one
/// `name vX.Y.Z ...` per line) that match a `forbidden` pattern. `cargo tree
/// -p PACKAGE` resolves features for that package alone, so it shows what its
/// binary links, where `cargo metadata` shows the workspace's union.
pub fn forbidden_in_tree(tree: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| forbidden.iter().any(|p| matches(p, name)))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Whether a `Cargo.toml` takes the workspace's lints: a `[lints]` table
/// holding `workspace = true` (so it forbids unsafe code as they do).
pub fn inherits_workspace_lints(manifest: &str) -> bool {
    let mut in_lints = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        } else if in_lints && line.replace(' ', "") == "workspace=true" {
            return true;
        }
    }
    false
}

/// The secrets that appear in `text` (e.g. a `Debug` rendering).
pub fn leaked<'a>(text: &str, secrets: &[&'a str]) -> Vec<&'a str> {
    secrets
        .iter()
        .copied()
        .filter(|secret| text.contains(secret))
        .collect()
}

/// Rust files longer than `ceiling` lines, unless named in `exceptions` with a
/// ceiling of their own (path relative to the workspace, `/`-separated).
/// Exceptions that no longer need their allowance are reported too, so the
/// list only shrinks.
pub fn oversized(
    files: &[(String, usize)],
    ceiling: usize,
    exceptions: &[(&str, usize)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, lines) in files {
        let allowed = exceptions
            .iter()
            .find(|(p, _)| p == path)
            .map_or(ceiling, |&(_, max)| max);
        if *lines > allowed {
            problems.push(format!(
                "{path}: {lines} lines, more than {allowed}: split it by concern"
            ));
        }
    }
    for (path, _) in exceptions {
        match files.iter().find(|(p, _)| p == path) {
            Some((_, lines)) if *lines <= ceiling => problems.push(format!(
                "{path}: {lines} lines now; remove it from the exception list"
            )),
            None => problems.push(format!("{path}: in the exception list but not found")),
            _ => {}
        }
    }
    problems
}

/// Every `.rs` file under `root` with its line count, skipping build outputs and
/// hidden directories; paths relative to `root`, `/`-separated.
pub fn rust_files(root: &Path) -> std::io::Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs") {
                let lines = std::fs::read_to_string(&path)?.lines().count();
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((relative, lines));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> DepGraph {
        DepGraph::default()
            .with("anomalog-core", "serde")
            .with("anomalog-core", "chrono")
            .with("chrono", "num-traits")
            .with("anomalog-cli", "anomalog-core")
            .with("anomalog-cli", "axum")
    }

    #[test]
    fn a_planted_package_in_a_cargo_tree_listing_is_found_once() {
        let tree = "anomalog-ingest-lambda v0.1.0 (/w/functions/ingest/lambda)\n\
                    redis v0.32.0\n\
                    rusqlite v0.37.0\n\
                    libsqlite3-sys v0.35.0\n\
                    rusqlite v0.37.0 (*)\n";
        assert_eq!(
            forbidden_in_tree(tree, &["rusqlite", "libsqlite3*", "mongodb"]),
            vec!["libsqlite3-sys", "rusqlite"]
        );
        assert!(forbidden_in_tree(tree, &["mongodb", "lambda*"]).is_empty());
    }

    #[test]
    fn a_clean_tree_has_no_forbidden_dependency() {
        assert!(
            forbidden_dependencies(&workspace(), "anomalog-core", &["tokio", "axum"]).is_empty()
        );
    }

    #[test]
    fn a_planted_transitive_dependency_is_found_with_its_path() {
        let graph = workspace().with("num-traits", "tokio");
        assert_eq!(
            forbidden_dependencies(&graph, "anomalog-core", &["tokio"]),
            vec!["anomalog-core -> chrono -> num-traits -> tokio"]
        );
    }

    #[test]
    fn patterns_with_a_star_match_prefixes() {
        let graph = workspace()
            .with("anomalog-cli", "anomalog-detect")
            .with("anomalog-detect", "lambda_runtime");
        assert_eq!(
            forbidden_dependencies(&graph, "anomalog-cli", &["lambda*"]),
            vec!["anomalog-cli -> anomalog-detect -> lambda_runtime"]
        );
        assert!(forbidden_dependencies(&graph, "anomalog-core", &["lambda*"]).is_empty());
    }

    #[test]
    fn a_manifest_without_the_workspace_lints_is_found() {
        let inherits = "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n";
        assert!(inherits_workspace_lints(inherits));
        let own = "[package]\nname = \"b\"\n\n[lints.rust]\nunsafe_code = \"deny\"\n";
        assert!(!inherits_workspace_lints(own));
        let elsewhere = "[workspace]\nworkspace = true\n[lints]\n";
        assert!(!inherits_workspace_lints(elsewhere));
        assert!(!inherits_workspace_lints("[package]\nname = \"c\"\n"));
    }

    #[test]
    fn a_planted_secret_is_found() {
        let debug = r#"BackendsConfig { redis_url: Some("redis://:hunter2@h") }"#;
        assert_eq!(leaked(debug, &["hunter2", "other"]), vec!["hunter2"]);
        assert!(leaked("redis://<redacted>@h", &["hunter2"]).is_empty());
    }

    #[test]
    fn oversized_files_and_stale_exceptions_are_reported() {
        let files = vec![
            ("core/src/big.rs".to_owned(), 1_200),
            ("store/src/mongo.rs".to_owned(), 1_100),
            ("core/src/small.rs".to_owned(), 10),
            ("core/src/was_big.rs".to_owned(), 900),
        ];
        let problems = oversized(
            &files,
            1_000,
            &[
                ("store/src/mongo.rs", 1_150),
                ("core/src/was_big.rs", 1_500),
                ("gone.rs", 2_000),
            ],
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("core/src/big.rs: 1200 lines"));
        assert!(problems[1].starts_with("core/src/was_big.rs: 900 lines now"));
        assert!(problems[2].starts_with("gone.rs: in the exception list"));
        assert!(oversized(&files[1..3], 1_000, &[("store/src/mongo.rs", 1_150)]).is_empty());
    }
}
