//! The addon's clock. The core never reads a clock; the host converts a monotonic
//! `Instant` into the core's [`Time`] (microseconds since an epoch taken once per process).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use polyrtc::Time;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Fixes the epoch (idempotent). Called when the I/O thread starts.
pub fn init() {
    EPOCH.get_or_init(Instant::now);
}

/// The current time in the core's unit.
pub fn now() -> Time {
    let epoch = *EPOCH.get_or_init(Instant::now);
    let us = u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
    Time::from_micros(us)
}

/// Wall-clock Unix time in milliseconds (certificate validity only).
pub fn unix_time_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_monotonic() {
        let a = now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = now();
        assert!(b > a);
        assert!((b - a) >= std::time::Duration::from_millis(2));
    }

    #[test]
    fn unix_time_is_plausible() {
        // After 2020-01-01.
        assert!(unix_time_ms() > 1_577_836_800_000);
    }
}
