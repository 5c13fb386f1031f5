//! Where a record goes within its topic: librdkafka's choice, a fixed partition, or the
//! partition of its case by Kafka's own hash of the key.

use crate::config::PartitionSpec;

/// Where records go within a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioning {
    /// librdkafka's partitioner, by key.
    Default,
    Constant(i32),
    /// [`case_partition`] over this many partitions.
    Case(i32),
}

impl From<PartitionSpec> for Partitioning {
    fn from(spec: PartitionSpec) -> Partitioning {
        match spec {
            PartitionSpec::Default => Partitioning::Default,
            PartitionSpec::Constant(p) => Partitioning::Constant(p),
            PartitionSpec::Case { partition_count } => Partitioning::Case(partition_count),
        }
    }
}

impl Partitioning {
    /// The partition of a record with this key (`None`: librdkafka chooses).
    #[inline]
    pub fn partition(self, key: &[u8]) -> Option<i32> {
        match self {
            Partitioning::Default => None,
            Partitioning::Constant(p) => Some(p),
            Partitioning::Case(n) => Some(case_partition(key, n)),
        }
    }

    /// The fewest partitions a topic needs for this setting.
    pub fn partitions_needed(self) -> i32 {
        match self {
            Partitioning::Default => 1,
            Partitioning::Constant(p) => p.saturating_add(1),
            Partitioning::Case(n) => n,
        }
    }
}

/// The partition of a case under `{type: case, partitionCount: count}`: Kafka's own murmur2
/// hash of the key (`case_N`), made positive, modulo `count`. It is the hash of Kafka's Java
/// client and of librdkafka's `murmur2` partitioner, so when `count` equals the topic's
/// partition count, other Kafka producers would put a case where def does; and it depends on
/// nothing but the key, so it is stable across runs, machines and versions.
pub fn case_partition(key: &[u8], count: i32) -> i32 {
    ((murmur2(key) & 0x7fff_ffff) % count.max(1) as u32) as i32
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`, seed `0x9747b28c`).
/// Written out because it is twenty lines and the crates that offer murmur2 differ from
/// Kafka's variant in seed or tail handling; the unit tests pin it to Kafka's test vectors.
fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's own test vectors (`UtilsTest.testMurmur2`).
    #[test]
    fn murmur2_matches_kafka() {
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (key, expected) in cases {
            assert_eq!(
                murmur2(key) as i32,
                *expected,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn case_partition_is_in_range_and_spreads() {
        let mut counts = [0u32; 4];
        for case in 0..4000u64 {
            let key = format!("case_{case}");
            let p = case_partition(key.as_bytes(), 4);
            assert!((0..4).contains(&p));
            counts[p as usize] += 1;
        }
        // 4000 keys over 4 partitions: each gets 1000 ± a generous 20%.
        for c in counts {
            assert!((800..=1200).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn partitioning_follows_the_spec() {
        let case = Partitioning::from(PartitionSpec::Case { partition_count: 4 });
        assert_eq!(
            case.partition(b"case_7"),
            Some(case_partition(b"case_7", 4))
        );
        assert_eq!(case.partitions_needed(), 4);
        let constant = Partitioning::from(PartitionSpec::Constant(2));
        assert_eq!(constant.partition(b"case_7"), Some(2));
        assert_eq!(constant.partitions_needed(), 3);
        let default = Partitioning::from(PartitionSpec::Default);
        assert_eq!(default.partition(b"case_7"), None);
        assert_eq!(default.partitions_needed(), 1);
    }
}
