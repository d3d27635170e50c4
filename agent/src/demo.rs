//! Deterministic demo traffic: six services, realistic messages, scheduled incidents.
//!
//! The generator is a pure function of `(seed, start, second)`: every wall-clock
//! second of every service is drawn from its own seeded random stream, so
//! `events_between(a, b)` followed by `events_between(b, c)` yields exactly the
//! events of `events_between(a, c)`, whatever the chunking. That makes backfill
//! and live ticks join seamlessly and makes tests reproducible.
//!
//! Normal traffic (about [`TOTAL_BASE_RATE`] events per second in total) follows a
//! gentle hourly sine wave (±[`RATE_WAVE_AMPLITUDE`]), a per-minute random factor
//! (±[`RATE_NOISE`]) and Poisson arrivals. The level mix is about 84% INFO, 8%
//! DEBUG, 7% WARN and 1% ERROR.
//!
//! Incidents are scheduled relative to `start` (the moment the demo starts) and
//! repeat with a period; times before `start` (history backfill) never have one:
//!
//! | incident                 | service    | first at   | lasts   | repeats every |
//! |--------------------------|------------|------------|---------|---------------|
//! | [`Incident::PaymentsErrorBurst`] | `payments` | start+40 s | 20 s | 10 min |
//! | [`Incident::CheckoutErrorSpike`] | `checkout` | start+90 s | 2 min | 15 min |
//! | [`Incident::SearchSilence`]      | `search`   | start+5 min | 3 min | 20 min |

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use fastrand::Rng;
use serde_json::{Map, Value, json};

use anomalog_core::Level;

/// Offset from `start` of the first payments error burst, in seconds.
pub const PAYMENTS_BURST_OFFSET_SECS: i64 = 40;
/// Duration of each payments error burst, in seconds.
pub const PAYMENTS_BURST_DURATION_SECS: i64 = 20;
/// Period at which the payments error burst repeats, in seconds.
pub const PAYMENTS_BURST_PERIOD_SECS: i64 = 600;
/// Extra payments ERROR events per second during a burst (on top of normal traffic).
pub const PAYMENTS_BURST_ERRORS_PER_SEC: f64 = 5.0;

/// Offset from `start` of the first checkout error-ratio spike, in seconds.
pub const CHECKOUT_SPIKE_OFFSET_SECS: i64 = 90;
/// Duration of each checkout error-ratio spike, in seconds.
pub const CHECKOUT_SPIKE_DURATION_SECS: i64 = 120;
/// Period at which the checkout spike repeats, in seconds.
pub const CHECKOUT_SPIKE_PERIOD_SECS: i64 = 900;
/// Share of checkout events at ERROR level during a spike (normally [`NORMAL_ERROR_RATIO`]).
pub const CHECKOUT_SPIKE_ERROR_RATIO: f64 = 0.25;

/// Offset from `start` of the first search silence, in seconds.
pub const SEARCH_SILENCE_OFFSET_SECS: i64 = 300;
/// Duration of each search silence (no events at all), in seconds.
pub const SEARCH_SILENCE_DURATION_SECS: i64 = 180;
/// Period at which the search silence repeats, in seconds.
pub const SEARCH_SILENCE_PERIOD_SECS: i64 = 1200;

/// Share of events at ERROR level in normal traffic.
pub const NORMAL_ERROR_RATIO: f64 = 0.01;
/// Relative amplitude of the hourly sine wave applied to every base rate.
pub const RATE_WAVE_AMPLITUDE: f64 = 0.15;
/// Period of the rate wave, in seconds.
pub const RATE_WAVE_PERIOD_SECS: f64 = 3600.0;
/// Maximum relative deviation of the per-minute random rate factor.
pub const RATE_NOISE: f64 = 0.10;

/// One simulated service: its name, mean event rate and hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoService {
    /// Service name, as shipped in the `service` field.
    pub name: &'static str,
    /// Mean events per second before the rate wave and noise are applied.
    pub base_rate_per_sec: f64,
    /// Hosts (pod names) the events are spread across.
    pub hosts: &'static [&'static str],
}

