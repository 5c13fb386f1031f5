//! The generator side of the load-test protocol: posting frames to a load backend
//! (`def backend`, or the original's) over plain HTTP (ureq, blocking: the backend runs next to
//! the generator, and the simulation thread waits for it anyway).
//!
//! Nothing is dropped: when the backend's queue is full it answers `429 Too Many Requests` with
//! `Retry-After`, and the client waits that long and posts the same frame again, for as long as
//! it takes. If the queue fills before `/start` was sent (more frames prepared than the backend
//! may hold), the client sends `/start` early, since the backend would otherwise never drain.
//! Connection errors are retried with a growing backoff; after [`UNREACHABLE_AFTER`] without an
//! answer the client fails with a message that says how to start the backend.
//!
//! Large frames are split, never sent as one giant request: a frame whose body would exceed
//! [`MAX_REQUEST_BYTES`] goes out as several consecutive frames ([`FrameBody::piece`]), so the
//! backend, which emits frames back to back, keeps every event at its original deadline.
//! Bodies over [`EXPECT_CONTINUE_FROM`] are sent with `Expect: 100-continue`, so a backend that
//! refuses the size answers 413 before the upload; on 413 the client halves its piece size and
//! sends the rest of the frame again in smaller pieces (also for the next frames), down to one
//! event; a single event that is still refused fails the run with the sizes and the fix. A
//! connection cut while a body is being sent (a backend that closed it mid-upload, or a stale
//! kept-alive connection) is retried once, then fails with the body's size instead of being
//! taken for an unreachable backend.

use super::{FrameBody, REGISTER, START};
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
/// The largest `/register` body the client sends: a quarter of `def backend`'s default
/// `--max-body-bytes`, and small enough that a 413 costs little.
pub const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Bodies at least this large ask `Expect: 100-continue`, so a refusal comes before the upload.
pub const EXPECT_CONTINUE_FROM: usize = 1 << 20;
/// How long to wait for `100 Continue` before sending anyway (a server that ignores `Expect`
/// costs this much per large frame).
const AWAIT_100: Duration = Duration::from_millis(250);

/// What a POST came to.
enum Posted {
    Accepted,
    /// 429: the backend's queue is full; try again after this long.
    Full(Duration),
    /// 413: too large for the backend (its text).
    TooLarge(String),
}

/// A connection to one load backend.
pub struct FrameClient {
    base: String,
    /// `Bearer <token>` for the backend's `--token`, if it has one.
    authorization: Option<String>,
    agent: ureq::Agent,
    /// The body of a piece of a split frame.
    piece: Vec<u8>,
    /// The largest body to send; halved on 413.
    max_request: usize,
    started: bool,
}

/// How sending a frame ended: the events the backend accepted, and why it stopped if it did
/// not take them all.
pub struct Sent {
    pub accepted: u64,
    pub error: Option<String>,
}

impl FrameClient {
    /// A client for the backend whose API is under `base` (e.g.
    /// `http://localhost:8080/loadgenerator`). Connects lazily, at the first frame.
    pub fn new(base: &str, token: Option<&str>) -> FrameClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_await_100(Some(AWAIT_100))
            .build()
            .into();
        FrameClient {
            base: base.trim_end_matches('/').to_string(),
            authorization: token.map(|t| format!("Bearer {t}")),
            agent,
            piece: Vec::new(),
            max_request: MAX_REQUEST_BYTES,
            started: false,
        }
    }

    /// True once `/start` was accepted.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Posts `frame` (in pieces if it is large) until the backend took all of it, or failed.
    pub fn send(&mut self, frame: &mut FrameBody) -> Sent {
        let n = frame.len();
        let mut at = 0;
        let mut accepted = 0u64;
        let error = loop {
            let end = frame.piece_end(at, self.max_request);
            let whole = at == 0 && end == n;
            let posted = if whole {
                let body = frame.whole();
                let bytes = body.len();
                (self.post(REGISTER, body), bytes)
            } else {
                let mut piece = std::mem::take(&mut self.piece);
                frame.piece(at, end, &mut piece);
                let bytes = piece.len();
                let posted = self.post(REGISTER, &piece);
                self.piece = piece;
                (posted, bytes)
            };
            match posted {
                (Ok(Posted::Accepted), _) => {
                    accepted += (end - at) as u64;
                    at = end;
                    if at >= n {
                        break None;
                    }
                }
                (Ok(Posted::Full(wait)), _) => {
                    if !self.started {
                        // The backend holds as many frames as it may before emission began:
                        // only starting lets it drain.
                        if let Err(e) = self.start() {
                            break Some(e);
                        }
                    }
                    std::thread::sleep(wait);
                }
                // Too large: send the rest in pieces of half this size (and keep that size).
                (Ok(Posted::TooLarge(_)), bytes) if end - at > 1 => {
                    self.max_request = (bytes / 2).max(1)
                }
                (Ok(Posted::TooLarge(text)), bytes) => {
                    break Some(format!(
                        "the load backend refused a frame of {} with one event as too large \
                         ({text}); start it with a larger --max-body-bytes / \
                         --max-queued-events",
                        size(bytes)
                    ))
                }
                (Err(e), _) => break Some(e),
            }
        };
        Sent { accepted, error }
    }

    /// Tells the backend to start emitting (once; later calls do nothing).
    ///
    /// # Errors
    /// The backend refused or did not answer; the message says why.
    pub fn start(&mut self) -> Result<(), String> {
        if self.started {
            return Ok(());
        }
        match self.post(START, b"")? {
            Posted::Accepted => {
                self.started = true;
                Ok(())
            }
            Posted::Full(_) | Posted::TooLarge(_) => Err(
                "the load backend refused /start (429 or 413); is the url a def backend?".into(),
            ),
        }
    }

    /// Posts `body` to `<base>/<path>`, retrying connection errors for at most
    /// [`UNREACHABLE_AFTER`] and a connection cut mid-request once.
    fn post(&self, path: &str, body: &[u8]) -> Result<Posted, String> {
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
            if let Some(authorization) = &self.authorization {
                request = request.header("authorization", authorization);
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
                    if status == 401 {
                        // No retry: the token will not get better by waiting.
                        return Err(format!(
                            "the load backend at {url} refused the request (401: {}); give the \
                             http sink the backend's --token as `token:` (or set \
                             DEF_BACKEND_TOKEN)",
                            text.trim()
                        ));
                    }
                    let hint = if status == 404 {
                        "; check the sink's `url` (it ends with the backend's base path, \
                         e.g. http://localhost:8080/loadgenerator)"
                    } else {
                        ""
                    };
                    return Err(format!(
                        "the load backend answered {status} to POST {url}: {}{hint}",
                        text.trim()
                    ));
                }
                Err(error) if cut(&error) => {
                    // The backend was there but closed the connection: a kept-alive
                    // connection it had dropped (retry once) or a body it would not take.
                    if cut_before {
                        return Err(format!(
                            "the load backend at {url} closed the connection twice while a \
                             {} request was being sent ({error}); if that is more than it takes, \
                             start it with a larger --max-body-bytes, or lower the load per \
                             frame or the sink's `timeframe`",
                            size(body.len())
                        ));
                    }
                    cut_before = true;
                }
                Err(error) => {
                    let since = *unreachable_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= UNREACHABLE_AFTER {
                        return Err(format!(
                            "no answer from the load backend at {url} for {} s ({error}); \
                             start it (e.g. `def backend --output stdout`) or fix the sink's `url`",
                            UNREACHABLE_AFTER.as_secs()
                        ));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
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
