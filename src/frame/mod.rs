//! The load-test frame protocol, both sides of it: the wire format (this module) and the
//! generator's HTTP client ([`client`]).
//!
//! The wire format is the original's: `POST <base>/register` with
//! `{"duration": <timeframe in µs>, "events": [<event>, ...]}` for every frame, in order, and
//! `POST <base>/start` once the first frames are prepared. The generator side builds a body in
//! place as events arrive ([`FrameBody`]), and splits a large one into consecutive frames whose
//! durations add up to the whole ([`FrameBody::piece`]); the backend side reads one with
//! [`decode`], keeping each event as the JSON text it arrived as.

pub mod client;

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The path (under the backend's base) that takes frames.
pub const REGISTER: &str = "register";
/// The path that starts emission.
pub const START: &str = "start";
/// The path that stops emission and drops what is queued.
pub const STOP: &str = "stop";

/// `{"duration":<u64>,"events":[` + `]}`: the most a body adds to its events.
pub const BODY_OVERHEAD: usize = 32 + 20;

/// A frame's `/register` body, built event by event.
#[derive(Clone, Debug)]
pub struct FrameBody {
    /// `{"duration":D,"events":[e1,e2,...` (closed by [`FrameBody::close`]).
    body: Vec<u8>,
    /// Length of the `{"duration":D,"events":[` prefix.
    prefix_len: usize,
    /// Where each event starts in `body` (for splitting).
    offsets: Vec<usize>,
    duration_us: u64,
    /// Set once `]}` is appended.
    closed: bool,
}

impl FrameBody {
    /// An empty frame lasting `duration_us` microseconds.
    pub fn new(duration_us: u64) -> FrameBody {
        let mut body = Vec::with_capacity(1 << 16);
        write_prefix(&mut body, duration_us);
        FrameBody {
            prefix_len: body.len(),
            body,
            offsets: Vec::new(),
            duration_us,
            closed: false,
        }
    }

    /// Appends one event, written by `write` (one JSON object).
    #[inline]
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if !self.offsets.is_empty() {
            self.body.push(b',');
        }
        self.offsets.push(self.body.len());
        write(&mut self.body);
    }

    /// Events in the frame.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Where the last event ends.
    fn events_end(&self) -> usize {
        self.body.len() - if self.closed { 2 } else { 0 }
    }

    /// The whole body, closed.
    pub fn whole(&mut self) -> &[u8] {
        if !self.closed {
            self.body.extend_from_slice(b"]}");
            self.closed = true;
        }
        &self.body
    }

    /// The end of the piece that starts at event `at` and fits in `max_bytes`: as many events
    /// as fit, at least one.
    pub fn piece_end(&self, at: usize, max_bytes: usize) -> usize {
        let n = self.offsets.len();
        if at >= n {
            return n;
        }
        let limit = max_bytes.saturating_sub(BODY_OVERHEAD);
        let from = self.offsets[at];
        if self.events_end() - from <= limit {
            return n;
        }
        // Piece [at, b) ends before the comma that precedes event b.
        let fits = self.offsets[at + 1..].partition_point(|&o| o - 1 - from <= limit);
        at + fits.max(1)
    }

    /// Writes into `out` the body of piece `[at, end)`: its events, and its share of the
    /// frame's duration (piece `[a, b)` of `n` events over `D` µs lasts `⌊D·b/n⌋ − ⌊D·a/n⌋`,
    /// so consecutive pieces keep every event at its deadline, to the microsecond).
    pub fn piece(&self, at: usize, end: usize, out: &mut Vec<u8>) {
        let n = self.offsets.len();
        let stop = if end == n {
            self.events_end()
        } else {
            self.offsets[end] - 1
        };
        let duration = share(self.duration_us, end, n) - share(self.duration_us, at, n);
        out.clear();
        write_prefix(out, duration);
        out.extend_from_slice(&self.body[self.offsets[at]..stop]);
        out.extend_from_slice(b"]}");
    }

    /// Empties the frame for the next one (keeping its capacity).
    pub fn clear(&mut self) {
        self.body.truncate(self.prefix_len);
        self.offsets.clear();
        self.closed = false;
    }
}

