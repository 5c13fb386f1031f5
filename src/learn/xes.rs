//! XES logs (IEEE 1849), read as a stream of XML events: one trace at a time is held, its
//! events sorted by time, then folded into the chain. Memory is one trace, whatever the file.
//!
//! Only an event's direct attributes count (nested list or container children are skipped);
//! any attribute element (`string`, `date`, `int`, ...) is read by its `key` and `value`. A
//! trace with `def:open` = `true` (def's mark of a case its run left open) is counted as open,
//! not ended. Lines are counted from the newlines of what was read, so errors point at the
//! event's line.

use super::chain::ChainBuilder;
use super::timestamp::parse_timestamp_ms;
use super::{Columns, LearnError, LogEvent, OPEN_ATTRIBUTE, PROGRESS_EVERY};
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;
use std::path::Path;

/// An event being read: its attributes of interest, owned until its trace is folded.
#[derive(Default)]
struct Held {
    activity: Option<String>,
    node: Option<String>,
    group: Option<String>,
    timestamp: Option<String>,
    line: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Element {
    Trace,
    Event,
    Other,
}

/// Reads one XES file into `builder`.
pub(super) fn read(
    path: &Path,
    input: impl BufRead,
    columns: &Columns,
    builder: &mut ChainBuilder,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LearnError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut line: u64 = 1;
    let mut events: Vec<Held> = Vec::new();
    let mut open = false;
    let mut read_events: u64 = 0;
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            LearnError::input(
                path,
                line,
                format!("not well-formed XML: {e}"),
                "check the file is a complete XES log (a truncated download ends like this)",
            )
        })?;
        let here = line;
        line += bytecount(&event);
        // The element that ends here: an empty one, or the one an end tag closes.
        let ended = match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let element = match (stack.last(), e.local_name().as_ref()) {
                    (_, b"trace") => {
                        events.clear();
                        open = false;
                        Element::Trace
                    }
                    (Some(Element::Trace), b"event") => {
                        events.push(Held {
                            line: here,
                            ..Held::default()
                        });
                        Element::Event
                    }
                    (Some(Element::Event), _) => {
                        if let Some(held) = events.last_mut() {
                            event_attribute(path, here, e, columns, held)?;
                        }
                        Element::Other
                    }
                    (Some(Element::Trace), _) => {
                        if attribute(path, here, e, OPEN_ATTRIBUTE)?.as_deref() == Some("true") {
                            open = true;
                        }
                        Element::Other
                    }
                    _ => Element::Other,
                };
                if empty {
                    Some(element)
                } else {
                    stack.push(element);
                    None
                }
            }
            Event::End(_) => stack.pop(),
            Event::Eof => return Ok(()),
            _ => None,
        };
        if let Some(element) = ended {
            finish(
                path,
                element,
                &mut events,
                open,
                builder,
                &mut read_events,
                progress,
            )?;
        }
    }
}

/// The end of an element: a trace is folded, an event checked.
fn finish(
    path: &Path,
    element: Element,
    events: &mut Vec<Held>,
    open: bool,
    builder: &mut ChainBuilder,
    read_events: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LearnError> {
    match element {
        Element::Event => {
            *read_events += 1;
            if *read_events % PROGRESS_EVERY == 0 {
                progress(*read_events);
            }
            Ok(())
        }
        Element::Trace => {
            let mut parsed = Vec::with_capacity(events.len());
            for held in events.iter() {
                parsed.push(log_event(path, held)?);
            }
            builder.trace(&mut parsed, open);
            events.clear();
            Ok(())
        }
        Element::Other => Ok(()),
    }
}

fn log_event<'a>(path: &Path, held: &'a Held) -> Result<LogEvent<'a>, LearnError> {
    let Some(activity) = held.activity.as_deref() else {
        return Err(LearnError::input(
            path,
            held.line,
            "an event without an activity",
            "give every event a `concept:name`, or name the attribute that holds the activity with --activity-column",
        ));
    };
    let Some(timestamp) = held.timestamp.as_deref() else {
        return Err(LearnError::input(
            path,
            held.line,
            "an event without a timestamp",
            "give every event a `time:timestamp` (learning needs the time between events), or name the attribute with --timestamp-column",
        ));
    };
    let timestamp_ms = parse_timestamp_ms(timestamp).map_err(|e| {
        LearnError::input(
            path,
            held.line,
            format!("unparsable timestamp `{timestamp}`: {e}"),
            "write times as RFC 3339, e.g. 2026-01-01T08:00:00.000+00:00",
        )
    })?;
    Ok(LogEvent {
        activity,
        node: held.node.as_deref(),
        group: held.group.as_deref(),
        timestamp_ms,
        line: held.line,
    })
}

/// Keeps the attributes of an event that `columns` names. The key is compared as written
/// (XES keys carry no escapes); only a wanted value is unescaped and copied.
fn event_attribute(
    path: &Path,
    line: u64,
    e: &BytesStart<'_>,
    columns: &Columns,
    held: &mut Held,
) -> Result<(), LearnError> {
    let mut slot = None;
    let mut value = None;
    // Duplicate attribute names are not our concern here; skipping the check is cheaper.
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|err| malformed(path, line, err))?;
        match attr.key.as_ref() {
            b"key" => {
                let key = attr.value.as_ref();
                slot = if key == columns.activity.as_bytes() {
                    Some(&mut held.activity)
                } else if key == columns.timestamp.as_bytes() {
                    Some(&mut held.timestamp)
                } else if key == columns.node.as_bytes() {
                    Some(&mut held.node)
                } else if key == columns.group.as_bytes() {
                    Some(&mut held.group)
                } else {
                    return Ok(());
                };
            }
            b"value" => value = Some(attr),
            _ => {}
        }
    }
    if let (Some(slot), Some(value)) = (slot, value) {
        let text = value
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| malformed(path, line, err))?;
        *slot = Some(text.into_owned());
    }
    Ok(())
}

/// The `value` of a trace attribute whose `key` is `wanted`.
fn attribute(
    path: &Path,
    line: u64,
    e: &BytesStart<'_>,
    wanted: &str,
) -> Result<Option<String>, LearnError> {
    let mut key_matches = false;
    let mut value = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| malformed(path, line, err))?;
        match attr.key.as_ref() {
            b"key" => key_matches = attr.value.as_ref() == wanted.as_bytes(),
            b"value" => {
                value = Some(
                    attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| malformed(path, line, err))?
                        .into_owned(),
                )
            }
            _ => {}
        }
    }
    Ok(value.filter(|_| key_matches))
}

fn malformed(path: &Path, line: u64, err: impl std::fmt::Display) -> LearnError {
    LearnError::input(
        path,
        line,
        format!("a malformed attribute: {err}"),
        "check the element's quoting and escapes (&amp; &lt; &quot;)",
    )
}

/// Newlines in what an XML event covered, to keep the line count.
fn bytecount(event: &Event<'_>) -> u64 {
    let bytes: &[u8] = match event {
        Event::Start(e) | Event::Empty(e) => e.as_ref(),
        Event::End(e) => e.as_ref(),
        Event::Text(e) => e.as_ref(),
        Event::CData(e) => e.as_ref(),
        Event::Comment(e) => e.as_ref(),
        Event::Decl(e) => e.as_ref(),
        Event::PI(e) => e.as_ref(),
        Event::DocType(e) => e.as_ref(),
        _ => &[],
    };
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}
