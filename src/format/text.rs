//! Writing strings into the text formats: CSV fields (RFC 4180) and XML attribute values.
//!
//! Both look at each byte once through a table and copy the string as it is when nothing in
//! it needs care, which is the common case (activity, node and group names); only a string
//! that needs quoting or escaping takes the slow path. Nothing allocates.

/// Bytes that make a CSV field need quotes (RFC 4180: comma, quote, CR, LF).
const CSV_SPECIAL: [bool; 256] = table(b",\"\r\n", false);

/// Bytes an XML attribute value cannot hold as they are: the five markup characters, every
/// control character (XML 1.0 allows only tab, LF and CR, and a parser turns those into spaces
/// in an attribute value unless they are written as character references), and 0xEF, the lead
/// byte of U+FFFE and U+FFFF, which XML does not allow either.
const XML_SPECIAL: [bool; 256] = table(b"<>&\"'\xEF", true);

const fn table(bytes: &[u8], controls: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    if controls {
        let mut c = 0;
        while c < 0x20 {
            t[c] = true;
            c += 1;
        }
    }
    t
}

/// Appends `s` as one CSV field: as it is, or in double quotes with its quotes doubled when
/// it holds a comma, a quote or a line break.
#[inline]
pub fn csv_field(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| CSV_SPECIAL[b as usize]) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for part in bytes.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// Appends `s` escaped for an XML attribute value in double quotes. Characters XML 1.0 cannot
/// carry at all (control characters other than tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD.
#[inline]
pub fn xml_attr(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| XML_SPECIAL[b as usize]) {
        out.extend_from_slice(bytes);
        return;
    }
    xml_attr_slow(s, out);
}

#[cold]
fn xml_attr_slow(s: &str, out: &mut Vec<u8>) {
    let mut utf8 = [0; 4];
    for c in s.chars() {
        match c {
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '&' => out.extend_from_slice(b"&amp;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\'' => out.extend_from_slice(b"&apos;"),
            '\t' => out.extend_from_slice(b"&#9;"),
            '\n' => out.extend_from_slice(b"&#10;"),
            '\r' => out.extend_from_slice(b"&#13;"),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                out.extend_from_slice('\u{FFFD}'.encode_utf8(&mut utf8).as_bytes())
            }
            c => out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(s: &str) -> String {
        let mut out = Vec::new();
        csv_field(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn xml(s: &str) -> String {
        let mut out = Vec::new();
        xml_attr(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv("Pass To Production"), "Pass To Production");
        assert_eq!(csv(""), "");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("\""), "\"\"\"\"");
        assert_eq!(csv("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv("cr\r"), "\"cr\r\"");
        assert_eq!(csv("naïve – ok"), "naïve – ok");
    }

    #[test]
    fn xml_attributes_are_escaped() {
        assert_eq!(xml("plain"), "plain");
        assert_eq!(
            xml("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(xml("tab\tnl\ncr\r"), "tab&#9;nl&#10;cr&#13;");
        assert_eq!(xml("bell\u{7}"), "bell\u{FFFD}");
        assert_eq!(xml("ümlaut ☃ \u{FFFF}"), "ümlaut ☃ \u{FFFD}");
        // 0xEF leads other characters too: they stay.
        assert_eq!(xml("\u{FF21}"), "\u{FF21}");
    }
}
