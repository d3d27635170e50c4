//! The live detectors' state per service in MongoDB: the `detector_states`
//! collection, `_id` the service, `state` the bytes (BSON binary).

use async_trait::async_trait;
use mongodb::Collection;
use mongodb::bson::{Binary, Document, doc, spec::BinarySubtype};

use super::{MongoStore, classify, corrupt, get_string};
use crate::StoreError;
use crate::ports::{DetectorState, DetectorStateStore};

/// Services per `$in` list and per `insert_many`.
const CHUNK: usize = 1_000;

impl MongoStore {
    fn detector_states_coll(&self) -> Collection<Document> {
        self.db.collection("detector_states")
    }
}

#[async_trait]
impl DetectorStateStore for MongoStore {
    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError> {
        let coll = self.detector_states_coll();
        let mut out = Vec::new();
        for chunk in services.chunks(CHUNK) {
            let mut found = coll
                .find(doc! { "_id": { "$in": chunk } })
                .await
                .map_err(classify)?;
            while found.advance().await.map_err(classify)? {
                let d: Document = found.deserialize_current().map_err(classify)?;
                out.push(DetectorState {
                    service: get_string(&d, "_id")?,
                    state: d
                        .get_binary_generic("state")
                        .map_err(|e| corrupt("state", e))?
                        .clone(),
                });
            }
        }
        Ok(out)
    }

    async fn save_detector_states(&self, states: &[DetectorState]) -> Result<(), StoreError> {
        let coll = self.detector_states_coll();
        // Two round trips per chunk instead of one upsert per service: a
        // crash between them loses those states, which costs their services
        // a warm-up (the rollups are the record), never data.
        for chunk in states.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|s| s.service.as_str()).collect();
            coll.delete_many(doc! { "_id": { "$in": &ids } })
                .await
                .map_err(classify)?;
            let docs: Vec<Document> = chunk
                .iter()
                .map(|s| {
                    doc! {
                        "_id": &s.service,
                        "state": Binary { subtype: BinarySubtype::Generic, bytes: s.state.clone() },
                    }
                })
                .collect();
            coll.insert_many(docs).await.map_err(classify)?;
        }
        Ok(())
    }
}
