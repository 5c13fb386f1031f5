//! `http`: the load-test sink. It collects the events of the current timeframe and posts them
//! to the load backend (`def backend`, or the original's) as one frame.
//!
//! The wire format is the original's: `POST <url>/register` with
//! `{"duration": <timeframe in µs>, "events": [<event json>, ...]}` for every frame, in order,
//! and `POST <url>/start` once, when the `loadTest` simulation says the first frames are ready.
//! The body is built in place as events arrive (each one encoded by [`EventEncoder`] straight
//! into it), so a frame costs one buffer, not one allocation per event.
//!
//! Nothing is dropped: when the backend's queue is full it answers `429 Too Many Requests` with
//! `Retry-After`, and the sink waits that long and posts the same frame again, for as long as it
//! takes. If the queue fills before `/start` was sent (more frames prepared than the backend
//! may hold), the sink sends `/start` early, since the backend would otherwise never drain.
//! Connection errors are retried with a growing backoff; after [`UNREACHABLE_AFTER`] without an
//! answer the sink fails with a message that says how to start the backend.
//!
//! Large frames are split, never sent as one giant request: a frame whose body would exceed
//! [`MAX_REQUEST_BYTES`] goes out as several consecutive frames whose durations add up to the
//! frame's (piece `[a, b)` of `n` events over `D` µs lasts `⌊D·b/n⌋ − ⌊D·a/n⌋`), so the
//! backend, which emits frames back to back, keeps every event at its original deadline (to
//! the microsecond). Bodies over [`EXPECT_CONTINUE_FROM`] are sent with
//! `Expect: 100-continue`, so a backend that refuses the size answers 413 before the upload;
//! on 413 the sink halves its piece size and sends the rest of the frame again in smaller
//! pieces (also for the next frames), down to one event; a single event that is still refused
//! fails the run with the sizes and the fix. A connection cut while a body is being sent (a
//! backend that closed it mid-upload, or a stale kept-alive connection) is retried once, then
//! fails with the body's size instead of being taken for an unreachable backend.
//!
//! Simulations other than `loadTest` have no frames: all their events collect into one frame,
//! held in memory until the run ends, then sent in pieces as above.

use super::{Delivery, EventEncoder, Sink, SinkError};
use crate::config::{HttpSinkSpec, TimestampFormat};
use crate::engine::Event;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

/// How long the backend may stay unreachable (refused or timed-out connections) before the
/// run fails.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(10);
/// First pause after a connection error; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Wait this long on a 429 without a usable `Retry-After`, and never longer than the cap.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// One request (connect, send, answer) may take this long before it counts as a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest `/register` body the sink sends: a quarter of `def backend`'s default
/// `--max-body-bytes`, and small enough that a 413 costs little.
pub const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Bodies at least this large ask `Expect: 100-continue`, so a refusal comes before the upload.
pub const EXPECT_CONTINUE_FROM: usize = 1 << 20;
/// How long to wait for `100 Continue` before sending anyway (a server that ignores `Expect`
/// costs this much per large frame).
const AWAIT_100: Duration = Duration::from_millis(250);
/// `{"duration":<u64>,"events":[` + `]}`: the most a piece's body adds to its events.
const PIECE_OVERHEAD: usize = 32 + 20;

/// The load-test sink.
pub struct HttpSink {
    name: String,
    base: String,
    agent: ureq::Agent,
    encoder: EventEncoder,
    /// `{"duration":D,"events":[`: each frame's body starts with it.
    prefix_len: usize,
    body: Vec<u8>,
    /// Where each event of `body` starts (for splitting; the capacity is kept across frames).
    offsets: Vec<usize>,
    /// A frame's duration, µs.
    duration_us: u64,
    /// The body of a piece of a split frame.
    piece: Vec<u8>,
    /// The largest body to send; halved on 413.
    max_request: usize,
    /// Events in `body`.
    in_frame: u64,
    started: bool,
    /// Events in frames the backend accepted.
    delivered: u64,
    /// Events handed to the sink that were never accepted (after a failure).
    failed: u64,
    /// A request failed for good: do not try again when finishing.
    broken: bool,
}

/// What a POST came to.
enum Posted {
    Accepted,
    /// 429: the backend's queue is full; try again after this long.
    Full(Duration),
    /// 413: too large for the backend (its text).
    TooLarge(String),
}

/// `⌊d·k/n⌋` without overflow: where event `k` of `n` ends in a frame of `d` µs.
fn share(d: u64, k: usize, n: usize) -> u64 {
    if n == 0 {
        return d;
    }
    // k ≤ n, so the quotient is at most d and fits.
    u64::try_from(u128::from(d) * k as u128 / n as u128).unwrap_or(d)
}

