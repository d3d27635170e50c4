//! The realistic tuning corpus: series shaped like real exports, in two
//! splits decided before any tuning (see eval/README.md).
//!
//! The families imitate the categories public streaming benchmarks hold,
//! each from its own description, not from anyone's data: cloud machine
//! metrics (CPU with periodic jobs, memory leaks, disk fill, heavy-tailed
//! network bytes), ad-exchange rates (hourly cost per click, click-through
//! rates), road traffic (speed, occupancy, travel time, with missing rows),
//! social-media counts (overdispersed Poisson with viral bursts that are
//! normal and news spikes that are not), incidents with known causes
//! (gradual degradation before a failure) and artificial shapes (a flat
//! sensor coming alive, square waves, series with no anomaly at all).
//!
//! What makes them hard is what makes real series hard: heavy tails and
//! benign bursts, daily and weekly cycles, slow drifts, quantised low
//! counts, rows missing from the export, recurring jobs, and labels placed
//! where an operator would place them (at a failure, with its slow build-up
//! inside the window before it, so that early detection earns most).
//!
//! **Splits.** A family is either a tuning family or a held-out family. The
//! tuning split is the tuning families at [`TUNE_SEEDS`]; the held-out split
//! is *every* family at [`HOLDOUT_SEEDS`], so it holds fresh draws of the
//! tuned families and families never looked at while tuning.

use chrono::{TimeZone, Utc};
use fastrand::Rng;

use crate::corpus::{
    Ar1, LabelledAnomaly, LabelledSeries, daily_profile, gauss, mix, poisson, round, uniform,
};
use crate::nab::probation_rows;

mod extra;
pub use extra::is_tune_only;

/// Which part of the realistic corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Tuning families at the tuning seeds: the only series to tune on.
    Tune,
    /// Every family (tuning and held-out ones) at the held-out seeds.
    Holdout,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::Holdout => "holdout",
        }
    }
}

/// Seeds of the tuning split.
pub const TUNE_SEEDS: [u64; 2] = [1, 2];
/// Seeds of the held-out split (never used while tuning).
pub const HOLDOUT_SEEDS: [u64; 2] = [101, 102];

const FIVE_MIN: i64 = 300;
const HALF_HOUR: i64 = 1800;
const HOUR: i64 = 3600;

type Generator = fn(&mut Ctx);

/// One family of series.
struct Family {
    name: &'static str,
    category: &'static str,
    /// Generated only in the held-out split.
    holdout_only: bool,
    bucket_secs: i64,
    /// Rows, drawn in this range.
    rows: (usize, usize),
    generate: Generator,
}

const fn family(
    name: &'static str,
    category: &'static str,
    holdout_only: bool,
    bucket_secs: i64,
    rows: (usize, usize),
    generate: Generator,
) -> Family {
    Family {
        name,
        category,
        holdout_only,
        bucket_secs,
        rows,
        generate,
    }
}

