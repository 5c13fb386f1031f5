//! Load profiles: a stream's rate over time, and how many events are due by a given time.
//!
//! A [`Load`] turns a [`LoadSpec`] into a rate function `r(t)` (events per second, `t` in
//! seconds since the start) and answers two questions for the pacer: how many events are due
//! by `t` (the floor of the integral of `r` from 0 to `t`), and when event `n` is due (the first
//! `t` at which that integral reaches `n`). Counts come from the integral, so totals are exact:
//! a tick whose rate is 100 gets exactly 100 events, however the rate is shaped inside it.
//!
//! The rate is piecewise linear. `constant` and `steps` are flat pieces. `gradual`, `sinus` and
//! `trace` have one value `R_i` per tick (one second) and are smoothed: within tick `i` the
//! rate goes linearly from a boundary value `a_i` to a midpoint value `m_i` and on to `a_{i+1}`,
//! with `a_i = min((R_{i-1} + R_i) / 2, 2 min(R_{i-1}, R_i))` (and `a_0 = R_0`) and
//! `m_i = 2 R_i - (a_i + a_{i+1}) / 2`, so the integral over the tick is exactly `R_i`, the rate
//! is continuous, never negative, and a linear ramp stays exactly linear.
//!
//! Non-repeating `steps` and `trace` are finite: the load (and so the stream) ends with them.

use crate::config::load::TracePoint;
use crate::config::{LoadSpec, RateStep};

/// Slack when turning an integral into a count, so that float rounding in a sum such as
/// `0.1 + 0.2 + ...` never loses an event a tick is owed.
const EPS: f64 = 1e-6;

/// A schedule of events over time: what [`super::Pacer`] paces.
///
/// `due_by` and `deadline` take `&mut self` so an implementation can keep a cursor: the pacer
/// asks about times and events in increasing order, which then costs O(1) per call.
pub trait Schedule {
    /// Events due by `t` seconds after the start (at least 0).
    fn due_by(&mut self, t: f64) -> u64;
    /// When event `n` (counting from 1) is due, in seconds after the start; `None` if never.
    fn deadline(&mut self, n: u64) -> Option<f64>;
    /// When the schedule ends, in seconds after the start; `None` if it never does.
    fn end(&self) -> Option<f64>;
}

/// One linear piece of the rate: from `r0` to `r1` over `len` seconds (possibly infinite).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    len: f64,
    r0: f64,
    r1: f64,
}

impl Piece {
    fn flat(len: f64, rate: f64) -> Piece {
        Piece {
            len,
            r0: rate,
            r1: rate,
        }
    }

    /// The integral from the piece's start over `x` seconds.
    fn area(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if self.r0 == self.r1 {
            return self.r0 * x;
        }
        self.r0 * x + (self.r1 - self.r0) * x * x / (2.0 * self.len)
    }

    /// The integral over the whole piece.
    fn total(&self) -> f64 {
        if self.len.is_infinite() {
            return if self.r0 > 0.0 { f64::INFINITY } else { 0.0 };
        }
        (self.r0 + self.r1) / 2.0 * self.len
    }

    /// The offset `x` at which `area(x)` reaches `target` (0 ≤ target ≤ total).
    fn offset_of(&self, target: f64) -> f64 {
        if target <= 0.0 {
            return 0.0;
        }
        if self.r0 == self.r1 {
            return target / self.r0;
        }
        // Solve s/2 x² + r0 x = target with s the slope; this form of the root stays accurate
        // whichever sign the slope has.
        let slope = (self.r1 - self.r0) / self.len;
        let disc = (self.r0 * self.r0 + 2.0 * slope * target).max(0.0);
        let denom = self.r0 + disc.sqrt();
        if denom <= 0.0 {
            return self.len;
        }
        (2.0 * target / denom).min(self.len)
    }
}

