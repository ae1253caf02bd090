//! The one backoff formula: retries wait `base * 2^n`, capped, with "equal jitter" (a random
//! time between half and all of that step), so clients that failed together (every dashboard
//! after a server restart, every event of one outage) do not all come back in the same instant.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The step of the first retry (`n = 0`).
    pub base: Duration,
    /// No step is longer.
    pub cap: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap }
    }

    /// The step of retry `n` (0-based): `base * 2^n`, at most `cap`.
    pub fn step(&self, n: u32) -> Duration {
        self.base.saturating_mul(1u32 << n.min(20)).min(self.cap)
    }

    /// How long to wait before retry `n`: between half and all of [`Backoff::step`].
    pub fn delay(&self, n: u32) -> Duration {
        self.delay_at(n, rand::rng().random())
    }

    /// [`Backoff::delay`] at `fraction` (0 to 1) of the jitter range.
    fn delay_at(&self, n: u32, fraction: f64) -> Duration {
        let half = self.step(n) / 2;
        half + half.mul_f64(fraction.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn steps_double_up_to_the_cap() {
        let backoff = Backoff::new(SECOND, SECOND * 30);
        let steps: Vec<u64> = (0..7).map(|n| backoff.step(n).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff.step(u32::MAX), SECOND * 30);
        assert_eq!(Backoff::new(Duration::ZERO, SECOND).step(9), Duration::ZERO);
    }

    #[test]
    fn delays_lie_between_half_and_all_of_the_step() {
        let backoff = Backoff::new(SECOND, SECOND * 300);
        assert_eq!(backoff.delay_at(3, 0.0), SECOND * 4);
        assert_eq!(backoff.delay_at(3, 1.0), SECOND * 8);
        for n in 0..12 {
            let (delay, step) = (backoff.delay(n), backoff.step(n));
            assert!(
                delay >= step / 2 && delay <= step,
                "retry {n}: {delay:?} of {step:?}"
            );
        }
    }

    /// Two dashboards that lost the same server at the same moment come back at different times.
    #[test]
    fn two_clients_wait_differently() {
        let backoff = Backoff::new(SECOND * 3, SECOND * 30);
        let first: Vec<Duration> = (0..4).map(|n| backoff.delay(n)).collect();
        let second: Vec<Duration> = (0..4).map(|n| backoff.delay(n)).collect();
        assert_ne!(first, second);
    }
}