const FAMILIES: &[Family] = &[
    // Cloud machine metrics.
    family(
        "cpu_periodic_jobs",
        "cloud",
        false,
        FIVE_MIN,
        (3500, 4500),
        cpu_periodic_jobs,
    ),
    family(
        "memory_leak",
        "cloud",
        false,
        FIVE_MIN,
        (3500, 4500),
        memory_leak,
    ),
    family(
        "db_cpu_integer",
        "cloud",
        false,
        FIVE_MIN,
        (3500, 4500),
        db_cpu_integer,
    ),
    family(
        "disk_fill",
        "cloud",
        true,
        FIVE_MIN,
        (3500, 4500),
        disk_fill,
    ),
    family(
        "network_bytes",
        "cloud",
        true,
        FIVE_MIN,
        (3500, 4500),
        network_bytes,
    ),
    family(
        "cpu_autoscaling_misconfig",
        "cloud",
        true,
        FIVE_MIN,
        (3500, 4500),
        cpu_autoscaling_misconfig,
    ),
    // Ad exchange.
    family(
        "ad_cost_per_click",
        "ad_exchange",
        false,
        HOUR,
        (1400, 1700),
        ad_cost_per_click,
    ),
    family(
        "ad_click_through",
        "ad_exchange",
        true,
        HOUR,
        (1400, 1700),
        ad_click_through,
    ),
    // Road traffic.
    family(
        "traffic_speed",
        "traffic",
        false,
        FIVE_MIN,
        (2000, 2800),
        traffic_speed,
    ),
    family(
        "traffic_occupancy",
        "traffic",
        true,
        FIVE_MIN,
        (2000, 2800),
        traffic_occupancy,
    ),
    family(
        "traffic_travel_time",
        "traffic",
        true,
        FIVE_MIN,
        (2000, 2800),
        traffic_travel_time,
    ),
    // Social media.
    family(
        "social_mentions",
        "social",
        false,
        FIVE_MIN,
        (3800, 4400),
        social_mentions,
    ),
    family(
        "social_hashtag",
        "social",
        true,
        FIVE_MIN,
        (3800, 4400),
        social_hashtag,
    ),
    // Incidents with known causes.
    family(
        "machine_degradation",
        "known_cause",
        false,
        FIVE_MIN,
        (3500, 4500),
        machine_degradation,
    ),
    family(
        "request_latency_failure",
        "known_cause",
        false,
        FIVE_MIN,
        (3500, 4500),
        request_latency_failure,
    ),
    family(
        "ambient_temperature_failure",
        "known_cause",
        true,
        HOUR,
        (2500, 3500),
        ambient_temperature_failure,
    ),
    family(
        "taxi_demand_events",
        "known_cause",
        true,
        HALF_HOUR,
        (3000, 4000),
        taxi_demand_events,
    ),
    family(
        "cpu_erratic_before_crash",
        "known_cause",
        true,
        FIVE_MIN,
        (3500, 4500),
        cpu_erratic_before_crash,
    ),
    // Artificial shapes.
    family(
        "flat_then_noisy",
        "artificial",
        false,
        FIVE_MIN,
        (3500, 4500),
        flat_then_noisy,
    ),
    family(
        "heavy_tail_no_anomaly",
        "artificial",
        false,
        FIVE_MIN,
        (3500, 4500),
        heavy_tail_no_anomaly,
    ),
    family(
        "square_wave_no_anomaly",
        "artificial",
        true,
        FIVE_MIN,
        (3500, 4500),
        square_wave_no_anomaly,
    ),
    family(
        "daily_jump",
        "artificial",
        true,
        FIVE_MIN,
        (3500, 4500),
        daily_jump,
    ),
];

/// Names and categories of the families, with whether each is held out.
pub fn families() -> Vec<(&'static str, &'static str, bool)> {
    FAMILIES
        .iter()
        .chain(extra::TUNE_ONLY)
        .map(|f| (f.name, f.category, f.holdout_only))
        .collect()
}

/// The category of a generated series (its name is `FAMILY-SEED`).
pub fn category_of(series_name: &str) -> &'static str {
    let family = series_name.rsplit_once('-').map_or(series_name, |(f, _)| f);
    FAMILIES
        .iter()
        .chain(extra::TUNE_ONLY)
        .find(|f| f.name == family)
        .map_or("other", |f| f.category)
}

/// Every series of `split`, deterministic.
pub fn generate(split: Split) -> Vec<LabelledSeries> {
    let (seeds, with_holdout_families) = match split {
        Split::Tune => (TUNE_SEEDS, false),
        Split::Holdout => (HOLDOUT_SEEDS, true),
    };
    let start = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut out = Vec::new();
    // The tuning-only families (session 12) follow on from the indices of
    // the others, and only in the tuning split.
    let tune_only: &[Family] = if with_holdout_families {
        &[]
    } else {
        extra::TUNE_ONLY
    };
    for (index, f) in FAMILIES.iter().chain(tune_only).enumerate() {
        if f.holdout_only && !with_holdout_families {
            continue;
        }
        for &seed in &seeds {
            let mut rng = Rng::with_seed(mix(seed.wrapping_mul(1_000_003), index as u64));
            let rows = rng.usize(f.rows.0..=f.rows.1);
            let mut ctx = Ctx {
                rng,
                rows,
                bucket_secs: f.bucket_secs,
                values: vec![0.0; rows],
                missing: vec![false; rows],
                anomalies: Vec::new(),
            };
            (f.generate)(&mut ctx);
            out.push(ctx.finish(format!("{}-{seed}", f.name), start));
        }
    }
    out
}

/// What a generator fills in.
struct Ctx {
    rng: Rng,
    rows: usize,
    bucket_secs: i64,
    values: Vec<f64>,
    /// Rows left out of the export.
    missing: Vec<bool>,
    anomalies: Vec<LabelledAnomaly>,
}

impl Ctx {
    fn u(&mut self, lo: f64, hi: f64) -> f64 {
        uniform(&mut self.rng, lo, hi)
    }

    fn n(&mut self) -> f64 {
        gauss(&mut self.rng)
    }

