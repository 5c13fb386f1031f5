//! The bounded frame queue between the HTTP server (which parses and pushes frames) and the
//! emitter (which pops and paces them), and the state both sides look at.
//!
//! A frame keeps its events as they arrived: the raw JSON text of every event, one after the
//! other in one buffer, with each event's range, its Kafka key (the `caseid`) and its topic.
//! So a frame is two allocations, however many events it holds, and an event goes out byte for
//! byte as the generator sent it (made compact first if it was not: see [`super::json`]).
//!
//! Three bounds keep memory and the backlog bounded however fast frames come ([`Limits`]):
//! queued events, queued frames (empty frames cost memory too), and queued duration (the time
//! the queued frames take to emit). [`FrameQueue::push`] refuses a frame that would take any of
//! them past its limit; the server then answers 429 or waits for room (`--when-full`), woken
//! by [`FrameQueue::room`] whenever the emitter, `/stop` or a shutdown frees some.
//!
//! The frame being emitted counts as queued until it ends. Its events not yet emitted are
//! tracked in one atomic, from which the emitter reserves each batch before writing it, and
//! which `/stop` empties: so `/stop` ends the frame at once and its answer counts exactly the
//! events that will not be emitted, however far the emitter got.

use super::metrics::Metrics;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The queue's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events queued (including those of the frame being emitted not yet emitted).
    pub events: u64,
    /// Frames queued (including the one being emitted).
    pub frames: u64,
    /// The queued frames' durations added up (the time they take to emit).
    pub duration: Duration,
}

pub const DEFAULT_MAX_QUEUED_EVENTS: u64 = 1_000_000;
pub const DEFAULT_MAX_QUEUED_FRAMES: u64 = 100_000;
/// One day of frames.
pub const DEFAULT_MAX_QUEUED_DURATION: Duration = Duration::from_secs(86_400);

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            events: DEFAULT_MAX_QUEUED_EVENTS,
            frames: DEFAULT_MAX_QUEUED_FRAMES,
            duration: DEFAULT_MAX_QUEUED_DURATION,
        }
    }
}

/// Which bound a full queue hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Events,
    Frames,
    Duration,
}

/// The frame being emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub events: u64,
    pub duration: Duration,
}

/// What the queue's lock guards.
#[derive(Default)]
pub struct QueueState {
    pub frames: VecDeque<Frame>,
    /// The frame being emitted, from the emitter taking it until it ends or is abandoned
    /// (`/stop`, a dropping shutdown): then `None`, which is how the emitter learns it.
    pub current: Option<Current>,
    /// The queued frames' durations added up, the current frame's included.
    pub queued_duration: Duration,
    /// True from `/start` until `/stop`.
    pub started: bool,
    pub shutdown: Option<Shutdown>,
    /// Set when the output failed for good; the server then refuses frames with this reason.
    pub fatal: Option<String>,
}

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// More events than the queue may ever hold.
    TooLarge { events: usize, limit: u64 },
    /// Longer than the queue may ever hold.
    TooLong { duration: Duration, limit: Duration },
    /// Not now: the queue is full (`bound` says which limit the frame would pass). `emitting`
    /// says whether the queue drains at all: before `/start` it does not, so waiting for room
    /// would be in vain.
    Full { bound: Bound, emitting: bool },
    /// The backend is shutting down or its output failed.
    Unavailable(String),
}

/// The queue of frames with the state around it: pushed by the server, popped by the
/// emitter, and the metrics both keep.
pub struct FrameQueue {
    pub state: Mutex<QueueState>,
    /// Signalled when a frame arrives, emission starts or stops, or shutdown begins.
    pub wake: Condvar,
    /// Woken (all waiters) whenever room may have appeared or the state changed: events
    /// emitted, a frame ended, `/stop`, shutdown, failure. The server waits on it to block a
    /// `/register` until the frame fits.
    pub room: tokio::sync::Notify,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Events of the current frame not yet reserved for emission (see the module docs).
    current_left: AtomicU64,
}

