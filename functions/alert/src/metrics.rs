//! The alert metrics, recorded through the `metrics` facade (the hosting
//! binary installs the exporter).

/// Delivery attempts, by `channel` (`discord`, `slack`, `webhook`) and
/// `outcome` (`sent` or `failed`).
pub const DELIVERIES: &str = "anomalog_alert_deliveries_total";

/// Registers the help text of the alert metrics. Each configured channel's
/// counters show at 0 from the moment the channel is built.
pub fn describe() {
    metrics::describe_counter!(
        DELIVERIES,
        "Alert delivery attempts, by channel and outcome (sent, failed)."
    );
}

pub(crate) fn channel_configured(channel: &'static str) {
    for outcome in ["sent", "failed"] {
        metrics::counter!(DELIVERIES, "channel" => channel, "outcome" => outcome).increment(0);
    }
}

pub(crate) fn delivery(channel: &'static str, ok: bool) {
    let outcome = if ok { "sent" } else { "failed" };
    metrics::counter!(DELIVERIES, "channel" => channel, "outcome" => outcome).increment(1);
}
