//! The HTTP API (axum): `POST <base>/register`, `<base>/start`, `<base>/stop`, `GET /health`,
//! `GET /metrics`; anything else is 404.
//!
//! `/register` takes the original's body, `{"duration": <µs>, "events": [<event>, ...]}`
//! ([`crate::frame`] owns the wire format). The events are kept as the JSON text they arrived
//! as ([`serde_json::value::RawValue`]), made compact if they were not ([`super::json`]: a
//! pretty-printed event would be several lines); only their `caseid` (the Kafka key) and, for
//! a topic template, `node` and `group` are read.
//! Every problem with a body is an answer, never a panic: 400 with the reason for bad JSON or
//! a bad field or a frame longer than `--max-frame-duration`, 408 for a body that does not
//! arrive within `--read-timeout`, 413 for a body over `--max-body-bytes` or a frame over
//! `--max-queued-events` / `--max-queued-duration`, 429 with `Retry-After` when the queue is
//! full (at once with `--when-full reject`, else after waiting `--block-timeout` for room),
//! 503 while shutting down.
//!
//! With a token (`--token`), every request but `GET /health` needs `Authorization: Bearer
//! <token>`; anything else gets 401 before it is routed or its body read. The comparison takes
//! the same time wherever the first difference is.
//!
//! A body over the limit is refused from its `Content-Length` before any of it is read, and
//! the connection is closed: a client that sent `Expect: 100-continue` (the `http` sink does
//! for large frames) then gets the 413 without uploading the body at all, and a bogus length
//! gets its answer at once instead of the server waiting for bytes that never come.

use super::json;
use super::queue::{Bound, EventSlot, Frame, FrameQueue, Refused};
use super::topics::Topics;
use super::WhenFull;
use crate::frame;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Seconds a generator is asked to wait when the queue is full.
pub const RETRY_AFTER_SECS: u64 = 1;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub queue: Arc<FrameQueue>,
    pub topics: Arc<Topics>,
    pub base: Arc<str>,
    /// `--max-body-bytes`.
    pub max_body_bytes: usize,
    /// `--max-frame-duration`: a longer frame is refused (400).
    pub max_frame_duration: Duration,
    /// `--when-full`.
    pub when_full: WhenFull,
    /// `--block-timeout`: how long a blocked `/register` waits for room.
    pub block_timeout: Duration,
    /// `--read-timeout`: how long a request body may take to arrive.
    pub read_timeout: Duration,
    /// `--token`: the bearer token every route but `/health` needs.
    pub token: Option<Arc<[u8]>>,
}

/// The routes under `base` (e.g. `/loadgenerator`; empty for the root).
pub fn router(state: AppState) -> Router {
    let base = state.base.to_string();
    let max_body_bytes = state.max_body_bytes;
    Router::new()
        .route(&format!("{base}/{}", frame::REGISTER), post(register))
        .route(&format!("{base}/{}", frame::START), post(start))
        .route(&format!("{base}/{}", frame::STOP), post(stop))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .with_state(state)
}

/// True if `a` and `b` are equal, in a time that depends only on their lengths, not on where
/// they differ (so a client cannot find the token byte by byte by timing 401s).
pub fn same_token(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    // Keep the compiler from cutting the loop short.
    std::hint::black_box(diff) == 0
}

/// The token-checking layer: 401 for a request without the right bearer token, except
/// `GET /health` (for load balancers and probes).
async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            let (scheme, rest) = v.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
        })
        .map(<[u8]>::trim_ascii);
    if given.is_some_and(|given| same_token(given, token)) {
        return next.run(request).await;
    }
    state
        .queue
        .metrics
        .rejected_401
        .fetch_add(1, Ordering::Relaxed);
    let why = if given.is_some() {
        "the bearer token is wrong"
    } else {
        "this backend needs `Authorization: Bearer <token>` (the --token it was started with)"
    };
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            // The body (if any) is not read: the connection cannot carry another request.
            (header::CONNECTION, "close"),
        ],
        format!("{why}\n"),
    )
        .into_response()
}