/// The shape of a load, as pieces numbered from 0.
#[derive(Clone, Debug)]
enum Shape {
    /// One infinite flat piece.
    Constant(f64),
    /// Per-tick values, smoothed; `ticks(i)` for `i < len`, then `tail` forever (gradual), or
    /// the end of the load (trace, when `tail` is `None`).
    Ticks {
        values: TickValues,
        len: u64,
        tail: Option<f64>,
    },
    /// Flat steps, optionally repeating.
    Steps { steps: Vec<RateStep>, repeat: bool },
}

/// Where per-tick values come from.
#[derive(Clone, Debug)]
enum TickValues {
    Gradual {
        ticks: u64,
        minimal: f64,
        load: f64,
    },
    Sinus {
        mean: f64,
        amplitude: f64,
        phase: f64,
    },
    /// A trace's rows: each rate holds from its second until the next row's.
    Trace(Vec<TracePoint>),
}

impl TickValues {
    fn at(&self, i: u64) -> f64 {
        match self {
            TickValues::Gradual {
                ticks,
                minimal,
                load,
            } => {
                if i >= *ticks {
                    *load
                } else {
                    minimal + (load - minimal) * i as f64 / *ticks as f64
                }
            }
            TickValues::Sinus {
                mean,
                amplitude,
                phase,
            } => (amplitude * (i as f64 * std::f64::consts::PI / phase).sin() + mean).max(0.0),
            TickValues::Trace(points) => {
                // The last row at or before second i; before the first row the rate is 0.
                let after = points.partition_point(|p| p.second <= i);
                after.checked_sub(1).map_or(0.0, |k| points[k].rate)
            }
        }
    }
}

/// The rate at the boundary between two ticks: the mean of their values, but at most twice
/// the smaller one, so the midpoints on either side never have to go below zero.
fn boundary(before: f64, after: f64) -> f64 {
    ((before + after) / 2.0).min(2.0 * before.min(after))
}

impl Shape {
    /// The integral over the whole shape (infinite if it never ends and has a positive rate).
    fn total(&self) -> f64 {
        match self {
            Shape::Constant(rate) => {
                if *rate > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            }
            Shape::Steps { steps, repeat } => {
                let cycle: f64 = steps.iter().map(|s| s.rate * s.seconds).sum();
                if *repeat && cycle > 0.0 {
                    f64::INFINITY
                } else {
                    cycle
                }
            }
            Shape::Ticks { values, len, tail } => {
                if tail.is_some_and(|r| r > 0.0) {
                    return f64::INFINITY;
                }
                // Smoothing keeps each tick's integral, so the total is the sum of the values.
                match values {
                    TickValues::Gradual {
                        ticks,
                        minimal,
                        load,
                    } => {
                        let ramp = *ticks as f64 * minimal
                            + (load - minimal) * (*ticks as f64 - 1.0) / 2.0;
                        ramp.max(0.0) + load
                    }
                    TickValues::Sinus { mean, .. } => {
                        if *mean > 0.0 {
                            f64::INFINITY
                        } else {
                            0.0
                        }
                    }
                    TickValues::Trace(points) => points
                        .iter()
                        .enumerate()
                        .map(|(k, p)| {
                            let next = points.get(k + 1).map_or(*len, |n| n.second);
                            p.rate * (next - p.second) as f64
                        })
                        .sum(),
                }
            }
        }
    }

    /// Piece `k`, or `None` past the end of a finite load.
    fn piece(&self, k: u64) -> Option<Piece> {
        match self {
            Shape::Constant(rate) => (k == 0).then(|| Piece::flat(f64::INFINITY, *rate)),
            Shape::Steps { steps, repeat } => {
                let n = steps.len() as u64;
                if n == 0 || (!repeat && k >= n) {
                    return None;
                }
                let step = steps[(k % n) as usize];
                Some(Piece::flat(step.seconds, step.rate))
            }
            Shape::Ticks { values, len, tail } => {
                let tick = k / 2;
                if tick >= *len {
                    // The tail is one infinite piece, numbered right after the last tick's two.
                    let first_past = tick == *len && k % 2 == 0;
                    return tail
                        .filter(|_| first_past)
                        .map(|rate| Piece::flat(f64::INFINITY, rate));
                }
                // Beyond the last tick the value stays (the tail, or the last tick's own value
                // for a finite trace), so the rate ends flat rather than dropping to 0.
                let value = |i: u64| {
                    if i >= *len {
                        tail.unwrap_or_else(|| values.at(len - 1))
                    } else {
                        values.at(i)
                    }
                };
                let r = value(tick);
                let start = if tick == 0 {
                    r
                } else {
                    boundary(value(tick - 1), r)
                };
                let end = boundary(r, value(tick + 1));
                let mid = (2.0 * r - (start + end) / 2.0).max(0.0);
                Some(if k % 2 == 0 {
                    Piece {
                        len: 0.5,
                        r0: start,
                        r1: mid,
                    }
                } else {
                    Piece {
                        len: 0.5,
                        r0: mid,
                        r1: end,
                    }
                })
            }
        }
    }
}

