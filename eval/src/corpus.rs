//! A labelled evaluation corpus, generated deterministically from a seed.
//!
//! The series imitate what operators watch and what public benchmarks of
//! streaming anomaly detection hold: machine metrics (CPU, temperature,
//! latency, disk), traffic counts with daily and weekly cycles, sparse error
//! counts, log volumes, and artificial shapes (jumps, flat stretches, ramps,
//! growing spike density). Anomalies are spikes, dips, level shifts up and
//! down, drops to zero, outages, variance changes, slow drifts and pattern
//! changes, from obvious to barely visible; a few series have none, to count
//! false positives. Normal behaviour includes what should *not* be flagged:
//! recurring benign spikes, heavy-tailed noise, daily peaks, slow drifts.
//!
//! Labels follow the NAB convention ([`LabelWindow::around_onsets`]), and
//! onsets always fall after the probationary period.

use chrono::{DateTime, Duration, TimeZone, Utc};
use fastrand::Rng;

use crate::nab::{LabelWindow, probation_rows};

/// One labelled anomaly of a generated series.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledAnomaly {
    /// First anomalous row.
    pub onset: usize,
    /// Rows the anomaly lasts.
    pub rows: usize,
    /// What happens, e.g. `level_shift_up`.
    pub kind: &'static str,
}

/// A generated series with its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSeries {
    /// File-name friendly, e.g. `cpu_level_shift_up`.
    pub name: String,
    pub bucket_secs: i64,
    pub start: DateTime<Utc>,
    pub values: Vec<f64>,
    /// Bucket number of each row since `start`, when rows are missing (a
    /// real export skips them); empty when every bucket has a row.
    pub slots: Vec<u64>,
    pub anomalies: Vec<LabelledAnomaly>,
}

impl LabelledSeries {
    /// Timestamp of row `i`.
    pub fn timestamp(&self, i: usize) -> DateTime<Utc> {
        let slot = self.slots.get(i).map_or(i as i64, |&s| s as i64);
        self.start + Duration::seconds(self.bucket_secs * slot)
    }

    /// Buckets from the previous row to row `i` (1 for the next bucket).
    pub fn elapsed(&self, i: usize) -> u64 {
        match (i.checked_sub(1), self.slots.is_empty()) {
            (Some(prev), false) => self.slots[i].saturating_sub(self.slots[prev]).max(1),
            _ => 1,
        }
    }

    /// The NAB-convention label windows.
    pub fn windows(&self) -> Vec<LabelWindow> {
        let onsets: Vec<usize> = self.anomalies.iter().map(|a| a.onset).collect();
        LabelWindow::around_onsets(&onsets, self.values.len())
    }
}

type Generator = fn(&mut Rng, &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>);

/// Length, bucket width and anomaly count of one series.
struct Shape {
    rows: usize,
    bucket_secs: i64,
    anomalies: usize,
}

impl Shape {
    /// Points per day.
    fn day(&self) -> f64 {
        86_400.0 / self.bucket_secs as f64
    }

    /// Phase in [0, 1) within the day of row `i`.
    fn day_phase(&self, i: usize) -> f64 {
        (i as f64 / self.day()).fract()
    }

    /// Day index (0 = Monday) of row `i`.
    fn weekday(&self, i: usize) -> usize {
        (i as f64 / self.day()) as usize % 7
    }
}

const FIVE_MIN: i64 = 300;

