//! Simulated time: milliseconds since the Unix epoch, and writing them as text fast.
//!
//! Formatting a timestamp per event would cost more than generating the event, so
//! [`TimestampWriter`] caches the date of the current day and writes the time of day with
//! plain arithmetic. Timestamps are written in UTC.

use crate::config::TimestampFormat;

const MS_PER_DAY: i64 = 86_400_000;

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
        let date = jiff::Timestamp::from_millisecond(day * MS_PER_DAY)
            .map(|ts| jiff::tz::Offset::UTC.to_datetime(ts).date())
            .unwrap_or(jiff::civil::date(1970, 1, 1));
        // Written digit by digit: `format!` would allocate once per simulated day.
        let year = date.year().clamp(0, 9999) as u16;
        let (month, dom) = (date.month() as u8, date.day() as u8);
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

/// Milliseconds since the epoch of a jiff timestamp.
pub fn millis(ts: jiff::Timestamp) -> i64 {
    ts.as_millisecond()
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

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