/// Where the cursor stands: piece `k` starts at `start` seconds with `before` events' worth
/// of integral before it.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    k: u64,
    start: f64,
    before: f64,
    piece: Option<Piece>,
}

/// A compiled load profile: the [`Schedule`] of a stream.
///
/// ```
/// use def::config::LoadSpec;
/// use def::pacing::{Load, Schedule};
///
/// let mut load = Load::new(&LoadSpec::Gradual { tick_count: 4, minimal_load: 0.0, load: 100.0 });
/// // Ticks 0..4 have 0, 25, 50, 75 events; from tick 4 on, 100 per second.
/// let per_tick: Vec<u64> = (0..6).map(|i| load.due_by(i as f64 + 1.0) - load.due_by(i as f64)).collect();
/// assert_eq!(per_tick, [0, 25, 50, 75, 100, 100]);
/// ```
#[derive(Clone, Debug)]
pub struct Load {
    shape: Shape,
    cursor: Cursor,
    end: Option<f64>,
    /// The integral over the whole load: how many events it will ever have (infinite for most).
    /// A search for an event beyond it ends at once instead of walking pieces for ever.
    total: f64,
    /// For repeating steps: the length and integral of one cycle, to skip whole cycles.
    cycle: Option<(f64, f64)>,
}

impl Load {
    /// Compiles a load spec. Rates below zero were refused by validation; here they count as 0.
    pub fn new(spec: &LoadSpec) -> Load {
        let clean = |r: f64| if r.is_finite() { r.max(0.0) } else { 0.0 };
        // Only `steps` without repeat and `trace` end; a sinus has no tail but goes on for ever.
        let (shape, end) = match spec {
            LoadSpec::Constant { load } => (Shape::Constant(clean(*load)), None),
            LoadSpec::Gradual {
                tick_count,
                minimal_load,
                load,
            } => (
                Shape::Ticks {
                    values: TickValues::Gradual {
                        ticks: *tick_count,
                        minimal: clean(*minimal_load),
                        load: clean(*load),
                    },
                    // Tick `tick_count` is the first at the full load; it is smoothed too, so
                    // the ramp flows into the flat tail.
                    len: tick_count + 1,
                    tail: Some(clean(*load)),
                },
                None,
            ),
            LoadSpec::Sinus {
                mean,
                amplitude,
                phase,
            } => (
                Shape::Ticks {
                    values: TickValues::Sinus {
                        mean: *mean,
                        amplitude: *amplitude,
                        phase: *phase,
                    },
                    len: u64::MAX / 4,
                    tail: None,
                },
                None,
            ),
            LoadSpec::Steps { steps, repeat } => {
                let steps: Vec<RateStep> = steps
                    .iter()
                    .filter(|s| s.seconds > 0.0 && s.seconds.is_finite())
                    .map(|s| RateStep {
                        rate: clean(s.rate),
                        seconds: s.seconds,
                    })
                    .collect();
                // Repeating nothing is over at once.
                let end = if !repeat {
                    Some(steps.iter().map(|s| s.seconds).sum())
                } else if steps.is_empty() {
                    Some(0.0)
                } else {
                    None
                };
                (
                    Shape::Steps {
                        steps,
                        repeat: *repeat,
                    },
                    end,
                )
            }
            LoadSpec::Trace { points, .. } => {
                // The trace lasts until one second after its last row.
                let len = points.last().map_or(0, |p| p.second + 1);
                let points = points
                    .iter()
                    .map(|p| TracePoint {
                        second: p.second,
                        rate: clean(p.rate),
                    })
                    .collect();
                (
                    Shape::Ticks {
                        values: TickValues::Trace(points),
                        len,
                        tail: None,
                    },
                    Some(len as f64),
                )
            }
        };
        let cursor = Cursor {
            k: 0,
            start: 0.0,
            before: 0.0,
            piece: shape.piece(0),
        };
        let total = shape.total();
        let cycle = match &shape {
            Shape::Steps {
                steps,
                repeat: true,
            } if !steps.is_empty() => Some((
                steps.iter().map(|s| s.seconds).sum(),
                steps.iter().map(|s| s.rate * s.seconds).sum(),
            )),
            Shape::Steps { .. } | Shape::Constant(_) | Shape::Ticks { .. } => None,
        };
        Load {
            shape,
            cursor,
            end,
            total,
            cycle,
        }
    }