/// Every series of the corpus: name, bucket width, rows, anomalies, generator.
const SERIES: &[(&str, i64, usize, usize, Generator)] = &[
    ("cpu_level_shift_up", FIVE_MIN, 4032, 1, cpu_level_shift_up),
    (
        "cpu_level_shift_down",
        FIVE_MIN,
        4032,
        1,
        cpu_level_shift_down,
    ),
    ("cpu_cron_spikes", FIVE_MIN, 4032, 2, cpu_cron_spikes),
    (
        "requests_daily_outage",
        FIVE_MIN,
        4032,
        2,
        requests_daily_outage,
    ),
    ("taxi_weekly_pattern", 1800, 3360, 2, taxi_weekly_pattern),
    (
        "machine_temperature",
        FIVE_MIN,
        4032,
        2,
        machine_temperature,
    ),
    ("latency_shift", FIVE_MIN, 4032, 1, latency_shift),
    ("latency_variance", FIVE_MIN, 4032, 1, latency_variance),
    (
        "social_volume_bursts",
        FIVE_MIN,
        4032,
        2,
        social_volume_bursts,
    ),
    ("sparse_error_counts", 60, 4320, 2, sparse_error_counts),
    ("sine_flat_middle", FIVE_MIN, 4032, 1, sine_flat_middle),
    ("sine_jumps_up", FIVE_MIN, 4032, 2, sine_jumps_up),
    ("sine_jumps_down", FIVE_MIN, 4032, 2, sine_jumps_down),
    ("noise_no_anomaly", FIVE_MIN, 4032, 0, noise_no_anomaly),
    (
        "random_walk_no_anomaly",
        FIVE_MIN,
        4032,
        0,
        random_walk_no_anomaly,
    ),
    (
        "daily_cycle_no_anomaly",
        FIVE_MIN,
        4032,
        0,
        daily_cycle_no_anomaly,
    ),
    ("trend_with_step", FIVE_MIN, 4032, 1, trend_with_step),
    ("quantized_flat", FIVE_MIN, 4032, 1, quantized_flat),
    ("bursty_disk_writes", FIVE_MIN, 4032, 1, bursty_disk_writes),
    (
        "occupancy_stuck_at_zero",
        FIVE_MIN,
        4032,
        2,
        occupancy_stuck_at_zero,
    ),
    ("hourly_ad_clicks", 3600, 1600, 2, hourly_ad_clicks),
    ("memory_leak_ramp", FIVE_MIN, 4032, 1, memory_leak_ramp),
    ("spike_density", FIVE_MIN, 4032, 1, spike_density),
    ("log_errors_per_minute", 60, 4320, 2, log_errors_per_minute),
    ("log_volume_silence", 60, 4320, 2, log_volume_silence),
    // Shapes of real exports the kinds above lack.
    (
        "warmup_glitch_spike",
        FIVE_MIN,
        2016,
        1,
        warmup_glitch_spike,
    ),
    ("flat_then_noise", FIVE_MIN, 4032, 2, flat_then_noise),
    ("tiny_rate_shift", FIVE_MIN, 4032, 1, tiny_rate_shift),
    ("huge_bytes_spike", FIVE_MIN, 4032, 1, huge_bytes_spike),
    (
        "negative_temperature_dip",
        FIVE_MIN,
        4032,
        1,
        negative_temperature_dip,
    ),
    (
        "gappy_requests_drop",
        FIVE_MIN,
        4032,
        1,
        gappy_requests_drop,
    ),
];

/// The whole corpus for `seed`. The same seed gives the same corpus.
pub fn generate(seed: u64) -> Vec<LabelledSeries> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_default();
    SERIES
        .iter()
        .enumerate()
        .map(
            |(index, &(name, bucket_secs, rows, anomalies, generator))| {
                let mut rng = Rng::with_seed(mix(seed, index as u64));
                let shape = Shape {
                    rows,
                    bucket_secs,
                    anomalies,
                };
                let (values, anomalies) = generator(&mut rng, &shape);
                LabelledSeries {
                    name: name.to_owned(),
                    bucket_secs,
                    start,
                    values,
                    slots: Vec::new(),
                    anomalies,
                }
            },
        )
        .collect()
}

pub(crate) fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------
// Random helpers

pub(crate) fn gauss(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub(crate) fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.f64()
}

pub(crate) fn poisson(rng: &mut Rng, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda > 40.0 {
        return (lambda + lambda.sqrt() * gauss(rng)).round().max(0.0);
    }
    let limit = (-lambda).exp();
    let mut product = rng.f64();
    let mut count = 0.0;
    while product > limit {
        count += 1.0;
        product *= rng.f64();
    }
    count
}

/// AR(1) noise with unit stationary variance.
pub(crate) struct Ar1 {
    phi: f64,
    state: f64,
}

impl Ar1 {
    pub(crate) fn new(phi: f64) -> Ar1 {
        Ar1 { phi, state: 0.0 }
    }

    pub(crate) fn next(&mut self, rng: &mut Rng) -> f64 {
        self.state = self.phi * self.state + (1.0 - self.phi * self.phi).sqrt() * gauss(rng);
        self.state
    }
}

/// A smooth daily profile in [0, 1]: quiet nights, a busy afternoon.
pub(crate) fn daily_profile(phase: f64) -> f64 {
    let angle = std::f64::consts::TAU * phase;
    let base = 0.5 - 0.5 * (angle).cos();
    let afternoon = 0.15 * (2.0 * angle - 1.0).sin();
    (base + afternoon).clamp(0.0, 1.0)
}

