//! Events go out as compact, one-line JSON, whatever the client sent.
//!
//! The original's http sink posts `json.dumps(frame, indent=4)`: every event spread over several
//! lines, which a line output (`--output file:`, stdout) would write as several lines, and Kafka
//! would carry with its whitespace. [`append_compact`] drops the whitespace outside strings and
//! keeps everything else as it came (key order, number spelling, string escapes), so a compact
//! event, def's own generator's, goes out byte for byte.
//!
//! The text is an event the frame parser already validated as JSON, so whitespace can only be
//! insignificant (between tokens) or inside a string; and a JSON string holds no raw control
//! characters, so the result is always one line.

/// JSON's insignificant whitespace.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Appends `raw`, one valid JSON value, to `out` without the whitespace outside its strings.
/// Returns true if it had some (the event was re-encoded), false if it went in byte for byte.
///
/// No allocation beyond `out` growing: compact text (no whitespace at all) is one copy after
/// one scan; otherwise the runs between insignificant whitespace are copied.
pub fn append_compact(out: &mut Vec<u8>, raw: &[u8]) -> bool {
    // The fast path: no whitespace byte anywhere. `fold` rather than `any`, so the scan has no
    // early exit and vectorises.
    if !raw.iter().fold(false, |seen, &b| seen | is_space(b)) {
        out.extend_from_slice(raw);
        return false;
    }
    let mut in_string = false;
    let mut escaped = false;
    let mut run = 0;
    let mut stripped = false;
    for (i, &b) in raw.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if is_space(b) {
            out.extend_from_slice(&raw[run..i]);
            run = i + 1;
            stripped = true;
        }
    }
    out.extend_from_slice(&raw[run..]);
    stripped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(raw: &str) -> (String, bool) {
        let mut out = b"prefix|".to_vec();
        let changed = append_compact(&mut out, raw.as_bytes());
        let text = String::from_utf8(out).unwrap();
        (text["prefix|".len()..].to_string(), changed)
    }

    #[test]
    fn compact_events_pass_byte_for_byte() {
        for raw in [
            r#"{"caseid":"case_1","x":[1,2.50,1e3]}"#,
            r#"{"activity":"Goods Delivery","note":"a\tb \" c"}"#,
            r#"{"k":"\u0041\\"}"#,
            "{}",
        ] {
            assert_eq!(compact(raw).0, raw);
        }
        assert!(!compact(r#"{"a":1}"#).1);
        // Spaces inside a string only: the same bytes (the slow path copies one run).
        assert!(!compact(r#"{"a":"b c"}"#).1);
    }

    #[test]
    fn whitespace_outside_strings_goes_and_strings_stay() {
        let pretty = "{\n    \"activity\": \"Goods  Delivery\",\n    \"caseid\": \"case_1\",\n\
                      \t\"n\" : [ 1 , 2.50 ],\r\n    \"q\": \"say \\\"hi\\\" \\\\ , x\"\n}";
        let (text, changed) = compact(pretty);
        assert!(changed);
        assert_eq!(
            text,
            r#"{"activity":"Goods  Delivery","caseid":"case_1","n":[1,2.50],"q":"say \"hi\" \\ , x"}"#
        );
        assert!(!text.contains('\n'));
        // Still the same JSON.
        let a: serde_json::Value = serde_json::from_str(pretty).unwrap();
        let b: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(a, b);
    }
}
