//! `blackhole`: discards events and counts them. For benchmarks of everything but output.

use super::{Delivery, Sink, SinkError};
use crate::engine::Event;

#[derive(Debug, Default)]
pub struct BlackholeSink {
    count: u64,
    /// Folds every timestamp in so the work that made the event cannot be optimised away.
    checksum: i64,
}

impl Sink for BlackholeSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        self.count += 1;
        self.checksum = self.checksum.wrapping_add(event.timestamp_ms);
        Ok(())
    }

    fn finish(&mut self) -> Result<Delivery, SinkError> {
        std::hint::black_box(self.checksum);
        Ok(Delivery::all(self.count))
    }
}