impl FrameQueue {
    pub fn new(limits: Limits) -> FrameQueue {
        FrameQueue {
            state: Mutex::new(QueueState::default()),
            wake: Condvar::new(),
            room: tokio::sync::Notify::new(),
            metrics: Metrics::default(),
            limits,
            current_left: AtomicU64::new(0),
        }
    }

    /// The queue state. A panic while the lock was held cannot leave it half-changed (every
    /// change is one assignment or one push/pop), so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the requests waiting for room.
    pub fn made_room(&self) {
        self.room.notify_waiters();
    }

    /// Queues a frame if it fits.
    pub fn push(&self, frame: Frame) -> Result<(), Refused> {
        let mut frame = frame;
        self.offer(&mut frame)
    }

    /// Queues the frame if it fits, taking it (leaving an empty frame behind); if it does not,
    /// leaves it where it is, to be offered again.
    pub fn offer(&self, frame: &mut Frame) -> Result<(), Refused> {
        let n = frame.events.len() as u64;
        if n > self.limits.events {
            return Err(Refused::TooLarge {
                events: frame.events.len(),
                limit: self.limits.events,
            });
        }
        if frame.duration > self.limits.duration {
            return Err(Refused::TooLong {
                duration: frame.duration,
                limit: self.limits.duration,
            });
        }
        let mut state = self.lock();
        if let Some(reason) = &state.fatal {
            return Err(Refused::Unavailable(reason.clone()));
        }
        if state.shutdown.is_some() {
            return Err(Refused::Unavailable("the backend is shutting down".into()));
        }
        let m = &self.metrics;
        let bound = if m.queued_events.load(Ordering::Relaxed) + n > self.limits.events {
            Some(Bound::Events)
        } else if m.queued_frames.load(Ordering::Relaxed) + 1 > self.limits.frames {
            Some(Bound::Frames)
        } else if state.queued_duration + frame.duration > self.limits.duration {
            Some(Bound::Duration)
        } else {
            None
        };
        if let Some(bound) = bound {
            return Err(Refused::Full {
                bound,
                emitting: state.started,
            });
        }
        let frame = std::mem::take(frame);
        state.queued_duration += frame.duration;
        m.set_queued_duration(state.queued_duration);
        m.compacted_events
            .fetch_add(frame.compacted, Ordering::Relaxed);
        state.frames.push_back(frame);
        m.queued_events.fetch_add(n, Ordering::Relaxed);
        m.queued_frames.fetch_add(1, Ordering::Relaxed);
        m.received_events.fetch_add(n, Ordering::Relaxed);
        m.received_frames.fetch_add(1, Ordering::Relaxed);
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

    /// `/stop`: ends emission, drops the queued frames and the rest of the frame being
    /// emitted (at once), and returns how many events and frames that were, exactly.
    pub fn stop(&self) -> (u64, u64) {
        let mut state = self.lock();
        state.started = false;
        self.metrics.started.store(0, Ordering::Relaxed);
        let (events, frames) = self.drop_all(&mut state);
        drop(state);
        self.wake.notify_all();
        self.made_room();
        (events, frames)
    }

    /// Drops the queued frames and the rest of the current one, counts them as dropped, and
    /// returns (events, frames).
    fn drop_all(&self, state: &mut QueueState) -> (u64, u64) {
        let (mut events, mut frames) = self.clear(state);
        if let Some(left) = self.abandon_current(state) {
            events += left;
            frames += 1;
        }
        self.metrics
            .dropped_events
            .fetch_add(events, Ordering::Relaxed);
        (events, frames)
    }

    /// Empties the queue (not the current frame) and takes what it held off the gauges;
    /// returns (events, frames). The caller counts them (dropped, or failed).
    pub fn clear(&self, state: &mut QueueState) -> (u64, u64) {
        let frames = state.frames.len() as u64;
        let mut events = 0;
        for frame in state.frames.drain(..) {
            events += frame.events.len() as u64;
            state.queued_duration = state.queued_duration.saturating_sub(frame.duration);
        }
        let m = &self.metrics;
        m.queued_events.fetch_sub(events, Ordering::Relaxed);
        m.queued_frames.fetch_sub(frames, Ordering::Relaxed);
        m.set_queued_duration(state.queued_duration);
        (events, frames)
    }

    /// Ends the current frame where it is: takes it off the gauges and returns how many of its
    /// events will not be emitted (`None` if no frame was being emitted). The emitter finds
    /// out when it next reserves a batch or looks at [`QueueState::current`].
    pub fn abandon_current(&self, state: &mut QueueState) -> Option<u64> {
        let current = state.current.take()?;
        let left = self.current_left.swap(0, Ordering::SeqCst);
        state.queued_duration = state.queued_duration.saturating_sub(current.duration);
        let m = &self.metrics;
        m.queued_events.fetch_sub(left, Ordering::Relaxed);
        m.queued_frames.fetch_sub(1, Ordering::Relaxed);
        m.set_queued_duration(state.queued_duration);
        Some(left)
    }

    /// The emitter takes the next frame (with the lock held): it becomes the current one.
    pub fn begin(&self, state: &mut QueueState) -> Option<Frame> {
        let frame = state.frames.pop_front()?;
        let events = frame.events.len() as u64;
        self.current_left.store(events, Ordering::SeqCst);
        state.current = Some(Current {
            events,
            duration: frame.duration,
        });
        Some(frame)
    }

    /// The emitter reserves `count` events of the current frame to emit them; false if the
    /// frame was abandoned (nothing reserved then).
    pub fn reserve(&self, count: u64) -> bool {
        self.current_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(count)
            })
            .is_ok()
    }

    /// `count` reserved events were handed to the output.
    pub fn emitted(&self, count: u64) {
        let m = &self.metrics;
        m.emitted_events.fetch_add(count, Ordering::Relaxed);
        m.queued_events.fetch_sub(count, Ordering::Relaxed);
        self.made_room();
    }

    /// The current frame ran to its end; false if it had been abandoned meanwhile.
    pub fn end_current(&self) -> bool {
        let mut state = self.lock();
        let Some(current) = state.current.take() else {
            return false;
        };
        state.queued_duration = state.queued_duration.saturating_sub(current.duration);
        let m = &self.metrics;
        m.set_queued_duration(state.queued_duration);
        m.emitted_frames.fetch_add(1, Ordering::Relaxed);
        m.queued_frames.fetch_sub(1, Ordering::Relaxed);
        drop(state);
        self.made_room();
        true
    }

    /// Begins shutdown; the emitter drains or drops, then ends. A drop happens here, at once:
    /// the queue and the rest of the current frame are counted as dropped.
    pub fn shutdown(&self, how: Shutdown) {
        let mut state = self.lock();
        state.shutdown = Some(how);
        if how == Shutdown::Drop {
            self.drop_all(&mut state);
        }
        drop(state);
        self.wake.notify_all();
        self.made_room();
    }

    /// The output failed for good: refuse frames from now on with `reason`, and end emission
    /// (the queued frames are dropped and counted so; the rest of the current frame is
    /// accepted but not delivered).
    pub fn fail(&self, reason: String) {
        let mut state = self.lock();
        state.fatal = Some(reason);
        let (events, _) = self.clear(&mut state);
        self.metrics
            .dropped_events
            .fetch_add(events, Ordering::Relaxed);
        state.current = None;
        self.current_left.store(0, Ordering::SeqCst);
        state.queued_duration = Duration::ZERO;
        let m = &self.metrics;
        m.queued_events.store(0, Ordering::Relaxed);
        m.queued_frames.store(0, Ordering::Relaxed);
        m.set_queued_duration(Duration::ZERO);
        drop(state);
        self.wake.notify_all();
        self.made_room();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Frame {
        framed(n, Duration::from_secs(1))
    }

    fn framed(n: usize, duration: Duration) -> Frame {
        Frame {
            duration,
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

    fn limits(events: u64, frames: u64, secs: u64) -> Limits {
        Limits {
            events,
            frames,
            duration: Duration::from_secs(secs),
        }
    }

    fn full(bound: Bound) -> Result<(), Refused> {
        Err(Refused::Full {
            bound,
            emitting: false,
        })
    }

    #[test]
    fn refuses_frames_past_the_event_limit_and_counts_drops() {
        let queue = FrameQueue::new(limits(10, 100, 1000));
        assert_eq!(queue.push(frame(6)), Ok(()));
        assert_eq!(queue.push(frame(5)), full(Bound::Events));
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

    /// Empty frames count against the frame limit and their durations against the duration
    /// limit; a frame longer than the duration limit alone is too long, not "full".
    #[test]
    fn empty_frames_are_bounded_by_count_and_duration() {
        let queue = FrameQueue::new(limits(10, 3, 1000));
        for _ in 0..3 {
            assert_eq!(queue.push(frame(0)), Ok(()));
        }
        assert_eq!(queue.push(frame(0)), full(Bound::Frames));
        assert_eq!(queue.stop(), (0, 3));

        let queue = FrameQueue::new(limits(10, 100, 10));
        let four = Duration::from_secs(4);
        assert_eq!(queue.push(framed(0, four)), Ok(()));
        assert_eq!(queue.push(framed(0, four)), Ok(()));
        assert_eq!(queue.push(framed(0, four)), full(Bound::Duration));
        assert_eq!(queue.push(framed(0, Duration::from_secs(2))), Ok(()));
        assert_eq!(queue.lock().queued_duration, Duration::from_secs(10));
        assert_eq!(
            queue.push(framed(0, Duration::from_secs(11))),
            Err(Refused::TooLong {
                duration: Duration::from_secs(11),
                limit: Duration::from_secs(10)
            })
        );
        queue.start().unwrap();
        assert_eq!(
            queue.push(framed(0, four)),
            Err(Refused::Full {
                bound: Bound::Duration,
                emitting: true
            })
        );
    }

    /// `/stop` during a frame counts exactly the events not yet reserved, frees the frame's
    /// room at once, and the emitter can reserve nothing more of it.
    #[test]
    fn stop_ends_the_current_frame_with_exact_counts() {
        let queue = FrameQueue::new(limits(10, 100, 1000));
        queue.push(frame(5)).unwrap();
        queue.push(frame(2)).unwrap();
        let current = queue.begin(&mut queue.lock()).unwrap();
        assert_eq!(current.events.len(), 5);
        assert!(queue.reserve(2));
        queue.emitted(2);
        assert_eq!(queue.stop(), (3 + 2, 2));
        assert!(!queue.reserve(1));
        assert!(!queue.end_current());
        let m = &queue.metrics;
        assert_eq!(m.queued_events.load(Ordering::Relaxed), 0);
        assert_eq!(m.queued_frames.load(Ordering::Relaxed), 0);
        assert_eq!(m.queued_duration_us.load(Ordering::Relaxed), 0);
        assert_eq!(m.dropped_events.load(Ordering::Relaxed), 5);
        assert_eq!(m.emitted_events.load(Ordering::Relaxed), 2);

        // A frame run to its end leaves the gauges empty too.
        queue.push(frame(1)).unwrap();
        let _ = queue.begin(&mut queue.lock()).unwrap();
        assert!(queue.reserve(1));
        queue.emitted(1);
        assert!(queue.end_current());
        assert_eq!(m.queued_frames.load(Ordering::Relaxed), 0);
        assert_eq!(m.queued_duration_us.load(Ordering::Relaxed), 0);
        assert_eq!(m.emitted_frames.load(Ordering::Relaxed), 1);
    }
}
