//! Time as prodcode stores it: integer Unix milliseconds, and RFC 3339 at the edges.
//!
//! One place for the clock and the conversions, so every table and wire agrees on them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// An RFC 3339 timestamp (any offset) as Unix milliseconds.
pub fn parse_rfc3339_ms(timestamp: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(timestamp, &Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A date as people type it on the command line: RFC 3339, or a day (`2026-12-01`, midnight
/// UTC), as Unix milliseconds.
pub fn parse_date_ms(text: &str) -> Option<i64> {
    if let Some(ms) = parse_rfc3339_ms(text) {
        return Some(ms);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format).ok()?;
    let midnight = date.midnight().assume_utc();
    i64::try_from(midnight.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Unix milliseconds as RFC 3339 in UTC; the number itself if it is out of range.
pub fn format_rfc3339(ts_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ms) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| ts_ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_with_offsets() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_rfc3339_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(format_rfc3339(1500), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_rfc3339(i64::MAX), i64::MAX.to_string());
        assert_eq!(parse_date_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_date_ms("last week"), None);
    }
}
