//! The alert metrics, recorded through the `metrics` facade (the hosting
//! binary installs the exporter).

/// Delivery attempts, by `channel` and `outcome` (`sent` or `failed`).
pub const DELIVERIES: &str = "anomalog_alert_deliveries_total";

/// Registers the help text of the alert metrics and shows the Discord
/// counters at 0 before the first attempt.
pub fn describe() {
    metrics::describe_counter!(
        DELIVERIES,
        "Alert delivery attempts, by channel and outcome (sent, failed)."
    );
    for outcome in ["sent", "failed"] {
        metrics::counter!(DELIVERIES, "channel" => crate::DISCORD_CHANNEL, "outcome" => outcome)
            .increment(0);
    }
}

pub(crate) fn delivery(channel: &str, ok: bool) {
    let outcome = if ok { "sent" } else { "failed" };
    metrics::counter!(DELIVERIES, "channel" => channel.to_owned(), "outcome" => outcome)
        .increment(1);
}
