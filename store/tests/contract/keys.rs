//! The [`KeyStore`] contract: what every key adapter must do.

use anomalog_store::{ApiKeyRecord, KeyStore, Scope, StoreError};

use super::t;

fn key(name: &str, digest: &str, scopes: &[Scope]) -> ApiKeyRecord {
    ApiKeyRecord {
        name: name.into(),
        digest: digest.into(),
        scopes: scopes.to_vec(),
        created_at: t(0),
    }
}

pub async fn keys_are_created_listed_and_revoked_by_name(keys: &dyn KeyStore) {
    assert!(keys.list().await.unwrap().is_empty());
    let shipper = key("shipper", &"a".repeat(64), &[Scope::Ingest]);
    let ops = key(
        "ops",
        &"b".repeat(64),
        &[Scope::Ingest, Scope::Read, Scope::Admin],
    );
    keys.create(&shipper).await.unwrap();
    keys.create(&ops).await.unwrap();

    let again = keys
        .create(&key("shipper", &"c".repeat(64), &[Scope::Read]))
        .await;
    assert!(
        matches!(&again, Err(StoreError::Invalid(m)) if m.contains("shipper")),
        "a taken name is refused naming it: {again:?}"
    );
    assert_eq!(
        keys.list().await.unwrap(),
        vec![ops.clone(), shipper.clone()],
        "listed by name, scopes and digest as stored, the first key untouched"
    );

    assert!(keys.revoke("shipper").await.unwrap());
    assert!(!keys.revoke("shipper").await.unwrap(), "revoked once");
    assert!(!keys.revoke("nobody").await.unwrap());
    assert_eq!(keys.list().await.unwrap(), vec![ops]);
    keys.create(&shipper).await.unwrap();
    assert_eq!(
        keys.list().await.unwrap().len(),
        2,
        "a revoked name is free"
    );
}
