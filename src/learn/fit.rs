//! Fitting an edge's durations: a constant when every observation is equal, else the
//! parametric distribution def has (exponential, gaussian, lognormal, uniform) with the lowest
//! AIC among those a Kolmogorov–Smirnov test does not reject, else an `empirical` one.
//!
//! Parameters are the maximum-likelihood estimates, from exact sums over every observation
//! (`chain::DurationStats`). AIC = 2k − 2 ln L (k = 1 for the exponential, 2 for the others)
//! puts the one-parameter exponential on an equal footing with the rest. The KS statistic is
//! computed on the edge's reservoir sample (at most `chain::DURATION_SAMPLE` durations) against
//! the fitted CDF and rejected above `KS_C_ALPHA / sqrt(n)`, the asymptotic critical value at
//! `KS_ALPHA` = 1%. Estimating the parameters from the same data makes this test conservative
//! (it rejects less often than 1%), which is what we want: the parametric form is kept unless
//! the data clearly disagree. When every candidate is rejected the edge gets `empirical`
//! quantiles of the sample at `EMPIRICAL_SEGMENTS + 1` equally spaced probabilities.

use super::chain::DurationStats;
use crate::config::{DurationSpec, DurationType, Kind};
use serde::Serialize;
use std::f64::consts::{PI, SQRT_2};

/// The level of the goodness-of-fit test.
pub const KS_ALPHA: f64 = 0.01;
/// The asymptotic Kolmogorov–Smirnov critical value at `KS_ALPHA`: sqrt(-ln(alpha/2) / 2).
pub const KS_C_ALPHA: f64 = 1.627_6;
/// Segments of an empirical duration (quantiles at 0, 1/50, ..., 1).
pub const EMPIRICAL_SEGMENTS: usize = 50;

/// One parametric candidate and how it did.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    #[serde(rename = "type")]
    pub duration_type: &'static str,
    pub log_likelihood: f64,
    pub aic: f64,
    /// The KS statistic on the sample; `passed` when at most the critical value.
    pub ks: f64,
    pub passed: bool,
}

/// The fitted duration of one edge.
#[derive(Clone, Debug)]
pub struct Fit {
    pub spec: DurationSpec,
    /// Why this one: `constant`, `unobserved`, `aic` (the best candidate that passed) or
    /// `empirical` (every candidate was rejected).
    pub chosen_by: &'static str,
    /// The KS statistic of the chosen distribution and the critical value it was held to
    /// (`None` for constants and unobserved durations).
    pub ks: Option<f64>,
    pub ks_critical: Option<f64>,
    pub candidates: Vec<Candidate>,
}

/// Fits the durations `stats` describes (minutes).
pub fn fit_duration(stats: &DurationStats) -> Fit {
    let simple = |spec, chosen_by| Fit {
        spec,
        chosen_by,
        ks: None,
        ks_critical: None,
        candidates: Vec::new(),
    };
    if stats.n == 0 {
        return simple(DurationSpec::Constant(0.0), "unobserved");
    }
    if stats.min == stats.max {
        return simple(DurationSpec::Constant(stats.min), "constant");
    }
    let mut sample = stats.sample.clone();
    sample.sort_by(f64::total_cmp);
    let critical = KS_C_ALPHA / (sample.len() as f64).sqrt();
    let mut candidates: Vec<(DurationSpec, Candidate)> = mle(stats)
        .into_iter()
        .map(|(spec, ll, k)| {
            let ks = ks_statistic(&sample, |x| cdf(&spec, x));
            let candidate = Candidate {
                duration_type: spec.duration_type().name(),
                log_likelihood: ll,
                aic: 2.0 * k - 2.0 * ll,
                ks,
                passed: ks <= critical,
            };
            (spec, candidate)
        })
        .collect();
    candidates.sort_by(|a, b| a.1.aic.total_cmp(&b.1.aic));
    let best = candidates.iter().find(|c| c.1.passed).cloned();
    let report: Vec<Candidate> = candidates.into_iter().map(|c| c.1).collect();
    match best {
        Some((spec, candidate)) => Fit {
            spec,
            chosen_by: "aic",
            ks: Some(candidate.ks),
            ks_critical: Some(critical),
            candidates: report,
        },
        None => {
            let spec = DurationSpec::Empirical {
                quantiles: quantiles(&sample, EMPIRICAL_SEGMENTS),
            };
            let ks = ks_statistic(&sample, |x| cdf(&spec, x));
            Fit {
                spec,
                chosen_by: "empirical",
                ks: Some(ks),
                ks_critical: Some(critical),
                candidates: report,
            }
        }
    }
}

