//! Scoring against a criteria set: grid and band lookups, the shape of a valid set, and
//! the field paths `Register::validate` reports for invalid ones.

mod common;

use airisk_model::{current_level, CriteriaSet, Level, ObjectKind, Register, ScoreBands};
use common::*;
use proptest::prelude::*;

/// A register holding only `set` (the only set, so the active one).
fn register_with(set: CriteriaSet) -> Register {
    let mut reg = base_register();
    reg.criteria.clear();
    reg.settings.as_mut().unwrap().criteria = set.id.clone();
    reg.criteria.insert(set.id.clone(), set);
    reg
}

fn criteria_fields(set: CriteriaSet) -> Vec<String> {
    let id = set.id.clone();
    fields_of(&register_with(set).validate(), ObjectKind::Criteria, &id)
}

#[test]
fn five_by_five_grid_lookups() {
    let set = criteria_5x5();
    assert_eq!(set.level(1, 1), Some(Level::Low));
    assert_eq!(set.level(1, 4), Some(Level::Medium));
    assert_eq!(set.level(2, 5), Some(Level::High));
    assert_eq!(set.level(4, 5), Some(Level::Critical));
    assert_eq!(set.level(5, 5), Some(Level::Critical));
    // Rows are likelihood, columns consequence: the grid is not symmetric here.
    assert_eq!(set.level(4, 1), Some(Level::Medium));
    assert_eq!(set.level(1, 4), Some(Level::Medium));
    assert_eq!(set.level(5, 2), Some(Level::High));
    assert_eq!(set.level(2, 5), Some(Level::High));
    assert_eq!(set.level(0, 1), None);
    assert_eq!(set.level(1, 0), None);
    assert_eq!(set.level(6, 1), None);
    assert_eq!(set.level(1, 6), None);
    assert_valid(&register_with(set));
}

#[test]
fn asymmetric_grid_rows_are_likelihood() {
    use Level::{High as H, Low as L};
    // 3 likelihood steps × 4 consequence steps.
    let grid = vec![vec![L, L, L, H], vec![L, L, H, H], vec![L, H, H, H]];
    let set = criteria_grid("asym", grid.clone(), Level::Low);
    assert_eq!(set.likelihood_steps(), 3);
    assert_eq!(set.consequence_steps(), 4);
    assert_eq!(set.level(1, 4), Some(H));
    assert_eq!(
        set.level(4, 1),
        None,
        "likelihood 4 is outside a 3-step scale"
    );
    assert_eq!(set.level(3, 2), Some(H));
    assert_eq!(set.resolved_grid(), Some(grid));
}

#[test]
fn bands_lookups_follow_the_product() {
    let bands = ScoreBands {
        medium: Some(5),
        high: Some(10),
        critical: Some(20),
    };
    let set = criteria_bands("b", 5, 5, bands, Level::Medium);
    assert_eq!(set.level(1, 4), Some(Level::Low)); // 4
    assert_eq!(set.level(1, 5), Some(Level::Medium)); // 5
    assert_eq!(set.level(3, 3), Some(Level::Medium)); // 9
    assert_eq!(set.level(2, 5), Some(Level::High)); // 10
    assert_eq!(set.level(4, 4), Some(Level::High)); // 16
    assert_eq!(set.level(4, 5), Some(Level::Critical)); // 20
    assert_eq!(set.level(6, 1), None);
    assert_valid(&register_with(set));
}

#[test]
fn bands_with_skipped_levels() {
    // Only critical: everything else is low.
    let set = criteria_bands(
        "b",
        4,
        4,
        ScoreBands {
            medium: None,
            high: None,
            critical: Some(12),
        },
        Level::High,
    );
    assert_eq!(set.level(3, 3), Some(Level::Low));
    assert_eq!(set.level(3, 4), Some(Level::Critical));
    assert_valid(&register_with(set));
}

