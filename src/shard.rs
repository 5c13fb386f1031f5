//! Shards: one workload split exactly between N generators.
//!
//! A [`Shard`] is "part K of N" (K counted from 0). Everything a shard does differently from a
//! whole run follows from one rule: **event n of the whole workload (counting from 1) belongs to
//! shard (n - 1) mod N**, and so does case n. From it:
//!
//! - a count (`steps`, `maxEvents`, `maxConcurrentCases`) splits as [`Shard::share`]: `q` each,
//!   plus one for the first `r` shards, where `total = q·N + r`. The shares add up to the total;
//! - a load's count of events due by time t, D(t), splits the same way at every t (see
//!   `pacing::Share`), so the shards' counts add up to D(t) at every instant, not only at the end;
//! - case ids: shard K numbers its cases K+1, K+1+N, K+1+2N, ... ([`Shard::first_case`],
//!   [`Shard::count`] as the stride): no two shards ever use the same id;
//! - random numbers: shard K's generator is the seed's generator advanced by K·2^128 draws
//!   ([`Shard::jump`], xoshiro256++'s jump; the engine's stream and the network's), so the
//!   shards' streams never overlap and shard 0 of any N draws exactly what an unsharded run
//!   draws.
//!
//! Shard 0 of 1 ([`Shard::WHOLE`]) is an unsharded run, byte for byte. This module knows
//! nothing else of the crate: the engine, the pacer and the simulations apply it.

use std::fmt;
use std::str::FromStr;

/// The most shards a workload can be split into (`--shard K/N` with `--workers W`: N·W): far
/// beyond any cluster, and small enough that every shard count and product fits a `u32`.
pub const MAX_SHARDS: u32 = 65_536;

/// Part `index` of `count` of one workload (`index < count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

/// Why a shard could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}` is not a shard: write K/N, e.g. 0/3 for the first of three (K counts from 0)")]
    Syntax(String),
    #[error("shard {index}/{count} does not exist: K counts from 0, so K must be below N ({count}), e.g. {last}/{count} for the last")]
    IndexTooLarge { index: u64, count: u64, last: u64 },
    #[error("a workload cannot be split into 0 shards: N must be 1 or more")]
    NoShards,
    #[error("{count} shards are more than def splits a workload into (at most {MAX_SHARDS})")]
    TooMany { count: u64 },
}

impl Shard {
    /// The whole workload: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// `count` is 0 or above [`MAX_SHARDS`], or `index` is not below `count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if count > u64::from(MAX_SHARDS) {
            return Err(ShardError::TooMany { count });
        }
        if index >= count {
            return Err(ShardError::IndexTooLarge {
                index,
                count,
                last: count - 1,
            });
        }
        Ok(Shard {
            index: index as u32,
            count: count as u32,
        })
    }

    /// K, counting from 0.
    pub fn index(self) -> u32 {
        self.index
    }

    /// N, the number of shards.
    pub fn count(self) -> u32 {
        self.count
    }

    /// True for the whole workload (N = 1).
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// This shard's part of `total`: `total / N`, plus one if `K < total mod N`. The shares of
    /// the N shards add up to `total` exactly; it is also how many of the events `1..=total`
    /// fall to this shard.
    ///
    /// ```
    /// use def::shard::Shard;
    /// let shares: Vec<u64> = (0..3).map(|k| Shard::new(k, 3).unwrap().share(10)).collect();
    /// assert_eq!(shares, [4, 3, 3]);
    /// ```
    #[inline]
    pub fn share(self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index) < total % n)
    }

    /// The whole workload's number of this shard's event (or case) `m` (counting from 1).
    #[inline]
    pub fn global(self, m: u64) -> u64 {
        (m - 1)
            .saturating_mul(u64::from(self.count))
            .saturating_add(u64::from(self.index) + 1)
    }

    /// The number of this shard's first case: K + 1 (the next ones follow every N).
    pub fn first_case(self) -> u64 {
        u64::from(self.index) + 1
    }

    /// Worker `w` of `workers` inside this shard: shard `K·W + w` of `N·W`.
    ///
    /// # Errors
    /// N·W is above [`MAX_SHARDS`] (or `w` is not below `workers`).
    pub fn worker(self, w: u32, workers: u32) -> Result<Shard, ShardError> {
        let count = u64::from(self.count) * u64::from(workers);
        Shard::new(
            u64::from(self.index) * u64::from(workers) + u64::from(w),
            count,
        )
    }

    /// Advances `rng` by K·2^128 draws, to this shard's part of the stream: a shard would need
    /// 2^128 draws to reach the next one's. Shard 0 leaves it as it is.
    pub fn jump(self, rng: &mut rand_xoshiro::Xoshiro256PlusPlus) {
        if self.index > 0 {
            rng.jump_ce(u64::from(self.index), 128);
        }
    }

    /// `text` with every `{shard}` replaced by K (file paths, client ids).
    pub fn fill(self, text: &str) -> String {
        text.replace(SHARD_PLACEHOLDER, &self.index.to_string())
    }
}

/// What [`Shard::fill`] replaces.
pub const SHARD_PLACEHOLDER: &str = "{shard}";

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `K/N`, e.g. `2/3`; spaces around either number are allowed.
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(syntax)?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| syntax());
        Shard::new(number(k)?, number(n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_the_first_shards_get_the_remainder() {
        for n in 1..=7u64 {
            for total in [0, 1, 2, 6, 7, 100, 1_000_003, u64::MAX] {
                let shares: Vec<u64> = (0..n)
                    .map(|k| Shard::new(k, n).unwrap().share(total))
                    .collect();
                let sum: u128 = shares.iter().map(|&s| u128::from(s)).sum();
                assert_eq!(sum, u128::from(total), "n {n} total {total}");
                assert!(shares.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
            }
        }
    }

    #[test]
    fn a_share_counts_the_events_that_fall_to_the_shard() {
        // Event n goes to shard (n - 1) mod N, at every prefix of the workload.
        let n = 4;
        for total in 0..50u64 {
            for k in 0..n {
                let shard = Shard::new(k, n).unwrap();
                let mine = (1..=total).filter(|e| (e - 1) % n == k).count() as u64;
                assert_eq!(shard.share(total), mine);
                for m in 1..=mine {
                    assert_eq!((shard.global(m) - 1) % n, k);
                }
            }
        }
    }

    #[test]
    fn parsing_accepts_k_of_n_and_explains_the_rest() {
        assert_eq!("2/3".parse(), Ok(Shard::new(2, 3).unwrap()));
        assert_eq!(" 0 / 1 ".parse(), Ok(Shard::WHOLE));
        assert_eq!(
            "3/3".parse::<Shard>(),
            Err(ShardError::IndexTooLarge {
                index: 3,
                count: 3,
                last: 2
            })
        );
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::NoShards));
        for bad in ["", "1", "a/3", "1/3/4", "-1/3", "1/"] {
            assert!(matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))));
        }
        assert!(matches!(
            "0/65537".parse::<Shard>(),
            Err(ShardError::TooMany { .. })
        ));
    }

    #[test]
    fn workers_are_shards_of_the_shard() {
        let shard = Shard::new(1, 3).unwrap();
        let workers: Vec<String> = (0..2)
            .map(|w| shard.worker(w, 2).unwrap().to_string())
            .collect();
        assert_eq!(workers, ["2/6", "3/6"]);
        assert_eq!(
            Shard::new(4, 6).unwrap().fill("out-{shard}.jsonl"),
            "out-4.jsonl"
        );
    }
}