/// The maximum-likelihood fit of each family that can hold the data: (spec, ln L, k).
fn mle(stats: &DurationStats) -> Vec<(DurationSpec, f64, f64)> {
    let n = stats.n as f64;
    let mut out = Vec::with_capacity(4);
    let mean = stats.mean();
    if mean > 0.0 {
        out.push((DurationSpec::Exponential { mean }, -n * mean.ln() - n, 1.0));
    }
    let var = stats.variance();
    if var > 0.0 {
        let ll = -n / 2.0 * ((2.0 * PI * var).ln() + 1.0);
        out.push((
            DurationSpec::Gaussian {
                mu: mean,
                sigma: var.sqrt(),
            },
            ll,
            2.0,
        ));
    }
    if stats.zeros == 0 {
        let mu = stats.sum_ln / n;
        let var_ln = stats.sum_ln2 / n - mu * mu;
        if var_ln > 1e-12 {
            let ll = -stats.sum_ln - n / 2.0 * ((2.0 * PI * var_ln).ln() + 1.0);
            out.push((
                DurationSpec::LogNormal {
                    mu,
                    sigma: var_ln.sqrt(),
                },
                ll,
                2.0,
            ));
        }
    }
    if stats.max > stats.min {
        out.push((
            DurationSpec::Uniform {
                lower: stats.min,
                upper: stats.max,
            },
            -n * (stats.max - stats.min).ln(),
            2.0,
        ));
    }
    out
}

/// P(X ≤ x) under a fitted spec, with def's clamp of gaussians at 0.
pub fn cdf(spec: &DurationSpec, x: f64) -> f64 {
    let normal = |z: f64| 0.5 * libm::erfc(-z / SQRT_2);
    match *spec {
        DurationSpec::Constant(c) => f64::from(u8::from(x >= c)),
        DurationSpec::Uniform { lower, upper } => ((x - lower) / (upper - lower)).clamp(0.0, 1.0),
        DurationSpec::Gaussian { mu, sigma } if x >= 0.0 => normal((x - mu) / sigma),
        DurationSpec::Gaussian { .. } => 0.0,
        DurationSpec::Exponential { mean } => 1.0 - (-x.max(0.0) / mean).exp(),
        DurationSpec::LogNormal { mu, sigma } if x > 0.0 => normal((x.ln() - mu) / sigma),
        DurationSpec::LogNormal { .. } => 0.0,
        DurationSpec::Empirical { ref quantiles } => empirical_cdf(quantiles, x),
    }
}

/// The CDF of the piecewise-linear inverse CDF through `q` (equally spaced probabilities).
fn empirical_cdf(q: &[f64], x: f64) -> f64 {
    // The config reader asks for two quantiles at least; fewer is a step (or nothing).
    if q.len() < 2 {
        return f64::from(u8::from(q.first().is_none_or(|&c| x >= c)));
    }
    let segments = q.len() - 1;
    if x < q[0] {
        return 0.0;
    }
    if x >= q[segments] {
        return 1.0;
    }
    // The last quantile at or below x; within its segment, linear.
    let i = q
        .partition_point(|&v| v <= x)
        .saturating_sub(1)
        .min(segments - 1);
    let width = q[i + 1] - q[i];
    let within = if width > 0.0 { (x - q[i]) / width } else { 1.0 };
    (i as f64 + within) / segments as f64
}

/// sup |F_n − F| over a sorted sample, with ties counted once (the ECDF jumps past them).
pub fn ks_statistic(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let x = sorted[i];
        let mut j = i;
        while j < sorted.len() && sorted[j] == x {
            j += 1;
        }
        let f = cdf(x);
        d = d
            .max((f - i as f64 / n).abs())
            .max((j as f64 / n - f).abs());
        i = j;
    }
    d
}

/// Quantiles of a sorted sample at 0, 1/segments, ..., 1, linear between order statistics
/// (Hyndman & Fan's type 7, R's default).
fn quantiles(sorted: &[f64], segments: usize) -> Vec<f64> {
    let last = sorted.len() - 1;
    (0..=segments)
        .map(|k| {
            let h = last as f64 * k as f64 / segments as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(last);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        })
        .collect()
}