    /// A constant load of `rate` events per second.
    pub fn constant(rate: f64) -> Load {
        Load::new(&LoadSpec::Constant { load: rate })
    }

    /// The value of tick `i` (events in second `i`) as the behaviour defines it, before
    /// smoothing; 0 past the end of a finite load.
    pub fn tick_value(&self, i: u64) -> f64 {
        match &self.shape {
            Shape::Constant(r) => *r,
            Shape::Ticks { values, len, tail } => {
                if i < *len {
                    values.at(i)
                } else {
                    tail.unwrap_or(0.0)
                }
            }
            Shape::Steps { .. } => {
                let mut copy = self.clone();
                copy.integral(i as f64 + 1.0) - copy.integral(i as f64)
            }
        }
    }

    /// The rate in events per second at `t` seconds (smoothed), 0 after the end.
    pub fn rate_at(&mut self, t: f64) -> f64 {
        if !self.seek_time(t) {
            return 0.0;
        }
        match self.cursor.piece {
            Some(p) if p.len.is_finite() && p.len > 0.0 => {
                let x = (t - self.cursor.start).clamp(0.0, p.len);
                p.r0 + (p.r1 - p.r0) * x / p.len
            }
            Some(p) => p.r0,
            None => 0.0,
        }
    }

    /// The integral of the rate from 0 to `t`: events' worth due by `t`, before flooring.
    pub fn integral(&mut self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if !self.seek_time(t) {
            return self.cursor.before;
        }
        match self.cursor.piece {
            Some(p) => self.cursor.before + p.area(t - self.cursor.start),
            None => self.cursor.before,
        }
    }

    fn rewind(&mut self) {
        self.cursor = Cursor {
            k: 0,
            start: 0.0,
            before: 0.0,
            piece: self.shape.piece(0),
        };
    }

    fn advance(&mut self) -> bool {
        let Some(p) = self.cursor.piece else {
            return false;
        };
        if p.len.is_infinite() {
            return false;
        }
        self.cursor.before += p.total();
        self.cursor.start += p.len;
        self.cursor.k += 1;
        self.cursor.piece = self.shape.piece(self.cursor.k);
        true
    }

    /// For repeating steps, moves the cursor over whole cycles while more than one lies before
    /// `t` seconds (or, with `by_integral`, before that many events' worth), so a search costs
    /// at most two cycles' pieces however far it goes.
    fn skip_cycles(&mut self, t: f64, by_integral: bool) {
        let Some((length, area)) = self.cycle else {
            return;
        };
        let Shape::Steps { steps, .. } = &self.shape else {
            return;
        };
        let n = steps.len() as u64;
        if self.cursor.k % n != 0 {
            return;
        }
        let (ahead, per_cycle) = if by_integral {
            (t - self.cursor.before, area)
        } else {
            (t - self.cursor.start, length)
        };
        if per_cycle <= 0.0 || ahead <= 0.0 {
            return;
        }
        let cycles = (ahead / per_cycle).floor() - 1.0;
        if cycles < 1.0 {
            return;
        }
        // Piece numbers saturate: past 2^64 pieces only start and before matter.
        self.cursor.k = self
            .cursor
            .k
            .saturating_add((cycles as u64).saturating_mul(n))
            / n
            * n;
        self.cursor.start += cycles * length;
        self.cursor.before += cycles * area;
        self.cursor.piece = self.shape.piece(self.cursor.k);
    }

