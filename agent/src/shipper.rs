//! Ships batches of JSON events to the ingest endpoint, with retries and splitting.
//!
//! Delivery contract, per call to [`Shipper::send`]:
//! - a batch larger than the configured limits (events or encoded bytes) is split
//!   before sending, and a `413 Payload Too Large` splits it in half and sends each
//!   half (a single event that still gets 413 is rejected);
//! - `429` and `503` are retried after their `Retry-After` (seconds), other `5xx`,
//!   `408` and connection or timeout errors after an exponential backoff with full
//!   jitter, up to [`ShipperConfig::max_retries`] retries per request;
//! - any other `4xx` is returned as [`ShipError::Rejected`] at once, never retried.
//!
//! On error, sub-batches sent before the failure may already have been accepted:
//! retrying the whole batch then delivers them twice (at-least-once).
//! The API key is sent only in the `Authorization` header and never logged.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default number of retries per request after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default first backoff step (the backoff doubles per attempt, with full jitter).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Default upper bound of one backoff sleep.
pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(10);
/// Default maximum events per request (the ingest server's default limit).
pub const DEFAULT_MAX_EVENTS_PER_REQUEST: usize = 10_000;
/// Default maximum encoded request body, in bytes (the ingest server's default 5 MiB).
pub const DEFAULT_MAX_BYTES_PER_REQUEST: usize = 5 * 1024 * 1024;
/// Longest `Retry-After` honoured; a longer one is clamped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How a [`Shipper`] reaches the ingest endpoint and how hard it tries.
#[derive(Clone)]
pub struct ShipperConfig {
    /// Full URL of the ingest endpoint, e.g. `http://127.0.0.1:8080/ingest`
    /// (see [`ShipperConfig::from_base_url`]).
    pub ingest_url: String,
    /// Sent as `Authorization: Bearer <key>` when set. Never logged.
    pub api_key: Option<String>,
    /// Retries per request after the first attempt (0 = try once).
    pub max_retries: u32,
    /// Timeout of one HTTP request, connection included.
    pub timeout: Duration,
    /// First backoff step; attempt `n` sleeps a random time in `[0, min(cap, base * 2^n)]`.
    pub backoff_base: Duration,
    /// Upper bound of one backoff sleep.
    pub backoff_cap: Duration,
    /// Batches with more events are split before sending.
    pub max_events_per_request: usize,
    /// Batches whose JSON encoding is larger are split before sending.
    pub max_bytes_per_request: usize,
}

impl ShipperConfig {
    /// Defaults for an ingest server at `base_url` (events go to `{base_url}/ingest`).
    pub fn from_base_url(base_url: &str) -> Self {
        ShipperConfig {
            ingest_url: format!("{}/ingest", base_url.trim_end_matches('/')),
            api_key: None,
            max_retries: DEFAULT_MAX_RETRIES,
            timeout: DEFAULT_TIMEOUT,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_cap: DEFAULT_BACKOFF_CAP,
            max_events_per_request: DEFAULT_MAX_EVENTS_PER_REQUEST,
            max_bytes_per_request: DEFAULT_MAX_BYTES_PER_REQUEST,
        }
    }
}

// Hand-written so the API key can never reach a log line through `{:?}`.
impl fmt::Debug for ShipperConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShipperConfig")
            .field("ingest_url", &self.ingest_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("max_events_per_request", &self.max_events_per_request)
            .field("max_bytes_per_request", &self.max_bytes_per_request)
            .finish()
    }
}

/// One event the ingest server refused, by its index in the batch given to `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    /// Index in the slice passed to [`Shipper::send`] (not in a split sub-batch).
    pub index: usize,
    /// Why the server refused it.
    pub reason: String,
}

/// What the ingest server accepted, summed over every request of one `send`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReceipt {
    /// Events durably queued.
    #[serde(default)]
    pub accepted: u64,
    /// Events refused individually (see `errors`).
    #[serde(default)]
    pub rejected: u64,
    /// Per-event reasons for the refusals.
    #[serde(default)]
    pub errors: Vec<RejectedEvent>,
}

impl IngestReceipt {
    fn absorb(&mut self, other: IngestReceipt, index_offset: usize) {
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.errors
            .extend(other.errors.into_iter().map(|e| RejectedEvent {
                index: e.index + index_offset,
                reason: e.reason,
            }));
    }
}