/// `count` onsets after the probationary period, spaced apart, each leaving
/// room for an anomaly of up to `max_rows` rows before the end.
fn onsets(rng: &mut Rng, shape: &Shape, max_rows: usize) -> Vec<usize> {
    let rows = shape.rows;
    let count = shape.anomalies.max(1);
    let width = rows / 10 / count;
    let first = probation_rows(rows) + width / 2 + 20;
    let last = rows
        .saturating_sub(width / 2 + max_rows + 10)
        .max(first + 1);
    let slot = (last - first) / count;
    (0..count)
        .map(|k| {
            let lo = first + k * slot;
            let room = slot.saturating_sub(width).max(1);
            lo + rng.usize(0..room)
        })
        .collect()
}

pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn label(onset: usize, rows: usize, kind: &'static str) -> LabelledAnomaly {
    LabelledAnomaly { onset, rows, kind }
}

// ---------------------------------------------------------------------------
// Series

fn cpu_level_shift_up(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 300)[0];
    let shift = uniform(rng, 10.0, 18.0);
    let mut noise = Ar1::new(0.6);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 22.0 + 2.0 * noise.next(rng);
            if rng.f64() < 0.01 {
                v += uniform(rng, 4.0, 10.0);
            }
            if i >= onset {
                v += shift;
            }
            round(v.clamp(0.0, 100.0), 2)
        })
        .collect();
    (values, vec![label(onset, s.rows - onset, "level_shift_up")])
}

fn cpu_level_shift_down(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 600)[0];
    let rows = 200 + rng.usize(0..400);
    let mut noise = Ar1::new(0.8);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 58.0 + 6.0 * daily_profile(s.day_phase(i)) + 3.0 * noise.next(rng);
            if (onset..onset + rows).contains(&i) {
                v -= 25.0;
            }
            round(v.clamp(0.0, 100.0), 2)
        })
        .collect();
    (values, vec![label(onset, rows, "level_shift_down")])
}

fn cpu_cron_spikes(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 30);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 15.0 + 1.5 * gauss(rng);
            if i % 12 == 5 {
                v += 25.0 + 3.0 * gauss(rng); // hourly batch job: normal
            }
            if i == at[0] {
                v += 70.0;
            }
            if (at[1]..at[1] + 24).contains(&i) {
                v += 12.0;
            }
            round(v.clamp(0.0, 100.0), 2)
        })
        .collect();
    (
        values,
        vec![
            label(at[0], 1, "single_spike"),
            label(at[1], 24, "level_shift_up"),
        ],
    )
}

fn requests_daily_outage(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 24);
    let outage = 6 + rng.usize(0..12);
    let values = (0..s.rows)
        .map(|i| {
            let weekend = if s.weekday(i) >= 5 { 0.7 } else { 1.0 };
            let mut rate = (60.0 + 900.0 * daily_profile(s.day_phase(i))) * weekend;
            if (at[0]..at[0] + outage).contains(&i) {
                rate *= 0.02;
            }
            if (at[1]..at[1] + 6).contains(&i) {
                rate *= 2.5;
            }
            poisson(rng, rate)
        })
        .collect();
    (
        values,
        vec![label(at[0], outage, "outage"), label(at[1], 6, "spike")],
    )
}

fn taxi_weekly_pattern(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let day = s.day() as usize;
    let mut at = onsets(rng, s, 2 * day);
    // The holiday starts at midnight: the anomaly is a whole day.
    at[0] = (at[0] / day + 1) * day;
    let holiday = at[0] / day;
    let values = (0..s.rows)
        .map(|i| {
            let weekday = s.weekday(i);
            let pattern_day = if i / day == holiday { 6 } else { weekday };
            let phase = s.day_phase(i);
            let shape = if pattern_day >= 5 {
                0.3 + 0.7 * daily_profile((phase + 0.1).fract())
            } else {
                let rush = (-((phase - 0.35) * 14.0).powi(2)).exp()
                    + 0.8 * (-((phase - 0.75) * 10.0).powi(2)).exp();
                0.15 + 0.6 * daily_profile(phase) + 0.6 * rush
            };
            let mut rate = 8000.0 * shape;
            if (at[1]..at[1] + 12).contains(&i) {
                rate *= 0.35;
            }
            let jitter = 1.0 + 0.03 * gauss(rng);
            poisson(rng, rate * jitter)
        })
        .collect();
    (
        values,
        vec![label(at[0], day, "holiday"), label(at[1], 12, "storm_drop")],
    )
}

