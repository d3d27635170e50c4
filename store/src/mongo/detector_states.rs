//! The live detectors' state per service in MongoDB: the `live_states`
//! collection, `_id` the service, `summary` and `detectors` the state's two
//! parts (BSON binary). A summary read projects `detectors` away. The
//! `detector_states` collection of earlier versions (one `state` field, a
//! format no pass reads any more) is left alone; its services warm up again.

use async_trait::async_trait;
use mongodb::Collection;
use mongodb::bson::{Binary, Document, doc, spec::BinarySubtype};

use super::{MongoStore, classify, corrupt, get_string};
use crate::StoreError;
use crate::ports::{DetectorState, DetectorStateStore, DetectorSummary};

/// Services per `$in` list and per `insert_many`.
const CHUNK: usize = 1_000;

impl MongoStore {
    fn live_states_coll(&self) -> Collection<Document> {
        self.db.collection("live_states")
    }

    /// The documents of those of `services` that have a state, with only the
    /// fields of `projection`.
    async fn live_state_docs(
        &self,
        services: &[String],
        projection: Document,
    ) -> Result<Vec<Document>, StoreError> {
        let coll = self.live_states_coll();
        let mut out = Vec::new();
        for chunk in services.chunks(CHUNK) {
            let mut found = coll
                .find(doc! { "_id": { "$in": chunk } })
                .projection(projection.clone())
                .await
                .map_err(classify)?;
            while found.advance().await.map_err(classify)? {
                out.push(found.deserialize_current().map_err(classify)?);
            }
        }
        Ok(out)
    }
}

fn binary(d: &Document, field: &str) -> Result<Vec<u8>, StoreError> {
    Ok(d.get_binary_generic(field)
        .map_err(|e| corrupt(field, e))?
        .clone())
}

fn bson_binary(bytes: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    }
}

#[async_trait]
impl DetectorStateStore for MongoStore {
    async fn detector_summaries(
        &self,
        services: &[String],
    ) -> Result<Vec<DetectorSummary>, StoreError> {
        self.live_state_docs(services, doc! { "summary": 1 })
            .await?
            .iter()
            .map(|d| {
                Ok(DetectorSummary {
                    service: get_string(d, "_id")?,
                    summary: binary(d, "summary")?,
                })
            })
            .collect()
    }

    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError> {
        self.live_state_docs(services, doc! { "summary": 1, "detectors": 1 })
            .await?
            .iter()
            .map(|d| {
                Ok(DetectorState {
                    service: get_string(d, "_id")?,
                    summary: binary(d, "summary")?,
                    detectors: binary(d, "detectors")?,
                })
            })
            .collect()
    }

    async fn save_detector_states(&self, states: &[DetectorState]) -> Result<(), StoreError> {
        let coll = self.live_states_coll();
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
                        "summary": bson_binary(&s.summary),
                        "detectors": bson_binary(&s.detectors),
                    }
                })
                .collect();
            coll.insert_many(docs).await.map_err(classify)?;
        }
        Ok(())
    }
}
