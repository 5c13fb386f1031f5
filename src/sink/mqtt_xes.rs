//! MQTT-XES topics: `{baseTopic}/{process}/{case}/{activity}`, the scheme Beamline's MQTT
//! sources read (the last three levels are process, case id and activity), built by the `mqtt`
//! sink and parsed back by consumers and tests.
//!
//! A process name, case id or activity may hold characters a topic level cannot carry: `/`
//! (the level separator), `+` and `#` (wildcards), NUL, and the control characters and
//! non-characters that MQTT's UTF-8 strings must not or should not contain (brokers such as
//! Mosquitto refuse them). Those are percent-encoded, byte by byte of their UTF-8 form, as
//! `%XX` with upper-case hex digits, and so is `%` itself, so the encoding is reversible:
//! [`unescape_level`] gives back the original text exactly. Everything else, spaces and
//! non-ASCII letters included, is written as it is, so the usual names arrive unchanged.
//!
//! | character | written |
//! | --- | --- |
//! | `%` | `%25` |
//! | `/` | `%2F` |
//! | `+` | `%2B` |
//! | `#` | `%23` |
//! | NUL, U+0001–U+001F, U+007F–U+009F | `%00` … `%1F`, `%7F`, `%C2%80` … `%C2%9F` |
//! | non-characters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF) | their UTF-8 bytes, each `%XX` |
//!
//! This module needs no MQTT client: it is in every build, whether or not the `mqtt` feature
//! is on.

use std::fmt;

/// True for a character a topic level does not carry as it is.
#[inline]
fn must_escape(c: char) -> bool {
    matches!(c, '%' | '/' | '+' | '#') || c.is_control() || is_noncharacter(c)
}

/// Unicode's non-characters: U+FDD0–U+FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let cp = c as u32;
    (0xFDD0..=0xFDEF).contains(&cp) || cp & 0xFFFE == 0xFFFE
}

/// Appends `level` to `out`, escaped as the module describes.
#[inline]
pub fn escape_level(level: &str, out: &mut String) {
    if !level.chars().any(must_escape) {
        out.push_str(level);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut utf8 = [0u8; 4];
    for c in level.chars() {
        if must_escape(c) {
            for &b in c.encode_utf8(&mut utf8).as_bytes() {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xF) as usize] as char);
            }
        } else {
            out.push(c);
        }
    }
}

/// `level` escaped, as a new string.
pub fn escaped(level: &str) -> String {
    let mut out = String::with_capacity(level.len());
    escape_level(level, &mut out);
    out
}

/// A topic level that is not the escaping of any text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscapeError {
    pub level: String,
    pub why: &'static str,
}

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "topic level `{}`: {}", self.level, self.why)
    }
}

impl std::error::Error for EscapeError {}

/// The text `level` is the escaping of.
///
/// # Errors
///
/// A `%` not followed by two hex digits, or escapes that do not decode to UTF-8.
pub fn unescape_level(level: &str) -> Result<String, EscapeError> {
    if !level.contains('%') {
        return Ok(level.to_string());
    }
    let error = |why| EscapeError {
        level: level.to_string(),
        why,
    };
    let bytes = level.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| error("`%` is not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| error("the escapes do not decode to UTF-8"))
}

/// The three levels an MQTT-XES topic ends with, unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct XesTopic {
    pub process: String,
    pub case: String,
    pub activity: String,
}

