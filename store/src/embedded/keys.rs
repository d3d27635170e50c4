//! [`KeyStore`] on the embedded database: the `api_keys` table of the same
//! SQLite file, through a connection of its own.
//!
//! A separate value from [`super::EmbeddedStore`] because `anomalog keys` runs
//! in its own process next to a running `anomalog up`: opening the whole
//! store would release the server's queue claims. This opens one connection
//! and touches only `api_keys`.

use std::path::Path;

use async_trait::async_trait;
use chrono::DateTime;
use rusqlite::params;

use crate::StoreError;
use crate::ports::{ApiKeyRecord, KeyStore, Scope};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    name       TEXT PRIMARY KEY,
    digest     TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// The API keys of one embedded data directory.
pub struct EmbeddedKeyStore {
    conn: super::pool::Connections,
}

impl EmbeddedKeyStore {
    /// Opens (creating if needed) the key table of the store in `dir`.
    pub fn open(dir: &Path) -> Result<EmbeddedKeyStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create data dir {}: {e}", dir.display()))
        })?;
        let conn = super::open_connection(&dir.join(super::DB_FILE))?;
        conn.execute_batch(SCHEMA)?;
        Ok(EmbeddedKeyStore {
            conn: super::pool::Connections::spawn("keys", vec![conn])?,
        })
    }
}

#[async_trait]
impl KeyStore for EmbeddedKeyStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let key = key.clone();
        self.conn
            .run(move |conn| {
                let scopes = scope_list(&key.scopes);
                let inserted = conn.execute(
                "INSERT INTO api_keys (name, digest, scopes, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING",
                params![
                    key.name,
                    key.digest,
                    scopes,
                    key.created_at.timestamp_millis()
                ],
            )?;
                if inserted == 0 {
                    return Err(StoreError::Invalid(format!(
                        "a key named '{}' exists already",
                        key.name
                    )));
                }
                Ok(())
            })
            .await
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.conn
            .run(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT name, digest, scopes, created_at FROM api_keys ORDER BY name",
                )?;
                let rows = stmt.query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })?;
                let mut keys = Vec::new();
                for row in rows {
                    let (name, digest, scopes, created) = row?;
                    keys.push(ApiKeyRecord {
                        scopes: parse_scopes(&name, &scopes)?,
                        name,
                        digest,
                        created_at: DateTime::from_timestamp_millis(created).unwrap_or_default(),
                    });
                }
                Ok(keys)
            })
            .await
    }

    async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.conn
            .run(move |conn| {
                Ok(conn.execute("DELETE FROM api_keys WHERE name = ?1", params![name])? > 0)
            })
            .await
    }
}

fn scope_list(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_scopes(name: &str, text: &str) -> Result<Vec<Scope>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            Scope::parse(s).ok_or_else(|| {
                StoreError::Corrupt(format!("key '{name}' has an unknown scope '{s}'"))
            })
        })
        .collect()
}
