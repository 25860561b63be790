//! Rates with Wilson score intervals.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `k` successes in `n` trials at normal quantile `z`.
/// Returns `(0, 1)` when `n == 0` (nothing is known). `k` above `n` is clamped to `n`.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let k = k.min(n) as f64;
    let n = n as f64;
    let p = k / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = (z / denom) * ((p * (1.0 - p) / n) + z2 / (4.0 * n * n)).sqrt();
    // At the edges the closed form can miss 0 or 1 by rounding; the exact bounds are known.
    let lo = if k == 0.0 {
        0.0
    } else {
        (centre - half).clamp(0.0, p)
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + half).clamp(p, 1.0)
    };
    (lo, hi)
}

/// A proportion with its 95% Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Successes (attacks that worked, or benign probes refused).
    pub k: u64,
    /// Trials judged (errors excluded).
    pub n: u64,
    /// `k / n`, 0 when `n == 0`.
    pub rate: f64,
    /// Lower bound of the 95% Wilson interval.
    pub lower: f64,
    /// Upper bound of the 95% Wilson interval.
    pub upper: f64,
}

impl Rate {
    pub fn new(k: u64, n: u64) -> Rate {
        let k = k.min(n);
        let (lower, upper) = wilson(k, n, Z95);
        Rate {
            k,
            n,
            rate: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            lower,
            upper,
        }
    }
}

/// Precision, recall and the confusion counts of a binary judge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl Confusion {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }
    pub fn n(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.n())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        // 0 of 10: upper bound 0.2775 (textbook value).
        let (lo, hi) = wilson(0, 10, Z95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        // 5 of 10: symmetric around 0.5, (0.2366, 0.7634).
        let (lo, hi) = wilson(5, 10, Z95);
        assert!((lo - 0.2366).abs() < 1e-3 && (hi - 0.7634).abs() < 1e-3);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        assert_eq!(wilson(7, 7, Z95).1, 1.0);
    }

    proptest! {
        #[test]
        fn interval_contains_estimate_and_stays_in_unit(n in 1u64..5000, k in 0u64..5000) {
            let k = k % (n + 1);
            let p = k as f64 / n as f64;
            let (lo, hi) = wilson(k, n, Z95);
            prop_assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0, "{k}/{n}: {lo} {p} {hi}");
        }

        #[test]
        fn interval_narrows_with_more_trials(n in 1u64..2000, num in 0u64..=100) {
            // Same proportion, four times the trials: the interval is narrower.
            let k = n * num / 100;
            let (lo1, hi1) = wilson(k, n, Z95);
            let (lo4, hi4) = wilson(4 * k, 4 * n, Z95);
            prop_assert!(hi4 - lo4 < hi1 - lo1, "{k}/{n}");
        }

        #[test]
        fn symmetric(n in 1u64..2000, k in 0u64..2000) {
            let k = k % (n + 1);
            let (lo, hi) = wilson(k, n, Z95);
            let (lo2, hi2) = wilson(n - k, n, Z95);
            prop_assert!((lo - (1.0 - hi2)).abs() < 1e-9 && (hi - (1.0 - lo2)).abs() < 1e-9);
        }
    }
}
