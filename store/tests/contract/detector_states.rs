//! The live detector state part of the storage contract.

use anomalog_store::{DetectorState, Stores};

fn state(service: &str, bytes: &[u8]) -> DetectorState {
    DetectorState {
        service: service.into(),
        state: bytes.to_vec(),
    }
}

fn sorted(mut states: Vec<DetectorState>) -> Vec<DetectorState> {
    states.sort_by(|a, b| a.service.cmp(&b.service));
    states
}

pub async fn detector_states_round_trip_and_replace(stores: &Stores) {
    let store = &stores.detector_states;
    let asked: Vec<String> = ["api", "db", "web"].map(String::from).to_vec();
    assert!(store.detector_states(&asked).await.unwrap().is_empty());
    store
        .save_detector_states(&[state("api", &[1, 0, 255]), state("web", &[7; 40])])
        .await
        .unwrap();
    store
        .save_detector_states(&[state("api", &[2, 2])])
        .await
        .unwrap();
    assert_eq!(
        sorted(store.detector_states(&asked).await.unwrap()),
        vec![state("api", &[2, 2]), state("web", &[7; 40])]
    );
    assert!(store.detector_states(&[]).await.unwrap().is_empty());
    store.save_detector_states(&[]).await.unwrap();
}

/// More services than one query or write batch holds in either adapter.
pub async fn detector_states_read_and_write_many_services(stores: &Stores) {
    let store = &stores.detector_states;
    let states: Vec<DetectorState> = (0..1_200u32)
        .map(|i| state(&format!("svc-{i:04}"), &i.to_le_bytes()))
        .collect();
    store.save_detector_states(&states).await.unwrap();
    let mut asked: Vec<String> = states.iter().map(|s| s.service.clone()).collect();
    asked.push("absent".into());
    assert_eq!(sorted(store.detector_states(&asked).await.unwrap()), states);
}