    fn int(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.usize(lo..=hi)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// Points per day.
    fn day(&self) -> usize {
        (86_400 / self.bucket_secs) as usize
    }

    fn phase(&self, i: usize) -> f64 {
        (i % self.day()) as f64 / self.day() as f64
    }

    /// 0 = Monday.
    fn weekday(&self, i: usize) -> usize {
        (i / self.day()) % 7
    }

    /// NAB window width for `count` anomalies.
    fn width(&self, count: usize) -> usize {
        self.rows / 10 / count.max(1)
    }

    /// `count` onsets after the probationary period, their windows apart,
    /// leaving `max_len` rows after each before the next window.
    fn onsets(&mut self, count: usize, max_len: usize) -> Vec<usize> {
        let width = self.width(count);
        let first = probation_rows(self.rows) + width / 2 + 10;
        let last = self.rows.saturating_sub(width / 2 + 10).max(first + count);
        let slot = (last - first) / count.max(1);
        (0..count)
            .map(|k| {
                let lo = first + k * slot;
                let room = slot.saturating_sub(width.max(max_len)).max(1);
                lo + self.rng.usize(0..room)
            })
            .collect()
    }

    fn label(&mut self, onset: usize, rows: usize, kind: &'static str) {
        self.anomalies.push(LabelledAnomaly { onset, rows, kind });
    }

    /// Leaves rows out: each starts a gap with probability `p`, of 1 to
    /// `longest` rows (labelled onsets are always kept).
    fn drop_rows(&mut self, p: f64, longest: usize) {
        let mut i = 0;
        while i < self.rows {
            if self.chance(p) {
                let run = self.int(1, longest.max(1));
                for j in i..(i + run).min(self.rows) {
                    self.missing[j] = true;
                }
                i += run;
            }
            i += 1;
        }
        for a in &self.anomalies {
            self.missing[a.onset] = false;
        }
    }

    fn finish(self, name: String, start: chrono::DateTime<Utc>) -> LabelledSeries {
        let mut values = Vec::with_capacity(self.rows);
        let mut slots = Vec::with_capacity(self.rows);
        let mut row_of = vec![0usize; self.rows];
        for (i, row) in row_of.iter_mut().enumerate() {
            *row = values.len();
            if !self.missing[i] {
                values.push(self.values[i]);
                slots.push(i as u64);
            }
        }
        let gaps = values.len() != self.rows;
        let mut anomalies: Vec<LabelledAnomaly> = self
            .anomalies
            .iter()
            .map(|a| LabelledAnomaly {
                onset: row_of[a.onset],
                rows: a.rows,
                kind: a.kind,
            })
            .collect();
        anomalies.sort_by_key(|a| a.onset);
        LabelledSeries {
            name,
            bucket_secs: self.bucket_secs,
            start,
            values,
            slots: if gaps { slots } else { Vec::new() },
            anomalies,
        }
    }
}

/// A Gamma(shape, 1) draw (Marsaglia and Tsang).
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = gauss(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// An overdispersed count: Poisson with a Gamma-distributed rate of mean
/// `mean` and shape `r` (negative binomial; smaller `r`, burstier).
fn overdispersed(rng: &mut Rng, mean: f64, r: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    let rate = mean * gamma(rng, r) / r;
    poisson(rng, rate)
}

/// Student-t noise with `df` degrees of freedom, scaled to unit spread.
fn student(rng: &mut Rng, df: f64) -> f64 {
    let chi = 2.0 * gamma(rng, df / 2.0);
    gauss(rng) / (chi / df).sqrt().max(1e-9)
}

/// Rush hours in [0, 1]: morning and evening peaks.
fn rush(phase: f64) -> f64 {
    (-((phase - 0.33) * 18.0).powi(2)).exp() + 0.9 * (-((phase - 0.72) * 14.0).powi(2)).exp()
}

// ---------------------------------------------------------------------------
// Cloud machine metrics

/// CPU percent with a periodic batch job and rare benign spikes; anomalies
/// are a sustained rise, a runaway process pinning the CPU, or jobs stopping
/// (the CPU falls idle).
fn cpu_periodic_jobs(c: &mut Ctx) {
    let base = c.u(5.0, 35.0);
    let sd = c.u(0.4, 2.0);
    let period = [12, 24, 36, 72, 288][c.int(0, 4)];
    let job_len = c.int(1, 3);
    let job = c.u(15.0, 45.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 200);
    let mut plan = Vec::new();
    for &a in &at {
        let kind = c.int(0, 2);
        let len = c.int(20, 200);
        let lift = c.u(15.0, 35.0);
        let name = ["sustained_rise", "runaway_process", "jobs_stop"][kind];
        c.label(a, len, name);
        plan.push((a, len, kind, lift));
    }
    let mut ar = Ar1::new(0.7);
    for i in 0..c.rows {
        let mut v = base + sd * ar.next(&mut c.rng);
        if i % period < job_len {
            v += job;
        }
        if c.chance(0.004) {
            v += c.u(3.0, 12.0);
        }
        for &(a, len, kind, lift) in &plan {
            if (a..a + len).contains(&i) {
                v = match kind {
                    0 => v + lift,
                    1 => 96.0 + 2.0 * c.n(),
                    _ => 0.4 + 0.2 * c.n().abs(),
                };
            }
        }
        c.values[i] = round(v.clamp(0.0, 100.0), 3);
    }
}

/// Memory use with a daily rhythm; a leak climbs until the process restarts.
fn memory_leak(c: &mut Ctx) {
    let base = c.u(30.0, 60.0);
    let amp = c.u(0.0, 5.0);
    let sd = c.u(0.2, 1.0);
    let a = c.onsets(1, 600)[0];
    let len = c.int(150, 600);
    let slope = c.u(0.02, 0.1);
    c.label(a, len, "leak");
    let mut ar = Ar1::new(0.9);
    for i in 0..c.rows {
        let mut v = base + amp * daily_profile(c.phase(i)) + sd * ar.next(&mut c.rng);
        if (a..a + len).contains(&i) {
            v += slope * (i - a) as f64;
        }
        c.values[i] = round(v.min(99.0), 2);
    }
}

/// A database's CPU as whole percents: low, quantised, a nightly backup
/// (normal); anomalies are a lasting level shift and a short spike.
fn db_cpu_integer(c: &mut Ctx) {
    let base = c.u(2.0, 8.0);
    let amp = c.u(0.0, 3.0);
    let sd = c.u(0.5, 1.5);
    let backup_at = c.int(0, c.day() - 4);
    let backup = c.u(10.0, 30.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 50);
    let shift = c.u(4.0, 12.0);
    c.label(at[0], c.rows - at[0], "level_shift");
    if count > 1 {
        c.label(at[1], 2, "spike");
    }
    let day = c.day();
    for i in 0..c.rows {
        let mut v = base + amp * daily_profile(c.phase(i)) + sd * c.n();
        if (backup_at..backup_at + 3).contains(&(i % day)) {
            v += backup;
        }
        if i >= at[0] {
            v += shift;
        }
        if count > 1 && (at[1]..at[1] + 2).contains(&i) {
            v += 40.0;
        }
        c.values[i] = v.round().clamp(0.0, 100.0);
    }
}

/// Disk use climbing slowly, cut back by the nightly log rotation (a
/// sawtooth, normal); runaway logging fills it many times faster until
/// someone cleans up.
fn disk_fill(c: &mut Ctx) {
    let start = c.u(20.0, 50.0);
    let growth = c.u(0.002, 0.01);
    let rotate_at = c.int(0, c.day() - 1);
    let a = c.onsets(1, 150)[0];
    let len = c.int(50, 150);
    let fast = c.u(10.0, 30.0);
    c.label(a, len, "runaway_logging");
    let day = c.day();
    let mut used = start;
    let mut since_rotation = 0.0;
    for i in 0..c.rows {
        let step = if (a..a + len).contains(&i) {
            growth * fast
        } else {
            growth
        };
        used += step;
        since_rotation += step;
        if i % day == rotate_at || i == a + len {
            used -= since_rotation * 0.95;
            since_rotation = 0.0;
        }
        c.values[i] = round((used + 0.03 * c.n()).clamp(0.0, 100.0), 3);
    }
}

/// Network bytes: log-normal with a daily rhythm and Pareto-like bursts
/// (normal); anomalies are a sustained surge and a partition (near zero).
fn network_bytes(c: &mut Ctx) {
    let mu = c.u(13.0, 17.0);
    let amp = c.u(0.2, 1.2);
    let sigma = c.u(0.3, 0.8);
    let count = c.int(1, 2);
    let at = c.onsets(count, 60);
    let mut plan = Vec::new();
    for &a in &at {
        let surge = c.chance(0.5);
        let len = c.int(10, 60);
        let factor = if surge { c.u(5.0, 15.0) } else { 0.02 };
        c.label(a, len, if surge { "surge" } else { "partition" });
        plan.push((a, len, factor));
    }
    for i in 0..c.rows {
        let mut v = (mu + amp * daily_profile(c.phase(i)) + sigma * c.n()).exp();
        if c.chance(0.01) {
            v *= c.u(2.0, 8.0);
        }
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                v *= factor;
            }
        }
        c.values[i] = v.round();
    }
}