    /// For a trace, moves the cursor over the flat stretch between two rows (every tick of it
    /// has the same rate, so its pieces are flat) when `t` (or, with `by_integral`, that many
    /// events' worth) lies beyond it, so a search costs its rows, not its seconds.
    fn skip_flat_trace(&mut self, t: f64, by_integral: bool) {
        let Shape::Ticks {
            values: TickValues::Trace(points),
            len,
            ..
        } = &self.shape
        else {
            return;
        };
        let len = *len;
        if self.cursor.k % 2 != 0 {
            return;
        }
        let tick = self.cursor.k / 2;
        let rate = self.shape_value(tick);
        if tick > 0 && self.shape_value(tick - 1) != rate {
            return;
        }
        // The stretch ends where the tick before the next row begins: that tick's end is
        // smoothed toward the next row's rate.
        // After the last row the rate stays flat to the end of the trace.
        let flat_ticks = match points[points.partition_point(|p| p.second <= tick)..].first() {
            Some(next) => next.second.saturating_sub(1).saturating_sub(tick),
            None => len.saturating_sub(tick),
        };
        if flat_ticks < 2 {
            return;
        }
        let (length, area) = (flat_ticks as f64, rate * flat_ticks as f64);
        let beyond = if by_integral {
            t >= self.cursor.before + area
        } else {
            t >= self.cursor.start + length
        };
        if beyond {
            self.cursor.k += 2 * flat_ticks;
            self.cursor.start += length;
            self.cursor.before += area;
            self.cursor.piece = self.shape.piece(self.cursor.k);
        }
    }

    /// The value of tick `i` of a per-tick shape (0 for other shapes).
    fn shape_value(&self, i: u64) -> f64 {
        match &self.shape {
            Shape::Ticks { values, .. } => values.at(i),
            Shape::Constant(_) | Shape::Steps { .. } => 0.0,
        }
    }

    /// Moves the cursor to the piece containing `t`; false if `t` is past a finite end.
    fn seek_time(&mut self, t: f64) -> bool {
        if t < self.cursor.start {
            self.rewind();
        }
        self.skip_cycles(t, false);
        loop {
            match self.cursor.piece {
                None => return false,
                Some(p) if t < self.cursor.start + p.len => return true,
                Some(_) => {
                    if !self.advance() {
                        return true;
                    }
                    self.skip_flat_trace(t, false);
                }
            }
        }
    }
}

impl Schedule for Load {
    fn due_by(&mut self, t: f64) -> u64 {
        let area = self.integral(t);
        if area.is_finite() {
            (area + EPS).floor() as u64
        } else {
            u64::MAX
        }
    }

    fn deadline(&mut self, n: u64) -> Option<f64> {
        let target = (n as f64 - EPS).max(0.0);
        // Beyond every event the load will ever have: never (and no endless search for it).
        if target > self.total + EPS {
            return None;
        }
        if target < self.cursor.before {
            self.rewind();
        }
        self.skip_cycles(target, true);
        loop {
            let p = self.cursor.piece?;
            let total = p.total();
            if self.cursor.before + total >= target {
                if p.r0 == 0.0 && p.r1 == 0.0 {
                    // A zero piece reaching the target means it was already reached at its start.
                    return Some(self.cursor.start);
                }
                return Some(self.cursor.start + p.offset_of(target - self.cursor.before));
            }
            if !self.advance() {
                return None;
            }
            self.skip_flat_trace(target, true);
        }
    }