fn machine_temperature(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 160);
    let mut drift = 0.0;
    let values = (0..s.rows)
        .map(|i| {
            drift = 0.995 * drift + 0.15 * gauss(rng);
            let mut v = 85.0 + drift + 0.5 * gauss(rng);
            if (at[0]..at[0] + 120).contains(&i) {
                let k = (i - at[0]) as f64;
                v -= if k < 100.0 { k * 0.25 } else { 25.0 };
            }
            if (at[1]..at[1] + 30).contains(&i) {
                v = 22.0 + 2.0 * gauss(rng);
            }
            round(v, 3)
        })
        .collect();
    (
        values,
        vec![
            label(at[0], 120, "slow_decline"),
            label(at[1], 30, "failure_drop"),
        ],
    )
}

fn latency_shift(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 72)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut median = 120.0;
            if (onset..onset + 72).contains(&i) {
                median *= 2.0;
            }
            let mut v = median * (0.25 * gauss(rng)).exp();
            if rng.f64() < 0.005 {
                v *= 5.0;
            }
            round(v, 1)
        })
        .collect();
    (values, vec![label(onset, 72, "latency_doubles")])
}

fn latency_variance(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 150)[0];
    let values = (0..s.rows)
        .map(|i| {
            let sigma = if (onset..onset + 150).contains(&i) {
                0.6
            } else {
                0.15
            };
            round(80.0 * (sigma * gauss(rng)).exp(), 1)
        })
        .collect();
    (values, vec![label(onset, 150, "variance_increase")])
}

fn social_volume_bursts(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 12);
    let lengths = [3 + rng.usize(0..8), 3 + rng.usize(0..8)];
    let values = (0..s.rows)
        .map(|i| {
            let mut rate = 30.0 + 60.0 * daily_profile(s.day_phase(i));
            if rng.f64() < 0.01 {
                rate *= uniform(rng, 1.5, 3.0); // everyday buzz
            }
            for (a, len) in at.iter().zip(lengths) {
                if (*a..*a + len).contains(&i) {
                    let k = (i - a) as f64;
                    rate *= 10.0 * (-k / 3.0).exp() + 1.0;
                }
            }
            poisson(rng, rate)
        })
        .collect();
    (
        values,
        vec![
            label(at[0], lengths[0], "burst"),
            label(at[1], lengths[1], "burst"),
        ],
    )
}

fn sparse_error_counts(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 20);
    let lengths = [5 + rng.usize(0..10), 5 + rng.usize(0..10)];
    let values = (0..s.rows)
        .map(|i| {
            let mut rate = 0.05;
            if (at[0]..at[0] + lengths[0]).contains(&i) {
                rate = 15.0;
            }
            if (at[1]..at[1] + lengths[1]).contains(&i) {
                rate = 4.0;
            }
            poisson(rng, rate)
        })
        .collect();
    (
        values,
        vec![
            label(at[0], lengths[0], "error_storm"),
            label(at[1], lengths[1], "error_rise"),
        ],
    )
}

fn sine(s: &Shape, i: usize) -> f64 {
    (std::f64::consts::TAU * s.day_phase(i)).sin()
}

fn sine_flat_middle(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let day = s.day() as usize;
    let onset = onsets(rng, s, day)[0];
    let values = (0..s.rows)
        .map(|i| {
            let shape = if (onset..onset + day).contains(&i) {
                0.0
            } else {
                sine(s, i)
            };
            round(50.0 + 20.0 * shape + 2.0 * gauss(rng), 3)
        })
        .collect();
    (values, vec![label(onset, day, "flatline")])
}

fn sine_jumps(rng: &mut Rng, s: &Shape, jump: f64) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let day = s.day() as usize;
    let at = onsets(rng, s, day / 2);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 50.0 + 20.0 * sine(s, i) + 2.0 * gauss(rng);
            if at.iter().any(|a| (*a..*a + day / 2).contains(&i)) {
                v += jump;
            }
            round(v, 3)
        })
        .collect();
    let kind = if jump > 0.0 { "jump_up" } else { "jump_down" };
    let labels = at.iter().map(|&a| label(a, day / 2, kind)).collect();
    (values, labels)
}

fn sine_jumps_up(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    sine_jumps(rng, s, 25.0)
}

fn sine_jumps_down(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    sine_jumps(rng, s, -25.0)
}

fn noise_no_anomaly(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let values = (0..s.rows)
        .map(|_| round(40.0 + 5.0 * gauss(rng), 3))
        .collect();
    (values, Vec::new())
}

