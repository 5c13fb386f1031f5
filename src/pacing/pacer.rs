//! The real-time pacer: absolute deadlines, batches at high rates, precise sleeps at low ones.
//!
//! Every deadline is measured from one start instant (`start + deadline(n)`), never from the
//! previous emission, so a late wake-up delays only the events it touches: error never
//! accumulates, and a run that fell behind catches up by emitting what is due in batches.
//!
//! Waiting: when the next deadline is far (more than [`PacerConfig::spin_above`]), the pacer
//! sleeps until [`PacerConfig::spin`] before it and spins (with a CPU hint) the rest, so
//! low rates are emitted within microseconds of their deadlines. When it is near, the pacer
//! just sleeps, at least [`PacerConfig::min_sleep`]; everything due by the time it wakes goes
//! out as one batch. So the pacer never busy-waits for long, whatever the rate, and wakes at
//! most a few thousand times a second. No sleep is longer than the caller's `wake_by`, so the
//! caller can check a stop flag and print status.
//!
//! The pacer knows nothing about events or sinks: the load backend reuses it to spread each
//! timeframe's events over its duration.

use super::Schedule;
use std::time::{Duration, Instant};

/// How the pacer waits.
#[derive(Clone, Copy, Debug)]
pub struct PacerConfig {
    /// Spin (instead of sleeping) for at most this long before a deadline.
    pub spin: Duration,
    /// Spin only when the next deadline is at least this far: below it, rates are high
    /// enough that batching by plain sleeps is cheaper and just as exact over time.
    pub spin_above: Duration,
    /// Never sleep shorter than this: at high rates a wake-up costs more than the events it
    /// serves, so the events due within this time go out together in one batch.
    pub min_sleep: Duration,
}

impl Default for PacerConfig {
    fn default() -> PacerConfig {
        // Linux wakes a sleeping thread up to about 50 µs late (the default timer slack); a
        // spin of that order takes up the slack, and only at rates below 2,000/s. A wake-up
        // costs some 10 µs of CPU on a busy machine, so at most 4,000 of them a second keep
        // the pacer's own cost under 5% of a core at any rate.
        PacerConfig {
            spin: Duration::from_micros(60),
            spin_above: Duration::from_micros(500),
            min_sleep: Duration::from_micros(250),
        }
    }
}

/// What [`Pacer::wait`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `count` events are due and not yet taken, as of `now`.
    Due { count: u64, now: Instant },
    /// Nothing became due before `wake_by`.
    Idle,
    /// Every event of the schedule (or up to the limit) was taken and its time is over.
    Done,
}

/// Paces a [`Schedule`] in real time from a start instant.
///
/// ```
/// use def::pacing::{Load, Pacer, Wait};
/// use std::time::{Duration, Instant};
///
/// // 1,000 events per second, at most 20 of them.
/// let mut pacer = Pacer::new(Load::constant(1000.0), Instant::now()).limit_events(20);
/// let mut sent = 0;
/// loop {
///     match pacer.wait(Instant::now() + Duration::from_millis(100)) {
///         Wait::Due { count, .. } => sent += pacer.take(count).count(),
///         Wait::Idle => {}
///         Wait::Done => break,
///     }
/// }
/// assert_eq!(sent, 20);
/// ```
pub struct Pacer<S> {
    /// Asked "how many are due by now": a cursor moving with time.
    times: S,
    /// Asked "when is event n due": a cursor moving with the events taken.
    events: S,
    start: Instant,
    config: PacerConfig,
    taken: u64,
    /// Never more events than this (the schedule's own total, `--max-events`, a duration).
    limit: u64,
    /// True when `limit` comes from an event count rather than the end of time.
    limit_is_count: bool,
    /// When the run is over even if no more events are due.
    end: Option<Duration>,
}

impl<S: Schedule + Clone> Pacer<S> {
    /// A pacer whose time 0 is `start`.
    pub fn new(schedule: S, start: Instant) -> Pacer<S> {
        let end = schedule.end().map(secs);
        let mut pacer = Pacer {
            events: schedule.clone(),
            times: schedule,
            start,
            config: PacerConfig::default(),
            taken: 0,
            limit: u64::MAX,
            limit_is_count: false,
            end: None,
        };
        if let Some(end) = end {
            pacer = pacer.until(end);
        }
        pacer
    }

    /// Waits this way instead of the default.
    pub fn config(mut self, config: PacerConfig) -> Pacer<S> {
        self.config = config;
        self
    }

    /// Stops after `n` events: the pacer is done the moment the `n`th is taken.
    pub fn limit_events(mut self, n: u64) -> Pacer<S> {
        if n <= self.limit {
            self.limit = n;
            self.limit_is_count = true;
        }
        self
    }

    /// Ends at `end` after the start: events due after it are never due, and the pacer is done
    /// once the events due by then are taken and the time has come.
    pub fn until(mut self, end: Duration) -> Pacer<S> {
        let end = self.end.map_or(end, |e| e.min(end));
        self.end = Some(end);
        let total = self.times.clone().due_by(end.as_secs_f64());
        if total < self.limit {
            self.limit = total;
            self.limit_is_count = false;
        }
        self
    }

    /// The instant of time 0.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Events taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// When the run ends at the latest (a duration, or the end of a finite schedule).
    pub fn end(&self) -> Option<Duration> {
        self.end
    }

    /// The most events this run will have (`u64::MAX` if unbounded).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Events the schedule called for by `now` (within the limit).
    pub fn due_total(&mut self, now: Instant) -> u64 {
        let t = now.saturating_duration_since(self.start).as_secs_f64();
        self.times.due_by(t).min(self.limit)
    }