#[test]
fn set_with_both_grid_and_bands_scores_nothing_and_is_reported() {
    let mut set = criteria_5x5();
    set.bands = Some(ScoreBands {
        medium: Some(4),
        high: None,
        critical: None,
    });
    assert_eq!(set.level(1, 1), None);
    assert_eq!(set.resolved_grid(), None);
    let issues = register_with(set).validate();
    let issue = issue_at(&issues, ObjectKind::Criteria, CRITERIA_ID, "grid");
    assert!(issue.message.contains("either"), "{}", issue.message);
}

#[test]
fn set_with_neither_grid_nor_bands_is_reported() {
    let mut set = criteria_5x5();
    set.grid = None;
    assert_eq!(set.level(3, 3), None);
    assert_eq!(set.resolved_grid(), None);
    let issues = register_with(set).validate();
    issue_at(&issues, ObjectKind::Criteria, CRITERIA_ID, "grid");
}

#[test]
fn grid_with_wrong_row_count_is_reported_at_grid() {
    let mut set = criteria_5x5();
    set.grid.as_mut().unwrap().pop();
    let fields = criteria_fields(set.clone());
    assert_eq!(fields, vec!["grid".to_string()]);
    // The missing row scores nothing.
    assert_eq!(set.level(5, 1), None);
    assert_eq!(set.resolved_grid(), None);
}

#[test]
fn grid_with_short_row_is_reported_at_that_row() {
    let mut set = criteria_5x5();
    set.grid.as_mut().unwrap()[2].pop();
    let fields = criteria_fields(set.clone());
    assert_eq!(fields, vec!["grid[2]".to_string()]);
    assert_eq!(set.level(3, 5), None);
    assert_eq!(set.level(3, 4), Some(Level::High));
}

#[test]
fn grid_with_long_row_is_reported_at_that_row() {
    let mut set = criteria_5x5();
    set.grid.as_mut().unwrap()[4].push(Level::Critical);
    assert_eq!(criteria_fields(set), vec!["grid[4]".to_string()]);
}

#[test]
fn decreasing_cell_is_reported_with_its_coordinates() {
    let mut set = criteria_5x5();
    // (likelihood 4, consequence 5) critical -> low: lower than left and upper neighbour.
    set.grid.as_mut().unwrap()[3][4] = Level::Low;
    let issues = register_with(set).validate();
    let at: Vec<&str> = issues
        .iter()
        .filter(|i| i.kind == ObjectKind::Criteria)
        .map(|i| i.field.as_str())
        .collect();
    // Lower than (4,4) high and (3,5) high, and (5,5) critical sits above a low.
    assert!(at.iter().all(|f| *f == "grid[3][4]"), "{issues:#?}");
    assert_eq!(at.len(), 2, "{issues:#?}");
    assert!(issues
        .iter()
        .any(|i| i.message.contains("consequence grows")));
    assert!(issues
        .iter()
        .any(|i| i.message.contains("likelihood grows")));
}

#[test]
fn scale_step_counts_outside_3_to_6_are_reported() {
    for n in [0usize, 1, 2, 7, 8] {
        let mut set = criteria_bands(
            "b",
            4,
            4,
            ScoreBands {
                medium: Some(4),
                high: None,
                critical: None,
            },
            Level::Medium,
        );
        set.likelihood = steps(n, "l");
        assert!(
            criteria_fields(set.clone()).contains(&"likelihood".to_string()),
            "likelihood with {n} steps"
        );
        set.likelihood = steps(4, "l");
        set.consequence = steps(n, "c");
        assert!(
            criteria_fields(set).contains(&"consequence".to_string()),
            "consequence with {n} steps"
        );
    }
    for n in 3..=6 {
        let set = criteria_bands(
            "b",
            n,
            n,
            ScoreBands {
                medium: Some(4),
                high: None,
                critical: None,
            },
            Level::Medium,
        );
        assert!(criteria_fields(set).is_empty(), "{n} steps is valid");
    }
}

#[test]
fn duplicate_labels_are_reported_case_insensitively() {
    let mut set = criteria_5x5();
    set.likelihood[3].label = "LIKELIHOOD 2".to_string();
    set.consequence[1].label = "  ".to_string();
    let fields = criteria_fields(set);
    assert!(
        fields.contains(&"likelihood[3].label".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"consequence[1].label".to_string()),
        "{fields:?}"
    );
    assert!(
        !fields.contains(&"likelihood[1].label".to_string()),
        "{fields:?}"
    );
}

