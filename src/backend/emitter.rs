//! The emitter: one thread that takes frames off the queue and emits their events, spread
//! evenly over each frame's duration, against absolute deadlines.
//!
//! Each frame is a flat [`Load`] (its events over its duration) run by a [`Pacer`] from the
//! frame's start instant, so lateness never accumulates: a late wake-up emits what is due as
//! one batch. Frames run back to back: a frame that is queued when the previous one ends starts
//! exactly at that end. If the queue ran dry (the generator is slower than real time), the next
//! frame starts when it arrives, and the gap shows as `emit_rate` below `requested_rate`.
//!
//! `/stop` abandons the frame in progress at once: it counts the events not yet emitted as
//! dropped, and the emitter, which reserves every batch before writing it
//! ([`FrameQueue::reserve`]), emits none of them; the next frame then starts when it comes, not
//! when the stopped one would have ended. On shutdown the emitter drains the queue (starting
//! emission if it had not started) or, with `--drop-on-stop`, drops it; a drain that outlasts
//! `--drain-timeout` is switched to a drop (by [`super::Backend::shutdown_within`]), which
//! abandons the frame in progress too. Then it flushes the output and returns its report.

use super::metrics::set_f64;
use super::output::Output;
use super::queue::{Frame, FrameQueue, Shutdown};
use crate::config::{LoadSpec, RateStep};
use crate::pacing::{Lateness, LatenessSummary, Load, Pacer, Wait};
use crate::sink::Delivery;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest the emitter waits without looking at `/stop` and shutdown.
const NAP: Duration = Duration::from_millis(50);
/// The most events emitted between two looks.
const MAX_BATCH: u64 = 8192;
/// Line outputs are flushed at least this often while events flow.
const FLUSH_EVERY: Duration = Duration::from_millis(5);
/// How often `emit_rate` and the delivery counters are refreshed.
const RATE_EVERY: Duration = Duration::from_secs(1);

/// The instant `duration` after `start`, saturating: frames are bounded by
/// `--max-frame-duration`, but no duration may make this panic.
fn end_of(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(Duration::from_secs(u32::MAX.into())))
        .unwrap_or(start)
}

/// What the emitter did, when it ends.
#[derive(Clone, Debug, Default)]
pub struct EmitReport {
    pub emitted: u64,
    pub frames: u64,
    pub output: Delivery,
    /// Lateness of emission against each event's deadline.
    pub lateness: LatenessSummary,
    /// Set if the output failed and emission stopped early.
    pub fatal: Option<String>,
}

/// Where the next frame comes from, and why emission ends.
enum Next {
    /// A frame, with its start: the previous frame's end if it was queued in time, else now.
    Frame(Frame, Instant),
    End,
}

pub struct Emitter {
    queue: Arc<FrameQueue>,
    output: Output,
    lateness: Lateness,
    emitted: u64,
    frames: u64,
    last_flush: Instant,
    rate_at: Instant,
    rate_count: u64,
}

impl Emitter {
    pub fn new(queue: Arc<FrameQueue>, output: Output) -> Emitter {
        let now = Instant::now();
        Emitter {
            queue,
            output,
            lateness: Lateness::new(),
            emitted: 0,
            frames: 0,
            last_flush: now,
            rate_at: now,
            rate_count: 0,
        }
    }

    /// Runs until shutdown.
    pub fn run(mut self) -> EmitReport {
        let mut previous_end: Option<Instant> = None;
        let mut fatal = None;
        while let Next::Frame(frame, start) = self.next(previous_end) {
            match self.emit(&frame, start) {
                // A frame that ran to its end is followed at once; after an abandoned one the
                // next starts when it is taken.
                Ok(true) => previous_end = Some(end_of(start, frame.duration)),
                Ok(false) => previous_end = None,
                Err(e) => {
                    fatal = Some(e);
                    break;
                }
            }
        }
        if let Some(reason) = &fatal {
            // Refuse new frames with the reason, and drop what is queued.
            self.queue.fail(reason.clone());
        }
        let _ = self.output.flush();
        let output = self.output.finish();
        let m = &self.queue.metrics;
        m.delivered_events
            .store(output.delivered, Ordering::Relaxed);
        m.failed_events.store(output.failed, Ordering::Relaxed);
        EmitReport {
            emitted: self.emitted,
            frames: self.frames,
            output,
            lateness: self.lateness.summary(),
            fatal,
        }
    }