/// CPU of an autoscaling group: daily load; a misconfiguration removes
/// instances, so the CPU of the rest rises and varies less.
fn cpu_autoscaling_misconfig(c: &mut Ctx) {
    let low = c.u(15.0, 30.0);
    let amp = c.u(10.0, 30.0);
    let sd = c.u(1.0, 3.0);
    let a = c.onsets(1, 800)[0];
    let len = c.int(300, 800);
    let lift = c.u(15.0, 30.0);
    c.label(a, len, "misconfiguration");
    let mut ar = Ar1::new(0.6);
    for i in 0..c.rows {
        let noise = ar.next(&mut c.rng);
        let load = low + amp * daily_profile(c.phase(i));
        let v = if (a..a + len).contains(&i) {
            (load + lift).min(92.0) + 0.4 * sd * noise
        } else {
            load + sd * noise
        };
        c.values[i] = round(v.clamp(0.0, 100.0), 3);
    }
}

// ---------------------------------------------------------------------------
// Ad exchange

/// Hourly cost per click: daily rhythm, multiplicative noise, hours missing
/// from the export; anomalies are a price spike and a collapse.
fn ad_cost_per_click(c: &mut Ctx) {
    let base = c.u(0.3, 1.5);
    let sigma = c.u(0.12, 0.3);
    let count = c.int(1, 3);
    let at = c.onsets(count, 8);
    let mut plan = Vec::new();
    for &a in &at {
        let spike = c.chance(0.5);
        let len = c.int(1, 4);
        let factor = if spike { c.u(2.5, 5.0) } else { c.u(0.1, 0.35) };
        c.label(
            a,
            len,
            if spike {
                "price_spike"
            } else {
                "price_collapse"
            },
        );
        plan.push((a, len, factor));
    }
    for i in 0..c.rows {
        let mut v = base * (0.7 + 0.6 * daily_profile(c.phase(i))) * (sigma * c.n()).exp();
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                v *= factor;
            }
        }
        c.values[i] = round(v, 3);
    }
    c.drop_rows(0.01, 3);
}

