//! The emitter: one thread that takes frames off the queue and emits their events, spread
//! evenly over each frame's duration, against absolute deadlines.
//!
//! Each frame is a flat [`Load`] (its events over its duration) run by a [`Pacer`] from the
//! frame's start instant, so lateness never accumulates: a late wake-up emits what is due as
//! one batch. Frames run back to back: a frame that is queued when the previous one ends starts
//! exactly at that end. If the queue ran dry (the generator is slower than real time), the next
//! frame starts when it arrives, and the gap shows as `emit_rate` below `requested_rate`.
//!
//! `/stop` abandons the frame in progress (its remaining events are counted as dropped). On
//! shutdown the emitter drains the queue (starting emission if it had not started) or, with
//! `--drop-on-stop`, drops it; a drain that outlasts `--drain-timeout` is switched to a drop
//! (by [`super::Backend::shutdown_within`]), which abandons the frame in progress too. Then it
//! flushes the output and returns its report.

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
    Frame(Frame, Instant, u64),
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
        while let Next::Frame(frame, start, generation) = self.next(previous_end) {
            match self.emit(&frame, start, generation) {
                Ok(()) => previous_end = Some(end_of(start, frame.duration)),
                Err(e) => {
                    fatal = Some(e);
                    break;
                }
            }
        }
        if let Some(reason) = &fatal {
            // Refuse new frames with the reason, and count what is queued as failed.
            let mut state = self.queue.lock();
            state.fatal = Some(reason.clone());
            let frames = state.frames.len() as u64;
            let events: u64 = state.frames.iter().map(|f| f.events.len() as u64).sum();
            state.frames.clear();
            drop(state);
            self.queue.forget(events, frames);
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
                Some(Shutdown::Drop) => {
                    let frames = state.frames.len() as u64;
                    let events: u64 = state.frames.iter().map(|f| f.events.len() as u64).sum();
                    state.frames.clear();
                    drop(state);
                    self.queue.forget(events, frames);
                    return Next::End;
                }
                Some(Shutdown::Drain) if state.frames.is_empty() => return Next::End,
                _ => {}
            }
            if state.started || state.shutdown.is_some() {
                if let Some(frame) = state.frames.pop_front() {
                    let now = Instant::now();
                    let start = match previous_end {
                        Some(end) if !waited => end,
                        _ => now,
                    };
                    return Next::Frame(frame, start, state.generation);
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

    /// Emits one frame's events over its duration from `start`.
    fn emit(&mut self, frame: &Frame, start: Instant, generation: u64) -> Result<(), String> {
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
            if self.abandoned(generation) {
                self.queue.forget(n - done, 1);
                return Ok(());
            }
            match pacer.wait(Instant::now() + NAP) {
                Wait::Due { count, now } => {
                    let since = now - start;
                    let taken = pacer.take(count.min(MAX_BATCH));
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
                    let m = &self.queue.metrics;
                    m.emitted_events.fetch_add(batch, Ordering::Relaxed);
                    m.queued_events.fetch_sub(batch, Ordering::Relaxed);
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
                    self.output.flush()?;
                    set_f64(&self.queue.metrics.lag_seconds, 0.0);
                    self.refresh(Instant::now());
                }
                Wait::Done => break,
            }
        }
        // A frame's time runs to its end, even after its last event (or with no events).
        let end = end_of(start, frame.duration);
        while Instant::now() < end {
            if self.abandoned(generation) {
                break;
            }
            std::thread::sleep((end - Instant::now()).min(NAP));
        }
        self.frames += 1;
        let m = &self.queue.metrics;
        m.emitted_frames.fetch_add(1, Ordering::Relaxed);
        m.queued_frames.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// True if `/stop` came after this frame began, or shutdown asks to drop.
    fn abandoned(&self, generation: u64) -> bool {
        let state = self.queue.lock();
        state.generation != generation || state.shutdown == Some(Shutdown::Drop)
    }
}
