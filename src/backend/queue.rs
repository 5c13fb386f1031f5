//! The bounded frame queue between the HTTP server (which parses and pushes frames) and the
//! emitter (which pops and paces them), and the state both sides look at.
//!
//! A frame keeps its events as they arrived: the raw JSON text of every event, one after the
//! other in one buffer, with each event's range, its Kafka key (the `caseid`) and its topic.
//! So a frame is two allocations, however many events it holds, and an event goes out byte for
//! byte as the generator sent it (made compact first if it was not: see [`super::json`]).
//!
//! The bound is on events: [`FrameQueue::push`] refuses a frame that would take the queued events
//! past the limit (the server answers 429), so memory stays bounded however fast frames come.

use super::metrics::Metrics;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// One event of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSlot {
    /// The event's JSON text in [`Frame::data`].
    pub value: Range<usize>,
    /// The case id (the Kafka key) in [`Frame::data`], if the event has a string `caseid`.
    pub key: Option<Range<usize>>,
    /// Index of the event's Kafka topic (0 for other outputs).
    pub topic: u32,
}

/// A timeframe: events to spread evenly over `duration`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub duration: Duration,
    pub data: Vec<u8>,
    pub events: Vec<EventSlot>,
    /// How many of the events arrived with whitespace and were made compact.
    pub compacted: u64,
}

impl Frame {
    pub fn value(&self, i: usize) -> &[u8] {
        &self.data[self.events[i].value.clone()]
    }

    pub fn key(&self, i: usize) -> Option<&[u8]> {
        self.events[i].key.clone().map(|k| &self.data[k])
    }
}

/// How the backend is to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Emit everything queued (starting emission if it had not started), then end.
    Drain,
    /// Drop what is queued (and the rest of the frame being emitted), count it, end.
    Drop,
}

/// What the queue's lock guards.
#[derive(Default)]
pub struct QueueState {
    pub frames: VecDeque<Frame>,
    /// True from `/start` until `/stop`.
    pub started: bool,
    /// Bumped by `/stop`: the emitter abandons a frame begun under an older number.
    pub generation: u64,
    pub shutdown: Option<Shutdown>,
    /// Set when the output failed for good; the server then refuses frames with this reason.
    pub fatal: Option<String>,
}

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// More events than the queue may ever hold.
    TooLarge { events: usize, limit: u64 },
    /// Not now: the queue is full.
    Full,
    /// The backend is shutting down or its output failed.
    Unavailable(String),
}

/// The queue of frames with the state around it: pushed by the server, popped by the
/// emitter, and the metrics both keep.
pub struct FrameQueue {
    pub state: Mutex<QueueState>,
    /// Signalled when a frame arrives, emission starts or stops, or shutdown begins.
    pub wake: Condvar,
    pub metrics: Metrics,
    pub max_queued_events: u64,
}

impl FrameQueue {
    pub fn new(max_queued_events: u64) -> FrameQueue {
        FrameQueue {
            state: Mutex::new(QueueState::default()),
            wake: Condvar::new(),
            metrics: Metrics::default(),
            max_queued_events,
        }
    }

    /// The queue state. A panic while the lock was held cannot leave it half-changed (every
    /// change is one assignment or one push/pop), so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame if it fits.
    pub fn push(&self, frame: Frame) -> Result<(), Refused> {
        let n = frame.events.len() as u64;
        if n > self.max_queued_events {
            return Err(Refused::TooLarge {
                events: frame.events.len(),
                limit: self.max_queued_events,
            });
        }
        let mut state = self.lock();
        if let Some(reason) = &state.fatal {
            return Err(Refused::Unavailable(reason.clone()));
        }
        if state.shutdown.is_some() {
            return Err(Refused::Unavailable("the backend is shutting down".into()));
        }
        let queued = self.metrics.queued_events.load(Ordering::Relaxed);
        if queued + n > self.max_queued_events {
            return Err(Refused::Full);
        }
        self.metrics
            .compacted_events
            .fetch_add(frame.compacted, Ordering::Relaxed);
        state.frames.push_back(frame);
        self.metrics.queued_events.fetch_add(n, Ordering::Relaxed);
        self.metrics.queued_frames.fetch_add(1, Ordering::Relaxed);
        self.metrics.received_events.fetch_add(n, Ordering::Relaxed);
        self.metrics.received_frames.fetch_add(1, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
        Ok(())
    }

    /// `/start`.
    pub fn start(&self) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.shutdown.is_some() {
            return Err(Refused::Unavailable("the backend is shutting down".into()));
        }
        state.started = true;
        self.metrics.started.store(1, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
        Ok(())
    }

    /// `/stop`: ends emission, drops the queued frames and returns how many events and
    /// frames that were (the rest of the frame being emitted is counted by the emitter).
    pub fn stop(&self) -> (u64, u64) {
        let mut state = self.lock();
        state.started = false;
        state.generation += 1;
        let frames = state.frames.len() as u64;
        let events: u64 = state.frames.iter().map(|f| f.events.len() as u64).sum();
        state.frames.clear();
        self.metrics.started.store(0, Ordering::Relaxed);
        self.forget(events, frames);
        drop(state);
        self.wake.notify_all();
        (events, frames)
    }

    /// Counts queued events as dropped.
    pub fn forget(&self, events: u64, frames: u64) {
        let m = &self.metrics;
        m.queued_events.fetch_sub(events, Ordering::Relaxed);
        m.queued_frames.fetch_sub(frames, Ordering::Relaxed);
        m.dropped_events.fetch_add(events, Ordering::Relaxed);
    }

    /// Begins shutdown; the emitter drains or drops, then ends.
    pub fn shutdown(&self, how: Shutdown) {
        let mut state = self.lock();
        state.shutdown = Some(how);
        drop(state);
        self.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Frame {
        Frame {
            duration: Duration::from_secs(1),
            data: b"{}".to_vec(),
            events: vec![
                EventSlot {
                    value: 0..2,
                    key: None,
                    topic: 0
                };
                n
            ],
            compacted: 0,
        }
    }

    #[test]
    fn refuses_frames_past_the_event_limit_and_counts_drops() {
        let queue = FrameQueue::new(10);
        assert_eq!(queue.push(frame(6)), Ok(()));
        assert_eq!(queue.push(frame(5)), Err(Refused::Full));
        assert_eq!(queue.push(frame(4)), Ok(()));
        assert_eq!(
            queue.push(frame(11)),
            Err(Refused::TooLarge {
                events: 11,
                limit: 10
            })
        );
        assert_eq!(queue.stop(), (10, 2));
        assert_eq!(queue.metrics.queued_events.load(Ordering::Relaxed), 0);
        assert_eq!(queue.metrics.dropped_events.load(Ordering::Relaxed), 10);
        assert_eq!(queue.push(frame(10)), Ok(()));
        queue.shutdown(Shutdown::Drain);
        assert!(matches!(queue.push(frame(0)), Err(Refused::Unavailable(_))));
    }
}