/// Hourly click-through rate from Poisson clicks over daily impressions;
/// anomalies are click fraud (rate up) and broken tracking (zero).
fn ad_click_through(c: &mut Ctx) {
    let impressions = c.u(2000.0, 20000.0);
    let ctr = c.u(0.002, 0.02);
    let count = c.int(1, 2);
    let at = c.onsets(count, 10);
    let mut plan = Vec::new();
    for &a in &at {
        let fraud = c.chance(0.5);
        let len = if fraud { c.int(2, 5) } else { c.int(3, 8) };
        let factor = if fraud { c.u(3.0, 6.0) } else { 0.0 };
        c.label(
            a,
            len,
            if fraud {
                "click_fraud"
            } else {
                "tracking_broken"
            },
        );
        plan.push((a, len, factor));
    }
    for i in 0..c.rows {
        let expected = impressions * (0.2 + daily_profile(c.phase(i)));
        let shown = poisson(&mut c.rng, expected).max(1.0);
        let mut rate = ctr;
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                rate *= factor;
            }
        }
        let clicks = poisson(&mut c.rng, shown * rate);
        c.values[i] = round(clicks / shown, 5);
    }
}

// ---------------------------------------------------------------------------
// Road traffic

/// Speed in whole mph, rush-hour slowdowns on weekdays, rows missing in
/// runs; anomalies are an off-peak incident and a sensor stuck on a value.
fn traffic_speed(c: &mut Ctx) {
    let free = c.u(55.0, 70.0);
    let depth = c.u(10.0, 30.0);
    let sd = c.u(1.5, 4.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 200);
    let mut plan = Vec::new();
    for &a in &at {
        let incident = c.chance(0.6);
        let len = if incident {
            c.int(6, 24)
        } else {
            c.int(60, 200)
        };
        let drop = c.u(25.0, 40.0);
        c.label(a, len, if incident { "incident" } else { "sensor_stuck" });
        plan.push((a, len, incident, drop));
    }
    let mut stuck = None;
    for i in 0..c.rows {
        let weekday = c.weekday(i) < 5;
        let slow = if weekday { depth } else { 0.3 * depth };
        let mut v = free - slow * rush(c.phase(i)) + sd * c.n();
        for &(a, len, incident, drop) in &plan {
            if (a..a + len).contains(&i) {
                if incident {
                    v -= drop;
                } else {
                    v = *stuck.get_or_insert(v.round());
                }
            }
        }
        c.values[i] = v.round().max(0.0);
    }
    c.drop_rows(0.01, 12);
}

