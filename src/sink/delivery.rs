//! Counting what a networked sink delivered, from the delivery reports its client calls back
//! with: per destination (a Kafka topic, later an MQTT topic) how many events were
//! acknowledged and how many failed, and the first reason anything failed.
//!
//! It knows nothing of any client library, so that every sink with delivery reports can use
//! it (the Kafka producer wraps it in its librdkafka callbacks) without pulling in the others'
//! dependencies; and it is built into every build, whichever sink features are on. The counters
//! are atomics because the callbacks may run on the client's threads while the sink reads its
//! progress.

use super::Delivery;
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Delivered and failed events per destination (indexed `0..destinations`), and why the first
/// failure happened.
#[derive(Debug)]
pub struct DeliveryCounter {
    delivered: Box<[AtomicU64]>,
    failed: Box<[AtomicU64]>,
    first_error: Mutex<Option<String>>,
}

impl DeliveryCounter {
    /// Counters for destinations `0..destinations`.
    pub fn new(destinations: usize) -> DeliveryCounter {
        let zeros = || (0..destinations).map(|_| AtomicU64::new(0)).collect();
        DeliveryCounter {
            delivered: zeros(),
            failed: zeros(),
            first_error: Mutex::new(None),
        }
    }

    /// One event acknowledged by `destination`. An index out of range is ignored: this runs
    /// in a client's callback, where a panic could not unwind.
    pub fn delivered(&self, destination: usize) {
        if let Some(count) = self.delivered.get(destination) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One event to `destination` failed, for `reason`.
    pub fn failed(&self, destination: usize, reason: impl Display) {
        if let Some(count) = self.failed.get(destination) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.remember(reason);
    }

    /// Keeps `reason` if it is the first problem (a failed event, or a client error that
    /// failed no event yet but explains later failures). Formatted only then.
    pub fn remember(&self, reason: impl Display) {
        if let Ok(mut slot) = self.first_error.lock() {
            if slot.is_none() {
                *slot = Some(reason.to_string());
            }
        }
    }

    /// The first problem remembered, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    /// Delivered and failed events so far, over all destinations.
    pub fn totals(&self) -> (u64, u64) {
        let sum = |cells: &[AtomicU64]| cells.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        (sum(&self.delivered), sum(&self.failed))
    }

    /// The final count of `handed` events given to the client, destination `i` named
    /// `names[i]`: an event with no report by now counts as failed. If anything failed,
    /// [`Delivery::error`] says why: the first problem, else `no_report()` (why reports are
    /// missing, e.g. a flush timeout).
    pub fn tally(
        &self,
        names: &[String],
        handed: u64,
        no_report: impl FnOnce() -> String,
    ) -> Delivery {
        let mut delivery = Delivery::default();
        for (i, name) in names.iter().enumerate() {
            let load = |cells: &[AtomicU64]| cells.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
            let delivered = load(&self.delivered);
            delivery.delivered += delivered;
            delivery.failed += load(&self.failed);
            delivery.destinations.insert(name.clone(), delivered);
        }
        delivery.failed += handed.saturating_sub(delivery.delivered + delivery.failed);
        if delivery.failed > 0 {
            delivery.error = Some(self.first_error().unwrap_or_else(no_report));
        }
        delivery
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_per_destination_and_keeps_the_first_reason() {
        let counter = DeliveryCounter::new(2);
        counter.delivered(0);
        counter.delivered(0);
        counter.delivered(1);
        counter.failed(1, "broker down");
        counter.failed(1, "later reason");
        counter.delivered(7); // out of range: ignored, no panic
        assert_eq!(counter.totals(), (3, 2));
        let names = ["a".to_string(), "b".to_string()];
        // Six handed over, five reported: the sixth counts as failed too.
        let delivery = counter.tally(&names, 6, || "timeout".into());
        assert_eq!((delivery.delivered, delivery.failed), (3, 3));
        assert_eq!(delivery.destinations["a"], 2);
        assert_eq!(delivery.destinations["b"], 1);
        assert_eq!(delivery.error.as_deref(), Some("broker down"));
    }

    #[test]
    fn missing_reports_without_a_reason_take_the_callers() {
        let counter = DeliveryCounter::new(1);
        let delivery = counter.tally(&["t".to_string()], 2, || "not acknowledged".into());
        assert_eq!(delivery.failed, 2);
        assert_eq!(delivery.error.as_deref(), Some("not acknowledged"));
        let all_fine = DeliveryCounter::new(1);
        all_fine.delivered(0);
        let delivery = all_fine.tally(&["t".to_string()], 1, || unreachable!());
        assert_eq!(delivery.error, None);
    }
}
