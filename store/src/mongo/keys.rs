//! [`KeyStore`] on MongoDB: the `api_keys` collection, `_id` = the key's
//! name (so names are unique without an index), `digest` the hex SHA-256 of
//! the key (never the key), `scopes` an array of scope names.
//!
//! [`MongoKeyStore`] is that collection alone: what a function that only
//! checks keys opens (the ingest Lambda, `anomalog keys`), without the
//! replica-set check and the indexes of [`MongoStore::connect`].

use async_trait::async_trait;
use mongodb::Collection;
use mongodb::bson::{Document, doc};

use crate::StoreError;
use crate::ports::{ApiKeyRecord, KeyStore, Scope};

use super::{
    MongoConfig, MongoStore, classify, client_for, date, get_date, get_string, is_duplicate_key,
};

/// The API keys of one MongoDB database.
#[derive(Clone)]
pub struct MongoKeyStore {
    api_keys: Collection<Document>,
}

impl MongoKeyStore {
    /// The `api_keys` collection of `config.database` at `uri`. Nothing is
    /// contacted until the first read or write (so a cold start pays no round
    /// trip); `uri` may carry a password: it never appears in errors.
    pub async fn connect(uri: &str, config: &MongoConfig) -> Result<MongoKeyStore, StoreError> {
        let client = client_for(uri, config).await?;
        Ok(MongoKeyStore {
            api_keys: client.database(&config.database).collection("api_keys"),
        })
    }
}

impl MongoStore {
    /// The keys of this store's database, on its connection.
    pub fn key_store(&self) -> MongoKeyStore {
        MongoKeyStore {
            api_keys: self.db.collection("api_keys"),
        }
    }
}

#[async_trait]
impl KeyStore for MongoKeyStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.name()).collect();
        let inserted = self
            .api_keys
            .insert_one(doc! {
                "_id": &key.name,
                "digest": &key.digest,
                "scopes": scopes,
                "created_at": date(key.created_at),
            })
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(StoreError::Invalid(format!(
                "a key named '{}' exists already",
                key.name
            ))),
            Err(e) => Err(classify(e)),
        }
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut cursor = self
            .api_keys
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(classify)?;
        let mut keys = Vec::new();
        while cursor.advance().await.map_err(classify)? {
            let d = cursor
                .deserialize_current()
                .map_err(|e| StoreError::Corrupt(format!("api_keys: {e}")))?;
            keys.push(key_from_doc(&d)?);
        }
        Ok(keys)
    }

    async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = self
            .api_keys
            .delete_one(doc! { "_id": name })
            .await
            .map_err(classify)?;
        Ok(deleted.deleted_count > 0)
    }
}

#[async_trait]
impl KeyStore for MongoStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.key_store().create(key).await
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.key_store().list().await
    }

    async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        self.key_store().revoke(name).await
    }
}

fn key_from_doc(d: &Document) -> Result<ApiKeyRecord, StoreError> {
    let name = get_string(d, "_id")?;
    let scopes = d
        .get_array("scopes")
        .map_err(|e| StoreError::Corrupt(format!("api_keys.scopes: {e}")))?
        .iter()
        .map(|s| {
            s.as_str().and_then(Scope::parse).ok_or_else(|| {
                StoreError::Corrupt(format!("key '{name}' has an unknown scope {s}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiKeyRecord {
        digest: get_string(d, "digest")?,
        scopes,
        created_at: get_date(d, "created_at")?,
        name,
    })
}
