//! Token buckets for per-key rate limits: pure arithmetic, time passed in as seconds.

/// A bucket that holds at most `capacity` tokens and refills at `rate` tokens per second.
/// The balance may go negative when usage is charged after the fact (completion tokens);
/// requests are refused until it is positive again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    pub capacity: f64,
    pub rate: f64,
    tokens: f64,
    last: f64,
}

impl TokenBucket {
    /// A full bucket at time `now`.
    pub fn new(capacity: f64, rate: f64, now: f64) -> TokenBucket {
        TokenBucket {
            capacity,
            rate,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: f64) {
        if now > self.last {
            self.tokens = (self.tokens + (now - self.last) * self.rate).min(self.capacity);
            self.last = now;
        }
    }

    /// Takes `n` tokens if they are there; otherwise says how many seconds until they are.
    pub fn try_take(&mut self, n: f64, now: f64) -> Result<(), f64> {
        self.refill(now);
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else if self.rate > 0.0 {
            Err((n - self.tokens) / self.rate)
        } else {
            Err(f64::INFINITY)
        }
    }

    /// Whether the balance is positive (a request may start), else seconds to wait.
    pub fn check_positive(&mut self, now: f64) -> Result<(), f64> {
        self.refill(now);
        if self.tokens > 0.0 {
            Ok(())
        } else if self.rate > 0.0 {
            Err((-self.tokens + 1e-9) / self.rate)
        } else {
            Err(f64::INFINITY)
        }
    }

    /// Charges `n` tokens after the fact; the balance may go below zero (down to -capacity).
    pub fn charge(&mut self, n: f64, now: f64) {
        self.refill(now);
        self.tokens = (self.tokens - n).max(-self.capacity);
    }

    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn burst_then_rate() {
        let mut b = TokenBucket::new(3.0, 1.0, 0.0);
        assert!(b.try_take(1.0, 0.0).is_ok());
        assert!(b.try_take(1.0, 0.0).is_ok());
        assert!(b.try_take(1.0, 0.0).is_ok());
        let wait = b.try_take(1.0, 0.0).unwrap_err();
        assert!((wait - 1.0).abs() < 1e-9);
        assert!(b.try_take(1.0, 0.5).is_err());
        assert!(b.try_take(1.0, 1.0).is_ok());
        // Never above capacity, however long it waits.
        b.refill(1000.0);
        assert_eq!(b.tokens(), 3.0);
    }

    #[test]
    fn charged_usage_blocks_until_repaid() {
        let mut b = TokenBucket::new(100.0, 10.0, 0.0);
        b.charge(150.0, 0.0);
        assert!(b.tokens() < 0.0);
        let wait = b.check_positive(0.0).unwrap_err();
        assert!((wait - 5.0).abs() < 1e-6);
        assert!(b.check_positive(5.1).is_ok());
    }

    proptest! {
        /// Over any schedule, no more than capacity + rate × elapsed requests get through.
        #[test]
        fn never_more_than_allowed(cap in 1.0f64..20.0, rate in 0.1f64..50.0,
                                   gaps in proptest::collection::vec(0.0f64..0.5, 1..300)) {
            let mut b = TokenBucket::new(cap, rate, 0.0);
            let mut now = 0.0;
            let mut granted = 0.0;
            for g in gaps {
                now += g;
                if b.try_take(1.0, now).is_ok() { granted += 1.0; }
            }
            prop_assert!(granted <= cap + rate * now + 1e-6);
        }
    }
}