/// Parses a `/register` body into a frame. Errors are the 400 answer's text.
///
/// A frame may last at most `max_duration`: the emitter works through frames one after the
/// other, so one frame of, say, `u64::MAX` µs would hold every later frame (and a draining
/// shutdown) for half a million years.
pub fn parse_register(
    body: &[u8],
    topics: &Topics,
    max_duration: Duration,
) -> Result<Frame, String> {
    let parsed = frame::decode(body)?;
    let duration = Duration::from_micros(parsed.duration);
    if duration > max_duration {
        return Err(format!(
            "the frame lasts {} µs ({:.0} s), longer than the backend takes (--max-frame-duration \
             {} s); send shorter frames (the http sink's `timeframe`) or start the backend with a \
             larger --max-frame-duration",
            parsed.duration,
            duration.as_secs_f64(),
            max_duration.as_secs_f64()
        ));
    }
    let mut frame = Frame {
        duration,
        data: Vec::with_capacity(body.len()),
        events: Vec::with_capacity(parsed.events.len()),
        compacted: 0,
    };
    for (i, raw) in parsed.events.iter().enumerate() {
        let fields = frame::event_fields(i, raw)?;
        let topic = if topics.templated() {
            let (Some(node), Some(group)) = (&fields.node, &fields.group) else {
                return Err(format!(
                    "event {i} lacks a string `node` or `group`, which the topic template needs"
                ));
            };
            topics
                .resolve(node, group)
                .map_err(|e| format!("event {i}: {e}"))?
        } else {
            0
        };
        let at = frame.data.len();
        if json::append_compact(&mut frame.data, raw.get().as_bytes()) {
            frame.compacted += 1;
        }
        let value = at..frame.data.len();
        let key = fields.caseid.map(|c| {
            let at = frame.data.len();
            frame.data.extend_from_slice(c.as_bytes());
            at..frame.data.len()
        });
        frame.events.push(EventSlot { value, key, topic });
    }
    Ok(frame)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// What the queue holds against its limits, for a 429's text.
fn queue_state(queue: &FrameQueue) -> String {
    let m = &queue.metrics;
    let l = &queue.limits;
    format!(
        "{} events in {} frames lasting {:.3} s queued; limits --max-queued-events {}, \
         --max-queued-frames {}, --max-queued-duration {} s",
        m.queued_events.load(Ordering::Relaxed),
        m.queued_frames.load(Ordering::Relaxed),
        m.queued_duration_us.load(Ordering::Relaxed) as f64 / 1e6,
        l.events,
        l.frames,
        l.duration.as_secs_f64()
    )
}

/// 429 with `Retry-After`, and `why` and the queue's state as the text.
fn too_many(queue: &FrameQueue, why: &str) -> Response {
    queue.metrics.rejected_429.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()),
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
        ],
        format!(
            "{why} ({}); retry after {RETRY_AFTER_SECS} s\n",
            queue_state(queue)
        ),
    )
        .into_response()
}

fn bound_name(bound: Bound) -> &'static str {
    match bound {
        Bound::Events => "events",
        Bound::Frames => "frames",
        Bound::Duration => "duration",
    }
}

