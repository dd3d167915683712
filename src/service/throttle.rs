//! Slows down password guessing: after a few failures for one username, each further attempt
//! must wait, the wait doubling up to a ceiling. Kept in memory, per process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(300);
const FORGET_AFTER: Duration = Duration::from_secs(3600);
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    failures: u32,
    not_before: Instant,
    last: Instant,
}

impl LoginThrottle {
    /// `Err(seconds to wait)` when this username may not try yet.
    pub fn check(&self, username: &str, now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&username.to_lowercase()) {
            Some(e) if e.not_before > now => {
                Err((e.not_before - now).as_secs_f64().ceil().max(1.0) as u64)
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_TRACKED {
            entries.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        }
        let entry = entries.entry(username.to_lowercase()).or_insert(Entry {
            failures: 0,
            not_before: now,
            last: now,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last = now;
        if entry.failures >= FREE_FAILURES {
            let doublings = (entry.failures - FREE_FAILURES).min(16);
            entry.not_before = now + Duration::from_secs(1 << doublings).min(MAX_WAIT);
        }
    }

    pub fn succeeded(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures_and_reset_on_success() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.failed("alice", t0);
            assert!(throttle.check("alice", t0).is_ok());
        }
        throttle.failed("alice", t0);
        assert_eq!(throttle.check("ALICE", t0), Err(1));
        throttle.failed("alice", t0);
        assert_eq!(throttle.check("alice", t0), Err(2));
        assert!(throttle.check("alice", t0 + Duration::from_secs(3)).is_ok());
        assert!(throttle.check("bob", t0).is_ok());
        throttle.succeeded("alice");
        assert!(throttle.check("alice", t0).is_ok());
    }
}
