//! Retrying what may succeed next time: exponential backoff with jitter, honouring Retry-After,
//! bounded in attempts and in total time, and interruptible by cancellation.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts after this much time since the first one.
    pub max_elapsed: Duration,
    /// Multiplies the wait a server asks for (Retry-After) and its jitter: 1 as shipped, the
    /// test time scale otherwise (`ClientOptions::scaled`).
    pub time_scale: f64,
}

impl Default for RetryPolicy {
    /// Enough to ride out a server restart or a short network outage (about two minutes), not so
    /// much that a dead server keeps the user waiting for long.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 12,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(15),
            max_elapsed: Duration::from_secs(120),
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// For calls a person is waiting on (browsing, signing in): a couple of quick retries, so a
    /// hiccup is smoothed over but a wrong address is reported within seconds.
    pub fn interactive() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(8),
            time_scale: 1.0,
        }
    }

    /// Every wait of this policy multiplied by `scale` (see `ClientOptions::scaled`).
    pub fn scaled(self, scale: f64) -> Self {
        RetryPolicy {
            base_delay: self.base_delay.mul_f64(scale),
            max_delay: self.max_delay.mul_f64(scale),
            max_elapsed: self.max_elapsed.mul_f64(scale),
            time_scale: self.time_scale * scale,
            ..self
        }
    }

    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, err: &Error) -> Duration {
        if let Some(secs) = err.retry_after {
            // The server said when; a little jitter keeps parallel clients from returning at once.
            let jitter = Duration::from_millis(rand::rng().random_range(0..=250));
            return (Duration::from_secs(secs.min(60)) + jitter).mul_f64(self.time_scale);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        // Full jitter in the upper half: never less than half the backoff, never in lockstep.
        let half = capped.as_millis() as u64 / 2;
        Duration::from_millis(half + rand::rng().random_range(0..=half.max(1)))
    }
}

/// Runs `op` until it succeeds, fails with a non-retryable error, or the policy is exhausted.
/// `on_retry` sees each retryable failure (for logs and "retrying…" progress).
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    cancel: &CancellationToken,
    mut on_retry: impl FnMut(u32, &Error, Duration),
    mut op: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            r = op(attempt) => r,
        };
        let err = match result {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let delay = policy.delay(attempt, &err);
        let out_of_time = started.elapsed() + delay > policy.max_elapsed;
        if !err.retryable || attempt >= policy.max_attempts || out_of_time {
            return Err(err);
        }
        on_retry(attempt, &err, delay);
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            _ = tokio::time::sleep(delay) => {}
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::ErrorCode;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            max_elapsed: Duration::from_secs(5),
            time_scale: 1.0,
        }
    }

    #[tokio::test]
    async fn retries_retryable_until_success() {
        let calls = AtomicU32::new(0);
        let out = retry(
            &fast(),
            &CancellationToken::new(),
            |_, _, _| {},
            |_| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Error::new(ErrorCode::ServerError, "x"))
                } else {
                    Ok(7)
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(out, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stops_on_non_retryable_and_after_max_attempts() {
        let calls = AtomicU32::new(0);
        let err = retry(
            &fast(),
            &CancellationToken::new(),
            |_, _, _| {},
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorCode::InvalidInput, "no"))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        let err = retry(
            &fast(),
            &CancellationToken::new(),
            |_, _, _| {},
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorCode::Unreachable, "down"))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Unreachable);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn cancellation_interrupts_the_wait() {
        let cancel = CancellationToken::new();
        let slow = RetryPolicy {
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(600),
            ..fast()
        };
        let c2 = cancel.clone();
        let started = Instant::now();
        let err = retry(
            &slow,
            &cancel,
            |_, _, _| c2.cancel(),
            |_| async { Err::<(), _>(Error::new(ErrorCode::Unreachable, "down")) },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn honours_retry_after_and_caps_backoff() {
        let policy = RetryPolicy::default();
        let mut busy = Error::new(ErrorCode::ServerBusy, "busy");
        busy.retry_after = Some(3);
        let d = policy.delay(1, &busy);
        assert!(d >= Duration::from_secs(3) && d <= Duration::from_millis(3250));
        let plain = Error::new(ErrorCode::ServerError, "x");
        for attempt in 1..40 {
            assert!(policy.delay(attempt, &plain) <= policy.max_delay);
        }
        assert!(policy.delay(1, &plain) <= Duration::from_millis(250));
    }

    #[test]
    fn scaling_shortens_every_wait_retry_after_included() {
        let policy = RetryPolicy::default().scaled(0.1);
        assert_eq!(policy.max_elapsed, Duration::from_secs(12));
        assert_eq!(policy.max_delay, Duration::from_millis(1500));
        let mut busy = Error::new(ErrorCode::ServerBusy, "busy");
        busy.retry_after = Some(3);
        let d = policy.delay(1, &busy);
        assert!(d >= Duration::from_millis(300) && d <= Duration::from_millis(325));
    }
}