    /// Events due by `now` and not yet taken: how far behind the schedule we are.
    pub fn behind(&mut self, now: Instant) -> u64 {
        self.due_total(now).saturating_sub(self.taken)
    }

    /// When event `n` (counting from 1) is due, relative to the start.
    pub fn deadline(&mut self, n: u64) -> Option<Duration> {
        self.events.deadline(n).map(secs)
    }

    /// Marks `count` events as taken and returns their numbers (counting from 1).
    pub fn take(&mut self, count: u64) -> std::ops::Range<u64> {
        let count = count.min(self.limit - self.taken);
        let first = self.taken + 1;
        self.taken += count;
        first..first + count
    }

    /// Waits until at least one event is due, the run is done, or `wake_by` comes.
    pub fn wait(&mut self, wake_by: Instant) -> Wait {
        loop {
            let now = Instant::now();
            let count = self.behind(now);
            if count > 0 {
                return Wait::Due { count, now };
            }
            if self.taken >= self.limit
                && (self.limit_is_count || self.end.is_none_or(|e| self.reached(now, e)))
            {
                return Wait::Done;
            }
            if now >= wake_by {
                return Wait::Idle;
            }
            // A deadline too far to be an `Instant` (a rate of 1e-20/s) is as good as never:
            // sleep until `wake_by` and let the caller look at its stop flag.
            let next = if self.taken < self.limit {
                self.deadline(self.taken + 1)
                    .and_then(|d| self.start.checked_add(d))
            } else {
                self.end.and_then(|e| self.start.checked_add(e))
            };
            let target = next.map_or(wake_by, |t| t.min(wake_by));
            self.sleep_until(now, target);
        }
    }

    /// True once `now` is `offset` past the start (never, for an offset beyond any instant).
    fn reached(&self, now: Instant, offset: Duration) -> bool {
        self.start.checked_add(offset).is_some_and(|at| now >= at)
    }

    fn sleep_until(&self, now: Instant, target: Instant) {
        let gap = target.saturating_duration_since(now);
        if gap.is_zero() {
            // Due by the schedule's deadline but not by its count (float rounding at the
            // boundary): the next look will find it due.
            std::hint::spin_loop();
            return;
        }
        if gap < self.config.spin_above {
            std::thread::sleep(gap.max(self.config.min_sleep));
            return;
        }
        if let Some(sleep) = gap.checked_sub(self.config.spin) {
            std::thread::sleep(sleep);
        }
        // The spin is bounded: at most `spin` past the sleep, even if the sleep woke early.
        let stop_spinning = Instant::now() + self.config.spin;
        loop {
            let now = Instant::now();
            if now >= target || now >= stop_spinning {
                break;
            }
            std::hint::spin_loop();
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacing::Load;

    /// Drains a pacer, returning how many events it handed out.
    fn drain(mut pacer: Pacer<Load>) -> u64 {
        let mut n = 0;
        loop {
            match pacer.wait(Instant::now() + Duration::from_millis(50)) {
                Wait::Due { count, .. } => n += pacer.take(count).count() as u64,
                Wait::Idle => {}
                Wait::Done => return n,
            }
        }
    }

    #[test]
    fn a_start_in_the_past_makes_every_event_due_at_once() {
        let start = Instant::now() - Duration::from_secs(10);
        let mut pacer = Pacer::new(Load::constant(100.0), start).until(Duration::from_secs(5));
        match pacer.wait(Instant::now()) {
            Wait::Due { count, .. } => assert_eq!(count, 500),
            other => panic!("expected events due, got {other:?}"),
        }
        assert_eq!(pacer.take(1000), 1..501);
        assert_eq!(pacer.wait(Instant::now()), Wait::Done);
    }

    #[test]
    fn limit_events_stops_exactly() {
        let start = Instant::now() - Duration::from_secs(1);
        let pacer = Pacer::new(Load::constant(1000.0), start).limit_events(77);
        assert_eq!(drain(pacer), 77);
    }

    #[test]
    fn the_smaller_of_two_limits_wins() {
        let start = Instant::now() - Duration::from_secs(1);
        let pacer = Pacer::new(Load::constant(1000.0), start)
            .limit_events(500)
            .until(Duration::from_millis(200));
        assert_eq!(drain(pacer), 200);
    }

    #[test]
    fn a_finite_load_ends_the_pacer() {
        let spec = crate::config::LoadSpec::Trace {
            path: "t.csv".into(),
            points: crate::config::load::TracePoint::per_second(&[3.0, 4.0]),
        };
        let start = Instant::now() - Duration::from_secs(3);
        assert_eq!(drain(Pacer::new(Load::new(&spec), start)), 7);
    }

    #[test]
    fn idle_when_nothing_is_due_before_wake_by() {
        let mut pacer = Pacer::new(Load::constant(0.0), Instant::now());
        assert_eq!(
            pacer.wait(Instant::now() + Duration::from_millis(5)),
            Wait::Idle
        );
    }

    /// Hardening: a deadline beyond any `Instant` (a rate of 1e-20/s) is slept on until
    /// `wake_by`, without overflowing.
    #[test]
    fn a_deadline_past_every_instant_waits_until_wake_by() {
        let mut pacer = Pacer::new(Load::constant(1e-20), Instant::now());
        let wake_by = Instant::now() + Duration::from_millis(20);
        assert_eq!(pacer.wait(wake_by), Wait::Idle);
        assert!(Instant::now() >= wake_by);
        let mut pacer = Pacer::new(Load::constant(1e-20), Instant::now()).until(Duration::MAX);
        assert_eq!(
            pacer.wait(Instant::now() + Duration::from_millis(5)),
            Wait::Idle
        );
    }
}
