//! Choosing an `eventData` entry: the compiled form of a datasource's `selection`.
//!
//! Every choice is O(1). Weighted choices use Walker's alias method (rand_distr's
//! `WeightedAliasIndex`). A drifting selection's distribution at selection s is the mixture
//! `(1 - r) * start + r * end` with `r = min(s / steps, 1)`; sampling a mixture is exact if we
//! first pick the component (end with probability r) and then sample that component's alias
//! table, so drift costs one extra uniform draw instead of rebuilding a table per selection.

use crate::config::SelectionSpec;
use rand::{Rng, RngExt};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;

/// A compiled selection.
#[derive(Clone, Debug)]
pub enum Selector {
    /// Only one entry: no randomness needed.
    Single,
    Weighted(WeightedAliasIndex<f64>),
    Uniform(usize),
    /// Entries in turn, cycling.
    Ordered(usize),
    Drifting {
        start: Box<Selector>,
        end: Box<Selector>,
        steps: u64,
    },
}

impl Selector {
    /// Compiles a selection spec for `n` entries. The spec has been validated.
    pub fn compile(spec: &SelectionSpec, n: usize) -> Selector {
        match spec {
            _ if n == 1 => Selector::Single,
            SelectionSpec::GenericProbability { distribution } => weighted(distribution),
            SelectionSpec::Uniform => Selector::Uniform(n),
            SelectionSpec::Ordered => Selector::Ordered(n),
            SelectionSpec::DriftingProbability { start, end, steps } => Selector::Drifting {
                start: Box::new(weighted(start)),
                end: Box::new(weighted(end)),
                steps: *steps,
            },
        }
    }

    /// Picks an entry. `selection` is the 1-based number of this selection at its datasource.
    #[inline]
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
                    end.choose(selection, rng)
                } else {
                    start.choose(selection, rng)
                }
            }
        }
    }

    /// The probability of each of `n` entries at the 1-based selection `selection`.
    pub fn probabilities(spec: &SelectionSpec, n: usize, selection: u64) -> Vec<f64> {
        match spec {
            SelectionSpec::GenericProbability { distribution } => distribution.clone(),
            SelectionSpec::Uniform => vec![1.0 / n as f64; n],
            SelectionSpec::Ordered => vec![1.0 / n as f64; n],
            SelectionSpec::DriftingProbability { start, end, steps } => {
                let r = (selection as f64 / *steps as f64).min(1.0);
                start
                    .iter()
                    .zip(end)
                    .map(|(s, e)| (1.0 - r) * s + r * e)
                    .collect()
            }
        }
    }
}

fn weighted(distribution: &[f64]) -> Selector {
    // Validation guarantees non-negative weights summing to 1, so `new` cannot fail; if a
    // caller bypasses validation we fall back to uniform rather than panic.
    match WeightedAliasIndex::new(distribution.to_vec()) {
        Ok(table) => Selector::Weighted(table),
        Err(_) => Selector::Uniform(distribution.len().max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Pearson's chi-square statistic of observed counts against expected probabilities.
    pub(crate) fn chi_square(counts: &[u64], probabilities: &[f64]) -> f64 {
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
