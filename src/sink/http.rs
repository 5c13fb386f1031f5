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

use super::{Delivery, EventEncoder, Sink, SinkError};
use crate::config::{HttpSinkSpec, TimestampFormat};
use crate::engine::Event;
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

/// The load-test sink.
pub struct HttpSink {
    name: String,
    base: String,
    agent: ureq::Agent,
    encoder: EventEncoder,
    /// `{"duration":D,"events":[`: each frame's body starts with it.
    prefix_len: usize,
    body: Vec<u8>,
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
}

impl HttpSink {
    pub fn new(name: &str, spec: &HttpSinkSpec, timestamps: TimestampFormat) -> HttpSink {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        let mut body = Vec::with_capacity(1 << 16);
        body.extend_from_slice(b"{\"duration\":");
        body.extend_from_slice(
            itoa::Buffer::new()
                .format(spec.timeframe_ms.saturating_mul(1000))
                .as_bytes(),
        );
        body.extend_from_slice(b",\"events\":[");
        HttpSink {
            name: name.to_string(),
            base: spec.url.trim_end_matches('/').to_string(),
            agent,
            encoder: EventEncoder::new(timestamps),
            prefix_len: body.len(),
            body,
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
    /// [`UNREACHABLE_AFTER`].
    fn post(&self, path: &str, body: &[u8]) -> Result<Posted, SinkError> {
        let url = format!("{}/{path}", self.base);
        let mut backoff = FIRST_BACKOFF;
        let mut unreachable_since: Option<Instant> = None;
        loop {
            let result = self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body);
            match result {
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
                    let hint = match status {
                        413 => {
                            "; the frame is larger than the backend takes: raise its \
                                `--max-body-bytes` / `--max-queued-events`, or lower the load \
                                or the timeframe"
                        }
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

    /// Posts the collected frame until the backend takes it, and starts a new one.
    fn send_frame(&mut self) -> Result<(), SinkError> {
        self.body.push(b']');
        self.body.push(b'}');
        let body = std::mem::take(&mut self.body);
        let outcome = loop {
            match self.post("register", &body) {
                Ok(Posted::Accepted) => break Ok(()),
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
                Err(e) => break Err(e),
            }
        };
        self.body = body;
        self.body.truncate(self.prefix_len);
        match outcome {
            Ok(()) => {
                self.delivered += self.in_frame;
                self.in_frame = 0;
                Ok(())
            }
            Err(e) => {
                self.failed += self.in_frame;
                self.in_frame = 0;
                self.broken = true;
                Err(e)
            }
        }
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
            Ok(Posted::Full(_)) => Err(self.failed(
                "the load backend answered 429 to /start; is the url a def backend?".into(),
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
