//! How long to wait before trying an idempotent request again: bounded exponential backoff
//! with jitter, and the polling cadence for tasks.
//!
//! Pure arithmetic, no sleeping: the client decides *whether* to retry (GETs only, transient
//! errors only, never a POST that starts work) and uses this to decide *when*.

use std::time::Duration;

/// Bounded exponential backoff for idempotent requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries, the first included (1 = never retry).
    pub attempts: u32,
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Upper bound of any single delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 4 tries, 250 ms, 500 ms, 1 s apart (each with up to 50% jitter off): under 2 s in all.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(250),
            max: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The delay before retry number `retry` (1 for the first retry), with `jitter` in
    /// `[0, 1)` taking up to half of it off ("equal jitter": never zero, never more than the
    /// exponential value). A server's `Retry-After` is honoured when it is longer, up to `max`.
    pub fn delay(&self, retry: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max);
        let jitter = jitter.clamp(0.0, 1.0);
        let d = exp.mul_f64(1.0 - jitter / 2.0);
        match retry_after {
            Some(ra) if ra > d => ra.min(self.max),
            _ => d,
        }
    }
}

/// Task polling: start fast (short tasks finish quickly), slow down to a steady pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    pub first: Duration,
    pub max: Duration,
}

impl Default for PollPolicy {
    /// 100 ms, growing by half each poll, up to 1 s.
    fn default() -> Self {
        PollPolicy {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        }
    }
}

impl PollPolicy {
    /// The interval before poll number `n` (0 for the first re-poll).
    pub fn interval(&self, n: u32) -> Duration {
        let factor = 1.5f64.powi(n.min(32) as i32);
        self.first.mul_f64(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_downwards() {
        let p = RetryPolicy::default();
        let ms = |d: Duration| d.as_millis();
        // (retry, jitter, retry_after, expected ms)
        let cases = [
            (1, 0.0, None, 250),
            (2, 0.0, None, 500),
            (3, 0.0, None, 1000),
            (6, 0.0, None, 4000),
            (40, 0.0, None, 4000),
            (1, 0.999_999, None, 125),
            (2, 0.5, None, 375),
            (1, 0.0, Some(Duration::from_secs(2)), 2000),
            (1, 0.0, Some(Duration::from_secs(60)), 4000),
            (3, 0.0, Some(Duration::from_millis(10)), 1000),
        ];
        for (retry, jitter, ra, want) in cases {
            assert_eq!(
                ms(p.delay(retry, jitter, ra)),
                want,
                "retry {retry} jitter {jitter}"
            );
        }
    }

    #[test]
    fn polling_speeds_down_to_one_second() {
        let p = PollPolicy::default();
        let got: Vec<u128> = (0..8).map(|n| p.interval(n).as_millis()).collect();
        assert_eq!(got, vec![100, 150, 225, 337, 506, 759, 1000, 1000]);
        assert_eq!(p.interval(u32::MAX), Duration::from_secs(1));
    }
}
