//! `http`: the load-test sink. It collects the events of the current timeframe into a frame
//! ([`crate::frame::FrameBody`], each event written by the [`Json`] record format straight into
//! the body: the backend reads every event as a JSON object) and posts it to the load backend with a [`FrameClient`] when the `loadTest`
//! simulation ends the frame ([`HttpSink::end_frame`]); [`HttpSink::start`] tells the backend
//! to begin emission. The protocol — splitting, 429 and 413 handling, retries — is the
//! client's ([`crate::frame::client`]).
//!
//! Simulations other than `loadTest` have no frames: all their events collect into one frame,
//! held in memory until the run ends, then sent in pieces.

use super::{Delivery, Sink, SinkError};
use crate::config::HttpSinkSpec;
use crate::engine::Event;
use crate::format::{EventFormat, Json};
use crate::frame::client::FrameClient;
use crate::frame::FrameBody;
use crate::time::TimestampFormat;

/// The token to send: the spec's `token`, else `DEF_BACKEND_TOKEN` (so that a secret need not
/// be written into a config file).
fn token(spec: &HttpSinkSpec) -> Option<String> {
    spec.token.clone().or_else(|| {
        std::env::var("DEF_BACKEND_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
    })
}

/// The load-test sink.
pub struct HttpSink {
    name: String,
    client: FrameClient,
    format: Json,
    frame: FrameBody,
    /// Events in frames the backend accepted.
    delivered: u64,
    /// Events handed to the sink that were never accepted (after a failure).
    failed: u64,
    /// A request failed for good: do not try again when finishing.
    broken: bool,
}

impl HttpSink {
    pub fn new(name: &str, spec: &HttpSinkSpec, timestamps: TimestampFormat) -> HttpSink {
        HttpSink {
            name: name.to_string(),
            client: FrameClient::new(&spec.url, token(spec).as_deref()),
            format: Json::new(timestamps),
            frame: FrameBody::new(spec.timeframe_ms.saturating_mul(1000)),
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

    /// Posts the collected frame and starts a new one.
    ///
    /// # Errors
    /// The backend did not take the whole frame (it refused, or did not answer).
    pub fn end_frame(&mut self) -> Result<(), SinkError> {
        if self.broken {
            return Ok(());
        }
        let sent = self.client.send(&mut self.frame);
        self.delivered += sent.accepted;
        self.failed += self.frame.len() as u64 - sent.accepted;
        self.frame.clear();
        match sent.error {
            None => Ok(()),
            Some(message) => {
                self.broken = true;
                Err(self.failed(message))
            }
        }
    }

    /// Tells the backend that emission may start (once).
    ///
    /// # Errors
    /// The backend refused `/start` or did not answer.
    pub fn start(&mut self) -> Result<(), SinkError> {
        if self.broken {
            return Ok(());
        }
        self.client.start().map_err(|message| {
            self.broken = true;
            self.failed(message)
        })
    }
}

impl Sink for HttpSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let format = &mut self.format;
        self.frame.push(|out| format.event(event, out));
        Ok(())
    }

    /// Posts a frame still open (a run stopped mid-frame, or a simulation other than
    /// `loadTest`) and makes sure emission was started.
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        let mut result = Ok(());
        if !self.frame.is_empty() {
            result = self.end_frame();
        }
        if result.is_ok() && !self.client.started() && self.delivered > 0 {
            result = self.start();
        }
        self.failed += self.frame.len() as u64;
        self.frame.clear();
        result.map(|()| Delivery {
            delivered: self.delivered,
            failed: self.failed,
            ..Delivery::default()
        })
    }
}
