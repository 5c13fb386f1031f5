//! How long an edge takes, in minutes of simulated time (`duration:`): a number, or a
//! distribution with `type:` and its parameters.

use super::read::{names, Field, FieldType, Kind, Reader};
use super::yaml::{Node, Value};

/// The duration types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationType {
    Constant,
    Uniform,
    Gaussian,
    Exponential,
    LogNormal,
    /// Quantiles at equally spaced probabilities, sampled by inverse CDF with linear
    /// interpolation: what `def learn` writes when no parametric distribution fits a log.
    Empirical,
}

impl Kind for DurationType {
    const ALL: &'static [DurationType] = &[
        DurationType::Constant,
        DurationType::Uniform,
        DurationType::Gaussian,
        DurationType::Exponential,
        DurationType::LogNormal,
        DurationType::Empirical,
    ];
    const WHAT: &'static str = "duration type";

    fn name(self) -> &'static str {
        match self {
            DurationType::Constant => "constant",
            DurationType::Uniform => "uniform",
            DurationType::Gaussian => "gaussian",
            DurationType::Exponential => "exponential",
            DurationType::LogNormal => "lognormal",
            DurationType::Empirical => "empirical",
        }
    }

    fn field_table(self) -> &'static [Field] {
        const MINUTES: FieldType = FieldType::Number {
            min: Some(0.0),
            max: None,
        };
        const ANY: FieldType = FieldType::Number {
            min: None,
            max: None,
        };
        match self {
            DurationType::Constant => {
                const { &[Field::new("duration", MINUTES, "The duration, in minutes").required()] }
            }
            DurationType::Uniform => {
                const {
                    &[
                        Field::new("lowerBound", MINUTES, "The shortest duration, in minutes")
                            .required(),
                        Field::new(
                            "upperBound",
                            MINUTES,
                            "The longest duration, in minutes (at least lowerBound)",
                        )
                        .required(),
                    ]
                }
            }
            DurationType::Gaussian => {
                const {
                    &[
                        Field::new(
                            "mu",
                            ANY,
                            "The mean, in minutes (durations below 0 count as 0)",
                        )
                        .required(),
                        Field::new("sigma", MINUTES, "The standard deviation, in minutes")
                            .required(),
                    ]
                }
            }
            DurationType::LogNormal => {
                const {
                    &[
                        Field::new("mu", ANY, "The mean of the underlying normal distribution")
                            .required(),
                        Field::new(
                            "sigma",
                            MINUTES,
                            "The standard deviation of the underlying normal distribution",
                        )
                        .required(),
                    ]
                }
            }
            DurationType::Exponential => {
                const { &[Field::new("mean", MINUTES, "The mean, in minutes").required()] }
            }
            DurationType::Empirical => {
                const {
                    &[Field::new(
                        "quantiles",
                        FieldType::Quantiles,
                        "Minutes at probabilities 0, 1/n, ..., 1 (n + 1 values, non-decreasing); \
                         sampled by inverse CDF, linear between them",
                    )
                    .required()]
                }
            }
        }
    }
}

/// The field every duration mapping has, whatever its type.
pub const COMMON_FIELDS: &[Field] = &[Field::new(
    "type",
    FieldType::Word(DurationType::words),
    "The distribution the duration is drawn from",
)
.required()];

impl DurationType {
    /// A `duration:` value of this type, as YAML.
    pub fn example(self) -> &'static str {
        match self {
            DurationType::Constant => "{type: constant, duration: 2}",
            DurationType::Uniform => "{type: uniform, lowerBound: 1, upperBound: 3}",
            DurationType::Gaussian => "{type: gaussian, mu: 5, sigma: 1}",
            DurationType::Exponential => "{type: exponential, mean: 4}",
            DurationType::LogNormal => "{type: lognormal, mu: 1, sigma: 0.5}",
            DurationType::Empirical => "{type: empirical, quantiles: [1, 2, 2.5, 4, 9]}",
        }
    }
}

/// Simulated time an edge takes, in minutes.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationSpec {
    Constant(f64),
    Uniform {
        lower: f64,
        upper: f64,
    },
    /// Clamped at 0: the original let time run backwards.
    Gaussian {
        mu: f64,
        sigma: f64,
    },
    Exponential {
        mean: f64,
    },
    /// `mu` and `sigma` of the underlying normal distribution.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// Quantiles at probabilities 0, 1/n, ..., 1 (at least two, non-negative, non-decreasing).
    Empirical {
        quantiles: Vec<f64>,
    },
}

impl DurationSpec {
    pub fn duration_type(&self) -> DurationType {
        match self {
            DurationSpec::Constant(_) => DurationType::Constant,
            DurationSpec::Uniform { .. } => DurationType::Uniform,
            DurationSpec::Gaussian { .. } => DurationType::Gaussian,
            DurationSpec::Exponential { .. } => DurationType::Exponential,
            DurationSpec::LogNormal { .. } => DurationType::LogNormal,
            DurationSpec::Empirical { .. } => DurationType::Empirical,
        }
    }