fn refused(queue: &FrameQueue, why: Refused) -> Response {
    let m = &queue.metrics;
    match why {
        Refused::Full { bound, emitting } => {
            let why = if emitting {
                format!("the queue is full (its {} limit)", bound_name(bound))
            } else {
                format!(
                    "the queue is full (its {} limit) and emission has not started: POST \
                     /start so that it drains",
                    bound_name(bound)
                )
            };
            too_many(queue, &why)
        }
        Refused::TooLarge { events, limit } => {
            m.rejected_413.fetch_add(1, Ordering::Relaxed);
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the frame has {events} events, more than the queue holds ({limit}); \
                     send smaller frames or start the backend with a larger --max-queued-events\n"
                ),
            )
        }
        Refused::TooLong { duration, limit } => {
            m.rejected_413.fetch_add(1, Ordering::Relaxed);
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the frame lasts {} s, longer than the queue holds (--max-queued-duration \
                     {} s); send shorter frames or start the backend with a larger \
                     --max-queued-duration\n",
                    duration.as_secs_f64(),
                    limit.as_secs_f64()
                ),
            )
        }
        Refused::Unavailable(reason) => {
            m.rejected_503.fetch_add(1, Ordering::Relaxed);
            text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n"))
        }
    }
}

/// Counts a request waiting for room while it lives (also if the client goes away and the
/// request is dropped).
struct Waiting<'a>(&'a FrameQueue);

impl<'a> Waiting<'a> {
    fn new(queue: &'a FrameQueue) -> Waiting<'a> {
        queue
            .metrics
            .waiting_requests
            .fetch_add(1, Ordering::Relaxed);
        Waiting(queue)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0
            .metrics
            .waiting_requests
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Queues the frame: at once if it fits; if the queue is full, with `--when-full block` and
/// emission running, once it fits (woken by [`FrameQueue::room`]), for at most
/// `--block-timeout`; else the refusal.
async fn queue_frame(state: &AppState, mut frame: Frame) -> Response {
    let queue = &state.queue;
    let events = frame.events.len();
    let deadline = tokio::time::Instant::now() + state.block_timeout;
    let mut waiting = None;
    loop {
        // Registered before looking, so room made between the look and the wait wakes it.
        let room = queue.room.notified();
        tokio::pin!(room);
        room.as_mut().enable();
        match queue.offer(&mut frame) {
            Ok(()) => return json(format!("{{\"accepted\":{events}}}")),
            Err(Refused::Full {
                emitting: true,
                bound,
            }) if state.when_full == WhenFull::Block => {
                waiting.get_or_insert_with(|| Waiting::new(queue));
                tokio::select! {
                    () = &mut room => {}
                    () = tokio::time::sleep_until(deadline) => {
                        return too_many(
                            queue,
                            &format!(
                                "the queue stayed full (its {} limit) for --block-timeout {} s",
                                bound_name(bound),
                                state.block_timeout.as_secs_f64()
                            ),
                        );
                    }
                }
            }
            Err(why) => return refused(queue, why),
        }
    }
}

/// The declared `Content-Length`, if there is a readable one.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// 413 for a body over `--max-body-bytes`. `Connection: close`, because the rest of the body
/// is not read: the connection cannot carry another request.
fn body_too_large(state: &AppState, size: Option<u64>) -> Response {
    state
        .queue
        .metrics
        .rejected_413
        .fetch_add(1, Ordering::Relaxed);
    let size = size.map(|n| format!(" ({n} bytes)")).unwrap_or_default();
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CONNECTION, "close"),
        ],
        format!(
            "the body{size} is larger than the backend takes (--max-body-bytes {}); send smaller \
             frames or start the backend with a larger --max-body-bytes\n",
            state.max_body_bytes
        ),
    )
        .into_response()
}

async fn register(State(state): State<AppState>, request: Request) -> Response {
    // Refuse from the declared length, before reading anything (see the module docs).
    let declared = content_length(request.headers());
    if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
        return body_too_large(&state, declared);
    }
    let m = &state.queue.metrics;
    let read = tokio::time::timeout(state.read_timeout, Bytes::from_request(request, &state));
    let Ok(body) = read.await else {
        m.rejected_408.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::REQUEST_TIMEOUT,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CONNECTION, "close"),
            ],
            format!(
                "the body did not arrive within --read-timeout {} s\n",
                state.read_timeout.as_secs_f64()
            ),
        )
            .into_response();
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                // A chunked body (no Content-Length) that grew past the limit.
                return body_too_large(&state, None);
            }
            m.rejected_400.fetch_add(1, Ordering::Relaxed);
            return text(status, format!("{}\n", rejection.body_text()));
        }
    };
    let frame = match parse_register(&body, &state.topics, state.max_frame_duration) {
        Ok(f) => f,
        Err(reason) => {
            m.rejected_400.fetch_add(1, Ordering::Relaxed);
            return text(StatusCode::BAD_REQUEST, format!("{reason}\n"));
        }
    };
    queue_frame(&state, frame).await
}

