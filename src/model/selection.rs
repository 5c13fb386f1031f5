//! Choosing an `eventData` entry: the compiled form of a datasource's `selection`.
//!
//! Every choice is O(1). Weighted choices use Walker's alias method ([`AliasTable`]). A
//! drifting selection's distribution at selection s is the mixture `(1 - r) * start + r * end`
//! with `r = min(s / steps, 1)`; sampling a mixture is exact if we first pick the component
//! (end with probability r) and then sample that component's alias table, so drift costs one
//! extra uniform draw instead of rebuilding a table per selection.

use crate::config::SelectionSpec;
use rand::{Rng, RngExt};

/// A compiled selection.
#[derive(Clone, Debug)]
pub enum Selector {
    /// Only one entry: no randomness needed.
    Single,
    Weighted(AliasTable),
    Uniform(usize),
    /// Entries in turn, cycling.
    Ordered(usize),
    Drifting {
        start: Weights,
        end: Weights,
        steps: u64,
    },
}

/// A fixed distribution over entries, one end of a drift: a type of its own rather than a
/// boxed [`Selector`] so that [`Selector::choose`] does not recurse and inlines into the
/// engine's step.
#[derive(Clone, Debug)]
pub enum Weights {
    Alias(AliasTable),
    /// Weights that make no alias table (all zero): every entry alike.
    Uniform(usize),
}

impl Weights {
    /// The table of `distribution`, or uniform over its entries when it has none.
    fn new(distribution: &[f64]) -> Weights {
        match AliasTable::new(distribution) {
            Some(table) => Weights::Alias(table),
            None => Weights::Uniform(distribution.len().max(1)),
        }
    }

    #[inline(always)]
    fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        match self {
            Weights::Alias(table) => table.sample(rng),
            Weights::Uniform(n) => rng.random_range(0..*n),
        }
    }
}

impl Selector {
    /// Compiles a selection spec for `n` entries. The spec has been validated.
    pub fn compile(spec: &SelectionSpec, n: usize) -> Selector {
        if n == 1 {
            return Selector::Single;
        }
        match spec {
            SelectionSpec::GenericProbability { distribution } => weighted(distribution),
            SelectionSpec::Uniform => Selector::Uniform(n),
            SelectionSpec::Ordered => Selector::Ordered(n),
            SelectionSpec::DriftingProbability { start, end, steps } => Selector::Drifting {
                start: Weights::new(start),
                end: Weights::new(end),
                steps: *steps,
            },
        }
    }

    /// Picks an entry. `selection` is the 1-based number of this selection at its datasource.
    /// Inlined into the engine's step: a call here cost ~18 instructions per event.
    #[inline(always)]
    pub fn choose<R: Rng + ?Sized>(&self, selection: u64, rng: &mut R) -> usize {
        match self {
            Selector::Single => 0,
            Selector::Weighted(table) => table.sample(rng),
            Selector::Uniform(n) => rng.random_range(0..*n),
            Selector::Ordered(n) => ((selection - 1) % *n as u64) as usize,
            Selector::Drifting { start, end, steps } => {
                let take_end =
                    selection >= *steps || rng.random::<f64>() * (*steps as f64) < selection as f64;
                if take_end {
                    end.choose(rng)
                } else {
                    start.choose(rng)
                }
            }
        }
    }

    /// The probability of each of `n` entries at selection number `selection` of its
    /// datasource (counting from 1; 0 is before the first, so a drifting selection is still at
    /// its start distribution, and from `steps` on it is at its end distribution).
    ///
    /// The two ends are the configured distributions themselves, not a mixture that rounds to
    /// them, so analysis reports the numbers the config gives.
    pub fn probabilities(spec: &SelectionSpec, n: usize, selection: u64) -> Vec<f64> {
        match spec {
            SelectionSpec::GenericProbability { distribution } => distribution.clone(),
            // `ordered` cycles deterministically, but over many visits each entry is taken
            // `1/n` of the time.
            SelectionSpec::Uniform | SelectionSpec::Ordered => vec![1.0 / n.max(1) as f64; n],
            SelectionSpec::DriftingProbability { start, end, steps } => {
                if selection >= *steps {
                    end.clone()
                } else if selection == 0 {
                    start.clone()
                } else {
                    let r = selection as f64 / *steps as f64;
                    start
                        .iter()
                        .zip(end)
                        .map(|(s, e)| (1.0 - r) * s + r * e)
                        .collect()
                }
            }
        }
    }
}

fn weighted(distribution: &[f64]) -> Selector {
    match Weights::new(distribution) {
        Weights::Alias(table) => Selector::Weighted(table),
        Weights::Uniform(n) => Selector::Uniform(n),
    }
}

/// Walker's alias table sampled with a single 64-bit draw.
///
/// Written here rather than using rand_distr's `WeightedAliasIndex` for speed: that one draws a
/// bounded `u32` by rejection and a separate `f64` (12 ns per choice in `cargo bench --bench
/// engine`), while a choice is on every event's path. Here the high 32 bits of one draw pick a
/// column by multiply-shift and the low 32 bits are compared with the column's threshold. The
/// multiply-shift bias is at most n / 2^32 (under 1e-7 for 256 entries) and thresholds are
/// exact to 2^-32: far below what any statistical test of a simulation can see.
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// Per column: keep the column if the low 32 bits are below `threshold`, else take `alias`.
    /// (Packed by `pack`.)
    columns: Box<[u64]>,
}

