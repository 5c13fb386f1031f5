//! Time, the bottom layer: milliseconds since the Unix epoch, the range a timestamp can be
//! written in, the timestamp formats, start-time parsing, and writing timestamps as text fast.
//!
//! Both [`crate::config`] (which reads `startTime` and `timestampFormat`) and
//! [`crate::engine`] (whose clock stops at [`MAX_MS`]) stand on this module; it imports
//! nothing of the crate, so the layers only point down.
//!
//! Formatting a timestamp per event would cost more than generating the event, so
//! [`TimestampWriter`] caches the date of the current day and writes the time of day with
//! plain arithmetic. Timestamps are written in UTC.

const MS_PER_DAY: i64 = 86_400_000;

/// The last instant a timestamp can be written for: 9999-12-31T23:59:59.999Z (four-digit
/// years, and the end of jiff's range). The engine's clock stops here.
pub const MAX_MS: i64 = 253_402_300_799_999;
/// The first such instant: 0000-01-01T00:00:00Z.
pub const MIN_MS: i64 = -62_167_219_200_000;

/// How timestamps are written (`timestampFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `YYYY-MM-DD HH:MM:SS` (UTC), as the original.
    #[default]
    Original,
    /// ISO 8601 with milliseconds and offset: `2026-11-28T05:24:33.123+00:00`.
    Iso8601,
}

impl TimestampFormat {
    pub const ALL: [TimestampFormat; 2] = [TimestampFormat::Original, TimestampFormat::Iso8601];

    /// The name in YAML and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            TimestampFormat::Original => "original",
            TimestampFormat::Iso8601 => "iso8601",
        }
    }
}

/// Writes millisecond timestamps in one [`TimestampFormat`], caching the current day.
#[derive(Clone, Debug)]
pub struct TimestampWriter {
    format: TimestampFormat,
    day: i64,
    /// `YYYY-MM-DD` of `day`.
    date: [u8; 10],
}

impl TimestampWriter {
    pub fn new(format: TimestampFormat) -> TimestampWriter {
        TimestampWriter {
            format,
            day: i64::MIN,
            date: *b"0000-00-00",
        }
    }

    /// Appends the timestamp (without quotes) to `out`.
    #[inline]
    pub fn write(&mut self, ms: i64, out: &mut Vec<u8>) {
        let ms = ms.clamp(MIN_MS, MAX_MS);
        let day = ms.div_euclid(MS_PER_DAY);
        if day != self.day {
            self.set_day(day);
        }
        let in_day = ms.rem_euclid(MS_PER_DAY);
        let secs = in_day / 1000;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        out.extend_from_slice(&self.date);
        let sep = match self.format {
            TimestampFormat::Original => b' ',
            TimestampFormat::Iso8601 => b'T',
        };
        out.extend_from_slice(&[
            sep,
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b':',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b':',
            b'0' + (s / 10) as u8,
            b'0' + (s % 10) as u8,
        ]);
        if self.format == TimestampFormat::Iso8601 {
            let milli = in_day % 1000;
            out.extend_from_slice(&[
                b'.',
                b'0' + (milli / 100) as u8,
                b'0' + (milli / 10 % 10) as u8,
                b'0' + (milli % 10) as u8,
            ]);
            out.extend_from_slice(b"+00:00");
        }
    }