fn random_walk_no_anomaly(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let mut level = 100.0;
    let values = (0..s.rows)
        .map(|_| {
            level += 0.3 * gauss(rng);
            round(level + 0.5 * gauss(rng), 3)
        })
        .collect();
    (values, Vec::new())
}

fn daily_cycle_no_anomaly(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let values = (0..s.rows)
        .map(|i| poisson(rng, 40.0 + 400.0 * daily_profile(s.day_phase(i))))
        .collect();
    (values, Vec::new())
}

fn trend_with_step(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 300)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 10.0 + 0.01 * i as f64 + 1.0 * gauss(rng);
            if i >= onset {
                v += 8.0;
            }
            round(v, 3)
        })
        .collect();
    (values, vec![label(onset, s.rows - onset, "step")])
}

fn quantized_flat(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 100)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v: f64 = 0.5;
            let roll = rng.f64();
            if roll < 0.03 {
                v += 0.01;
            } else if roll < 0.05 {
                v -= 0.01;
            }
            if (onset..onset + 100).contains(&i) {
                v = 0.75;
            }
            round(v, 2)
        })
        .collect();
    (values, vec![label(onset, 100, "level_change")])
}

fn bursty_disk_writes(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 48)[0];
    let values = (0..s.rows)
        .map(|i| {
            let busy = (onset..onset + 48).contains(&i);
            if busy {
                round(3.0e6 * (0.3 * gauss(rng)).exp(), 0)
            } else if rng.f64() < 0.2 {
                round(1.0e6 * (0.8 * gauss(rng)).exp(), 0)
            } else {
                0.0
            }
        })
        .collect();
    (values, vec![label(onset, 48, "sustained_writes")])
}

fn occupancy_stuck_at_zero(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 60);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 0.05 + 0.5 * daily_profile(s.day_phase(i)) + 0.03 * gauss(rng);
            if (at[0]..at[0] + 60).contains(&i) {
                v = 0.0;
            }
            if i == at[1] || i == at[1] + 1 {
                v += 0.5;
            }
            round(v.clamp(0.0, 1.0), 4)
        })
        .collect();
    (
        values,
        vec![label(at[0], 60, "stuck_at_zero"), label(at[1], 2, "spike")],
    )
}

fn hourly_ad_clicks(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 3);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = (0.4 + 0.6 * daily_profile(s.day_phase(i))) * (0.2 * gauss(rng)).exp();
            if (at[0]..at[0] + 3).contains(&i) {
                v *= 0.25;
            }
            if (at[1]..at[1] + 2).contains(&i) {
                v *= 3.0;
            }
            round(v, 4)
        })
        .collect();
    (
        values,
        vec![label(at[0], 3, "dip"), label(at[1], 2, "spike")],
    )
}

fn memory_leak_ramp(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 150)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 40.0 + 1.0 * gauss(rng);
            if (onset..onset + 150).contains(&i) {
                v += 0.2 * (i - onset) as f64;
            }
            round(v, 2)
        })
        .collect();
    (values, vec![label(onset, 150, "ramp")])
}

fn spike_density(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 100)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 20.0 + 1.0 * gauss(rng);
            let dense = (onset..onset + 100).contains(&i);
            let every = if dense { 4 } else { 97 };
            if i % every == 0 {
                v += 15.0;
            }
            round(v, 2)
        })
        .collect();
    (values, vec![label(onset, 100, "spike_density")])
}

fn log_errors_per_minute(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 20);
    let values = (0..s.rows)
        .map(|i| {
            let mut rate = 2.0 * (0.6 + 0.8 * daily_profile(s.day_phase(i)));
            if (at[0]..at[0] + 10).contains(&i) {
                rate = 25.0;
            }
            if (at[1]..at[1] + 20).contains(&i) {
                rate = 10.0;
            }
            poisson(rng, rate)
        })
        .collect();
    (
        values,
        vec![
            label(at[0], 10, "error_storm"),
            label(at[1], 20, "error_rise"),
        ],
    )
}

fn log_volume_silence(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 30);
    let values = (0..s.rows)
        .map(|i| {
            let mut rate = 300.0 * (0.5 + daily_profile(s.day_phase(i)));
            if (at[0]..at[0] + 8).contains(&i) {
                rate = 0.0;
            }
            if (at[1]..at[1] + 30).contains(&i) {
                rate *= 0.4;
            }
            poisson(rng, rate)
        })
        .collect();
    (
        values,
        vec![label(at[0], 8, "silence"), label(at[1], 30, "volume_drop")],
    )
}