/// The simulated services, in a fixed order (the order seeds their random streams).
pub const DEMO_SERVICES: [DemoService; 6] = [
    DemoService {
        name: "api-gateway",
        base_rate_per_sec: 12.0,
        hosts: &[
            "api-gateway-6c8d9f-0",
            "api-gateway-6c8d9f-1",
            "api-gateway-6c8d9f-2",
            "api-gateway-6c8d9f-3",
        ],
    },
    DemoService {
        name: "checkout",
        base_rate_per_sec: 6.0,
        hosts: &["checkout-7f9c-0", "checkout-7f9c-1", "checkout-7f9c-2"],
    },
    DemoService {
        name: "payments",
        base_rate_per_sec: 4.0,
        hosts: &["payments-5b2e-0", "payments-5b2e-1"],
    },
    DemoService {
        name: "auth",
        base_rate_per_sec: 7.0,
        hosts: &["auth-9d41-0", "auth-9d41-1"],
    },
    DemoService {
        name: "search",
        base_rate_per_sec: 8.0,
        hosts: &["search-3a7c-0", "search-3a7c-1", "search-3a7c-2"],
    },
    DemoService {
        name: "inventory",
        base_rate_per_sec: 3.0,
        hosts: &["inventory-4e06-0", "inventory-4e06-1"],
    },
];

/// Sum of the base rates of [`DEMO_SERVICES`], in events per second.
pub const TOTAL_BASE_RATE: f64 = 40.0;

/// A scheduled demo incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Incident {
    /// About [`PAYMENTS_BURST_ERRORS_PER_SEC`] extra database errors per second in `payments`.
    PaymentsErrorBurst,
    /// The `checkout` error ratio rises to [`CHECKOUT_SPIKE_ERROR_RATIO`].
    CheckoutErrorSpike,
    /// `search` emits nothing at all.
    SearchSilence,
}

impl Incident {
    /// Every scheduled incident.
    pub const ALL: [Incident; 3] = [
        Incident::PaymentsErrorBurst,
        Incident::CheckoutErrorSpike,
        Incident::SearchSilence,
    ];

    /// The service the incident affects.
    pub fn service(self) -> &'static str {
        match self {
            Incident::PaymentsErrorBurst => "payments",
            Incident::CheckoutErrorSpike => "checkout",
            Incident::SearchSilence => "search",
        }
    }

    /// `(offset from start, duration, period)` in seconds.
    pub fn schedule_secs(self) -> (i64, i64, i64) {
        match self {
            Incident::PaymentsErrorBurst => (
                PAYMENTS_BURST_OFFSET_SECS,
                PAYMENTS_BURST_DURATION_SECS,
                PAYMENTS_BURST_PERIOD_SECS,
            ),
            Incident::CheckoutErrorSpike => (
                CHECKOUT_SPIKE_OFFSET_SECS,
                CHECKOUT_SPIKE_DURATION_SECS,
                CHECKOUT_SPIKE_PERIOD_SECS,
            ),
            Incident::SearchSilence => (
                SEARCH_SILENCE_OFFSET_SECS,
                SEARCH_SILENCE_DURATION_SECS,
                SEARCH_SILENCE_PERIOD_SECS,
            ),
        }
    }

    /// Whether the incident is under way `since_start` after the demo start.
    ///
    /// Always false before the start (negative offsets): history is incident-free.
    pub fn is_active(self, since_start: TimeDelta) -> bool {
        self.is_active_ms(since_start.num_milliseconds())
    }

    fn is_active_ms(self, since_start_ms: i64) -> bool {
        if since_start_ms < 0 {
            return false;
        }
        let (offset, duration, period) = self.schedule_secs();
        let in_period = since_start_ms.rem_euclid(period * 1000);
        in_period >= offset * 1000 && in_period < (offset + duration) * 1000
    }
}

/// Deterministic generator of multi-service demo traffic.
#[derive(Debug, Clone)]
pub struct DemoGenerator {
    seed: u64,
    start_ms: i64,
    generated: u64,
}

impl DemoGenerator {
    /// A generator whose incidents are scheduled relative to `start`.
    pub fn new(seed: u64, start: DateTime<Utc>) -> Self {
        DemoGenerator {
            seed,
            start_ms: start.timestamp_millis(),
            generated: 0,
        }
    }

    /// Total number of events this generator has returned so far.
    pub fn events_generated(&self) -> u64 {
        self.generated
    }

