//! Release gates on an evaluation: `recall>=0.9`, `fpr<=0.02`, `CREDIT_CARD.recall>=0.95`.
//! A gated evaluation is a test result: the CLI stores it as evidence that passes or fails.
//! Pure: parsing and checking against the tables of [`crate::eval::Report`].

use crate::eval::{headline, Counts, Report, INJECTION_OVERALL};
use serde::Serialize;

/// What a gate measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Precision,
    Recall,
    F1,
    Fpr,
}

impl Measure {
    fn parse(s: &str) -> Option<Measure> {
        Some(match s {
            "precision" => Measure::Precision,
            "recall" => Measure::Recall,
            "f1" => Measure::F1,
            "fpr" => Measure::Fpr,
            _ => return None,
        })
    }

    fn of(self, c: &Counts) -> Option<f64> {
        match self {
            Measure::Precision => c.precision(),
            Measure::Recall => c.recall(),
            Measure::F1 => c.f1(),
            Measure::Fpr => c.fpr(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

/// One gate: an optional group (a row of the evaluation's tables; default: the headline row,
/// `all` for injection data and `structured (micro)` for PII data), a measure and a bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalGate {
    pub expr: String,
    pub group: Option<String>,
    pub measure: Measure,
    pub op: Op,
    pub threshold: f64,
}

/// A gate checked against an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalGateResult {
    pub expr: String,
    /// The group the gate was read from.
    pub group: String,
    /// `None` when the measure is undefined there (e.g. recall with no positive row).
    pub value: Option<f64>,
    pub passed: bool,
}

impl std::str::FromStr for EvalGate {
    type Err = String;
    fn from_str(s: &str) -> Result<EvalGate, String> {
        EvalGate::parse(s)
    }
}

impl EvalGate {
    /// Parses `[GROUP.]MEASURE(>=|<=)NUMBER`; the number is a rate in `[0, 1]`.
    pub fn parse(expr: &str) -> Result<EvalGate, String> {
        let err = |m: &str| format!("gate `{expr}`: {m}");
        let (lhs, op, rhs) = if let Some((l, r)) = expr.split_once(">=") {
            (l, Op::AtLeast, r)
        } else if let Some((l, r)) = expr.split_once("<=") {
            (l, Op::AtMost, r)
        } else {
            return Err(err(
                "expected MEASURE>=NUMBER or MEASURE<=NUMBER, e.g. recall>=0.9",
            ));
        };
        let lhs = lhs.trim();
        let (group, measure) = match lhs.rsplit_once('.') {
            Some((g, m)) => (Some(g.trim().to_string()), m.trim()),
            None => (None, lhs),
        };
        let measure = Measure::parse(measure)
            .ok_or_else(|| err("the measure must be precision, recall, f1 or fpr"))?;
        if group.as_deref() == Some("") {
            return Err(err("empty group before `.`"));
        }
        let threshold: f64 = rhs
            .trim()
            .parse()
            .map_err(|_| err("the bound must be a number"))?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(err("the bound is a rate between 0 and 1"));
        }
        Ok(EvalGate {
            expr: expr.trim().to_string(),
            group,
            measure,
            op,
            threshold,
        })
    }

    /// Checks the gate on the evaluation's tables. An unknown group is an error (a gate that
    /// names nothing would otherwise pass or fail silently); an undefined value fails.
    pub fn check(&self, reports: &[Report]) -> Result<EvalGateResult, String> {
        let row = match &self.group {
            None => headline(reports),
            Some(g) => reports
                .iter()
                .flat_map(|r| &r.rows)
                .find(|(name, _)| name == g),
        };
        let Some((group, counts)) = row else {
            let known: Vec<&str> = reports
                .iter()
                .flat_map(|r| &r.rows)
                .map(|(g, _)| g.as_str())
                .collect();
            return Err(format!(
                "gate `{}`: no group `{}` in this evaluation (groups: {})",
                self.expr,
                self.group.as_deref().unwrap_or(INJECTION_OVERALL),
                known.join(", ")
            ));
        };
        let value = self.measure.of(counts);
        let passed = value.is_some_and(|v| match self.op {
            Op::AtLeast => v >= self.threshold,
            Op::AtMost => v <= self.threshold,
        });
        Ok(EvalGateResult {
            expr: self.expr.clone(),
            group: group.clone(),
            value,
            passed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reports() -> Vec<Report> {
        vec![
            Report {
                title: "overall".into(),
                rows: vec![(
                    "all".into(),
                    Counts {
                        tp: 90,
                        fp: 5,
                        tn: 95,
                        fn_: 10,
                    },
                )],
            },
            Report {
                title: "by source".into(),
                rows: vec![(
                    "bipia:email (1)".into(),
                    Counts {
                        tp: 0,
                        fp: 0,
                        tn: 0,
                        fn_: 0,
                    },
                )],
            },
        ]
    }

    #[test]
    fn parses_and_checks_the_headline_row() {
        let g = EvalGate::parse("recall>=0.9").unwrap();
        assert_eq!(g.measure, Measure::Recall);
        let r = g.check(&reports()).unwrap();
        assert_eq!(r.group, "all");
        assert!(r.passed, "{r:?}");
        let r = EvalGate::parse("fpr <= 0.04")
            .unwrap()
            .check(&reports())
            .unwrap();
        assert!(!r.passed, "fpr is 5/100 = 0.05: {r:?}");
    }

    #[test]
    fn groups_are_named_exactly_and_undefined_values_fail() {
        let r = EvalGate::parse("bipia:email (1).recall>=0.5")
            .unwrap()
            .check(&reports())
            .unwrap();
        assert_eq!(r.value, None);
        assert!(!r.passed);
        let e = EvalGate::parse("nothing.recall>=0.5")
            .unwrap()
            .check(&reports())
            .unwrap_err();
        assert!(
            e.contains("no group `nothing`") && e.contains("bipia:email (1)"),
            "{e}"
        );
    }

    #[test]
    fn bad_gates_say_what_is_wrong() {
        for (g, want) in [
            ("recall=0.9", "expected"),
            ("accuracy>=0.9", "measure"),
            ("recall>=ninety", "number"),
            ("recall>=90", "between 0 and 1"),
            (".recall>=0.9", "empty group"),
        ] {
            let e = EvalGate::parse(g).unwrap_err();
            assert!(e.contains(want) && e.contains(g), "{g}: {e}");
        }
    }

    proptest! {
        /// A `>=` gate and the `<=` gate at the same bound both pass exactly at the value, and
        /// otherwise exactly one passes.
        #[test]
        fn at_least_and_at_most_split_at_the_bound(tp in 0usize..50, fn_ in 0usize..50, t in 0.0f64..=1.0) {
            prop_assume!(tp + fn_ > 0);
            let rs = vec![Report { title: "o".into(), rows: vec![("all".into(), Counts { tp, fp: 0, tn: 0, fn_ })] }];
            let ge = EvalGate::parse(&format!("recall>={t}")).unwrap().check(&rs).unwrap();
            let le = EvalGate::parse(&format!("recall<={t}")).unwrap().check(&rs).unwrap();
            let v = tp as f64 / (tp + fn_) as f64;
            prop_assert_eq!(ge.passed, v >= t);
            prop_assert_eq!(le.passed, v <= t);
            prop_assert!(ge.passed || le.passed);
        }
    }
}
