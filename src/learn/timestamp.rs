//! Timestamps of logs, to milliseconds since the epoch.
//!
//! Logs write time in many ways; these are taken: RFC 3339 / ISO 8601 with an offset
//! (`2026-01-01T08:00:00.000+00:00`, `2026-01-01 08:00:00+01:00`, `...Z`: XES and pm4py), and
//! a civil date-time without one (`2026-01-01 08:00:00`, def's `original` format, or
//! `2026-01-01T08:00:00.5`), read as UTC. Sub-millisecond digits are dropped (def's clock
//! resolution).

use jiff::civil::DateTime;
use jiff::Timestamp;

/// The timestamp in `text` as milliseconds since the epoch, or why it is not one.
pub fn parse_timestamp_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(crate::time::millis(ts));
    }
    match text.parse::<DateTime>() {
        Ok(civil) => jiff::tz::TimeZone::UTC
            .to_timestamp(civil)
            .map(crate::time::millis)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp_ms;

    #[test]
    fn the_forms_logs_write() {
        let at_8 = 1_767_254_400_000; // 2026-01-01T08:00:00Z
        for text in [
            "2026-01-01T08:00:00.000+00:00",
            "2026-01-01T08:00:00Z",
            "2026-01-01 08:00:00+00:00",
            "2026-01-01 09:00:00+01:00",
            "2026-01-01 08:00:00",
            "2026-01-01T08:00:00",
        ] {
            assert_eq!(parse_timestamp_ms(text), Ok(at_8), "{text}");
        }
        assert_eq!(
            parse_timestamp_ms("2026-01-01T08:00:00.1234+00:00"),
            Ok(at_8 + 123)
        );
        assert!(parse_timestamp_ms("yesterday").is_err());
        assert!(parse_timestamp_ms("").is_err());
    }
}