impl AliasTable {
    /// Builds the table (Vose's method). `None` if there are no weights, more than `u32::MAX`,
    /// or they do not have a positive, finite sum.
    pub fn new(weights: &[f64]) -> Option<AliasTable> {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        if n == 0
            || n > u32::MAX as usize
            || !(total > 0.0 && total.is_finite())
            || weights.iter().any(|w| *w < 0.0)
        {
            return None;
        }
        // Scaled so the average column holds exactly 1.
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut small: Vec<usize> = (0..n).filter(|&i| scaled[i] < 1.0).collect();
        let mut large: Vec<usize> = (0..n).filter(|&i| scaled[i] >= 1.0).collect();
        let mut columns = vec![(u32::MAX, 0u32); n];
        for (i, column) in columns.iter_mut().enumerate() {
            column.1 = i as u32;
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            columns[s] = (threshold(scaled[s]), l as u32);
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left holds 1 up to rounding: such columns always keep themselves.
        for i in small.into_iter().chain(large) {
            columns[i] = (u32::MAX, i as u32);
        }
        Some(AliasTable {
            columns: columns.into_iter().map(|(k, a)| pack(k, a)).collect(),
        })
    }

    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let draw = rng.next_u64();
        let column = ((draw >> 32) * self.columns.len() as u64) >> 32;
        // One load for both halves: with the alias loaded apart, the compiler loaded it
        // only when needed, behind a branch on the compare below.
        let (keep_below, alias) = unpack(self.columns[column as usize]);
        // `u32::MAX` as threshold means "always keep": the low bits can reach it only with
        // probability 2^-32, and then the alias of such a column is the column itself, so
        // the compare alone decides. A conditional move, not a branch (checked in the
        // machine code): the outcome is a coin toss that a branch mispredicts every few
        // events.
        (if (draw as u32) < keep_below {
            column
        } else {
            alias
        }) as usize
    }
}

/// A column as `threshold | alias << 32`.
fn pack(keep_below: u32, alias: u32) -> u64 {
    keep_below as u64 | (alias as u64) << 32
}

#[inline(always)]
fn unpack(column: u64) -> (u32, u64) {
    (column as u32, column >> 32)
}

/// A probability in [0, 1) as a 32-bit threshold.
fn threshold(p: f64) -> u32 {
    (p * 4_294_967_296.0).clamp(0.0, u32::MAX as f64 - 1.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Pearson's chi-square statistic of observed counts against expected probabilities.
    fn chi_square(counts: &[u64], probabilities: &[f64]) -> f64 {
        let total: u64 = counts.iter().sum();
        counts
            .iter()
            .zip(probabilities)
            .filter(|(_, p)| **p > 0.0)
            .map(|(&c, &p)| {
                let expected = p * total as f64;
                (c as f64 - expected).powi(2) / expected
            })
            .sum()
    }

    #[test]
    fn weighted_choices_match_the_distribution_chi_square_seed_1_n_1e6() {
        // 4 categories → 3 degrees of freedom; the 99.9% quantile of chi²(3) is 16.27.
        let p = [0.8, 0.1, 0.08, 0.02];
        let selector = Selector::compile(
            &SelectionSpec::GenericProbability {
                distribution: p.to_vec(),
            },
            4,
        );
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut counts = [0u64; 4];
        for s in 1..=1_000_000 {
            counts[selector.choose(s, &mut rng)] += 1;
        }
        let x2 = chi_square(&counts, &p);
        assert!(x2 < 16.27, "chi² = {x2}, counts = {counts:?}");
    }

    #[test]
    fn alias_table_matches_skewed_and_zero_weights_chi_square_seed_4_n_1e6() {
        let p = [0.0, 0.5, 0.001, 0.25, 0.249];
        let table = AliasTable::new(&p).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let mut counts = [0u64; 5];
        for _ in 0..1_000_000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[0], 0, "a zero weight is never chosen");
        // 3 degrees of freedom among the non-zero entries; 99.9% quantile 16.27.
        assert!(chi_square(&counts, &p) < 16.27, "{counts:?}");
        assert!(AliasTable::new(&[]).is_none());
        assert!(AliasTable::new(&[0.0, 0.0]).is_none());
        assert!(AliasTable::new(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn uniform_choices_are_even_chi_square_seed_2_n_1e6() {
        let selector = Selector::compile(&SelectionSpec::Uniform, 5);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let mut counts = [0u64; 5];
        for s in 1..=1_000_000 {
            counts[selector.choose(s, &mut rng)] += 1;
        }
        // 4 degrees of freedom; 99.9% quantile 18.47.
        assert!(chi_square(&counts, &[0.2; 5]) < 18.47, "{counts:?}");
    }

    #[test]
    fn ordered_cycles_through_entries() {
        let selector = Selector::compile(&SelectionSpec::Ordered, 3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        let picks: Vec<usize> = (1..=7).map(|s| selector.choose(s, &mut rng)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn drifting_moves_from_start_to_end_on_schedule_seed_3() {
        let spec = SelectionSpec::DriftingProbability {
            start: vec![0.9, 0.1],
            end: vec![0.1, 0.9],
            steps: 1000,
        };
        let selector = Selector::compile(&spec, 2);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        // At each checkpoint s, draw 200,000 selections with that selection number and compare
        // the share of entry 1 with (1 - r) * 0.1 + r * 0.9, r = s / 1000. Standard error is at
        // most 0.0012; we allow 0.005 (over 4 standard errors).
        for s in [1u64, 250, 500, 750, 1000, 5000] {
            let n = 200_000;
            let ones = (0..n).filter(|_| selector.choose(s, &mut rng) == 1).count();
            let share = ones as f64 / n as f64;
            let want = Selector::probabilities(&spec, 2, s)[1];
            assert!(
                (share - want).abs() < 0.005,
                "s={s}: share {share}, want {want}"
            );
        }
    }
}
