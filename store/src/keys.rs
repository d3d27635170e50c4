//! Opening the [`KeyStore`] a configuration names: the `api_keys` table of
//! the embedded database, or the `api_keys` collection in MongoDB when
//! `REDIS_URL` and `MONGODB_URI` are set.

use std::sync::Arc;

use anomalog_core::Config;

use crate::StoreError;
use crate::ports::KeyStore;

/// The key store of `config`'s storage. Opening it touches nothing else (no
/// queue claim is released), so `anomalog keys` may run next to a server.
pub async fn connect_keys(config: &Config) -> Result<Arc<dyn KeyStore>, StoreError> {
    if config.backends.external() {
        #[cfg(feature = "mongodb")]
        return Ok(crate::connect::connect_documents(config).await?);
        #[cfg(not(feature = "mongodb"))]
        return Err(StoreError::Invalid(
            "this build has no MongoDB adapter (cargo feature `mongodb`)".into(),
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