fn write_prefix(out: &mut Vec<u8>, duration_us: u64) {
    out.extend_from_slice(b"{\"duration\":");
    out.extend_from_slice(itoa::Buffer::new().format(duration_us).as_bytes());
    out.extend_from_slice(b",\"events\":[");
}

/// `⌊d·k/n⌋` without overflow: where event `k` of `n` ends in a frame of `d` µs.
pub fn share(d: u64, k: usize, n: usize) -> u64 {
    if n == 0 {
        return d;
    }
    // k ≤ n, so the quotient is at most d and fits.
    u64::try_from(u128::from(d) * k as u128 / n as u128).unwrap_or(d)
}

/// A `/register` body as read: its duration and each event's JSON text.
#[derive(Deserialize)]
pub struct DecodedFrame<'a> {
    /// Microseconds.
    pub duration: u64,
    #[serde(borrow)]
    pub events: Vec<&'a RawValue>,
}

/// The fields of an event the backend reads; everything else passes through untouched.
#[derive(Deserialize)]
pub struct EventFields<'a> {
    #[serde(borrow, default)]
    pub caseid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub node: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub group: Option<Cow<'a, str>>,
}

/// Reads a `/register` body.
///
/// # Errors
/// The body is not a frame; the message says what is expected.
pub fn decode(body: &[u8]) -> Result<DecodedFrame<'_>, String> {
    serde_json::from_slice(body).map_err(|e| {
        format!("the body is not a frame ({e}); send {{\"duration\": <microseconds>, \"events\": [<event>, ...]}}")
    })
}

/// Reads the fields of event `i` the backend needs.
///
/// # Errors
/// The event is not a JSON object with string fields; the message names the event.
pub fn event_fields<'a>(i: usize, raw: &'a RawValue) -> Result<EventFields<'a>, String> {
    serde_json::from_str(raw.get()).map_err(|e| {
        format!("event {i} is not an event object ({e}); events are JSON objects with a string `caseid`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces' durations add up to the frame's, for any split, even at `u64::MAX` µs.
    #[test]
    fn piece_durations_add_up() {
        for (d, n) in [(1_000_000u64, 7usize), (999, 1000), (u64::MAX, 3), (5, 0)] {
            let cuts = [0, n / 3, n / 2, n];
            let total: u64 = cuts
                .windows(2)
                .map(|w| share(d, w[1], n) - share(d, w[0], n))
                .sum();
            assert_eq!(total, if n == 0 { 0 } else { d }, "d {d} n {n}");
        }
        // Piece [0, 3) of 7 events over 1 s ends where event 3 is due: 3/7 s, floored.
        assert_eq!(share(1_000_000, 3, 7), 428_571);
    }

    #[test]
    fn a_body_round_trips_whole_and_in_pieces() {
        let mut frame = FrameBody::new(1_000_000);
        for i in 0..7 {
            frame.push(|out| {
                out.extend_from_slice(format!("{{\"caseid\":\"case_{i}\"}}").as_bytes())
            });
        }
        let whole = frame.whole().to_vec();
        let decoded = decode(&whole).unwrap();
        assert_eq!(decoded.duration, 1_000_000);
        assert_eq!(decoded.events.len(), 7);
        assert_eq!(
            event_fields(6, decoded.events[6])
                .unwrap()
                .caseid
                .as_deref(),
            Some("case_6")
        );
        // Pieces of at most 70 bytes: each decodes, and together they are the frame.
        let (mut at, mut events, mut duration, mut piece) = (0, Vec::new(), 0, Vec::new());
        while at < frame.len() {
            let end = frame.piece_end(at, 70 + BODY_OVERHEAD);
            assert!(end > at);
            frame.piece(at, end, &mut piece);
            let d = decode(&piece).unwrap();
            duration += d.duration;
            events.extend(d.events.iter().map(|e| e.get().to_string()));
            at = end;
        }
        assert_eq!(duration, 1_000_000);
        let all: Vec<String> = decoded.events.iter().map(|e| e.get().to_string()).collect();
        assert_eq!(events, all);
        frame.clear();
        assert!(frame.is_empty());
        assert_eq!(decode(frame.whole()).unwrap().events.len(), 0);
    }
}