    /// Every event with `from <= ts < to`, ordered by timestamp (millisecond precision).
    ///
    /// Each event is a JSON object in the ingest format: `ts` (RFC 3339), `service`,
    /// `level`, `message`, `host`, `trace_id`, plus a few attributes such as
    /// `http.status`, `duration_ms` or `user_id`. Returns nothing when `to <= from`.
    pub fn events_between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
        let from_ms = from.timestamp_millis();
        let to_ms = to.timestamp_millis();
        if to_ms <= from_ms {
            return Vec::new();
        }
        let mut drafts: Vec<(i64, Value)> = Vec::new();
        let first_sec = from_ms.div_euclid(1000);
        let last_sec = (to_ms - 1).div_euclid(1000);
        for sec in first_sec..=last_sec {
            self.second(sec, &mut drafts);
        }
        drafts.retain(|(ts, _)| *ts >= from_ms && *ts < to_ms);
        // Stable sort keeps the per-service generation order for equal timestamps.
        drafts.sort_by_key(|(ts, _)| *ts);
        self.generated += drafts.len() as u64;
        drafts.into_iter().map(|(_, event)| event).collect()
    }

    /// All events of one wall-clock second, unfiltered and unsorted.
    fn second(&self, sec: i64, out: &mut Vec<(i64, Value)>) {
        for (index, service) in DEMO_SERVICES.iter().enumerate() {
            let mut rng = Rng::with_seed(mix(self.seed, sec, index as u64));
            let rate = self.rate(index, service, sec);
            let count = poisson(&mut rng, rate);
            for _ in 0..count {
                let ts_ms = sec * 1000 + i64::from(rng.u32(0..1000));
                let since_start = ts_ms - self.start_ms;
                if service.name == "search" && Incident::SearchSilence.is_active_ms(since_start) {
                    continue;
                }
                let spike = service.name == "checkout"
                    && Incident::CheckoutErrorSpike.is_active_ms(since_start);
                let level = pick_level(&mut rng, spike);
                let draft = compose(&mut rng, service.name, level, spike);
                out.push((ts_ms, render(&mut rng, service, ts_ms, level, draft)));
            }
            if service.name == "payments" {
                self.payments_burst(sec, index, service, out);
            }
        }
    }

    /// The extra database errors of the payments burst, drawn from their own stream
    /// so normal payments traffic is the same with or without the incident.
    fn payments_burst(
        &self,
        sec: i64,
        index: usize,
        service: &DemoService,
        out: &mut Vec<(i64, Value)>,
    ) {
        let window_start = sec * 1000 - self.start_ms;
        let window_end = window_start + 999;
        if !Incident::PaymentsErrorBurst.is_active_ms(window_start)
            && !Incident::PaymentsErrorBurst.is_active_ms(window_end)
        {
            return;
        }
        let mut rng = Rng::with_seed(mix(self.seed, sec, 1_000 + index as u64));
        let count = poisson(&mut rng, PAYMENTS_BURST_ERRORS_PER_SEC);
        for _ in 0..count {
            let ts_ms = sec * 1000 + i64::from(rng.u32(0..1000));
            if !Incident::PaymentsErrorBurst.is_active_ms(ts_ms - self.start_ms) {
                continue;
            }
            let draft = payments_db_error(&mut rng);
            out.push((ts_ms, render(&mut rng, service, ts_ms, Level::Error, draft)));
        }
    }

    /// Events per second for a service at a given second: base rate, hourly wave and
    /// a per-minute random factor (constant within the minute, so it reads as drift).
    fn rate(&self, index: usize, service: &DemoService, sec: i64) -> f64 {
        let phase = index as f64 * 1.1;
        let angle = std::f64::consts::TAU * (sec as f64 / RATE_WAVE_PERIOD_SECS) + phase;
        let wave = 1.0 + RATE_WAVE_AMPLITUDE * angle.sin();
        let mut noise_rng =
            Rng::with_seed(mix(self.seed, sec.div_euclid(60), 2_000 + index as u64));
        let noise = 1.0 + RATE_NOISE * (2.0 * noise_rng.f64() - 1.0);
        service.base_rate_per_sec * wave * noise
    }
}

