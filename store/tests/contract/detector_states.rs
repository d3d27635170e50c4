//! The live detector state part of the storage contract.

use anomalog_store::{DetectorState, DetectorSummary, Stores};

fn state(service: &str, summary: &[u8], detectors: &[u8]) -> DetectorState {
    DetectorState {
        service: service.into(),
        summary: summary.to_vec(),
        detectors: detectors.to_vec(),
    }
}

fn sorted(mut states: Vec<DetectorState>) -> Vec<DetectorState> {
    states.sort_by(|a, b| a.service.cmp(&b.service));
    states
}

fn summaries_of(states: &[DetectorState]) -> Vec<DetectorSummary> {
    states
        .iter()
        .map(|s| DetectorSummary {
            service: s.service.clone(),
            summary: s.summary.clone(),
        })
        .collect()
}

fn sorted_summaries(mut summaries: Vec<DetectorSummary>) -> Vec<DetectorSummary> {
    summaries.sort_by(|a, b| a.service.cmp(&b.service));
    summaries
}

pub async fn detector_states_round_trip_and_replace(stores: &Stores) {
    let store = &stores.detector_states;
    let asked: Vec<String> = ["api", "db", "web"].map(String::from).to_vec();
    assert!(store.detector_states(&asked).await.unwrap().is_empty());
    assert!(store.detector_summaries(&asked).await.unwrap().is_empty());
    store
        .save_detector_states(&[
            state("api", &[9], &[1, 0, 255]),
            state("web", &[8, 8], &[7; 40]),
        ])
        .await
        .unwrap();
    store
        .save_detector_states(&[state("api", &[3], &[2, 2])])
        .await
        .unwrap();
    let expected = vec![state("api", &[3], &[2, 2]), state("web", &[8, 8], &[7; 40])];
    assert_eq!(
        sorted(store.detector_states(&asked).await.unwrap()),
        expected
    );
    assert_eq!(
        sorted_summaries(store.detector_summaries(&asked).await.unwrap()),
        summaries_of(&expected)
    );
    assert!(store.detector_states(&[]).await.unwrap().is_empty());
    assert!(store.detector_summaries(&[]).await.unwrap().is_empty());
    store.save_detector_states(&[]).await.unwrap();
}

/// More services than one query or write batch holds in either adapter.
pub async fn detector_states_read_and_write_many_services(stores: &Stores) {
    let store = &stores.detector_states;
    let states: Vec<DetectorState> = (0..1_200u32)
        .map(|i| state(&format!("svc-{i:04}"), &i.to_be_bytes(), &i.to_le_bytes()))
        .collect();
    store.save_detector_states(&states).await.unwrap();
    let mut asked: Vec<String> = states.iter().map(|s| s.service.clone()).collect();
    asked.push("absent".into());
    assert_eq!(sorted(store.detector_states(&asked).await.unwrap()), states);
    assert_eq!(
        sorted_summaries(store.detector_summaries(&asked).await.unwrap()),
        summaries_of(&states)
    );
}