/// A counter glitch early in the warm-up (a value 100 times the usual), then
/// a spike far smaller than the glitch.
fn warmup_glitch_spike(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 3)[0];
    let glitch = 20 + rng.usize(0..60);
    let mut noise = Ar1::new(0.5);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 50.0 + 2.0 * noise.next(rng);
            if i == glitch {
                v *= 100.0;
            }
            if (onset..onset + 3).contains(&i) {
                v += 16.0;
            }
            round(v, 2)
        })
        .collect();
    (values, vec![label(onset, 3, "spike")])
}

/// A sensor that reports one constant value for days, then comes alive with
/// ordinary noise (the first anomaly), then spikes.
fn flat_then_noise(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let at = onsets(rng, s, 3);
    let values = (0..s.rows)
        .map(|i| {
            if i < at[0] {
                return 12.0;
            }
            let mut v = 12.0 + 0.8 * gauss(rng);
            if (at[1]..at[1] + 3).contains(&i) {
                v += 6.0;
            }
            round(v, 2)
        })
        .collect();
    (
        values,
        vec![label(at[0], 1, "comes_alive"), label(at[1], 3, "spike")],
    )
}

/// A rate of the order of 1e-7 (failures per request), up by half.
fn tiny_rate_shift(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 200)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 2e-7 * (1.0 + 0.05 * gauss(rng));
            if (onset..onset + 200).contains(&i) {
                v *= 1.5;
            }
            v
        })
        .collect();
    (values, vec![label(onset, 200, "level_shift_up")])
}

/// Bytes written, of the order of 4e12, with a short surge.
fn huge_bytes_spike(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 2)[0];
    let values = (0..s.rows)
        .map(|i| {
            let mut v = 4e12 + 1e11 * gauss(rng);
            if (onset..onset + 2).contains(&i) {
                v *= 1.6;
            }
            v.round()
        })
        .collect();
    (values, vec![label(onset, 2, "spike")])
}

/// Outdoor temperature in degrees Celsius below zero, with a daily cycle and
/// a sudden dip (a door left open).
fn negative_temperature_dip(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 6)[0];
    let mut noise = Ar1::new(0.8);
    let values = (0..s.rows)
        .map(|i| {
            let mut v = -12.0 + 6.0 * sine(s, i) + 0.5 * noise.next(rng);
            if (onset..onset + 6).contains(&i) {
                v -= 8.0;
            }
            round(v, 2)
        })
        .collect();
    (values, vec![label(onset, 6, "dip")])
}

/// Daily-cycled request counts with missing values (NaN: empty cells of an
/// export, rows an agent failed to send), some alone, some in runs, and a
/// drop.
fn gappy_requests_drop(rng: &mut Rng, s: &Shape) -> (Vec<f64>, Vec<LabelledAnomaly>) {
    let onset = onsets(rng, s, 12)[0];
    let mut gap_left = 0;
    let values = (0..s.rows)
        .map(|i| {
            let rate = 400.0 * (0.3 + daily_profile(s.day_phase(i)));
            let rate = if (onset..onset + 12).contains(&i) {
                rate * 0.3
            } else {
                rate
            };
            let v = poisson(rng, rate);
            if gap_left == 0 && rng.f64() < 0.004 {
                gap_left = 1 + rng.usize(0..30);
            }
            let missing = gap_left > 0 || rng.f64() < 0.02;
            gap_left = gap_left.saturating_sub(1);
            // The onset itself is always reported.
            if missing && i != onset { f64::NAN } else { v }
        })
        .collect();
    (values, vec![label(onset, 12, "drop")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_labels_fall_after_probation() {
        let a = generate(7);
        let b = generate(7);
        // Bit for bit (missing values are NaN, which equals nothing).
        let bits = |c: &[LabelledSeries]| -> Vec<Vec<u64>> {
            c.iter()
                .map(|s| s.values.iter().map(|v| v.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&a), bits(&b));
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.name, &x.anomalies), (&y.name, &y.anomalies));
        }
        assert_ne!(a[0].values, generate(8)[0].values);
        for s in &a {
            let probation = probation_rows(s.values.len());
            for w in s.windows() {
                assert!(w.start >= probation, "{}: {w:?}", s.name);
                assert!(w.end < s.values.len(), "{}", s.name);
            }
            // Missing values (NaN) only where a series is about them.
            let missing = s.values.iter().filter(|v| !v.is_finite()).count();
            assert_eq!(missing > 0, s.name.starts_with("gappy"), "{}", s.name);
        }
    }
}