/// Lane occupancy in percent: near zero at night, peaks at rush hours,
/// noisy; anomalies are a detector stuck at zero and an incident queue.
fn traffic_occupancy(c: &mut Ctx) {
    let peak = c.u(8.0, 25.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 100);
    let mut plan = Vec::new();
    for &a in &at {
        let zero = c.chance(0.5);
        let len = if zero { c.int(30, 100) } else { c.int(6, 18) };
        let lift = c.u(15.0, 30.0);
        c.label(
            a,
            len,
            if zero {
                "stuck_at_zero"
            } else {
                "incident_queue"
            },
        );
        plan.push((a, len, zero, lift));
    }
    for i in 0..c.rows {
        let weekday = c.weekday(i) < 5;
        let level = 1.0
            + peak
                * (0.3 * daily_profile(c.phase(i)) + if weekday { rush(c.phase(i)) } else { 0.2 });
        let mut v = level + level.sqrt() * 0.8 * c.n();
        for &(a, len, zero, lift) in &plan {
            if (a..a + len).contains(&i) {
                v = if zero { 0.0 } else { v + lift };
            }
        }
        c.values[i] = round(v.max(0.0), 2);
    }
    c.drop_rows(0.015, 8);
}

/// Travel time in seconds: rush-hour slowdowns, a heavy right tail;
/// anomalies are congestion after an incident.
fn traffic_travel_time(c: &mut Ctx) {
    let base = c.u(150.0, 400.0);
    let slow = c.u(0.3, 1.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 30);
    let mut plan = Vec::new();
    for &a in &at {
        let len = c.int(8, 30);
        let factor = c.u(2.0, 4.0);
        c.label(a, len, "congestion");
        plan.push((a, len, factor));
    }
    for i in 0..c.rows {
        let weekday = c.weekday(i) < 5;
        let r = if weekday {
            rush(c.phase(i))
        } else {
            0.2 * rush(c.phase(i))
        };
        let mut v = base * (1.0 + slow * r) * (0.1 * c.n()).exp();
        if c.chance(0.01) {
            v *= c.u(1.5, 3.0);
        }
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                v *= factor;
            }
        }
        c.values[i] = v.round();
    }
    c.drop_rows(0.01, 6);
}

// ---------------------------------------------------------------------------
// Social media

/// Shared by the social families: overdispersed counts with a daily rhythm,
/// viral bursts (normal: they happen every day or two) and labelled news
/// events, far larger and longer.
fn social(c: &mut Ctx, mean: f64, r: f64, news_factor: (f64, f64), news_len: (usize, usize)) {
    let count = c.int(1, 3);
    let at = c.onsets(count, news_len.1);
    let mut plan = Vec::new();
    for &a in &at {
        let factor = c.u(news_factor.0, news_factor.1);
        let len = c.int(news_len.0, news_len.1);
        c.label(a, len, "news");
        plan.push((a, len, factor));
    }
    let burst_chance = 1.0 / (1.5 * c.day() as f64);
    let mut burst: Option<(usize, f64, f64)> = None;
    for i in 0..c.rows {
        let mut rate = mean * (0.3 + daily_profile(c.phase(i)));
        if c.chance(burst_chance) {
            let height = c.u(1.5, 5.0);
            let decay = c.u(2.0, 8.0);
            burst = Some((i, height, decay));
        }
        if let Some((b, height, decay)) = burst {
            rate *= 1.0 + (height - 1.0) * (-((i - b) as f64) / decay).exp();
        }
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                let k = (i - a) as f64 / len as f64;
                rate *= 1.0 + (factor - 1.0) * (1.0 - k).powi(2);
            }
        }
        c.values[i] = overdispersed(&mut c.rng, rate, r);
    }
}

/// Mentions of a company per five minutes.
fn social_mentions(c: &mut Ctx) {
    let mean = c.u(5.0, 60.0);
    let r = c.u(2.0, 8.0);
    social(c, mean, r, (8.0, 25.0), (10, 40));
}

/// A hashtag's use: low counts, many zeros.
fn social_hashtag(c: &mut Ctx) {
    let mean = c.u(0.5, 4.0);
    let r = c.u(0.8, 3.0);
    social(c, mean, r, (10.0, 40.0), (20, 60));
}

// ---------------------------------------------------------------------------
// Incidents with known causes

/// A machine's temperature drifting as it runs; a bearing wears (a slow
/// climb) and the machine fails (cools to ambient), is repaired and runs
/// again. Labelled at the failure: the wear is inside the window before it.
fn machine_degradation(c: &mut Ctx) {
    let base = c.u(70.0, 95.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 200);
    let width = c.width(count);
    let mut plan = Vec::new();
    for &fail in &at {
        let wear = c.int(width / 4, width / 2).max(1);
        let climb = c.u(4.0, 12.0);
        let off = c.int(30, 150);
        c.label(fail, off, "failure");
        plan.push((fail, wear, climb, off));
    }
    let mut drift = 0.0;
    for i in 0..c.rows {
        drift = 0.995 * drift + 0.12 * c.n();
        let mut v = base + drift + 0.5 * c.n();
        for &(fail, wear, climb, off) in &plan {
            if i + wear >= fail && i < fail {
                v += climb * (i + wear - fail) as f64 / wear as f64;
            }
            if (fail..fail + off).contains(&i) {
                let k = (i - fail) as f64;
                v = 25.0 + (base + climb - 25.0) * (-k / 6.0).exp() + 0.5 * c.n();
            }
        }
        c.values[i] = round(v, 3);
    }
}