/// A byte count for messages, e.g. `96.0 MiB`.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{bytes} bytes")
    }
}

/// True for an I/O error after the connection was made: the peer closed or reset it.
fn cut(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(e) => matches!(
            e.kind(),
            ErrorKind::BrokenPipe
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::UnexpectedEof
                | ErrorKind::WriteZero
        ),
        _ => false,
    }
}

impl HttpSink {
    pub fn new(name: &str, spec: &HttpSinkSpec, timestamps: TimestampFormat) -> HttpSink {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_await_100(Some(AWAIT_100))
            .build()
            .into();
        let duration_us = spec.timeframe_ms.saturating_mul(1000);
        let mut body = Vec::with_capacity(1 << 16);
        body.extend_from_slice(b"{\"duration\":");
        body.extend_from_slice(itoa::Buffer::new().format(duration_us).as_bytes());
        body.extend_from_slice(b",\"events\":[");
        HttpSink {
            name: name.to_string(),
            base: spec.url.trim_end_matches('/').to_string(),
            agent,
            encoder: EventEncoder::new(timestamps),
            prefix_len: body.len(),
            body,
            offsets: Vec::new(),
            duration_us,
            piece: Vec::new(),
            max_request: MAX_REQUEST_BYTES,
            in_frame: 0,
            started: false,
            delivered: 0,
            failed: 0,
            broken: false,
        }
    }

    fn failed(&self, message: String) -> SinkError {
        SinkError::Failed {
            sink: self.name.clone(),
            message,
        }
    }