#[test]
fn invalid_bands_are_reported_at_their_level() {
    let bands = |medium, high, critical| ScoreBands {
        medium,
        high,
        critical,
    };
    let check = |b: ScoreBands, expected: &[&str]| {
        let fields = criteria_fields(criteria_bands("b", 5, 5, b.clone(), Level::Medium));
        assert_eq!(fields, expected, "bands {b:?}");
    };
    check(bands(None, None, None), &["bands"]);
    check(bands(Some(1), Some(5), None), &["bands.medium"]);
    check(bands(Some(0), None, None), &["bands.medium"]);
    check(bands(None, None, Some(1)), &["bands.critical"]);
    check(bands(Some(6), Some(6), None), &["bands.high"]);
    check(bands(Some(6), Some(9), Some(8)), &["bands.critical"]);
    check(bands(Some(10), None, Some(8)), &["bands.critical"]);
    check(bands(Some(2), Some(3), Some(4)), &[]);
}

#[test]
fn consequence_categories_must_be_present_and_distinct() {
    let mut set = criteria_5x5();
    set.consequence_categories = vec![];
    assert_eq!(criteria_fields(set.clone()), vec!["consequence_categories"]);
    set.consequence_categories = vec!["financial".into(), " ".into(), "financial".into()];
    assert_eq!(
        criteria_fields(set),
        vec!["consequence_categories[1]", "consequence_categories[2]"]
    );
}

#[test]
fn above_threshold_is_strictly_greater() {
    for threshold in Level::ALL {
        let set = criteria_grid("t", grid_5x5(), threshold);
        for level in Level::ALL {
            assert_eq!(set.above_threshold(level), level > threshold);
        }
    }
}

#[test]
fn current_level_is_residual_else_inherent() {
    let set = criteria_5x5();
    assert_eq!(current_level(&risk("R-1"), &set), None);
    let inherent_only = scored_risk("R-1", (5, 5), None);
    assert_eq!(current_level(&inherent_only, &set), Some(Level::Critical));
    let both = scored_risk("R-1", (5, 5), Some((1, 1)));
    assert_eq!(current_level(&both, &set), Some(Level::Low));
}

#[test]
fn score_outside_scale_is_reported_at_its_axis() {
    let mut reg = base_register();
    add_risk(&mut reg, scored_risk("R-1", (0, 6), Some((6, 1))));
    let fields = fields_of(&reg.validate(), ObjectKind::Risk, "R-1");
    assert!(
        fields.contains(&"inherent.likelihood".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"inherent.consequence".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"residual.likelihood".to_string()),
        "{fields:?}"
    );
    assert!(
        !fields.contains(&"residual.consequence".to_string()),
        "{fields:?}"
    );
}

#[test]
fn score_needs_a_rationale() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (2, 2), None);
    r.inherent.as_mut().unwrap().rationale = " ".to_string();
    add_risk(&mut reg, r);
    let fields = fields_of(&reg.validate(), ObjectKind::Risk, "R-1");
    assert_eq!(fields, vec!["inherent.rationale"]);
}

#[test]
fn residual_above_inherent_is_reported() {
    let mut reg = base_register();
    add_risk(&mut reg, scored_risk("R-1", (1, 1), Some((5, 5))));
    add_risk(&mut reg, scored_risk("R-2", (5, 5), Some((5, 5))));
    // Same level, different cell: not a raise.
    add_risk(&mut reg, scored_risk("R-3", (2, 3), Some((3, 2))));
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-1"),
        vec!["residual"]
    );
    assert!(fields_of(&issues, ObjectKind::Risk, "R-2").is_empty());
    assert!(fields_of(&issues, ObjectKind::Risk, "R-3").is_empty());
}

