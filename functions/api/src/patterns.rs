//! `/api/patterns`: the log patterns of each service, from the pattern
//! records and the per-minute pattern rollups; and the `pattern` filter of
//! `/api/logs`.

use anomalog_core::pattern::PatternId;

use crate::ApiError;

/// The pattern ids `/api/logs?pattern=` filters on (empty: no filter).
pub(crate) fn log_filter(pattern: Option<&str>) -> Result<Vec<String>, ApiError> {
    match pattern.filter(|p| !p.is_empty()) {
        None => Ok(Vec::new()),
        Some(p) => p
            .parse::<PatternId>()
            .map(|id| vec![id.to_string()])
            .map_err(|e| ApiError::BadRequest(format!("pattern: {e}"))),
    }
}