async fn start(State(state): State<AppState>) -> Response {
    match state.queue.start() {
        Ok(()) => json("{\"started\":true}".to_string()),
        Err(why) => refused(&state.queue, why),
    }
}

async fn stop(State(state): State<AppState>) -> Response {
    let (events, frames) = state.queue.stop();
    json(format!(
        "{{\"dropped_events\":{events},\"dropped_frames\":{frames}}}"
    ))
}

async fn health(State(state): State<AppState>) -> Response {
    let fatal = state.queue.lock().fatal.clone();
    match fatal {
        None => text(StatusCode::OK, "ok\n".to_string()),
        Some(reason) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.queue.metrics.render(),
    )
        .into_response()
}

async fn not_found(State(state): State<AppState>, uri: Uri) -> Response {
    state
        .queue
        .metrics
        .rejected_404
        .fetch_add(1, Ordering::Relaxed);
    let base = &state.base;
    text(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}; the API is POST {base}/register, POST {base}/start, POST {base}/stop, \
             GET /health, GET /metrics\n",
            uri.path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::output::OutputSpec;

    #[test]
    fn keeps_events_compact_with_their_keys() {
        let topics = Topics::new(&OutputSpec::Stdout).unwrap();
        let body = br#"{"duration": 2000000, "events": [{"caseid":"case_1", "x": [1, 2]}, {"caseid":"case_\u0032"}]}"#;
        let frame = parse_register(body, &topics, Duration::from_secs(3600)).unwrap();
        assert_eq!(frame.duration, Duration::from_secs(2));
        assert_eq!(frame.events.len(), 2);
        assert_eq!(frame.value(0), br#"{"caseid":"case_1","x":[1,2]}"#);
        assert_eq!(frame.compacted, 1);
        assert_eq!(frame.value(1), br#"{"caseid":"case_\u0032"}"#);
        assert_eq!(frame.key(1), Some(&b"case_2"[..]));
    }

    #[test]
    fn tokens_match_only_exactly() {
        assert!(same_token(b"s3cret", b"s3cret"));
        assert!(!same_token(b"s3cret", b"s3creT"));
        assert!(!same_token(b"s3cret", b"s3cre"));
        assert!(!same_token(b"s3cre", b"s3cret"));
        assert!(!same_token(b"", b"s3cret"));
        assert!(!same_token(b"s3cret\0", b"s3cret"));
    }

    #[test]
    fn explains_bad_bodies() {
        let topics = Topics::new(&OutputSpec::Stdout).unwrap();
        let bad = |body: &str| {
            parse_register(body.as_bytes(), &topics, Duration::from_secs(3600)).unwrap_err()
        };
        assert!(bad("{").contains("not a frame"));
        assert!(bad(r#"{"events": []}"#).contains("missing field `duration`"));
        assert!(bad(r#"{"duration": -1, "events": []}"#).contains("not a frame"));
        assert!(bad(r#"{"duration": 1, "events": [3]}"#).contains("event 0 is not an event"));
        let long = bad(r#"{"duration": 18446744073709551615, "events": []}"#);
        assert!(long.contains("--max-frame-duration 3600 s"), "{long}");
        let hour = br#"{"duration": 3600000000, "events": []}"#;
        assert!(parse_register(hour, &topics, Duration::from_secs(3600)).is_ok());
    }
}
