//! API keys and their scopes: who may write (`ingest`) and who may read
//! (`read`).
//!
//! Keys come from two places: `ingest.api_keys` (`ANOMALOG_API_KEYS`), which
//! have every scope, and the [`KeyStore`] managed by `anomalog keys`, each with
//! the scopes it was created with. Whenever any key exists in either, every
//! request needs one (`Authorization: Bearer <key>`, the scheme in any case):
//! 401 without a valid key, 403 for a valid key lacking the scope.
//!
//! Only SHA-256 digests of keys are held, here as in the store. The presented
//! key's digest is compared with every known digest without an early exit, so
//! timing tells neither which key matched nor how much of one. Stored keys are
//! re-read at most every [`STORED_KEYS_TTL`], so a key created or revoked
//! while the server runs takes effect within that time, without a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use anomalog_store::{ApiKeyRecord, KeyStore, Scope};

use crate::IngestError;

/// Longest a created or revoked stored key takes to be seen by a server.
pub const STORED_KEYS_TTL: Duration = Duration::from_secs(2);

/// A key's identity for rate limiting: derived from its digest, so the key
/// itself is never kept twice.
pub type KeyId = usize;

/// The lower-case hex SHA-256 of `key`: what the store keeps of it.
pub fn key_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The record stored for a new key: its name, digest and scopes (never the
/// key itself).
pub fn key_record(
    name: &str,
    key: &str,
    scopes: Vec<Scope>,
    created_at: chrono::DateTime<chrono::Utc>,
) -> ApiKeyRecord {
    ApiKeyRecord {
        name: name.to_owned(),
        digest: key_digest(key),
        scopes,
        created_at,
    }
}

/// One known key: its digest and what it may do (`None`: everything).
#[derive(Clone)]
struct Known {
    digest: [u8; 32],
    scopes: Option<Vec<Scope>>,
}

struct Cached {
    at: Instant,
    keys: Arc<Vec<Known>>,
}

/// Decides whether a request's key may do what it asks.
pub struct Authenticator {
    /// Keys of the configuration: every scope.
    configured: Vec<Known>,
    stored: Option<Arc<dyn KeyStore>>,
    cache: Mutex<Option<Cached>>,
    /// One reload at a time; the others wait for it rather than pile on.
    reload: tokio::sync::Mutex<()>,
}

impl Authenticator {
    /// Keys of the configuration only (environment-only deployments).
    pub fn from_keys(keys: &[String]) -> Authenticator {
        Authenticator {
            configured: keys
                .iter()
                .map(|k| Known {
                    digest: Sha256::digest(k.as_bytes()).into(),
                    scopes: None,
                })
                .collect(),
            stored: None,
            cache: Mutex::new(None),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    /// Also accepts the keys of `store` (re-read every [`STORED_KEYS_TTL`]).
    pub fn with_store(mut self, store: Arc<dyn KeyStore>) -> Authenticator {
        self.stored = Some(store);
        self
    }

    /// Whether `headers` carry a key with `scope`. `Ok(None)`: no key is
    /// configured anywhere, everyone may; `Ok(Some(id))`: the key's identity.
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        scope: Scope,
    ) -> Result<Option<KeyId>, IngestError> {
        // A key of the environment is checked without the store, so a store
        // that cannot be read does not refuse it (ingest works on its queue
        // alone).
        if let Some(presented) = bearer(headers)
            && !self.configured.is_empty()
        {
            let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
            let configured = self.configured.iter().fold(None, |found, known| {
                if constant_time_eq(&known.digest, &digest) {
                    Some(known)
                } else {
                    found
                }
            });
            if let Some(known) = configured {
                return match &known.scopes {
                    Some(scopes) if !scopes.contains(&scope) => Err(IngestError::Forbidden {
                        scope: scope.name(),
                    }),
                    _ => Ok(Some(key_id(&digest))),
                };
            }
        }
        let stored = self.stored_keys().await?;
        if self.configured.is_empty() && stored.is_empty() {
            return Ok(None);
        }
        let presented = bearer(headers).ok_or(IngestError::Unauthorized)?;
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let found = self
            .configured
            .iter()
            .chain(stored.iter())
            .fold(None, |found, known| {
                if constant_time_eq(&known.digest, &presented) {
                    Some(known)
                } else {
                    found
                }
            })
            .ok_or(IngestError::Unauthorized)?;
        match &found.scopes {
            Some(scopes) if !scopes.contains(&scope) => Err(IngestError::Forbidden {
                scope: scope.name(),
            }),
            _ => Ok(Some(key_id(&presented))),
        }
    }

    /// The stored keys, from the cache while it is fresh. When the store
    /// cannot be read, the last keys read are used; with none, 503: a key
    /// that cannot be checked is never taken for no key at all.
    async fn stored_keys(&self) -> Result<Arc<Vec<Known>>, IngestError> {
        let Some(store) = &self.stored else {
            return Ok(Arc::new(Vec::new()));
        };
        if let Some(keys) = self.fresh() {
            return Ok(keys);
        }
        let _reloading = self.reload.lock().await;
        if let Some(keys) = self.fresh() {
            return Ok(keys);
        }
        match store.list().await {
            Ok(records) => {
                let keys: Arc<Vec<Known>> = Arc::new(
                    records
                        .into_iter()
                        .filter_map(|r| {
                            let digest = parse_digest(&r.digest);
                            if digest.is_none() {
                                tracing::warn!(key = %r.name, "stored API key has a malformed digest; ignored");
                            }
                            Some(Known {
                                digest: digest?,
                                scopes: Some(r.scopes),
                            })
                        })
                        .collect(),
                );
                if let Ok(mut cache) = self.cache.lock() {
                    *cache = Some(Cached {
                        at: Instant::now(),
                        keys: keys.clone(),
                    });
                }
                Ok(keys)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the API keys");
                let stale = self
                    .cache
                    .lock()
                    .ok()
                    .and_then(|c| c.as_ref().map(|c| c.keys.clone()));
                stale.ok_or_else(|| IngestError::from(e))
            }
        }
    }

    fn fresh(&self) -> Option<Arc<Vec<Known>>> {
        let cache = self.cache.lock().ok()?;
        cache
            .as_ref()
            .filter(|c| c.at.elapsed() < STORED_KEYS_TTL)
            .map(|c| c.keys.clone())
    }
}

/// Middleware: the request needs a key with `scope` (when any key exists).
pub async fn require_scope(
    auth: Arc<Authenticator>,
    scope: Scope,
    req: Request,
    next: Next,
) -> Response {
    match auth.authorize(req.headers(), scope).await {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The key of an `Authorization: Bearer <key>` header (scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn key_id(digest: &[u8; 32]) -> KeyId {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Truncation on 32-bit targets only narrows the id space.
    u64::from_le_bytes(first) as usize
}

/// Compares without an early exit, so response timing does not leak how much
/// of a digest matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn digests_are_lower_hex_sha256_and_parse_back() {
        let d = key_digest("abc");
        assert_eq!(
            d,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            parse_digest(&d),
            Some(<[u8; 32]>::from(Sha256::digest(b"abc")))
        );
        assert_eq!(parse_digest("zz"), None);
        assert_eq!(parse_digest(&"g".repeat(64)), None);
    }

    #[tokio::test]
    async fn the_bearer_scheme_is_case_insensitive_and_keys_are_exact() {
        let auth = Authenticator::from_keys(&["k1".to_owned(), "secret".to_owned()]);
        // Configured keys have every scope.
        for value in ["Bearer secret", "BEARER secret", "bEaReR k1"] {
            for scope in Scope::ALL {
                assert!(auth.authorize(&with(value), scope).await.unwrap().is_some());
            }
        }
        for value in ["Bearer secre", "Basic secret", "Bearersecret", "Bearer "] {
            assert!(matches!(
                auth.authorize(&with(value), Scope::Read).await,
                Err(IngestError::Unauthorized)
            ));
        }
        assert!(matches!(
            auth.authorize(&HeaderMap::new(), Scope::Ingest).await,
            Err(IngestError::Unauthorized)
        ));
        let open = Authenticator::from_keys(&[]);
        assert_eq!(
            open.authorize(&HeaderMap::new(), Scope::Read)
                .await
                .unwrap(),
            None
        );
    }
}