/// SplitMix64-style mixing of the seed, a time slot and a stream number.
fn mix(seed: u64, slot: i64, stream: u64) -> u64 {
    let mut z = seed
        ^ (slot as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A Poisson-distributed count with mean `lambda` (Knuth; normal approximation above 30).
fn poisson(rng: &mut Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        let value = lambda + lambda.sqrt() * gaussian(rng);
        return value.round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut product = rng.f64();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.f64();
    }
    count
}

/// A standard normal sample (Box-Muller).
fn gaussian(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal latency in milliseconds around `median`.
fn latency_ms(rng: &mut Rng, median: f64) -> u64 {
    (median * (0.5 * gaussian(rng)).exp()).round().max(1.0) as u64
}

fn pick_level(rng: &mut Rng, checkout_spike: bool) -> Level {
    let error = if checkout_spike {
        CHECKOUT_SPIKE_ERROR_RATIO
    } else {
        NORMAL_ERROR_RATIO
    };
    let roll = rng.f64();
    if roll < error {
        Level::Error
    } else if roll < error + 0.07 {
        Level::Warn
    } else if roll < error + 0.15 {
        Level::Debug
    } else {
        Level::Info
    }
}

/// A message and its attributes, before the common fields are added.
struct Draft {
    message: String,
    attrs: Vec<(&'static str, Value)>,
}

impl Draft {
    fn new(message: String) -> Self {
        Draft {
            message,
            attrs: Vec::new(),
        }
    }

    fn attr(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.attrs.push((key, value.into()));
        self
    }
}

fn render(rng: &mut Rng, service: &DemoService, ts_ms: i64, level: Level, draft: Draft) -> Value {
    let ts = DateTime::<Utc>::from_timestamp_millis(ts_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let host = service
        .hosts
        .get(rng.usize(0..service.hosts.len().max(1)))
        .copied()
        .unwrap_or(service.name);
    let mut object = Map::new();
    object.insert("ts".into(), json!(ts));
    object.insert("service".into(), json!(service.name));
    object.insert("level".into(), json!(level.as_str()));
    object.insert("message".into(), json!(draft.message));
    object.insert("host".into(), json!(host));
    object.insert(
        "trace_id".into(),
        json!(format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))),
    );
    for (key, value) in draft.attrs {
        object.insert(key.into(), value);
    }
    Value::Object(object)
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    // Callers pass non-empty constant slices; index 0 exists.
    items[rng.usize(0..items.len())]
}

fn user_id(rng: &mut Rng) -> String {
    format!("u-{}", rng.u32(10_000..99_999))
}

fn order_id(rng: &mut Rng) -> String {
    format!("ord-{:08x}", rng.u32(..))
}

fn sku(rng: &mut Rng) -> String {
    format!("SKU-{:05}", rng.u32(1..20_000))
}

fn amount(rng: &mut Rng) -> f64 {
    (rng.u32(499..45_000) as f64) / 100.0
}

fn compose(rng: &mut Rng, service: &str, level: Level, spike: bool) -> Draft {
    match service {
        "api-gateway" => api_gateway(rng, level),
        "checkout" => checkout(rng, level, spike),
        "payments" => payments(rng, level),
        "auth" => auth(rng, level),
        "search" => search(rng, level),
        _ => inventory(rng, level),
    }
}

const ROUTES: [(&str, &str, &str); 7] = [
    ("GET", "/api/v1/products/{id}", "inventory"),
    ("GET", "/api/v1/search", "search"),
    ("POST", "/api/v1/cart/items", "checkout"),
    ("POST", "/api/v1/checkout", "checkout"),
    ("GET", "/api/v1/orders/{id}", "checkout"),
    ("POST", "/api/v1/auth/login", "auth"),
    ("GET", "/healthz", "api-gateway"),
];

fn api_gateway(rng: &mut Rng, level: Level) -> Draft {
    let (method, route, upstream) = pick(rng, &ROUTES);
    let path = route.replace("{id}", &rng.u32(1..100_000).to_string());
    match level {
        Level::Error => {
            let (status, reason, ms) = if rng.bool() {
                (502, "connection reset by peer", latency_ms(rng, 40.0))
            } else {
                (504, "upstream timed out after 5000ms", 5000)
            };
            Draft::new(format!(
                "{method} {path} {status} upstream {upstream}: {reason}"
            ))
            .attr("http.method", method)
            .attr("http.route", route)
            .attr("http.status", status)
            .attr("duration_ms", ms)
        }
        Level::Warn => {
            if rng.bool() {
                let ip = format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(1..255));
                Draft::new(format!(
                    "{method} {path} 429 rate limit exceeded for client {ip}"
                ))
                .attr("http.method", method)
                .attr("http.route", route)
                .attr("http.status", 429)
                .attr("client_ip", ip)
            } else {
                let ms = 1000 + latency_ms(rng, 400.0);
                Draft::new(format!(
                    "upstream {upstream} slow for {method} {path}: {ms}ms exceeds 1000ms budget"
                ))
                .attr("upstream", upstream)
                .attr("duration_ms", ms)
            }
        }
        Level::Debug => Draft::new(format!(
            "route {route} matched, forwarding to {upstream} (keepalive pool {}/64)",
            rng.u32(1..64)
        ))
        .attr("upstream", upstream),
        _ => {
            let status = match rng.u32(0..100) {
                0..=3 => 404,
                4..=9 => 304,
                _ if method == "POST" => 201,
                _ => 200,
            };
            let ms = latency_ms(rng, 35.0);
            let user = user_id(rng);
            Draft::new(format!("{method} {path} {status} {ms}ms"))
                .attr("http.method", method)
                .attr("http.route", route)
                .attr("http.status", status)
                .attr("duration_ms", ms)
                .attr("user_id", user)
        }
    }
}

fn checkout(rng: &mut Rng, level: Level, spike: bool) -> Draft {
    let order = order_id(rng);
    let user = user_id(rng);
    match level {
        Level::Error if spike => {
            let message = match rng.u32(0..3) {
                0 => format!(
                    "checkout failed for order {order}: payments returned 503 Service Unavailable"
                ),
                1 => format!("order {order} aborted: payments timed out after 5000ms"),
                _ => format!("circuit breaker open for payments, failing order {order}"),
            };
            Draft::new(message)
                .attr("order_id", order)
                .attr("user_id", user)
        }
        Level::Error => {
            let message = if rng.bool() {
                format!("order {order} failed: payment declined by provider")
            } else {
                format!("timeout calling inventory after 3000ms for order {order}")
            };
            Draft::new(message)
                .attr("order_id", order)
                .attr("user_id", user)
        }
        Level::Warn => {
            if rng.bool() {
                let attempt = rng.u32(1..3);
                Draft::new(format!(
                    "inventory reservation retry {attempt}/3 for order {order}"
                ))
                .attr("order_id", order)
                .attr("retry", attempt)
            } else {
                let code = format!("SPRING{}", rng.u32(10..30));
                Draft::new(format!("coupon {code} expired for user {user}"))
                    .attr("user_id", user)
                    .attr("coupon", code)
            }
        }
        Level::Debug => {
            let ms = latency_ms(rng, 3.0);
            let hit = rng.bool();
            Draft::new(format!(
                "pricing rules evaluated for order {order} in {ms}ms (cache {})",
                if hit { "hit" } else { "miss" }
            ))
            .attr("duration_ms", ms)
            .attr("cache_hit", hit)
        }
        _ => {
            let items = rng.u32(1..7);
            let total = amount(rng);
            match rng.u32(0..3) {
                0 => Draft::new(format!("cart updated for user {user}: {items} items"))
                    .attr("user_id", user)
                    .attr("items", items),
                1 => Draft::new(format!(
                    "order {order} created for user {user}: {items} items, total {total:.2} EUR"
                ))
                .attr("order_id", order)
                .attr("user_id", user)
                .attr("amount", total),
                _ => Draft::new(format!("order {order} confirmed, payment captured"))
                    .attr("order_id", order)
                    .attr("user_id", user),
            }
        }
    }
}

const PROVIDERS: [&str; 3] = ["stripe", "adyen", "paypal"];

fn payments(rng: &mut Rng, level: Level) -> Draft {
    let charge = format!("ch_{:012x}", rng.u64(..) & 0xFFFF_FFFF_FFFF);
    let provider = pick(rng, &PROVIDERS);
    match level {
        Level::Error => {
            let message = if rng.bool() {
                format!("charge {charge} failed: provider {provider} returned 500")
            } else {
                format!(
                    "webhook signature verification failed for {provider} event evt_{:08x}",
                    rng.u32(..)
                )
            };
            Draft::new(message).attr("provider", provider)
        }
        Level::Warn => {
            let ms = 1200 + latency_ms(rng, 300.0);
            if rng.bool() {
                Draft::new(format!("provider {provider} latency high: {ms}ms"))
                    .attr("provider", provider)
                    .attr("duration_ms", ms)
            } else {
                Draft::new(format!(
                    "retrying charge {charge} after {provider} timeout (attempt 2/3)"
                ))
                .attr("provider", provider)
                .attr("retry", 2)
            }
        }
        Level::Debug => {
            let active = rng.u32(1..20);
            Draft::new(format!(
                "db pool stats: active={active} idle={} max=20",
                20 - active
            ))
            .attr("db.pool.active", active)
        }
        _ => {
            let total = amount(rng);
            let ms = latency_ms(rng, 180.0);
            if rng.u32(0..10) == 0 {
                let order = order_id(rng);
                Draft::new(format!(
                    "refund issued for order {order}: {total:.2} EUR via {provider}"
                ))
                .attr("order_id", order)
                .attr("provider", provider)
                .attr("amount", total)
            } else {
                Draft::new(format!(
                    "charge {charge} succeeded: {total:.2} EUR via {provider} in {ms}ms"
                ))
                .attr("provider", provider)
                .attr("amount", total)
                .attr("duration_ms", ms)
            }
        }
    }
}

fn payments_db_error(rng: &mut Rng) -> Draft {
    let message = match rng.u32(0..4) {
        0 => "connection refused: payments-db:5432".to_owned(),
        1 => "transaction rollback: deadlock detected".to_owned(),
        2 => "pool timed out waiting for a connection to payments-db:5432 after 30s".to_owned(),
        _ => format!(
            "could not persist charge ch_{:012x}: connection refused: payments-db:5432",
            rng.u64(..) & 0xFFFF_FFFF_FFFF
        ),
    };
    Draft::new(message)
        .attr("db.system", "postgresql")
        .attr("db.host", "payments-db:5432")
}

fn auth(rng: &mut Rng, level: Level) -> Draft {
    let user = user_id(rng);
    match level {
        Level::Error => {
            if rng.bool() {
                Draft::new(
                    "JWKS refresh failed: timeout contacting idp.internal after 2000ms".to_owned(),
                )
                .attr("duration_ms", 2000)
            } else {
                Draft::new(format!(
                    "session store write failed for user {user}: READONLY You can't write against a read only replica"
                ))
                .attr("user_id", user)
            }
        }
        Level::Warn => {
            if rng.bool() {
                let attempt = rng.u32(2..6);
                Draft::new(format!(
                    "failed login for user {user}: invalid password (attempt {attempt})"
                ))
                .attr("user_id", user)
                .attr("attempt", attempt)
            } else {
                let ago = rng.u32(1..3600);
                Draft::new(format!("token for user {user} expired {ago}s ago"))
                    .attr("user_id", user)
            }
        }
        Level::Debug => Draft::new(format!("session cache hit for user {user}"))
            .attr("user_id", user)
            .attr("cache_hit", true),
        _ => {
            let ms = latency_ms(rng, 25.0);
            match rng.u32(0..3) {
                0 => {
                    let method = pick(rng, &["password", "sso", "passkey"]);
                    Draft::new(format!("user {user} logged in via {method}"))
                        .attr("user_id", user)
                        .attr("auth.method", method)
                        .attr("duration_ms", ms)
                }
                1 => Draft::new(format!("token refreshed for user {user}"))
                    .attr("user_id", user)
                    .attr("duration_ms", ms),
                _ => Draft::new(format!("user {user} logged out")).attr("user_id", user),
            }
        }
    }
}

const QUERIES: [&str; 10] = [
    "running shoes",
    "usb-c cable",
    "coffee grinder",
    "rain jacket",
    "mechanical keyboard",
    "yoga mat",
    "wireless earbuds",
    "desk lamp",
    "backpack",
    "water bottle",
];

fn search(rng: &mut Rng, level: Level) -> Draft {
    let query = pick(rng, &QUERIES);
    match level {
        Level::Error => {
            let shard = rng.u32(0..6);
            if rng.bool() {
                Draft::new(format!(
                    "search backend error: shard products[{shard}] unavailable"
                ))
                .attr("shard", shard)
            } else {
                Draft::new(format!(
                    "query \"{query}\" failed: circuit_breaking_exception [parent] Data too large"
                ))
                .attr("query", query)
            }
        }
        Level::Warn => {
            let ms = 800 + latency_ms(rng, 400.0);
            Draft::new(format!("slow query \"{query}\": {ms}ms"))
                .attr("query", query)
                .attr("duration_ms", ms)
        }
        Level::Debug => Draft::new(format!("query cache hit for \"{query}\""))
            .attr("query", query)
            .attr("cache_hit", true),
        _ => {
            let hits = rng.u32(0..2_500);
            let ms = latency_ms(rng, 45.0);
            Draft::new(format!("query \"{query}\" returned {hits} hits in {ms}ms"))
                .attr("query", query)
                .attr("hits", hits)
                .attr("duration_ms", ms)
        }
    }
}

const WAREHOUSES: [&str; 3] = ["fra-1", "ams-2", "dub-1"];

fn inventory(rng: &mut Rng, level: Level) -> Draft {
    let sku = sku(rng);
    let warehouse = pick(rng, &WAREHOUSES);
    match level {
        Level::Error => {
            if rng.bool() {
                Draft::new(format!("db timeout after 2000ms updating {sku}"))
                    .attr("sku", sku)
                    .attr("duration_ms", 2000)
            } else {
                Draft::new(format!(
                    "stock went negative for {sku} in {warehouse}: -{}",
                    rng.u32(1..5)
                ))
                .attr("sku", sku)
                .attr("warehouse", warehouse)
            }
        }
        Level::Warn => {
            if rng.bool() {
                let left = rng.u32(0..5);
                Draft::new(format!("low stock for {sku} in {warehouse}: {left} left"))
                    .attr("sku", sku)
                    .attr("warehouse", warehouse)
                    .attr("stock", left)
            } else {
                let order = order_id(rng);
                Draft::new(format!(
                    "reservation for order {order} held {}s, releasing",
                    rng.u32(600..1800)
                ))
                .attr("order_id", order)
            }
        }
        Level::Debug => {
            let hit = rng.u32(0..4) != 0;
            Draft::new(format!(
                "cache {} for {sku}",
                if hit { "hit" } else { "miss, loading from db" }
            ))
            .attr("sku", sku)
            .attr("cache_hit", hit)
        }
        _ => {
            let qty = rng.u32(1..5);
            if rng.bool() {
                let order = order_id(rng);
                Draft::new(format!(
                    "reserved {qty} x {sku} in {warehouse} for order {order}"
                ))
                .attr("sku", sku)
                .attr("warehouse", warehouse)
                .attr("order_id", order)
                .attr("quantity", qty)
            } else {
                let on_hand = rng.u32(5..900);
                Draft::new(format!("stock updated for {sku}: {on_hand} on hand"))
                    .attr("sku", sku)
                    .attr("stock", on_hand)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_base_rate_matches_the_services() {
        let sum: f64 = DEMO_SERVICES.iter().map(|s| s.base_rate_per_sec).sum();
        assert!((sum - TOTAL_BASE_RATE).abs() < 1e-9);
    }

    #[test]
    fn incidents_never_run_before_start() {
        for incident in Incident::ALL {
            let (offset, _, period) = incident.schedule_secs();
            assert!(!incident.is_active(TimeDelta::seconds(offset - period)));
            assert!(incident.is_active(TimeDelta::seconds(offset)));
            assert!(incident.is_active(TimeDelta::seconds(offset + period)));
        }
    }

    #[test]
    fn poisson_mean_is_close_to_lambda() {
        let mut rng = Rng::with_seed(7);
        for lambda in [0.5, 4.0, 12.0, 50.0] {
            let n = 20_000;
            let total: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, lambda))).sum();
            let mean = total as f64 / n as f64;
            assert!(
                (mean - lambda).abs() < lambda * 0.05 + 0.05,
                "{lambda}: {mean}"
            );
        }
    }
}