/// Request latency in ms (log-normal, rare slow requests); before a failure
/// it creeps up, then requests time out. A bad deploy shifts it for a while.
fn request_latency_failure(c: &mut Ctx) {
    let median = c.u(30.0, 200.0);
    let sigma = c.u(0.1, 0.3);
    let width = c.width(2);
    let at = c.onsets(2, 300);
    let creep = c.int(width / 4, width / 2).max(1);
    let outage = c.int(5, 20);
    let timeout = c.u(5.0, 20.0);
    let deploy_len = c.int(100, 300);
    let deploy = c.u(1.4, 2.0);
    let failure_first = c.chance(0.5);
    let (fail, bad) = if failure_first {
        (at[0], at[1])
    } else {
        (at[1], at[0])
    };
    c.label(fail, outage, "failure");
    c.label(bad, deploy_len, "bad_deploy");
    for i in 0..c.rows {
        let mut v = median * (sigma * c.n()).exp();
        if c.chance(0.005) {
            v *= c.u(2.0, 6.0);
        }
        if i + creep >= fail && i < fail {
            v *= 1.0 + (i + creep - fail) as f64 / creep as f64;
        }
        if (fail..fail + outage).contains(&i) {
            v = median * timeout * (0.1 * c.n()).exp();
        }
        if (bad..bad + deploy_len).contains(&i) {
            v *= deploy;
        }
        c.values[i] = round(v, 1);
    }
}

/// Hourly room temperature (°F): daily and weekly rhythm; the air
/// conditioning fails (a climb over hours), and later the heating is shut off
/// for a holiday (a fall).
fn ambient_temperature_failure(c: &mut Ctx) {
    let base = c.u(68.0, 74.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 72);
    let mut plan = Vec::new();
    for (k, &a) in at.iter().enumerate() {
        let up = k == 0;
        let len = c.int(24, 72);
        let size = c.u(5.0, 10.0);
        c.label(a, len, if up { "cooling_failure" } else { "heating_off" });
        plan.push((a, len, if up { size } else { -size }));
    }
    let mut ar = Ar1::new(0.8);
    for i in 0..c.rows {
        let weekend = if c.weekday(i) >= 5 { -1.5 } else { 0.0 };
        let mut v = base + 1.5 * daily_profile(c.phase(i)) + weekend + 0.6 * ar.next(&mut c.rng);
        for &(a, len, size) in &plan {
            if (a..a + len).contains(&i) {
                let k = ((i - a) as f64 / 8.0).min(1.0);
                v += size * k;
            }
        }
        c.values[i] = round(v, 3);
    }
}

/// Taxi pick-ups per half hour: weekly and daily pattern; a holiday looks
/// like a Sunday, a blizzard empties the streets, a marathon fills them.
fn taxi_demand_events(c: &mut Ctx) {
    let scale = c.u(3000.0, 15000.0);
    let day = c.day();
    let at = c.onsets(3, 2 * day);
    let holiday = (at[0] / day + 1) * day;
    let blizzard = at[1];
    let blizzard_len = c.int(day / 2, day);
    let marathon = at[2];
    let marathon_len = c.int(4, 8);
    c.label(holiday, day, "holiday");
    c.label(blizzard, blizzard_len, "blizzard");
    c.label(marathon, marathon_len, "marathon");
    for i in 0..c.rows {
        let weekday = if i / day == holiday / day {
            6
        } else {
            c.weekday(i)
        };
        let phase = c.phase(i);
        let shape = if weekday >= 5 {
            0.3 + 0.7 * daily_profile((phase + 0.1).fract())
        } else {
            0.15 + 0.6 * daily_profile(phase) + 0.6 * rush(phase)
        };
        let mut rate = scale * shape * (1.0 + 0.04 * c.n());
        if (blizzard..blizzard + blizzard_len).contains(&i) {
            rate *= 0.2;
        }
        if (marathon..marathon + marathon_len).contains(&i) {
            rate *= 1.8;
        }
        c.values[i] = poisson(&mut c.rng, rate);
    }
}