    /// The same distribution with every value multiplied by `factor` (> 0): a spec read in
    /// seconds (a network's `delay`) becomes one in minutes with `factor = 1/60`.
    pub fn scaled(&self, factor: f64) -> DurationSpec {
        match *self {
            DurationSpec::Empirical { ref quantiles } => DurationSpec::Empirical {
                quantiles: quantiles.iter().map(|q| q * factor).collect(),
            },
            DurationSpec::Constant(d) => DurationSpec::Constant(d * factor),
            DurationSpec::Uniform { lower, upper } => DurationSpec::Uniform {
                lower: lower * factor,
                upper: upper * factor,
            },
            DurationSpec::Gaussian { mu, sigma } => DurationSpec::Gaussian {
                mu: mu * factor,
                sigma: sigma * factor,
            },
            DurationSpec::Exponential { mean } => DurationSpec::Exponential {
                mean: mean * factor,
            },
            // exp(mu + sigma Z) * factor = exp(mu + ln factor + sigma Z).
            DurationSpec::LogNormal { mu, sigma } => DurationSpec::LogNormal {
                mu: mu + factor.ln(),
                sigma,
            },
        }
    }

    /// The expected duration in minutes (with the clamp at 0 for gaussians).
    pub fn mean(&self) -> f64 {
        match *self {
            DurationSpec::Constant(d) => d,
            DurationSpec::Uniform { lower, upper } => (lower + upper) / 2.0,
            DurationSpec::Gaussian { mu, sigma } => clamped_normal_mean(mu, sigma),
            DurationSpec::Exponential { mean } => mean,
            DurationSpec::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            DurationSpec::Empirical { ref quantiles } => empirical_mean(quantiles),
        }
    }
}

/// The mean of the piecewise-linear inverse CDF through `quantiles` (equally spaced
/// probabilities): each segment's midpoint, weighted equally.
pub fn empirical_mean(quantiles: &[f64]) -> f64 {
    let segments = quantiles.len().saturating_sub(1);
    if segments == 0 {
        return quantiles.first().copied().unwrap_or(0.0);
    }
    let sum: f64 = quantiles.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum();
    sum / segments as f64
}

/// E[max(X, 0)] for X ~ Normal(mu, sigma): the mean of a gaussian duration clamped at 0.
pub fn clamped_normal_mean(mu: f64, sigma: f64) -> f64 {
    if sigma == 0.0 {
        return mu.max(0.0);
    }
    let z = mu / sigma;
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let cdf = 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    mu * cdf + sigma * pdf
}

/// Reads a `duration:` value: a plain number (constant minutes) or a typed distribution.
pub(crate) fn read(reader: &mut Reader, node: &Node, path: &str) -> Option<DurationSpec> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        return reader
            .number_of(node, path, "duration", Some(0.0))
            .map(DurationSpec::Constant);
    }
    let obj = reader.obj(node, path, "`duration`")?;
    let (duration_type, _) =
        reader.req_kind::<DurationType>(&obj, "type", "the duration", "constant")?;
    let mut fields = names(COMMON_FIELDS);
    fields.extend(duration_type.fields());
    reader.deny_unknown(
        &obj,
        &fields,
        &format!("a {} duration", duration_type.name()),
    );
    let what = format!("the {} duration", duration_type.name());
    Some(match duration_type {
        DurationType::Constant => {
            DurationSpec::Constant(reader.req_number(&obj, "duration", &what, Some(0.0))?)
        }
        DurationType::Uniform => {
            let lower = reader.req_number(&obj, "lowerBound", &what, Some(0.0));
            let upper = reader.req_number(&obj, "upperBound", &what, Some(0.0));
            let (lower, upper) = (lower?, upper?);
            if upper < lower {
                reader.error(
                    path,
                    obj.loc,
                    format!("`upperBound` {upper} is below `lowerBound` {lower}"),
                    "swap the bounds",
                );
                return None;
            }
            DurationSpec::Uniform { lower, upper }
        }
        DurationType::Gaussian => {
            let mu = reader.req_number(&obj, "mu", &what, None);
            let sigma = reader.req_number(&obj, "sigma", &what, Some(0.0));
            DurationSpec::Gaussian {
                mu: mu?,
                sigma: sigma?,
            }
        }
        DurationType::LogNormal => {
            let mu = reader.req_number(&obj, "mu", &what, None);
            let sigma = reader.req_number(&obj, "sigma", &what, Some(0.0));
            DurationSpec::LogNormal {
                mu: mu?,
                sigma: sigma?,
            }
        }
        DurationType::Exponential => DurationSpec::Exponential {
            mean: reader.req_number(&obj, "mean", &what, Some(0.0))?,
        },
        DurationType::Empirical => DurationSpec::Empirical {
            quantiles: reader.quantiles(&obj, "quantiles", &what)?,
        },
    })
}
