//! Opening the [`KeyStore`] a configuration names: the `api_keys` table of
//! the embedded database, or the `api_keys` collection in MongoDB, mirrored in
//! Redis (see [`crate::redis_key_store`]), when `REDIS_URL` and `MONGODB_URI`
//! are set.

use std::sync::Arc;

use anomalog_core::Config;

use crate::StoreError;
use crate::ports::KeyStore;

/// The key store of `config`'s storage. Opening it touches nothing else (no
/// queue claim is released), so `anomalog keys` may run next to a server.
pub async fn connect_keys(config: &Config) -> Result<Arc<dyn KeyStore>, StoreError> {
    if config.backends.external() {
        // MongoDB's `api_keys`, mirrored in Redis for the ingest Lambda.
        #[cfg(all(feature = "mongodb", feature = "redis"))]
        return Ok(Arc::new(crate::redis_key_store::MirroredKeyStore::new(
            connect_mongo_keys(config).await?,
            crate::connect::connect_queue(config).await?.key_store(),
        )));
        #[cfg(not(all(feature = "mongodb", feature = "redis")))]
        return Err(StoreError::Invalid(
            "this build has no MongoDB or no Redis adapter (cargo features `mongodb`, `redis`)"
                .into(),
        ));
    }
    #[cfg(feature = "embedded")]
    return Ok(Arc::new(crate::embedded::keys::EmbeddedKeyStore::open(
        std::path::Path::new(&config.storage.data_dir),
    )?));
    #[cfg(not(feature = "embedded"))]
    Err(StoreError::Invalid(
        "this build has no embedded store (cargo feature `embedded`)".into(),
    ))
}

/// The `api_keys` collection of the configured MongoDB database, alone (see
/// [`crate::mongo::MongoKeyStore`]): what the api Lambda opens to check
/// stored keys (the ingest Lambda reads their Redis mirror).
#[cfg(feature = "mongodb")]
pub async fn connect_mongo_keys(
    config: &Config,
) -> Result<crate::mongo::MongoKeyStore, StoreError> {
    crate::validate::backends(&config.backends).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let Some(uri) = &config.backends.mongodb_uri else {
        return Err(StoreError::Invalid(
            "MONGODB_URI must be set to read the stored API keys".into(),
        ));
    };
    crate::mongo::MongoKeyStore::connect(
        uri,
        &crate::MongoConfig {
            database: config.backends.mongodb_database.clone(),
            ..crate::MongoConfig::default()
        },
    )
    .await
}
