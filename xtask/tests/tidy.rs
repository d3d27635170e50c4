//! The tidy test: ARCHITECTURE.md's invariants that can be checked
//! mechanically, on the real workspace. Each check is a function of `xtask`
//! whose unit tests show it failing on a planted violation.
//!
//! Every route documented in OpenAPI is checked by
//! `functions/api/tests/openapi.rs`
//! (`every_served_route_is_documented_and_every_documented_one_is_served`),
//! which compares the served router with the document; it is not repeated here.

use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;

use anomalog_core::Config;
use xtask::{
    DepGraph, forbidden_dependencies, forbidden_in_tree, inherits_workspace_lints, leaked,
    oversized, rust_files,
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn graph() -> DepGraph {
    let metadata = MetadataCommand::new()
        .manifest_path(workspace_root().join("Cargo.toml"))
        .exec()
        .expect("cargo metadata");
    DepGraph::from_metadata(&metadata)
}

/// "Unsafe code only in `alloc/`": every other package of the workspace takes
/// the workspace's lints, which forbid it.
#[test]
fn only_the_allocator_crate_may_hold_unsafe_code() {
    let metadata = MetadataCommand::new()
        .manifest_path(workspace_root().join("Cargo.toml"))
        .no_deps()
        .exec()
        .expect("cargo metadata");
    let mut own_lints = Vec::new();
    for package in metadata.workspace_packages() {
        let manifest = std::fs::read_to_string(&package.manifest_path).expect("read a manifest");
        if !inherits_workspace_lints(&manifest) {
            own_lints.push(package.name.to_string());
        }
    }
    assert_eq!(own_lints, vec!["anomalog-alloc".to_owned()]);
}

/// "core knows nothing of HTTP, Lambda, Redis, MongoDB, SQLite or tokio."
#[test]
fn core_depends_on_no_runtime_transport_or_storage_engine() {
    let forbidden = [
        "tokio", "axum", "hyper", "tower", "reqwest", "redis", "mongodb", "rusqlite", "lambda*",
        "aws*",
    ];
    let found = forbidden_dependencies(&graph(), "anomalog-core", &forbidden);
    assert!(found.is_empty(), "core must stay pure: {found:#?}");
}

/// "`anomalog` links no Lambda crate": the Lambda runtime belongs to the
/// functions' Lambda binaries only.
#[test]
fn the_local_binary_links_no_lambda_crate() {
    let found = forbidden_dependencies(&graph(), "anomalog-cli", &["lambda*"]);
    assert!(found.is_empty(), "anomalog must not link: {found:#?}");
}

/// The normal dependency tree of `package` with its own features, as
/// `cargo tree` lists it (one package per line).
fn tree_of(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "-p", package])
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo tree prints UTF-8")
}

/// "Each Lambda links only what it uses": no SQLite (the embedded store they
/// refuse) in any, no Swagger UI bundle in any (only `anomalog` serves the docs
/// page; the api Lambda serves the document alone), no regex engine (the
/// Lambda log filter is a plain level), each function only the backend
/// clients it connects.
#[test]
fn each_lambda_links_only_the_backends_and_bundles_it_uses() {
    const NEVER: &[&str] = &[
        "rusqlite",
        "libsqlite3*",
        "anomalog-cli",
        "utoipa-swagger-ui",
        "regex-automata",
    ];
    let functions: [(&str, &[&str]); 4] = [
        // ingest reads the stored API keys from their Redis mirror.
        ("ingest", &["reqwest", "mongodb"]),
        ("detect", &["reqwest", "axum"]),
        ("alert", &["redis", "axum"]),
        ("api", &["reqwest"]),
    ];
    for (function, forbidden) in functions {
        let package = format!("anomalog-{function}-lambda");
        let tree = tree_of(&package);
        assert!(tree.contains(&package), "empty tree for {package}: {tree}");
        let forbidden = [NEVER, forbidden].concat();
        let found = forbidden_in_tree(&tree, &forbidden);
        assert!(found.is_empty(), "{package} links {found:?}");
    }
}

/// "No adapter error, log line or panic message contains a backend URL": nor
/// does the configuration's `Debug` output, which binaries may log.
#[test]
fn config_debug_output_shows_no_secret() {
    let secret = "tidy-secret-7f3a";
    let mut config = Config::default();
    config.backends.redis_url = Some(format!("redis://user:{secret}@cache:6379/0"));
    config.backends.mongodb_uri = Some(format!("mongodb://app:{secret}@db:27017/?w=majority"));
    config.ingest.api_keys = vec![secret.to_owned()];
    config.alert.discord_webhook_url = Some(format!("https://discord.test/api/webhooks/{secret}"));
    config.alert.slack_webhook_url = Some(format!("https://hooks.slack.test/{secret}"));
    config.alert.webhook_url = Some(format!("https://hook.test/{secret}"));
    config.alert.webhook_headers = [("Authorization".to_owned(), secret.to_owned())].into();
    let debug = format!("{config:?}\n{config:#?}");
    assert!(leaked(&debug, &[secret]).is_empty(), "{debug}");
}

/// "Modules stay small." A file over the ceiling is split by concern; the
/// exceptions are named, each with its own ceiling, and the list only shrinks.
#[test]
fn rust_files_stay_under_the_size_ceiling() {
    const CEILING: usize = 1_000;
    const EXCEPTIONS: &[(&str, usize)] = &[
        // One adapter, one file: queries, transactions and document mapping.
        // 22 generator families of the realistic corpus; to split by category.
        ("eval/src/realistic.rs", 1_200),
    ];
    let files = rust_files(&workspace_root()).expect("workspace readable");
    assert!(files.len() > 50, "walked too little: {files:?}");
    let problems = oversized(&files, CEILING, EXCEPTIONS);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The route check lives in the api's OpenAPI test; make sure it stays there.
#[test]
fn the_route_documentation_check_still_exists() {
    let test = std::fs::read_to_string(workspace_root().join("functions/api/tests/openapi.rs"))
        .expect("functions/api/tests/openapi.rs");
    assert!(
        test.contains("fn every_served_route_is_documented_and_every_documented_one_is_served"),
        "the route-vs-OpenAPI test was removed or renamed: update tidy.rs"
    );
}