impl XesTopic {
    /// Reads `topic` as `{base}/{process}/{case}/{activity}`.
    ///
    /// # Errors
    ///
    /// A topic that does not start with `base/`, has not exactly three levels after it, or
    /// has a level that is not a valid escaping.
    pub fn parse(topic: &str, base: &str) -> Result<XesTopic, String> {
        let rest = topic
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| format!("topic `{topic}` does not start with `{base}/`"))?;
        let levels: Vec<&str> = rest.split('/').collect();
        let [process, case, activity] = levels[..] else {
            return Err(format!(
                "topic `{topic}` has {} levels after `{base}/`, not 3 (process, case, activity)",
                levels.len()
            ));
        };
        let text = |level: &str| unescape_level(level).map_err(|e| e.to_string());
        Ok(XesTopic {
            process: text(process)?,
            case: text(case)?,
            activity: text(activity)?,
        })
    }

    /// The topic `{base}/{process}/{case}/{activity}`, levels escaped.
    pub fn topic(&self, base: &str) -> String {
        let mut topic = String::with_capacity(base.len() + 3 + self.len_hint());
        topic.push_str(base);
        for level in [&self.process, &self.case, &self.activity] {
            topic.push('/');
            escape_level(level, &mut topic);
        }
        topic
    }

    fn len_hint(&self) -> usize {
        self.process.len() + self.case.len() + self.activity.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_written_as_they_are() {
        for name in [
            "Assembling",
            "Quality Control",
            "Prüfung",
            "案例",
            "a.b-c_d",
            "",
        ] {
            assert_eq!(escaped(name), name);
            assert_eq!(unescape_level(name).unwrap(), name);
        }
    }

    #[test]
    fn the_characters_topics_cannot_carry_are_percent_encoded() {
        assert_eq!(escaped("a/b"), "a%2Fb");
        assert_eq!(escaped("+#"), "%2B%23");
        assert_eq!(escaped("50%"), "50%25");
        assert_eq!(escaped("nul\0"), "nul%00");
        assert_eq!(escaped("tab\tnl\n"), "tab%09nl%0A");
        assert_eq!(escaped("del\u{7f}"), "del%7F");
        assert_eq!(escaped("c1\u{85}"), "c1%C2%85");
        assert_eq!(escaped("\u{FFFE}"), "%EF%BF%BE");
        assert_eq!(escaped("\u{FDD0}"), "%EF%B7%90");
        // `%2F` in a name is not a slash: the `%` is escaped, so it comes back as written.
        assert_eq!(escaped("%2F"), "%252F");
        for level in [
            "a/b",
            "+#",
            "50%",
            "%2F",
            "nul\0",
            "c1\u{85}",
            "mixed/ä+%#\u{1}",
            "%%",
        ] {
            let e = escaped(level);
            assert!(!e.contains(['/', '+', '#', '\0']), "{e}");
            assert!(!e.chars().any(must_escape) || e.contains('%'));
            assert_eq!(unescape_level(&e).unwrap(), level, "{e}");
        }
    }

    #[test]
    fn every_character_round_trips() {
        // Every code point of the first two planes and a few beyond, one by one and together.
        let chars: String = (0..0x2_0000u32)
            .chain([0x1_FFFE, 0x10_FFFF, 0x10_FFFE, 0xE_0001])
            .filter_map(char::from_u32)
            .collect();
        let e = escaped(&chars);
        assert!(!e.contains(['/', '+', '#', '\0']));
        assert_eq!(unescape_level(&e).unwrap(), chars);
    }

    #[test]
    fn broken_escapes_are_errors() {
        assert!(unescape_level("%").is_err());
        assert!(unescape_level("%2").is_err());
        assert!(unescape_level("%zz").is_err());
        assert!(unescape_level("%FF").is_err(), "not UTF-8");
    }

    #[test]
    fn topics_parse_back_into_process_case_and_activity() {
        let xes = XesTopic {
            process: "assembly/line 1".into(),
            case: "case_7".into(),
            activity: "check #3 + fix".into(),
        };
        let topic = xes.topic("factory/def");
        assert_eq!(
            topic,
            "factory/def/assembly%2Fline 1/case_7/check %233 %2B fix"
        );
        assert_eq!(XesTopic::parse(&topic, "factory/def").unwrap(), xes);
        assert!(XesTopic::parse(&topic, "other").is_err());
        assert!(XesTopic::parse("factory/def/p/c", "factory/def").is_err());
        assert!(XesTopic::parse("factory/def/p/c/a/x", "factory/def").is_err());
    }
}
