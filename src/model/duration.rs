//! Sampling how long an edge takes: the compiled form of a `duration`.
//!
//! Durations are written in minutes of simulated time and sampled as whole milliseconds,
//! the resolution of the simulated clock.

use crate::config::DurationSpec;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, LogNormal, Normal};

const MS_PER_MINUTE: f64 = 60_000.0;

/// A compiled duration distribution.
#[derive(Clone, Debug)]
pub enum DurationSampler {
    Constant(i64),
    Uniform {
        lower: f64,
        span: f64,
    },
    Gaussian(Normal<f64>),
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
    /// Quantiles in minutes at probabilities 0, 1/n, ..., 1: inverse CDF, linear between them.
    Empirical(Box<[f64]>),
}

impl DurationSampler {
    /// Compiles a validated spec. Parameters that the distributions reject (validation
    /// prevents them) degrade to the spec's mean as a constant instead of panicking.
    pub fn compile(spec: &DurationSpec) -> DurationSampler {
        let constant = || DurationSampler::Constant(to_ms(spec.mean()));
        match *spec {
            DurationSpec::Empirical { ref quantiles } if quantiles.len() >= 2 => {
                DurationSampler::Empirical(quantiles.as_slice().into())
            }
            DurationSpec::Empirical { .. } => constant(),
            DurationSpec::Constant(d) => DurationSampler::Constant(to_ms(d)),
            DurationSpec::Uniform { lower, upper } => DurationSampler::Uniform {
                lower,
                span: upper - lower,
            },
            DurationSpec::Gaussian { mu, sigma } => Normal::new(mu, sigma)
                .map(DurationSampler::Gaussian)
                .unwrap_or_else(|_| constant()),
            DurationSpec::Exponential { mean } if mean > 0.0 => Exp::new(1.0 / mean)
                .map(DurationSampler::Exponential)
                .unwrap_or_else(|_| constant()),
            DurationSpec::Exponential { .. } => DurationSampler::Constant(0),
            DurationSpec::LogNormal { mu, sigma } => LogNormal::new(mu, sigma)
                .map(DurationSampler::LogNormal)
                .unwrap_or_else(|_| constant()),
        }
    }

    /// A sample in milliseconds, never negative. Inlined into the engine's step, like
    /// [`crate::model::Selector::choose`].
    #[inline(always)]
    pub fn sample_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        match self {
            DurationSampler::Constant(ms) => *ms,
            DurationSampler::Uniform { lower, span } => to_ms(lower + span * rng.random::<f64>()),
            DurationSampler::Gaussian(d) => to_ms(d.sample(rng).max(0.0)),
            DurationSampler::Exponential(d) => to_ms(d.sample(rng)),
            DurationSampler::LogNormal(d) => to_ms(d.sample(rng)),
            DurationSampler::Empirical(q) => {
                // `compile` keeps at least two quantiles, so `segments` is at least 1.
                let segments = q.len() - 1;
                let at = rng.random::<f64>() * segments as f64;
                let i = (at as usize).min(segments - 1);
                to_ms(q[i] + (at - i as f64) * (q[i + 1] - q[i]))
            }
        }
    }
}