    /// The timestamp as a `String`.
    pub fn format(&mut self, ms: i64) -> String {
        let mut out = Vec::with_capacity(32);
        self.write(ms, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn set_day(&mut self, day: i64) {
        self.day = day;
        let (year, month, dom) = civil_from_days(day);
        // Written digit by digit: `format!` would allocate once per simulated day.
        let year = year.clamp(0, 9999) as u16;
        self.date = [
            b'0' + (year / 1000) as u8,
            b'0' + (year / 100 % 10) as u8,
            b'0' + (year / 10 % 10) as u8,
            b'0' + (year % 10) as u8,
            b'-',
            b'0' + month / 10,
            b'0' + month % 10,
            b'-',
            b'0' + dom / 10,
            b'0' + dom % 10,
        ];
    }
}

/// The proleptic Gregorian (year, month, day) of a day number (days since 1970-01-01).
///
/// Howard Hinnant's `civil_from_days`, by hand rather than through jiff: jiff's timestamps end
/// on 9999-12-30 (it keeps room for offsets), and the simulated clock may run to 9999-12-31.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Milliseconds since the epoch of a jiff timestamp.
pub fn millis(ts: jiff::Timestamp) -> i64 {
    ts.as_millisecond()
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What a start time may look like, for messages.
pub const START_TIME_FORMS: &str = "an RFC 3339 time such as `2026-01-01T08:00:00Z` or \
    `2026-01-01T08:00:00+01:00`, a date and time taken as UTC such as `2026-01-01 08:00:00`, \
    or `now`";

/// Parses a start time: RFC 3339, or a civil time without offset taken as UTC.
///
/// # Errors
/// The text is not such a time, its UTC offset is not one the world uses (beyond -12:00 to
/// +14:00), or it is before the year 0 (which timestamps cannot show). The message says what
/// is accepted, with examples.
pub fn parse_start_time(text: &str) -> Result<jiff::Timestamp, String> {
    let ts = match text.parse::<jiff::Timestamp>() {
        Ok(ts) => ts,
        Err(_) => text
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt).ok())
            .ok_or_else(|| format!("expected {START_TIME_FORMS}"))?,
    };
    if let Some((sign, hours, minutes)) = utc_offset(text) {
        let total = hours * 60 + minutes;
        if (sign == '+' && total > 14 * 60) || (sign == '-' && total > 12 * 60) || minutes >= 60 {
            return Err(format!(
                "the UTC offset {sign}{hours:02}:{minutes:02} is not one in use (they run from \
                 -12:00 to +14:00); expected {START_TIME_FORMS}"
            ));
        }
    }
    if ts.as_millisecond() < MIN_MS {
        return Err("it is before the year 0, which timestamps cannot show".into());
    }
    Ok(ts)
}

/// The `±HH:MM` (or `±HHMM`, `±HH`) offset at the end of an RFC 3339 time, if it has one.
fn utc_offset(text: &str) -> Option<(char, u32, u32)> {
    // The offset follows the time of day, which follows the `T` (or space) separator.
    let time_at = text.find(['T', 't', ' '])?;
    let time = &text[time_at..];
    let at = time.rfind(['+', '-'])?;
    let sign = time[at..].chars().next()?;
    let digits: String = time[at + 1..]
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let hours = digits.get(..2)?.parse().ok()?;
    let minutes = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
    Some((sign, hours, minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_parse_and_impossible_offsets_are_refused() {
        let at = |t: &str| parse_start_time(t).map(|ts| ts.to_string());
        assert_eq!(at("2026-01-01T08:00:00Z").unwrap(), "2026-01-01T08:00:00Z");
        assert_eq!(
            at("2026-01-01T08:00:00+14:00").unwrap(),
            "2025-12-31T18:00:00Z"
        );
        assert_eq!(at("2026-01-01 08:00:00").unwrap(), "2026-01-01T08:00:00Z");
        let err = at("2026-01-01T00:00:00+25:00").unwrap_err();
        assert!(err.contains("+25:00 is not one in use"), "{err}");
        assert!(at("2026-01-01T00:00:00-13:00").is_err());
        let err = at("yesterday").unwrap_err();
        assert!(
            err.contains("`2026-01-01T08:00:00Z`") && !err.contains("digit"),
            "{err}"
        );
    }

    #[test]
    fn writes_the_original_format_in_utc() {
        let ts: jiff::Timestamp = "2026-11-28T05:24:33.123Z".parse().unwrap();
        let mut w = TimestampWriter::new(TimestampFormat::Original);
        assert_eq!(w.format(millis(ts)), "2026-11-28 05:24:33");
        assert_eq!(
            w.format(millis(ts) + 86_400_000 + 3_600_000),
            "2026-11-29 06:24:33"
        );
    }

    #[test]
    fn the_range_ends_are_what_they_say() {
        // 2,932,896 days after 1970-01-01 is 9999-12-31; 719,528 days before it is 0000-01-01.
        assert_eq!(civil_from_days(MAX_MS / MS_PER_DAY), (9999, 12, 31));
        assert_eq!(MAX_MS % MS_PER_DAY, MS_PER_DAY - 1);
        assert_eq!(civil_from_days(MIN_MS / MS_PER_DAY), (0, 1, 1));
        assert_eq!(MIN_MS % MS_PER_DAY, 0);
        let mut w = TimestampWriter::new(TimestampFormat::Original);
        assert_eq!(w.format(i64::MAX), "9999-12-31 23:59:59");
        assert_eq!(w.format(i64::MIN), "0000-01-01 00:00:00");
    }

    #[test]
    fn writes_iso8601_with_millis_and_offset() {
        let mut w = TimestampWriter::new(TimestampFormat::Iso8601);
        assert_eq!(w.format(1_000_000_000_007), "2001-09-09T01:46:40.007+00:00");
        assert_eq!(w.format(-1), "1969-12-31T23:59:59.999+00:00");
    }

    #[test]
    fn agrees_with_jiff_over_many_days() {
        let mut w = TimestampWriter::new(TimestampFormat::Original);
        let mut ms = 946_684_800_000i64; // 2000-01-01
        while ms < 4_102_444_800_000 {
            let want = jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string();
            assert_eq!(w.format(ms), want);
            ms += 7_777_777_777; // about 90 days and odd hours
        }
    }
}