/// Why a batch could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The server refused the request with a non-retryable status (400, 401, 403,
    /// 415, or 413 for a single event). Retrying the same request cannot succeed.
    #[error("ingest rejected the request with HTTP {status}: {message}")]
    Rejected {
        /// HTTP status code.
        status: u16,
        /// The server's `error` message, or the raw body when it has none.
        message: String,
    },
    /// Every attempt failed with a retryable error.
    #[error("ingest unavailable after {attempts} attempts: {last_error}")]
    RetriesExhausted {
        /// Requests made, the first included.
        attempts: u32,
        /// What the last attempt saw.
        last_error: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("could not build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// An event could not be encoded as JSON.
    #[error("could not encode the batch as JSON: {0}")]
    Encode(#[from] serde_json::Error),
}

impl ShipError {
    /// True for errors caused by the agent's configuration (bad key, wrong URL),
    /// which every later request would hit too.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, ShipError::Rejected { status, .. } if *status == 401 || *status == 403)
    }
}

/// An HTTP client for the ingest endpoint. Cheap to share by reference across tasks.
#[derive(Debug, Clone)]
pub struct Shipper {
    client: reqwest::Client,
    config: ShipperConfig,
}

/// What one [`Shipper::post_encoded`] call found.
#[derive(Debug)]
pub enum PostOutcome {
    /// 2xx: the batch is durably queued.
    Accepted(IngestReceipt),
    /// Unreachable, timeout, 5xx, 408, 429: try again later (after `retry_after`).
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// A permanent refusal (4xx): sending it again cannot succeed.
    Rejected { status: u16, message: String },
}

/// The outcome of one HTTP attempt.
enum Attempt {
    Accepted(IngestReceipt),
    TooLarge,
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl Shipper {
    /// Builds the HTTP client. Fails only if the TLS backend cannot initialise.
    pub fn new(config: ShipperConfig) -> Result<Self, ShipError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("anomalog-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ShipError::Client)?;
        Ok(Shipper { client, config })
    }

    /// The configuration this shipper was built with.
    pub fn config(&self) -> &ShipperConfig {
        &self.config
    }

    /// Delivers `events` (JSON objects in the ingest format), splitting and retrying
    /// as described in the module docs. An empty slice sends nothing.
    ///
    /// The receipt sums every request; its `errors[].index` refer to `events`.
    pub async fn send(&self, events: &[Value]) -> Result<IngestReceipt, ShipError> {
        let mut receipt = IngestReceipt::default();
        // Pending sub-batches as (start, end) ranges, processed in order (a stack
        // with the left half on top keeps the original event order on the wire).
        let mut pending = vec![(0, events.len())];
        while let Some((start, end)) = pending.pop() {
            if start == end {
                continue;
            }
            let chunk = &events[start..end];
            let mid = start + chunk.len() / 2;
            if chunk.len() > self.config.max_events_per_request.max(1) {
                pending.push((mid, end));
                pending.push((start, mid));
                continue;
            }
            let body = serde_json::to_vec(chunk)?;
            if body.len() > self.config.max_bytes_per_request && chunk.len() > 1 {
                pending.push((mid, end));
                pending.push((start, mid));
                continue;
            }
            match self.post_with_retries(body).await? {
                Some(part) => receipt.absorb(part, start),
                None if chunk.len() > 1 => {
                    tracing::info!(
                        events = chunk.len(),
                        "ingest answered 413 Payload Too Large, splitting the batch in half"
                    );
                    pending.push((mid, end));
                    pending.push((start, mid));
                }
                None => {
                    return Err(ShipError::Rejected {
                        status: 413,
                        message: "a single event exceeds the ingest size limit".to_owned(),
                    });
                }
            }
        }
        Ok(receipt)
    }

    /// Posts one already encoded JSON-array body once, with `Content-Encoding` when
    /// given, and says what to do next. No retry here: the caller buffers.
    pub async fn post_encoded(
        &self,
        body: bytes::Bytes,
        content_encoding: Option<&'static str>,
        idempotency_key: Option<&str>,
    ) -> PostOutcome {
        match self
            .post_raw(reqwest::Body::from(body), content_encoding, idempotency_key)
            .await
        {
            Ok(Attempt::Accepted(receipt)) => PostOutcome::Accepted(receipt),
            Ok(Attempt::TooLarge) => PostOutcome::Rejected {
                status: 413,
                message: "the batch exceeds the ingest size limit".to_owned(),
            },
            Ok(Attempt::Retry {
                reason,
                retry_after,
            }) => PostOutcome::Retry {
                reason,
                retry_after,
            },
            Err(ShipError::Rejected { status, message }) => {
                PostOutcome::Rejected { status, message }
            }
            Err(other) => PostOutcome::Retry {
                reason: other.to_string(),
                retry_after: None,
            },
        }
    }

    /// Exponential backoff with full jitter for the `retry`-th consecutive failure.
    pub fn backoff_for(&self, retry: u32) -> Duration {
        self.backoff(retry)
    }

    /// Posts one body until it is accepted (`Some`), too large (`None`), rejected
    /// or out of retries (`Err`).
    async fn post_with_retries(&self, body: Vec<u8>) -> Result<Option<IngestReceipt>, ShipError> {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (reason, retry_after) = match self.post_once(body.clone()).await? {
                Attempt::Accepted(receipt) => return Ok(Some(receipt)),
                Attempt::TooLarge => return Ok(None),
                Attempt::Retry {
                    reason,
                    retry_after,
                } => (reason, retry_after),
            };
            if attempt > self.config.max_retries {
                return Err(ShipError::RetriesExhausted {
                    attempts: attempt,
                    last_error: reason,
                });
            }
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt - 1));
            tracing::warn!(
                url = %self.config.ingest_url,
                attempt,
                max_retries = self.config.max_retries,
                delay_ms = delay.as_millis() as u64,
                error = %reason,
                "ingest request failed, retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn post_once(&self, body: Vec<u8>) -> Result<Attempt, ShipError> {
        self.post_raw(reqwest::Body::from(body), None, None).await
    }

    async fn post_raw(
        &self,
        body: reqwest::Body,
        content_encoding: Option<&'static str>,
        idempotency_key: Option<&str>,
    ) -> Result<Attempt, ShipError> {
        let mut request = self
            .client
            .post(&self.config.ingest_url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(encoding) = content_encoding {
            request = request.header(reqwest::header::CONTENT_ENCODING, encoding);
        }
        if let Some(key) = &self.config.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        // Ingest queues a batch once per key: a resend after a lost answer
        // is not stored twice.
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = match request.send().await {
            Ok(response) => response,
            // Connection refused, reset, DNS, timeout: all worth another try.
            Err(error) => {
                return Ok(Attempt::Retry {
                    reason: describe_transport_error(&error),
                    retry_after: None,
                });
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) if status.is_success() => {
                // The server answered 2xx: the batch is durable even if the body was cut.
                tracing::warn!(%status, error = %describe_transport_error(&error), "could not read the ingest receipt");
                String::new()
            }
            Err(error) => {
                return Ok(Attempt::Retry {
                    reason: describe_transport_error(&error),
                    retry_after: None,
                });
            }
        };
        if status.is_success() {
            return Ok(Attempt::Accepted(parse_receipt(&text)));
        }
        let message = error_message(&text, status);
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Ok(Attempt::TooLarge),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Ok(Attempt::Retry {
                reason: format!("HTTP {}: {message}", status.as_u16()),
                retry_after,
            }),
            StatusCode::REQUEST_TIMEOUT => Ok(Attempt::Retry {
                reason: format!("HTTP {}: {message}", status.as_u16()),
                retry_after: None,
            }),
            // 501 and 505 are permanent server answers, not outages.
            s if s.is_server_error()
                && s != StatusCode::NOT_IMPLEMENTED
                && s != StatusCode::HTTP_VERSION_NOT_SUPPORTED =>
            {
                Ok(Attempt::Retry {
                    reason: format!("HTTP {}: {message}", status.as_u16()),
                    retry_after: None,
                })
            }
            _ => Err(ShipError::Rejected {
                status: status.as_u16(),
                message,
            }),
        }
    }

    /// Exponential backoff with full jitter: uniform in `[0, min(cap, base * 2^retry)]`.
    fn backoff(&self, retry: u32) -> Duration {
        let base = self.config.backoff_base.as_millis() as u64;
        let cap = self.config.backoff_cap.as_millis() as u64;
        let ceiling = base.saturating_mul(1u64 << retry.min(32)).min(cap);
        Duration::from_millis(fastrand::u64(0..=ceiling))
    }
}

/// A 2xx body as a receipt; a missing or odd body still means "accepted".
fn parse_receipt(text: &str) -> IngestReceipt {
    match serde_json::from_str::<IngestReceipt>(text) {
        Ok(receipt) => receipt,
        Err(error) => {
            tracing::warn!(%error, "ingest answered 2xx with an unreadable receipt");
            IngestReceipt::default()
        }
    }
}

/// The `error` field of a JSON error body, else the (shortened) raw body.
fn error_message(text: &str, status: StatusCode) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    if let Ok(body) = serde_json::from_str::<ErrorBody>(text) {
        return body.error;
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no response body")
            .to_owned();
    }
    trimmed.chars().take(200).collect()
}

/// `Retry-After` in seconds (the HTTP-date form is not used by ingest and is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// A transport error with its chain of causes (the URL is included; the key never is,
/// since it travels in a header).
fn describe_transport_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_the_api_key() {
        let mut config = ShipperConfig::from_base_url("http://127.0.0.1:1/");
        config.api_key = Some("sekrit-key".to_owned());
        let text = format!("{config:?}");
        assert!(!text.contains("sekrit-key"));
        assert!(text.contains("<redacted>"));
        assert_eq!(config.ingest_url, "http://127.0.0.1:1/ingest");
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        let mut config = ShipperConfig::from_base_url("http://127.0.0.1:1");
        config.backoff_cap = Duration::from_millis(1500);
        let shipper = Shipper::new(config).unwrap();
        for retry in 0..40 {
            let delay = shipper.backoff(retry);
            assert!(delay <= Duration::from_millis(1500));
            assert!(delay <= Duration::from_millis(200u64.saturating_mul(1 << retry.min(32))));
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_clamped() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, "999999".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
