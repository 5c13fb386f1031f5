//! `memory` (the original's `test`): keeps events in memory for library users and tests.

use super::{Delivery, EventEncoder, Sink, SinkError};
use crate::engine::Event;
use crate::time::{TimestampFormat, TimestampWriter};
use std::sync::{Arc, Mutex, PoisonError};

/// An event as plain owned data, with the same field names as its JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventRecord {
    pub timestamp: String,
    pub activity: String,
    pub caseid: String,
    pub node: String,
    pub group: String,
    #[serde(rename = "emittedAt", default, skip_serializing_if = "Option::is_none")]
    pub emitted_at: Option<String>,
    /// Runs with a network document (docs/realism.md).
    #[serde(rename = "eventId", default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u64>,
    #[serde(
        rename = "arrivalTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub arrival_time: Option<String>,
}

/// A shared view of the events a [`MemorySink`] collected.
#[derive(Clone, Debug, Default)]
pub struct MemoryHandle(Arc<Mutex<Vec<EventRecord>>>);

impl MemoryHandle {
    /// A copy of the events collected so far.
    pub fn events(&self) -> Vec<EventRecord> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct MemorySink {
    handle: MemoryHandle,
    timestamps: TimestampWriter,
}

impl MemorySink {
    pub fn new(format: TimestampFormat) -> (MemorySink, MemoryHandle) {
        let handle = MemoryHandle::default();
        (
            MemorySink {
                handle: handle.clone(),
                timestamps: TimestampWriter::new(format),
            },
            handle,
        )
    }
}

impl Sink for MemorySink {
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let record = EventRecord {
            timestamp: self.timestamps.format(event.timestamp_ms),
            activity: event.activity().to_string(),
            caseid: EventEncoder::case_id(event.case),
            node: event.node.name.as_str().to_string(),
            group: event.node.group.as_str().to_string(),
            emitted_at: event
                .emitted_at_ms
                .get()
                .map(|ms| self.timestamps.format(ms)),
            event_id: event.event_id.map(|id| id.get()),
            arrival_time: event.arrival_ms.get().map(|ms| self.timestamps.format(ms)),
        };
        self.handle
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
        Ok(())
    }

    fn finish(&mut self) -> Result<Delivery, SinkError> {
        Ok(Delivery::all(self.handle.len() as u64))
    }
}
