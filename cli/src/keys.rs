//! `anomalog keys`: create, list and revoke API keys with scopes.
//!
//! Keys live in the configured storage (the embedded database, or MongoDB
//! when `REDIS_URL` and `MONGODB_URI` are set), as SHA-256 digests only: a
//! key is printed once, at creation, and cannot be shown again. A running
//! server sees a change within [`anomalog_ingest::auth::STORED_KEYS_TTL`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;

use anomalog_ingest::auth::key_record;
use anomalog_store::Scope;

/// Prefix of generated keys, so they are recognisable in a secret scanner.
const KEY_PREFIX: &str = "alg_";

/// Arguments of `anomalog keys`.
#[derive(clap::Args)]
pub struct KeysArgs {
    /// Data directory of the embedded store (default ./anomalog-data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (once: only its digest is stored).
    Create {
        /// Unique name of the key (who or what uses it).
        #[arg(long)]
        name: String,
        /// What the key may do: ingest, read, admin (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
    },
    /// List the keys: name, scopes, creation time (never the key).
    List,
    /// Revoke the key called NAME.
    Revoke {
        /// The key's name.
        name: String,
    },
}

/// Runs one `anomalog keys` command.
pub async fn run(config_file: Option<&Path>, args: KeysArgs) -> anyhow::Result<()> {
    let config = crate::settings::load_with(config_file, None, args.data_dir.as_deref())?;
    let store = anomalog_store::keys::connect_keys(&config)
        .await
        .context("opening the API key store")?;
    match args.command {
        KeysCommand::Create { name, scope } => {
            let name = name.trim().to_owned();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 100 && !name.chars().any(char::is_control),
                "--name must be 1 to 100 characters, without control characters"
            );
            let scopes = parse_scopes(&scope)?;
            let key = generate()?;
            store
                .create(&key_record(&name, &key, scopes.clone(), Utc::now()))
                .await?;
            eprintln!(
                "created key '{name}' ({}); store it now, it is not shown again:",
                scope_names(&scopes)
            );
            println!("{key}");
        }
        KeysCommand::List => {
            let keys = store.list().await?;
            if keys.is_empty() {
                eprintln!("no keys (ANOMALOG_API_KEYS, if set, are not listed)");
            }
            for key in keys {
                println!(
                    "{}\t{}\t{}",
                    key.name,
                    scope_names(&key.scopes),
                    key.created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
        }
        KeysCommand::Revoke { name } => {
            anyhow::ensure!(
                store.revoke(&name).await?,
                "no key named '{name}' (see `anomalog keys list`)"
            );
            eprintln!("revoked key '{name}'");
        }
    }
    Ok(())
}

/// Sorted scopes without duplicates; an unknown name is an error naming it.
fn parse_scopes(names: &[String]) -> anyhow::Result<Vec<Scope>> {
    let mut scopes = names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            Scope::parse(n)
                .with_context(|| format!("unknown scope '{n}' (known: ingest, read, admin)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    scopes.sort();
    scopes.dedup();
    anyhow::ensure!(
        !scopes.is_empty(),
        "--scope needs at least one of ingest, read, admin"
    );
    Ok(scopes)
}

fn scope_names(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// A new key: 32 random bytes from the operating system, hex-encoded.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{KEY_PREFIX}{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_sorted_and_unique_and_unknown_ones_are_named() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_scopes(&names(&["read", "INGEST", "read"])).unwrap(),
            vec![Scope::Ingest, Scope::Read]
        );
        let err = parse_scopes(&names(&["write"])).unwrap_err().to_string();
        assert!(err.contains("'write'"), "{err}");
    }

    #[test]
    fn generated_keys_are_distinct_and_long() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), KEY_PREFIX.len() + 64);
    }
}