proptest! {
    #[test]
    fn grid_level_is_defined_exactly_on_the_scales(grid in monotone_grid()) {
        let (n, m) = (grid.len(), grid[0].len());
        let set = criteria_grid("g", grid.clone(), Level::Medium);
        for l in 0u8..=8 {
            for c in 0u8..=8 {
                let inside = (1..=n).contains(&(l as usize)) && (1..=m).contains(&(c as usize));
                let expected = inside.then(|| grid[l as usize - 1][c as usize - 1]);
                prop_assert_eq!(set.level(l, c), expected, "cell ({}, {})", l, c);
            }
            prop_assert_eq!(set.level(l, 255), None);
            prop_assert_eq!(set.level(255, l), None);
        }
    }

    #[test]
    fn grid_level_is_monotone_and_resolved_grid_agrees(grid in monotone_grid()) {
        let (n, m) = (grid.len() as u8, grid[0].len() as u8);
        let set = criteria_grid("g", grid.clone(), Level::Medium);
        for l in 1..=n {
            for c in 1..=m {
                let here = set.level(l, c).unwrap();
                if l < n {
                    prop_assert!(set.level(l + 1, c).unwrap() >= here);
                }
                if c < m {
                    prop_assert!(set.level(l, c + 1).unwrap() >= here);
                }
            }
        }
        let resolved = set.resolved_grid().expect("a valid grid resolves");
        prop_assert_eq!(resolved.len(), n as usize);
        for (r, row) in resolved.iter().enumerate() {
            prop_assert_eq!(row.len(), m as usize);
            for (c, level) in row.iter().enumerate() {
                prop_assert_eq!(Some(*level), set.level(r as u8 + 1, c as u8 + 1));
            }
        }
        prop_assert_eq!(resolved, grid);
    }

    #[test]
    fn monotone_grids_are_valid(grid in monotone_grid(), threshold in any_level()) {
        let set = criteria_grid("g", grid, threshold);
        let fields = criteria_fields(set);
        prop_assert!(fields.is_empty(), "{:?}", fields);
    }

    #[test]
    fn a_decreasing_cell_is_reported_at_its_path(
        grid in monotone_grid(),
        pick in (0usize..36, 0usize..36),
    ) {
        let (n, m) = (grid.len(), grid[0].len());
        let (r, c) = (pick.0 % n, pick.1 % m);
        prop_assume!(r > 0 || c > 0);
        let up = if r > 0 { grid[r - 1][c] } else { Level::Low };
        let left = if c > 0 { grid[r][c - 1] } else { Level::Low };
        let neighbour = up.max(left);
        prop_assume!(neighbour > Level::Low);
        let mut broken = grid.clone();
        broken[r][c] = Level::ALL[neighbour as usize - 1];
        let fields = criteria_fields(criteria_grid("g", broken.clone(), Level::Medium));
        let path = format!("grid[{r}][{c}]");
        prop_assert!(fields.contains(&path), "{} not in {:?}", path, fields);
        // Only the broken cell and the cells right and below it can be out of order.
        for f in &fields {
            let ok = *f == path
                || *f == format!("grid[{}][{}]", r + 1, c)
                || *f == format!("grid[{}][{}]", r, c + 1);
            prop_assert!(ok, "unexpected issue at {}: {:?}", f, fields);
        }
    }

    #[test]
    fn bands_reproduce_the_product_rule((n, m, bands) in valid_bands(), threshold in any_level()) {
        let set = criteria_bands("b", n, m, bands.clone(), threshold);
        for l in 0..=7u8 {
            for c in 0..=7u8 {
                let inside = (1..=n).contains(&(l as usize)) && (1..=m).contains(&(c as usize));
                let expected = inside.then(|| product_rule(&bands, l as u32 * c as u32));
                prop_assert_eq!(set.level(l, c), expected, "cell ({}, {})", l, c);
            }
        }
        // Monotone in both directions.
        let grid = set.resolved_grid().expect("bands resolve");
        prop_assert_eq!(grid.len(), n);
        for r in 0..n {
            prop_assert_eq!(grid[r].len(), m);
            for c in 0..m {
                if r + 1 < n { prop_assert!(grid[r + 1][c] >= grid[r][c]); }
                if c + 1 < m { prop_assert!(grid[r][c + 1] >= grid[r][c]); }
            }
        }
        // (1,1) is always low: every minimum is at least 2.
        prop_assert_eq!(grid[0][0], Level::Low);
        let fields = criteria_fields(set);
        prop_assert!(fields.is_empty(), "{:?}", fields);
    }

    #[test]
    fn scale_size_rule(n in 0usize..=9, m in 0usize..=9) {
        let set = criteria_bands("b", n, m, ScoreBands { medium: Some(3), high: None, critical: None }, Level::Low);
        let fields = criteria_fields(set);
        prop_assert_eq!(fields.contains(&"likelihood".to_string()), !(3..=6).contains(&n));
        prop_assert_eq!(fields.contains(&"consequence".to_string()), !(3..=6).contains(&m));
    }

    #[test]
    fn grid_shape_rule(grid in monotone_grid(), extra_rows in 0usize..3, drop_rows in 0usize..3) {
        // Scales one size, grid another: reported at `grid` exactly when the row counts differ.
        let n = grid.len();
        let mut set = criteria_grid("g", grid, Level::Low);
        let steps_n = (n + extra_rows).saturating_sub(drop_rows).clamp(3, 6);
        set.likelihood = steps(steps_n, "l");
        let fields = criteria_fields(set);
        prop_assert_eq!(fields.contains(&"grid".to_string()), steps_n != n, "{:?}", fields);
        if steps_n == n {
            prop_assert!(fields.is_empty());
        }
    }

    #[test]
    fn risk_scores_are_checked_against_the_scales(
        grid in monotone_grid(),
        l in 0u8..=8,
        c in 0u8..=8,
    ) {
        let (n, m) = (grid.len() as u8, grid[0].len() as u8);
        let mut reg = register_with(criteria_grid("g", grid.clone(), Level::Critical));
        add_risk(&mut reg, scored_risk("R-1", (l, c), None));
        let fields = fields_of(&reg.validate(), ObjectKind::Risk, "R-1");
        prop_assert_eq!(fields.contains(&"inherent.likelihood".to_string()), l == 0 || l > n);
        prop_assert_eq!(fields.contains(&"inherent.consequence".to_string()), c == 0 || c > m);
        // The view reports the grid's level for an in-scale score and none otherwise.
        let view = reg.risk_view(&reg.risks["R-1"], today());
        let expected = (l >= 1 && l <= n && c >= 1 && c <= m)
            .then(|| grid[l as usize - 1][c as usize - 1]);
        prop_assert_eq!(view.inherent.unwrap().level, expected);
        prop_assert_eq!(view.level, expected);
    }

    #[test]
    fn residual_may_not_exceed_inherent(
        grid in monotone_grid(),
        a in (1u8..=6, 1u8..=6),
        b in (1u8..=6, 1u8..=6),
    ) {
        let (n, m) = (grid.len() as u8, grid[0].len() as u8);
        let (a, b) = (((a.0 - 1) % n + 1, (a.1 - 1) % m + 1), ((b.0 - 1) % n + 1, (b.1 - 1) % m + 1));
        let set = criteria_grid("g", grid, Level::Critical);
        let (li, lr) = (set.level(a.0, a.1).unwrap(), set.level(b.0, b.1).unwrap());
        let mut reg = register_with(set);
        add_risk(&mut reg, scored_risk("R-1", a, Some(b)));
        let issues = reg.validate();
        let fields = fields_of(&issues, ObjectKind::Risk, "R-1");
        prop_assert_eq!(fields.contains(&"residual".to_string()), lr > li, "{:?}", issues);
        let view = reg.risk_view(&reg.risks["R-1"], today());
        prop_assert_eq!(view.level, Some(lr));
    }
}

#[test]
fn a_band_minimum_above_the_largest_score_is_reported() {
    let bands = ScoreBands {
        medium: Some(4),
        high: Some(10),
        critical: Some(26),
    };
    let set = criteria_bands("b", 5, 5, bands, Level::Medium);
    let fields = criteria_fields(set);
    assert_eq!(fields, vec!["bands.critical".to_string()]);
}