/// CPU that turns erratic before it pins at 100% and the host crashes.
/// Labelled at the pinning; the erratic stretch is in the window before.
fn cpu_erratic_before_crash(c: &mut Ctx) {
    let base = c.u(25.0, 50.0);
    let sd = c.u(1.0, 3.0);
    let width = c.width(1);
    let fail = c.onsets(1, 80)[0];
    let erratic = c.int(width / 4, width / 2).max(1);
    let pinned = c.int(10, 40);
    let down = c.int(5, 20);
    c.label(fail, pinned + down, "crash");
    let mut ar = Ar1::new(0.5);
    for i in 0..c.rows {
        let noise = ar.next(&mut c.rng);
        let mut v = base + sd * noise;
        if i + erratic >= fail && i < fail {
            v = base + 4.0 * sd * noise;
        }
        if (fail..fail + pinned).contains(&i) {
            v = 99.0 + 0.5 * c.n();
        } else if (fail + pinned..fail + pinned + down).contains(&i) {
            v = 0.0;
        }
        c.values[i] = round(v.clamp(0.0, 100.0), 3);
    }
}

// ---------------------------------------------------------------------------
// Artificial shapes

/// A sensor reporting one value for a long while, then coming alive with
/// noise (labelled), later a jump.
fn flat_then_noisy(c: &mut Ctx) {
    let level = c.u(0.0, 100.0).round();
    let sd = c.u(0.5, 5.0);
    let at = c.onsets(2, 50);
    let jump_len = c.int(5, 50);
    let jump = sd * c.u(5.0, 10.0) * if c.chance(0.5) { 1.0 } else { -1.0 };
    c.label(at[0], 1, "comes_alive");
    c.label(at[1], jump_len, "jump");
    for i in 0..c.rows {
        let mut v = if i < at[0] { level } else { level + sd * c.n() };
        if (at[1]..at[1] + jump_len).contains(&i) {
            v += jump;
        }
        c.values[i] = round(v, 2);
    }
}

/// Heavy-tailed noise (Student t, 3 degrees of freedom) on a slow random
/// walk: nothing to find.
fn heavy_tail_no_anomaly(c: &mut Ctx) {
    let base = c.u(10.0, 100.0);
    let sd = c.u(0.5, 5.0);
    let mut walk = 0.0;
    for i in 0..c.rows {
        walk += 0.02 * sd * c.n();
        let t = student(&mut c.rng, 3.0);
        c.values[i] = round(base + walk + sd * t, 3);
    }
}

/// A perfect daily square wave with small noise: nothing to find.
fn square_wave_no_anomaly(c: &mut Ctx) {
    let low = c.u(0.0, 50.0);
    let high = low + c.u(20.0, 80.0);
    let on = c.u(0.3, 0.7);
    for i in 0..c.rows {
        let v = if c.phase(i) < on { high } else { low };
        c.values[i] = round(v + 0.5 * c.n(), 3);
    }
}

/// A daily sine with noise whose level jumps for half a day.
fn daily_jump(c: &mut Ctx) {
    let amp = c.u(10.0, 40.0);
    let sd = c.u(1.0, 4.0);
    let count = c.int(1, 2);
    let half_day = c.day() / 2;
    let at = c.onsets(count, half_day);
    let mut plan = Vec::new();
    for &a in &at {
        let jump = amp * c.u(0.6, 1.2) * if c.chance(0.5) { 1.0 } else { -1.0 };
        c.label(
            a,
            half_day,
            if jump > 0.0 { "jump_up" } else { "jump_down" },
        );
        plan.push((a, jump));
    }
    for i in 0..c.rows {
        let mut v = 80.0 + amp * (std::f64::consts::TAU * c.phase(i)).sin() + sd * c.n();
        for &(a, jump) in &plan {
            if (a..a + half_day).contains(&i) {
                v += jump;
            }
        }
        c.values[i] = round(v, 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_deterministic_disjoint_and_labelled_after_probation() {
        let tune = generate(Split::Tune);
        let again = generate(Split::Tune);
        assert_eq!(tune, again);
        let holdout = generate(Split::Holdout);
        for s in &tune {
            assert!(holdout.iter().all(|h| h.name != s.name), "{}", s.name);
            let family = s.name.rsplit_once('-').map(|(f, _)| f);
            let held = FAMILIES
                .iter()
                .any(|f| Some(f.name) == family && f.holdout_only);
            assert!(!held, "{} is a held-out family", s.name);
        }
        assert!(holdout.len() > tune.len());
        for s in tune.iter().chain(&holdout) {
            assert!(s.values.iter().all(|v| v.is_finite()), "{}", s.name);
            let probation = probation_rows(s.values.len());
            for w in s.windows() {
                assert!(w.start >= probation, "{}: {w:?}", s.name);
                assert!(w.end < s.values.len(), "{}", s.name);
            }
            if !s.slots.is_empty() {
                assert_eq!(s.slots.len(), s.values.len());
                assert!(s.slots.windows(2).all(|p| p[0] < p[1]), "{}", s.name);
            }
        }
    }
}