    /// Posts `body` to `<url>/<path>`, retrying connection errors for at most
    /// [`UNREACHABLE_AFTER`] and a connection cut mid-request once.
    fn post(&self, path: &str, body: &[u8]) -> Result<Posted, SinkError> {
        let url = format!("{}/{path}", self.base);
        let mut backoff = FIRST_BACKOFF;
        let mut unreachable_since: Option<Instant> = None;
        let mut cut_before = false;
        loop {
            let mut request = self
                .agent
                .post(&url)
                .header("content-type", "application/json");
            if body.len() >= EXPECT_CONTINUE_FROM {
                request = request.header("expect", "100-continue");
            }
            match request.send(body) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if (200..300).contains(&status) {
                        return Ok(Posted::Accepted);
                    }
                    if status == 429 {
                        let wait = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<f64>().ok())
                            .and_then(|s| Duration::try_from_secs_f64(s).ok())
                            .unwrap_or(DEFAULT_RETRY_AFTER)
                            .min(MAX_RETRY_AFTER);
                        return Ok(Posted::Full(wait));
                    }
                    let text = response
                        .body_mut()
                        .with_config()
                        .limit(4096)
                        .read_to_string()
                        .unwrap_or_default();
                    if status == 413 {
                        return Ok(Posted::TooLarge(text.trim().to_string()));
                    }
                    let hint = match status {
                        404 => {
                            "; check the sink's `url` (it ends with the backend's base path, \
                                e.g. http://localhost:8080/loadgenerator)"
                        }
                        _ => "",
                    };
                    return Err(self.failed(format!(
                        "the load backend answered {status} to POST {url}: {}{hint}",
                        text.trim()
                    )));
                }
                Err(error) if cut(&error) => {
                    // The backend was there but closed the connection: a kept-alive
                    // connection it had dropped (retry once) or a body it would not take.
                    if cut_before {
                        return Err(self.failed(format!(
                            "the load backend at {url} closed the connection twice while a \
                             {} request was being sent ({error}); if that is more than it takes, \
                             start it with a larger --max-body-bytes, or lower the load per \
                             frame or the sink's `timeframe`",
                            size(body.len())
                        )));
                    }
                    cut_before = true;
                }
                Err(error) => {
                    let since = *unreachable_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= UNREACHABLE_AFTER {
                        return Err(self.failed(format!(
                            "no answer from the load backend at {url} for {} s ({error}); \
                             start it (e.g. `def backend --output stdout`) or fix the sink's `url`",
                            UNREACHABLE_AFTER.as_secs()
                        )));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// The end of the piece of the frame that starts at event `at`: as many events as fit in
    /// `max_request`, at least one. `events_end` is where the last event ends in `body`.
    fn piece_end(&self, at: usize, events_end: usize) -> usize {
        let n = self.offsets.len();
        if at >= n {
            return n;
        }
        let limit = self.max_request.saturating_sub(PIECE_OVERHEAD);
        let from = self.offsets[at];
        if events_end - from <= limit {
            return n;
        }
        // Piece [at, b) ends before the comma that precedes event b.
        let fits = self.offsets[at + 1..].partition_point(|&o| o - 1 - from <= limit);
        at + fits.max(1)
    }

    /// Writes the body of piece `[at, end)` into `piece`: its events, and its share of the
    /// frame's duration.
    fn build_piece(&mut self, at: usize, end: usize, events_end: usize) {
        let n = self.offsets.len();
        let stop = if end == n {
            events_end
        } else {
            self.offsets[end] - 1
        };
        let duration = share(self.duration_us, end, n) - share(self.duration_us, at, n);
        self.piece.clear();
        self.piece.extend_from_slice(b"{\"duration\":");
        self.piece
            .extend_from_slice(itoa::Buffer::new().format(duration).as_bytes());
        self.piece.extend_from_slice(b",\"events\":[");
        self.piece
            .extend_from_slice(&self.body[self.offsets[at]..stop]);
        self.piece.extend_from_slice(b"]}");
    }

    /// Posts the collected frame (in pieces if it is large) until the backend took all of
    /// it, and starts a new one.
    fn send_frame(&mut self) -> Result<(), SinkError> {
        let n = self.offsets.len();
        let events_end = self.body.len();
        self.body.extend_from_slice(b"]}");
        let mut at = 0;
        let mut accepted = 0u64;
        let outcome = loop {
            let end = self.piece_end(at, events_end);
            let whole = at == 0 && end == n;
            if !whole {
                self.build_piece(at, end, events_end);
            }
            let body = if whole { &self.body } else { &self.piece };
            let bytes = body.len();
            match self.post("register", body) {
                Ok(Posted::Accepted) => {
                    accepted += (end - at) as u64;
                    at = end;
                    if at >= n {
                        break Ok(());
                    }
                }
                Ok(Posted::Full(wait)) => {
                    if !self.started {
                        // The backend holds as many frames as it may before emission began:
                        // only starting lets it drain.
                        if let Err(e) = self.send_start() {
                            break Err(e);
                        }
                    }
                    std::thread::sleep(wait);
                }
                // Too large: send the rest in pieces of half this size (and keep that size).
                Ok(Posted::TooLarge(_)) if end - at > 1 => self.max_request = (bytes / 2).max(1),
                Ok(Posted::TooLarge(text)) => {
                    break Err(self.failed(format!(
                        "the load backend refused a frame of {} with one event as too large \
                         ({text}); start it with a larger --max-body-bytes / \
                         --max-queued-events",
                        size(bytes)
                    )))
                }
                Err(e) => break Err(e),
            }
        };
        self.body.truncate(self.prefix_len);
        self.offsets.clear();
        self.delivered += accepted;
        self.failed += self.in_frame - accepted;
        self.in_frame = 0;
        if outcome.is_err() {
            self.broken = true;
        }
        outcome
    }

    fn send_start(&mut self) -> Result<(), SinkError> {
        if self.started {
            return Ok(());
        }
        match self.post("start", b"") {
            Ok(Posted::Accepted) => {
                self.started = true;
                Ok(())
            }
            Ok(Posted::Full(_) | Posted::TooLarge(_)) => Err(self.failed(
                "the load backend refused /start (429 or 413); is the url a def backend?".into(),
            )),
            Err(e) => {
                self.broken = true;
                Err(e)
            }
        }
    }
}

impl Sink for HttpSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        if self.in_frame > 0 {
            self.body.push(b',');
        }
        self.offsets.push(self.body.len());
        self.encoder.json(event, &mut self.body);
        self.in_frame += 1;
        Ok(())
    }

    fn end_frame(&mut self) -> Result<(), SinkError> {
        if self.broken {
            return Ok(());
        }
        self.send_frame()
    }

    fn start(&mut self) -> Result<(), SinkError> {
        if self.broken {
            return Ok(());
        }
        self.send_start()
    }

    /// Posts a frame still open (a run stopped mid-frame, or a simulation other than
    /// `loadTest`) and makes sure emission was started.
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        let mut result = Ok(());
        if !self.broken {
            if self.in_frame > 0 {
                result = self.send_frame();
            }
            if result.is_ok() && !self.started && self.delivered > 0 {
                result = self.send_start();
            }
        }
        self.failed += self.in_frame;
        self.in_frame = 0;
        result.map(|()| Delivery {
            delivered: self.delivered,
            failed: self.failed,
            ..Delivery::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::share;

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
}
