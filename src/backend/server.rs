//! The HTTP API (axum): `POST <base>/register`, `<base>/start`, `<base>/stop`, `GET /health`,
//! `GET /metrics`; anything else is 404.
//!
//! `/register` takes the original's body, `{"duration": <µs>, "events": [<event>, ...]}`
//! ([`crate::frame`] owns the wire format). The events are kept as the JSON text they arrived
//! as ([`serde_json::value::RawValue`]), made compact if they were not ([`super::json`]: a
//! pretty-printed event would be several lines); only their `caseid` (the Kafka key) and, for
//! a topic template, `node` and `group` are read.
//! Every problem with a body is an answer, never a panic: 400 with the reason for bad JSON or
//! a bad field or a frame longer than `--max-frame-duration`, 413 for a body over
//! `--max-body-bytes` or a frame over `--max-queued-events`, 429 with `Retry-After` when the
//! queue is full, 503 while shutting down.
//!
//! A body over the limit is refused from its `Content-Length` before any of it is read, and
//! the connection is closed: a client that sent `Expect: 100-continue` (the `http` sink does
//! for large frames) then gets the 413 without uploading the body at all, and a bogus length
//! gets its answer at once instead of the server waiting for bytes that never come.

use super::json;
use super::queue::{EventSlot, Frame, FrameQueue, Refused};
use super::topics::Topics;
use crate::frame;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
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
        .with_state(state)
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

fn refused(queue: &FrameQueue, why: Refused) -> Response {
    let m = &queue.metrics;
    match why {
        Refused::Full => {
            m.rejected_429.fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()),
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
                ],
                format!(
                    "the queue is full ({} events queued, limit {}); retry after {RETRY_AFTER_SECS} s\n",
                    m.queued_events.load(Ordering::Relaxed),
                    queue.max_queued_events
                ),
            )
                .into_response()
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
        Refused::Unavailable(reason) => {
            m.rejected_503.fetch_add(1, Ordering::Relaxed);
            text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n"))
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
    let body = match Bytes::from_request(request, &state).await {
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
    let events = frame.events.len();
    match state.queue.push(frame) {
        Ok(()) => json(format!("{{\"accepted\":{events}}}")),
        Err(why) => refused(&state.queue, why),
    }
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
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
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
