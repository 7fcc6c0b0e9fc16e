//! Download progress as balena-request reports it (through the npm package
//! `progress-stream`): `{ total, received, eta, percentage }`, due at most
//! every 500 ms while data flows, and once at the end.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub const INTERVAL: Duration = Duration::from_millis(500);
/// The window over which the transfer rate for `eta` is measured.
const RATE_WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressEvent {
    pub total: u64,
    pub received: u64,
    /// Seconds left at the current rate, rounded.
    pub eta: f64,
    pub percentage: f64,
}

pub struct Progress {
    total: Option<u64>,
    received: u64,
    next_due: Instant,
    samples: VecDeque<(Instant, u64)>,
}

impl Progress {
    pub fn new(total: Option<u64>, now: Instant) -> Progress {
        let mut samples = VecDeque::new();
        samples.push_back((now, 0));
        Progress {
            total,
            received: 0,
            next_due: now + INTERVAL,
            samples,
        }
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// Counts bytes; returns an event if one is due.
    pub fn add(&mut self, bytes: u64, now: Instant) -> Option<Option<ProgressEvent>> {
        self.received += bytes;
        self.samples.push_back((now, self.received));
        while self.samples.len() > 2 && now.duration_since(self.samples[0].0) > RATE_WINDOW {
            self.samples.pop_front();
        }
        if now >= self.next_due {
            self.next_due = now + INTERVAL;
            Some(self.event(now))
        } else {
            None
        }
    }

    /// The event now. `None` when the total is unknown: balena-request emits
    /// `progress` with `undefined` then.
    pub fn event(&self, now: Instant) -> Option<ProgressEvent> {
        let total = self.total.filter(|t| *t > 0)?;
        let remaining = total.saturating_sub(self.received) as f64;
        let (t0, r0) = self.samples.front().copied().unwrap_or((now, 0));
        let secs = now.duration_since(t0).as_secs_f64();
        let rate = if secs > 0.0 {
            (self.received - r0) as f64 / secs
        } else {
            0.0
        };
        let eta = if remaining == 0.0 || rate <= 0.0 {
            0.0
        } else {
            (remaining / rate).round()
        };
        Some(ProgressEvent {
            total,
            received: self.received,
            eta,
            // A body longer than announced never shows more than 100%.
            percentage: (self.received as f64 / total as f64 * 100.0).min(100.0),
        })
    }

    /// The event once the body has ended: complete, as progress-stream
    /// reports it, whatever the count reached.
    pub fn final_event(&self, now: Instant) -> Option<ProgressEvent> {
        self.event(now).map(|event| ProgressEvent {
            percentage: 100.0,
            eta: 0.0,
            ..event
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn one_shot_small_body_gives_only_the_final_event() -> TestResult {
        let t0 = Instant::now();
        let mut p = Progress::new(Some(46), t0);
        assert_eq!(p.add(46, t0 + Duration::from_millis(3)), None);
        let end = p.event(t0 + Duration::from_millis(4)).ok_or("no event")?;
        assert_eq!(
            end,
            ProgressEvent {
                total: 46,
                received: 46,
                eta: 0.0,
                percentage: 100.0
            }
        );
        Ok(())
    }

    #[test]
    fn events_at_most_every_interval_with_eta() -> TestResult {
        let t0 = Instant::now();
        let mut p = Progress::new(Some(1000), t0);
        assert!(p.add(100, t0 + Duration::from_millis(100)).is_none());
        let e = p
            .add(100, t0 + Duration::from_millis(600))
            .flatten()
            .ok_or("no event")?;
        assert_eq!(e.received, 200);
        assert_eq!(e.percentage, 20.0);
        // 200 bytes in 0.6 s: 800 left takes about 2.4 s.
        assert_eq!(e.eta, 2.0);
        assert!(p.add(1, t0 + Duration::from_millis(700)).is_none());
        assert!(p.add(1, t0 + Duration::from_millis(1200)).is_some());
        Ok(())
    }

    #[test]
    fn percentage_never_passes_100_and_ends_at_100() -> TestResult {
        let t0 = Instant::now();
        let mut p = Progress::new(Some(100), t0);
        let e = p
            .add(150, t0 + Duration::from_secs(1))
            .flatten()
            .ok_or("no event")?;
        assert_eq!(e.percentage, 100.0);
        let mut short = Progress::new(Some(100), t0);
        short.add(40, t0);
        let end = short.final_event(t0).ok_or("no event")?;
        assert_eq!((end.percentage, end.received), (100.0, 40));
        assert_eq!(Progress::new(None, t0).final_event(t0), None);
        Ok(())
    }

    #[test]
    fn unknown_total_gives_no_event_body() -> TestResult {
        let t0 = Instant::now();
        let mut p = Progress::new(None, t0);
        assert_eq!(p.add(5, t0 + Duration::from_secs(1)), Some(None));
        Ok(())
    }
}