    fn end(&self) -> Option<f64> {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_tick(spec: &LoadSpec, ticks: u64) -> Vec<u64> {
        let mut load = Load::new(spec);
        (0..ticks)
            .map(|i| load.due_by(i as f64 + 1.0) - load.due_by(i as f64))
            .collect()
    }

    #[test]
    fn constant_gives_exactly_load_events_per_tick() {
        let spec = LoadSpec::Constant { load: 2000.0 };
        assert_eq!(per_tick(&spec, 5), vec![2000; 5]);
        let mut load = Load::new(&spec);
        assert_eq!(load.due_by(0.0), 0);
        assert_eq!(load.due_by(0.0005), 1);
        assert_eq!(load.due_by(3600.0), 7_200_000);
        assert_eq!(load.end(), None);
    }

    #[test]
    fn fractional_constant_rate_spreads_over_seconds() {
        // 0.5 events per second: one event every 2 seconds, at t = 2, 4, 6.
        let mut load = Load::constant(0.5);
        assert_eq!(
            per_tick(&LoadSpec::Constant { load: 0.5 }, 6),
            [0, 1, 0, 1, 0, 1]
        );
        assert_eq!(load.deadline(1), Some(2.0 - 2.0 * EPS));
        assert!((load.deadline(3).unwrap() - 6.0).abs() < 1e-5);
    }

    #[test]
    fn gradual_rises_linearly_over_tick_count_ticks_then_stays() {
        // Tick i has minimal + (load - minimal) * i / tickCount for i < tickCount, then load.
        let spec = LoadSpec::Gradual {
            tick_count: 5,
            minimal_load: 100.0,
            load: 600.0,
        };
        assert_eq!(per_tick(&spec, 8), [100, 200, 300, 400, 500, 600, 600, 600]);
    }

    #[test]
    fn gradual_smooths_within_ticks_but_keeps_the_linear_ramp_linear() {
        let spec = LoadSpec::Gradual {
            tick_count: 10,
            minimal_load: 0.0,
            load: 1000.0,
        };
        let mut load = Load::new(&spec);
        // Inside the ramp the rate is the straight line through the tick values at midpoints.
        for t in [2.5, 3.0, 3.25, 7.9] {
            let want = 100.0 * (t - 0.5);
            assert!((load.rate_at(t) - want).abs() < 1e-9, "rate at {t}");
        }
        assert_eq!(load.rate_at(50.0), 1000.0);
    }

    #[test]
    fn sinus_ticks_follow_the_formula_rounded_by_the_cumulative_floor() {
        // Tick i has amplitude * sin(i * pi / phase) + mean: with phase 2 that is
        // 100, 150, 100, 50, 100, ... and each tick gets exactly that many events.
        let spec = LoadSpec::Sinus {
            mean: 100.0,
            amplitude: 50.0,
            phase: 2.0,
        };
        assert_eq!(
            per_tick(&spec, 9),
            [100, 150, 100, 50, 100, 150, 100, 50, 100]
        );
        // Non-integer values: the counts are the floor of the running integral, so each
        // tick's count differs from its value by less than one, and the totals agree.
        let spec = LoadSpec::Sinus {
            mean: 10.0,
            amplitude: 7.0,
            phase: 3.0,
        };
        let counts = per_tick(&spec, 60);
        let load = Load::new(&spec);
        let mut sum = 0.0;
        for (i, &c) in counts.iter().enumerate() {
            let value = 7.0 * (i as f64 * std::f64::consts::PI / 3.0).sin() + 10.0;
            assert_eq!(load.tick_value(i as u64), value);
            sum += value;
            let before: u64 = counts[..=i].iter().sum();
            assert_eq!(before, (sum + EPS).floor() as u64, "tick {i}");
            assert!(
                (c as f64 - value).abs() < 1.0 + 1e-9,
                "tick {i}: {c} vs {value}"
            );
        }
    }

    #[test]
    fn sinus_goes_on_for_ever() {
        let spec = LoadSpec::Sinus {
            mean: 10.0,
            amplitude: 5.0,
            phase: 7.0,
        };
        assert_eq!(Load::new(&spec).end(), None);
    }

    #[test]
    fn sinus_rate_is_continuous_and_never_negative() {
        let spec = LoadSpec::Sinus {
            mean: 50.0,
            amplitude: 50.0,
            phase: 4.0,
        };
        let mut load = Load::new(&spec);
        let mut last = load.rate_at(0.0);
        for step in 1..4000 {
            let r = load.rate_at(step as f64 * 0.005);
            assert!(r >= 0.0);
            assert!((r - last).abs() < 2.0, "jump at {}", step as f64 * 0.005);
            last = r;
        }
    }

    #[test]
    fn steps_are_flat_and_end_unless_repeating() {
        let steps = vec![
            RateStep {
                rate: 10.0,
                seconds: 2.0,
            },
            RateStep {
                rate: 0.0,
                seconds: 1.0,
            },
            RateStep {
                rate: 30.0,
                seconds: 1.5,
            },
        ];
        let once = LoadSpec::Steps {
            steps: steps.clone(),
            repeat: false,
        };
        assert_eq!(per_tick(&once, 6), [10, 10, 0, 30, 15, 0]);
        let mut load = Load::new(&once);
        assert_eq!(load.end(), Some(4.5));
        assert_eq!(load.due_by(1e9), 65);
        assert_eq!(load.deadline(66), None);
        let repeating = LoadSpec::Steps {
            steps,
            repeat: true,
        };
        // The cycle lasts 4.5 s and has 65 events; the second cycle starts at 4.5 s, so
        // tick 4 has half a second at 30/s and half at 10/s.
        assert_eq!(per_tick(&repeating, 9), [10, 10, 0, 30, 20, 10, 5, 15, 30]);
        let mut load = Load::new(&repeating);
        assert_eq!(load.due_by(45.0), 650);
        assert_eq!(load.end(), None);
    }

    #[test]
    fn trace_replays_each_second_then_ends() {
        let spec = LoadSpec::Trace {
            path: "trace.csv".into(),
            points: crate::config::load::TracePoint::per_second(&[5.0, 20.0, 0.0, 7.0]),
        };
        assert_eq!(per_tick(&spec, 6), [5, 20, 0, 7, 0, 0]);
        let mut load = Load::new(&spec);
        assert_eq!(load.end(), Some(4.0));
        assert_eq!(load.due_by(4.0), 32);
        assert_eq!(load.deadline(33), None);
        // No event in the silent second 2..3: event 26 (the first of tick 3) comes after it.
        assert!(load.deadline(26).unwrap() >= 3.0);
        assert!(load.deadline(25).unwrap() <= 2.0);
    }

    #[test]
    fn deadlines_invert_due_by() {
        let specs = [
            LoadSpec::Constant { load: 1234.5 },
            LoadSpec::Gradual {
                tick_count: 7,
                minimal_load: 3.0,
                load: 900.0,
            },
            LoadSpec::Sinus {
                mean: 300.0,
                amplitude: 299.0,
                phase: 5.0,
            },
            LoadSpec::Trace {
                path: "t.csv".into(),
                points: crate::config::load::TracePoint::per_second(&[
                    0.0, 100.0, 1.0, 0.0, 500.0, 3.0,
                ]),
            },
        ];
        for spec in &specs {
            let mut load = Load::new(spec);
            let mut probe = Load::new(spec);
            let total = load.due_by(6.0);
            let mut last = 0.0;
            for n in 1..=total {
                let t = load.deadline(n).expect("a deadline within the run");
                assert!(t >= last, "{spec:?}: deadlines must not go back");
                last = t;
                assert!(
                    probe.due_by(t + 1e-7) >= n,
                    "{spec:?}: event {n} due at {t}"
                );
                assert!(
                    probe.due_by(t - 1e-4) < n,
                    "{spec:?}: event {n} not due before {t}"
                );
            }
        }
    }

    /// Hardening: loads that never emit answer "never" at once instead of searching for ever
    /// (a sinus of mean 0, zero steps repeating, a gradual of 0 to 0, an all-zero trace).
    #[test]
    fn a_load_that_never_emits_has_no_deadline_and_answers_at_once() {
        let never = [
            LoadSpec::Sinus {
                mean: 0.0,
                amplitude: 0.0,
                phase: 3.0,
            },
            LoadSpec::Steps {
                steps: vec![RateStep {
                    rate: 0.0,
                    seconds: 1.0,
                }],
                repeat: true,
            },
            LoadSpec::Gradual {
                tick_count: u64::MAX / 8,
                minimal_load: 0.0,
                load: 0.0,
            },
            LoadSpec::Trace {
                path: "t.csv".into(),
                points: TracePoint::per_second(&[0.0, 0.0]),
            },
            LoadSpec::Constant { load: 0.0 },
        ];
        for spec in never {
            assert!(spec.never_emits(), "{spec:?}");
            let started = std::time::Instant::now();
            let mut load = Load::new(&spec);
            assert_eq!(load.deadline(1), None, "{spec:?}");
            assert_eq!(load.due_by(1e6), 0, "{spec:?}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{spec:?}"
            );
        }
    }

    /// Hardening: repeating micro-steps are searched a cycle at a time, and stay exact.
    #[test]
    fn repeating_micro_steps_skip_whole_cycles_and_keep_exact_counts() {
        let spec = LoadSpec::Steps {
            steps: vec![
                RateStep {
                    rate: 1_000_000.0,
                    seconds: 1e-6,
                },
                RateStep {
                    rate: 0.0,
                    seconds: 1e-6,
                },
            ],
            repeat: true,
        };
        let started = std::time::Instant::now();
        let mut load = Load::new(&spec);
        // One event per two microseconds: half a million per second, a year of them.
        let year = 365.0 * 86_400.0;
        let due = load.due_by(year) as f64;
        assert!(
            (due - year * 500_000.0).abs() <= year * 500_000.0 * 1e-9,
            "{due}"
        );
        let n = 1_000_000_000_000;
        let t = load.deadline(n).unwrap();
        assert!((t - 2e6).abs() < 1e-3, "{t}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    /// Hardening: a sparse trace with a row far out costs its rows, not its seconds.
    #[test]
    fn a_sparse_trace_is_held_by_rows() {
        let points = vec![
            TracePoint {
                second: 0,
                rate: 10.0,
            },
            TracePoint {
                second: 999_999_999,
                rate: 5.0,
            },
        ];
        let mut load = Load::new(&LoadSpec::Trace {
            path: "t.csv".into(),
            points,
        });
        assert_eq!(load.end(), Some(1e9));
        assert_eq!(load.tick_value(999_999_998), 10.0);
        assert_eq!(load.tick_value(999_999_999), 5.0);
        assert_eq!(load.tick_value(1_000_000_000), 0.0);
        assert_eq!(load.due_by(3.0), 30);
    }

    /// Skipping a trace's flat stretches gives the same counts and deadlines as walking them.
    #[test]
    fn trace_flat_stretches_are_skipped_exactly() {
        let points = vec![
            TracePoint {
                second: 0,
                rate: 10.0,
            },
            TracePoint {
                second: 5,
                rate: 20.0,
            },
            TracePoint {
                second: 9,
                rate: 0.0,
            },
            TracePoint {
                second: 12,
                rate: 7.0,
            },
        ];
        let spec = LoadSpec::Trace {
            path: "t.csv".into(),
            points,
        };
        assert_eq!(
            per_tick(&spec, 14),
            [10, 10, 10, 10, 10, 20, 20, 20, 20, 0, 0, 0, 7, 0]
        );
        let total = 50 + 80 + 7;
        let mut walked = Load::new(&spec);
        let in_order: Vec<f64> = (1..=total).map(|n| walked.deadline(n).unwrap()).collect();
        for (i, want) in in_order.iter().enumerate() {
            // A fresh load jumps straight to event n.
            let got = Load::new(&spec).deadline(i as u64 + 1).unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "event {}: {got} vs {want}",
                i + 1
            );
        }
        assert!(in_order.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(Load::new(&spec).deadline(total + 1), None);
    }
}