/// The name of a fitted family, for reports.
pub fn family(spec: &DurationSpec) -> &'static str {
    let t: DurationType = spec.duration_type();
    t.name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DurationSampler;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Stats of `n` draws of `spec` through def's own sampler (seeded), as the learner sees them.
    fn draws(spec: &DurationSpec, n: usize, seed: u64) -> DurationStats {
        let sampler = DurationSampler::compile(spec);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut stats = DurationStats::default();
        let mut sample_rng = Xoshiro256PlusPlus::seed_from_u64(seed + 1);
        for _ in 0..n {
            let minutes = sampler.sample_ms(&mut rng) as f64 / 60_000.0;
            stats.add_for_tests(minutes, &mut sample_rng);
        }
        stats
    }

    // Each family drawn 20,000 times (seeds stated) is recognised as itself and its mean is
    // within 2% of the true one (5 standard errors of these spreads are below 2%).
    #[test]
    fn each_family_is_recognised_seeds_21_to_24() {
        let cases = [
            (DurationSpec::Exponential { mean: 4.0 }, 21),
            (
                DurationSpec::Gaussian {
                    mu: 30.0,
                    sigma: 3.0,
                },
                22,
            ),
            (
                DurationSpec::LogNormal {
                    mu: 1.0,
                    sigma: 0.6,
                },
                23,
            ),
            (
                DurationSpec::Uniform {
                    lower: 2.0,
                    upper: 8.0,
                },
                24,
            ),
        ];
        for (spec, seed) in cases {
            let fit = fit_duration(&draws(&spec, 20_000, seed));
            assert_eq!(
                fit.spec.duration_type(),
                spec.duration_type(),
                "{spec:?}: {fit:?}"
            );
            assert!(
                (fit.spec.mean() / spec.mean() - 1.0).abs() < 0.02,
                "{fit:?}"
            );
            assert!(fit.ks.unwrap() <= fit.ks_critical.unwrap());
        }
    }

    #[test]
    fn a_mixture_nothing_fits_becomes_empirical_seed_25() {
        // Half at about 1 minute, half at about 100: bimodal, no family of def's holds it.
        let mut a = draws(
            &DurationSpec::Gaussian {
                mu: 1.0,
                sigma: 0.1,
            },
            5_000,
            25,
        );
        let b = draws(
            &DurationSpec::Gaussian {
                mu: 100.0,
                sigma: 5.0,
            },
            5_000,
            26,
        );
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(27);
        for &x in &b.sample {
            a.add_for_tests(x, &mut rng);
        }
        let fit = fit_duration(&a);
        assert_eq!(fit.chosen_by, "empirical", "{:?}", fit.candidates);
        let DurationSpec::Empirical { quantiles } = &fit.spec else {
            panic!("{fit:?}")
        };
        assert_eq!(quantiles.len(), EMPIRICAL_SEGMENTS + 1);
        assert!((fit.spec.mean() / a.mean() - 1.0).abs() < 0.02);
        // Linear between quantiles 2% of the mass apart: at most 2% off the sample's ECDF.
        assert!(fit.ks.unwrap() <= 1.0 / EMPIRICAL_SEGMENTS as f64 + 1e-9);
    }

    #[test]
    fn equal_durations_are_a_constant_and_none_are_unobserved() {
        let mut stats = DurationStats::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        for _ in 0..3 {
            stats.add_for_tests(2.5, &mut rng);
        }
        assert_eq!(fit_duration(&stats).spec, DurationSpec::Constant(2.5));
        let none = fit_duration(&DurationStats::default());
        assert_eq!(
            (none.spec, none.chosen_by),
            (DurationSpec::Constant(0.0), "unobserved")
        );
    }

    #[test]
    fn ks_statistic_of_a_perfect_uniform_grid() {
        let xs: Vec<f64> = (1..=100).map(|i| i as f64 / 100.0).collect();
        let d = ks_statistic(&xs, |x| x.clamp(0.0, 1.0));
        assert!((d - 0.01).abs() < 1e-12, "{d}");
        assert_eq!(empirical_cdf(&[0.0, 1.0, 3.0], 2.0), 0.75);
        assert_eq!(
            quantiles(&[0.0, 1.0, 2.0, 3.0, 4.0], 2),
            vec![0.0, 2.0, 4.0]
        );
    }
}
