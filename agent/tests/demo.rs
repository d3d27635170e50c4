//! The demo generator: determinism, rates and the scheduled incidents.

// Helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anomalog_agent::DemoGenerator;
use anomalog_agent::demo::{DEMO_SERVICES, TOTAL_BASE_RATE};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

const SEED: u64 = 7;

fn start() -> DateTime<Utc> {
    // Deliberately not aligned on a second.
    "2025-03-14T09:26:53.589Z".parse().unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    start() + TimeDelta::seconds(secs)
}

fn events(from_secs: i64, to_secs: i64) -> Vec<Value> {
    DemoGenerator::new(SEED, start()).events_between(at(from_secs), at(to_secs))
}

fn count(events: &[Value], service: &str, level: Option<&str>) -> usize {
    events
        .iter()
        .filter(|e| e["service"] == service)
        .filter(|e| level.is_none_or(|l| e["level"] == l))
        .count()
}

fn ts(event: &Value) -> DateTime<Utc> {
    event["ts"].as_str().unwrap().parse().unwrap()
}

#[test]
fn same_seed_gives_the_same_events() {
    let a = events(-120, 120);
    let b = events(-120, 120);
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn different_seeds_give_different_events() {
    let a = DemoGenerator::new(1, start()).events_between(at(0), at(30));
    let b = DemoGenerator::new(2, start()).events_between(at(0), at(30));
    assert_ne!(a, b);
}

#[test]
fn chunked_generation_equals_one_call() {
    let whole = events(-30, 30);
    let mut generator = DemoGenerator::new(SEED, start());
    let mut chunked = Vec::new();
    let mut cursor = at(-30);
    let step = TimeDelta::milliseconds(1_337);
    while cursor < at(30) {
        let next = (cursor + step).min(at(30));
        chunked.extend(generator.events_between(cursor, next));
        cursor = next;
    }
    assert_eq!(chunked, whole);
    assert_eq!(generator.events_generated(), whole.len() as u64);
}

#[test]
fn events_are_well_formed_sorted_and_inside_the_interval() {
    let all = events(-5, 5);
    let mut previous = at(-5);
    for event in &all {
        let t = ts(event);
        assert!(t >= at(-5) && t < at(5), "{event}");
        assert!(t >= previous, "not sorted: {event}");
        previous = t;
        for key in ["service", "level", "message", "host", "trace_id"] {
            assert!(
                event[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key}: {event}"
            );
        }
        let level = event["level"].as_str().unwrap();
        assert!(
            ["DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "{event}"
        );
    }
}

#[test]
fn empty_or_reversed_intervals_give_nothing() {
    let mut generator = DemoGenerator::new(SEED, start());
    assert!(generator.events_between(at(10), at(10)).is_empty());
    assert!(generator.events_between(at(10), at(0)).is_empty());
}

#[test]
fn rates_over_ten_minutes_match_the_documented_base_rates() {
    let window = events(-1200, -600);
    let secs = 600.0;
    let total = window.len() as f64 / secs;
    assert!(
        (total - TOTAL_BASE_RATE).abs() < TOTAL_BASE_RATE * 0.2,
        "total rate {total}/s"
    );
    for service in DEMO_SERVICES {
        let rate = count(&window, service.name, None) as f64 / secs;
        assert!(
            (rate - service.base_rate_per_sec).abs() < service.base_rate_per_sec * 0.3,
            "{}: {rate}/s, expected about {}",
            service.name,
            service.base_rate_per_sec
        );
    }
    let errors = window.iter().filter(|e| e["level"] == "ERROR").count() as f64;
    let info = window.iter().filter(|e| e["level"] == "INFO").count() as f64;
    let n = window.len() as f64;
    assert!(
        errors / n > 0.004 && errors / n < 0.02,
        "error share {}",
        errors / n
    );
    assert!(info / n > 0.75, "info share {}", info / n);
}

#[test]
fn payments_error_burst_starts_forty_seconds_after_start() {
    let burst = events(40, 60);
    let errors = count(&burst, "payments", Some("ERROR"));
    assert!(errors >= 60, "{errors} payments errors during the burst");
    assert!(
        burst
            .iter()
            .any(|e| e["message"] == "connection refused: payments-db:5432")
    );
    let before = count(&events(0, 40), "payments", Some("ERROR"));
    assert!(before < 10, "{before} payments errors before the burst");
}

#[test]
fn payments_errors_stay_rare_before_start() {
    let history = events(-600, 0);
    let per_minute = count(&history, "payments", Some("ERROR")) as f64 / 10.0;
    assert!(per_minute < 5.0, "{per_minute} payments errors per minute");
}

#[test]
fn payments_error_burst_repeats_every_ten_minutes() {
    let errors = count(&events(640, 660), "payments", Some("ERROR"));
    assert!(
        errors >= 60,
        "{errors} payments errors during the second burst"
    );
}

fn error_ratio(events: &[Value], service: &str) -> f64 {
    count(events, service, Some("ERROR")) as f64 / count(events, service, None) as f64
}

#[test]
fn checkout_error_ratio_spikes_to_a_quarter_for_two_minutes() {
    let spike = error_ratio(&events(90, 210), "checkout");
    assert!((0.18..0.32).contains(&spike), "ratio during spike {spike}");
    let normal = error_ratio(&events(-900, 0), "checkout");
    assert!(normal < 0.03, "ratio before start {normal}");
    let after = error_ratio(&events(210, 600), "checkout");
    assert!(after < 0.04, "ratio after spike {after}");
    let again = error_ratio(&events(990, 1110), "checkout");
    assert!(
        (0.18..0.32).contains(&again),
        "ratio during second spike {again}"
    );
}

#[test]
fn search_goes_silent_for_three_minutes_after_five_minutes() {
    assert_eq!(count(&events(300, 480), "search", None), 0);
    assert!(count(&events(280, 300), "search", None) > 50);
    assert!(count(&events(480, 500), "search", None) > 50);
    assert_eq!(count(&events(1500, 1680), "search", None), 0);
    // The other services keep talking during the silence.
    assert!(count(&events(300, 480), "auth", None) > 500);
}

#[test]
fn history_before_start_has_no_incidents() {
    // One period of every incident, shifted before the start.
    let history = events(-1200, 0);
    assert!(count(&history, "search", None) > 8_000);
    assert!(
        !history
            .iter()
            .any(|e| e["message"] == "connection refused: payments-db:5432")
    );
    assert!(error_ratio(&history, "checkout") < 0.03);
}