/// Minutes to whole milliseconds, rounding half up. Durations are never negative here, and
/// `f64::round` is a libm call on baseline x86-64, measurable on the hot path.
#[inline]
fn to_ms(minutes: f64) -> i64 {
    (minutes * MS_PER_MINUTE + 0.5) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::duration::clamped_normal_mean;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Mean and standard deviation (in minutes) of `n` samples.
    fn moments(spec: DurationSpec, n: usize, seed: u64) -> (f64, f64) {
        let sampler = DurationSampler::compile(&spec);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let xs: Vec<f64> = (0..n)
            .map(|_| sampler.sample_ms(&mut rng) as f64 / MS_PER_MINUTE)
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    // Each test: 10^6 samples, seed stated; the mean must lie within 5 standard errors
    // (sd / 1000) plus the millisecond rounding, and the spread within 1% of its true value.

    #[test]
    fn constant_is_exact() {
        let (mean, sd) = moments(DurationSpec::Constant(2.5), 1000, 0);
        assert_eq!(mean, 2.5);
        assert_eq!(sd, 0.0);
    }

    #[test]
    fn uniform_mean_and_spread_seed_11() {
        let (mean, sd) = moments(
            DurationSpec::Uniform {
                lower: 3.0,
                upper: 7.0,
            },
            1_000_000,
            11,
        );
        let true_sd = 4.0 / 12f64.sqrt();
        assert!((mean - 5.0).abs() < 5.0 * true_sd / 1000.0, "mean {mean}");
        assert!((sd / true_sd - 1.0).abs() < 0.01, "sd {sd}");
    }

    #[test]
    fn gaussian_mean_and_spread_seed_12() {
        let (mean, sd) = moments(
            DurationSpec::Gaussian {
                mu: 720.0,
                sigma: 120.0,
            },
            1_000_000,
            12,
        );
        assert!((mean - 720.0).abs() < 5.0 * 120.0 / 1000.0, "mean {mean}");
        assert!((sd / 120.0 - 1.0).abs() < 0.01, "sd {sd}");
    }

    #[test]
    fn gaussian_is_clamped_at_zero_seed_13() {
        let sampler = DurationSampler::compile(&DurationSpec::Gaussian {
            mu: 0.0,
            sigma: 1.0,
        });
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
        let xs: Vec<i64> = (0..1_000_000)
            .map(|_| sampler.sample_ms(&mut rng))
            .collect();
        assert!(xs.iter().all(|&x| x >= 0));
        // Half the mass sits at 0; the mean is sigma / sqrt(2 pi) = 0.39894 minutes.
        let mean = xs.iter().sum::<i64>() as f64 / xs.len() as f64 / MS_PER_MINUTE;
        assert!(
            (mean - clamped_normal_mean(0.0, 1.0)).abs() < 0.003,
            "mean {mean}"
        );
        assert!((clamped_normal_mean(0.0, 1.0) - 0.398_942_28).abs() < 1e-6);
    }

    #[test]
    fn exponential_mean_and_spread_seed_14() {
        let (mean, sd) = moments(DurationSpec::Exponential { mean: 10.0 }, 1_000_000, 14);
        assert!((mean - 10.0).abs() < 5.0 * 10.0 / 1000.0, "mean {mean}");
        assert!((sd / 10.0 - 1.0).abs() < 0.01, "sd {sd}");
    }

    #[test]
    fn empirical_mean_and_quartiles_seed_16() {
        // Quantiles 0, 1, 2, 4, 8 minutes at p = 0, .25, .5, .75, 1: each quarter of the
        // mass is uniform on its segment, so the mean is (0.5 + 1.5 + 3 + 6) / 4 = 2.75 and
        // the samples' quartiles are the given ones. Segment widths at most 4: sd < 2.5.
        let quantiles = vec![0.0, 1.0, 2.0, 4.0, 8.0];
        let spec = DurationSpec::Empirical {
            quantiles: quantiles.clone(),
        };
        assert_eq!(spec.mean(), 2.75);
        let sampler = DurationSampler::compile(&spec);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
        let mut xs: Vec<f64> = (0..1_000_000)
            .map(|_| sampler.sample_ms(&mut rng) as f64 / MS_PER_MINUTE)
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 2.75).abs() < 5.0 * 2.5 / 1000.0, "mean {mean}");
        xs.sort_by(f64::total_cmp);
        assert!(xs[0] >= 0.0 && xs[xs.len() - 1] <= 8.0);
        for (k, &q) in quantiles.iter().enumerate().skip(1).take(3) {
            // The share of samples below the k-th quartile: k/4 within 5 standard errors
            // (sqrt(p (1 - p) / n) at most 0.0005).
            let below = xs.partition_point(|&x| x < q) as f64 / xs.len() as f64;
            assert!(
                (below - k as f64 / 4.0).abs() < 0.0025,
                "quartile {k}: {below}"
            );
        }
    }

    #[test]
    fn lognormal_mean_and_spread_seed_15() {
        let (mu, sigma) = (1.0f64, 0.5f64);
        let (mean, sd) = moments(DurationSpec::LogNormal { mu, sigma }, 1_000_000, 15);
        let true_mean = (mu + sigma * sigma / 2.0).exp();
        let true_sd = ((sigma * sigma).exp() - 1.0).sqrt() * true_mean;
        assert!(
            (mean - true_mean).abs() < 5.0 * true_sd / 1000.0,
            "mean {mean} vs {true_mean}"
        );
        assert!((sd / true_sd - 1.0).abs() < 0.01, "sd {sd} vs {true_sd}");
    }
}
