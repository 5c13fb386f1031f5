//! A shard's share of a schedule: the load at every instant split exactly between N shards.
//!
//! If the whole schedule has D(t) events due by time t, shard K of N has
//! `Shard::share(D(t))` = D(t) / N, plus one if K < D(t) mod N: event n of the whole schedule
//! is shard (n - 1) mod N's. The N shares add up to D(t) at every t (a form of Hermite's
//! identity), so N paced shards together follow the whole schedule's shape, tick by tick,
//! not just its total. Shard K's event m is the whole schedule's event (m - 1)·N + K + 1, and
//! is due when that one is.

use super::Schedule;
use crate::shard::Shard;

/// Shard `shard`'s part of `schedule`.
#[derive(Clone, Debug)]
pub struct Share<S> {
    schedule: S,
    shard: Shard,
}

impl<S: Schedule> Share<S> {
    /// `shard`'s part of `schedule` (all of it for [`Shard::WHOLE`]).
    pub fn new(schedule: S, shard: Shard) -> Share<S> {
        Share { schedule, shard }
    }
}

impl<S: Schedule> Schedule for Share<S> {
    #[inline]
    fn due_by(&mut self, t: f64) -> u64 {
        self.shard.share(self.schedule.due_by(t))
    }

    #[inline]
    fn deadline(&mut self, n: u64) -> Option<f64> {
        self.schedule.deadline(self.shard.global(n))
    }

    fn end(&self) -> Option<f64> {
        self.schedule.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LoadSpec;
    use crate::pacing::Load;

    /// A shaped load, with rates that make fractional counts.
    fn sinus() -> LoadSpec {
        LoadSpec::Sinus {
            mean: 37.0,
            amplitude: 30.0,
            phase: 7.0,
        }
    }

    fn shards(n: u64) -> Vec<Share<Load>> {
        (0..n)
            .map(|k| Share::new(Load::new(&sinus()), Shard::new(k, n).unwrap()))
            .collect()
    }

    #[test]
    fn the_shares_add_up_to_the_whole_at_every_instant() {
        let mut whole = Load::new(&sinus());
        let mut parts = shards(3);
        for i in 0..2000 {
            let t = i as f64 * 0.0137;
            let sum: u64 = parts.iter_mut().map(|p| p.due_by(t)).sum();
            assert_eq!(sum, whole.due_by(t), "t {t}");
        }
    }

    #[test]
    fn a_shards_deadlines_are_its_events_of_the_whole_schedule() {
        let mut parts = shards(3);
        for (k, part) in parts.iter_mut().enumerate() {
            // A schedule's cursors move forward only: a fresh one per shard.
            let mut whole = Load::new(&sinus());
            for m in 1..200u64 {
                let n = (m - 1) * 3 + k as u64 + 1;
                assert_eq!(part.deadline(m), whole.deadline(n));
                // Its count reaches m at its deadline (within the float slack of a deadline).
                let at = part.deadline(m).unwrap();
                assert!(part.clone().due_by(at + 1e-4) >= m, "k {k} m {m}");
                assert!(part.clone().due_by(at - 1e-2) < m, "k {k} m {m}");
            }
        }
    }
}
