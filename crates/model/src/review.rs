//! Review dates (M15): when a review falls due, from a start date and a cycle in months.

use chrono::{Months, NaiveDate};

/// The date a review falls due: `cycle_months` after the last one. A month-end start
/// clamps to the end of a shorter month (31 Jan + 1 month = 28/29 Feb).
pub fn next_review(last: NaiveDate, cycle_months: u32) -> Option<NaiveDate> {
    last.checked_add_months(Months::new(cycle_months))
}

/// Days past due (0 when due today or later).
pub fn days_overdue(due: NaiveDate, today: NaiveDate) -> i64 {
    (today - due).num_days().max(0)
}

/// A review is overdue the day after it falls due.
pub fn is_overdue(due: NaiveDate, today: NaiveDate) -> bool {
    due < today
}
