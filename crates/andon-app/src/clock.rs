//! The time access grants, their expiry and the debt are judged by: the system clock, or a
//! manual one tests move by hand (no sleeps).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A clock in Unix milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock standing at `ms` until moved.
    pub fn manual(ms: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(ms))))
    }

    /// Now.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => jiff::Timestamp::now().as_millisecond(),
        }
    }

    /// Moves a manual clock to `ms` (the system clock ignores it).
    pub fn set_ms(&self, ms: i64) {
        if let Some(t) = &self.0 {
            t.store(ms, Ordering::SeqCst);
        }
    }

    /// Moves a manual clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(t) = &self.0 {
            t.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        }
    }
}