    /// Waits for the next frame to emit.
    fn next(&mut self, previous_end: Option<Instant>) -> Next {
        let mut waited = false;
        let mut state = self.queue.lock();
        loop {
            match state.shutdown {
                // The queue was dropped by `FrameQueue::shutdown`.
                Some(Shutdown::Drop) => return Next::End,
                Some(Shutdown::Drain) if state.frames.is_empty() => return Next::End,
                _ => {}
            }
            if state.started || state.shutdown.is_some() {
                if let Some(frame) = self.queue.begin(&mut state) {
                    let now = Instant::now();
                    let start = match previous_end {
                        Some(end) if !waited => end,
                        _ => now,
                    };
                    return Next::Frame(frame, start);
                }
            }
            drop(state);
            // Nothing to do: keep the output's delivery reports served and the gauges true.
            self.idle();
            waited = true;
            state = self.queue.lock();
            if state.frames.is_empty() || !(state.started || state.shutdown.is_some()) {
                state = match self.queue.wake.wait_timeout(state, NAP) {
                    Ok((s, _)) => s,
                    Err(e) => e.into_inner().0,
                };
            }
        }
    }

    fn idle(&mut self) {
        let _ = self.output.flush();
        let m = &self.queue.metrics;
        set_f64(&m.lag_seconds, 0.0);
        set_f64(&m.requested_rate, 0.0);
        self.refresh(Instant::now());
    }

    /// Refreshes `emit_rate` and the delivery counters once a second.
    fn refresh(&mut self, now: Instant) {
        if now < self.rate_at + RATE_EVERY {
            return;
        }
        let m = &self.queue.metrics;
        let secs = (now - self.rate_at).as_secs_f64();
        set_f64(&m.emit_rate, (self.emitted - self.rate_count) as f64 / secs);
        (self.rate_at, self.rate_count) = (now, self.emitted);
        let (delivered, failed) = self.output.progress();
        m.delivered_events.store(delivered, Ordering::Relaxed);
        m.failed_events.store(failed, Ordering::Relaxed);
    }

    /// Emits one frame's events over its duration from `start`: true if it ran to its end,
    /// false if it was abandoned (`/stop`, a dropping shutdown).
    fn emit(&mut self, frame: &Frame, start: Instant) -> Result<bool, String> {
        let n = frame.events.len() as u64;
        let secs = frame.duration.as_secs_f64();
        let m = &self.queue.metrics;
        set_f64(
            &m.requested_rate,
            if secs > 0.0 { n as f64 / secs } else { 0.0 },
        );
        // A frame of duration 0 is all due (within a nanosecond) at its start.
        let span = secs.max(1e-9);
        let load = Load::new(&LoadSpec::Steps {
            steps: vec![RateStep {
                rate: n as f64 / span,
                seconds: span,
            }],
            repeat: false,
        });
        let mut pacer = Pacer::new(load, start).limit_events(n);
        let mut done = 0u64;
        loop {
            match pacer.wait(Instant::now() + NAP) {
                Wait::Due { count, now } => {
                    let count = count.min(MAX_BATCH);
                    // What `/stop` counted as dropped is never written.
                    if !self.queue.reserve(count) {
                        return Ok(false);
                    }
                    let since = now - start;
                    let taken = pacer.take(count);
                    let first = taken.start;
                    let lag = pacer
                        .deadline(first)
                        .map(|d| since.saturating_sub(d))
                        .unwrap_or_default();
                    set_f64(&self.queue.metrics.lag_seconds, lag.as_secs_f64());
                    for k in taken {
                        let deadline = pacer.deadline(k).unwrap_or(since);
                        self.lateness.record(since.saturating_sub(deadline));
                        self.output.write(frame, (k - 1) as usize)?;
                    }
                    let batch = pacer.taken() - done;
                    done = pacer.taken();
                    self.emitted += batch;
                    self.queue.emitted(batch);
                    let now = Instant::now();
                    let next = pacer.deadline(done + 1).map(|d| end_of(start, d));
                    if next.is_none_or(|t| t > now + FLUSH_EVERY)
                        || now >= self.last_flush + FLUSH_EVERY
                    {
                        self.output.flush()?;
                        self.last_flush = now;
                    }
                    self.refresh(now);
                }
                Wait::Idle => {
                    if self.abandoned() {
                        return Ok(false);
                    }
                    self.output.flush()?;
                    set_f64(&self.queue.metrics.lag_seconds, 0.0);
                    self.refresh(Instant::now());
                }
                Wait::Done => break,
            }
        }
        // A frame's time runs to its end, even after its last event (or with no events);
        // `/stop` and shutdown wake the wait.
        let end = end_of(start, frame.duration);
        let mut state = self.queue.lock();
        loop {
            let now = Instant::now();
            if state.current.is_none() {
                return Ok(false);
            }
            if now >= end {
                break;
            }
            state = match self.queue.wake.wait_timeout(state, (end - now).min(NAP)) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
        drop(state);
        if !self.queue.end_current() {
            return Ok(false);
        }
        self.frames += 1;
        Ok(true)
    }

    /// True if `/stop` or a dropping shutdown ended the current frame.
    fn abandoned(&self) -> bool {
        self.queue.lock().current.is_none()
    }
}
