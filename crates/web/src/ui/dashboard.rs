//! The dashboard: heat maps (SVG), top risks, what is due, and the trend of open risk
//! levels over time, replayed from the history.

use super::{html_page, level_badge, S};
use crate::auth::User;
use crate::problem::Problem;
use crate::state::Snapshot;
use airisk_model::{CriteriaSet, Level, RiskStatus};
use airisk_store::HistoryEntry;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize)]
pub struct HeatCounts {
    pub criteria: Option<String>,
    pub likelihood: Vec<String>,
    pub consequence: Vec<String>,
    /// `levels[l][c]` for likelihood step l+1 and consequence step c+1.
    pub levels: Vec<Vec<Option<Level>>>,
    /// Open risks per cell, by their inherent and by their residual score.
    pub inherent: Vec<Vec<usize>>,
    pub residual: Vec<Vec<usize>>,
}

/// Counts of open risks per cell of the active criteria grid.
pub fn heat_counts(snapshot: &Snapshot) -> HeatCounts {
    let criteria = snapshot.register.active_criteria();
    let (nl, nc) = criteria.map_or((0, 0), |c| (c.likelihood_steps(), c.consequence_steps()));
    let mut inherent = vec![vec![0; nc]; nl];
    let mut residual = vec![vec![0; nc]; nl];
    for v in snapshot
        .views
        .iter()
        .filter(|v| v.status != RiskStatus::Closed)
    {
        for (score, grid) in [(&v.inherent, &mut inherent), (&v.residual, &mut residual)] {
            if let Some(s) = score {
                let (l, c) = (s.likelihood as usize, s.consequence as usize);
                if (1..=nl).contains(&l) && (1..=nc).contains(&c) {
                    grid[l - 1][c - 1] += 1;
                }
            }
        }
    }
    HeatCounts {
        criteria: criteria.map(|c| c.id.clone()),
        likelihood: criteria.map_or(Vec::new(), |c| {
            c.likelihood.iter().map(|s| s.label.clone()).collect()
        }),
        consequence: criteria.map_or(Vec::new(), |c| {
            c.consequence.iter().map(|s| s.label.clone()).collect()
        }),
        levels: (1..=nl)
            .map(|l| {
                (1..=nc)
                    .map(|c| criteria.and_then(|cr| cr.level(l as u8, c as u8)))
                    .collect()
            })
            .collect(),
        inherent,
        residual,
    }
}

/// One point of the trend: open risks per current level at the end of a day with changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub day: String,
    pub counts: BTreeMap<String, usize>,
}

/// Replays the risk history (field-level changes) to count open risks by level at the end
/// of every day on which a risk changed. Levels use the criteria in force now.
pub fn trend(history: &[HistoryEntry], criteria: Option<&CriteriaSet>) -> Vec<TrendPoint> {
    #[derive(Default, Clone)]
    struct State {
        status: String,
        inherent: (Option<u8>, Option<u8>),
        residual: (Option<u8>, Option<u8>),
    }
    let Some(criteria) = criteria else {
        return Vec::new();
    };
    let mut risks: HashMap<&str, State> = HashMap::new();
    let mut points = Vec::new();
    let as_u8 =
        |v: &Option<serde_json::Value>| v.as_ref().and_then(|x| x.as_u64()).map(|x| x as u8);
    let count = |risks: &HashMap<&str, State>| {
        let mut counts = BTreeMap::new();
        for s in risks.values().filter(|s| s.status != "closed") {
            let score = match s.residual {
                (Some(l), Some(c)) => Some((l, c)),
                _ => match s.inherent {
                    (Some(l), Some(c)) => Some((l, c)),
                    _ => None,
                },
            };
            let level = score
                .and_then(|(l, c)| criteria.level(l, c))
                .map_or("unscored".to_string(), |l| l.as_str().to_string());
            *counts.entry(level).or_insert(0) += 1;
        }
        counts
    };
    let mut day: Option<&str> = None;
    for entry in history
        .iter()
        .filter(|e| e.kind == airisk_model::ObjectKind::Risk)
    {
        let today = entry.at.get(..10).unwrap_or(&entry.at);
        if day.is_some_and(|d| d != today) {
            points.push(TrendPoint {
                day: day.unwrap_or_default().to_string(),
                counts: count(&risks),
            });
        }
        day = Some(today);
        let state = risks.entry(entry.id.as_str()).or_default();
        for change in &entry.changes {
            match change.path.as_str() {
                "status" => {
                    state.status = change
                        .after
                        .as_ref()
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                }
                "inherent.likelihood" => state.inherent.0 = as_u8(&change.after),
                "inherent.consequence" => state.inherent.1 = as_u8(&change.after),
                "residual.likelihood" => state.residual.0 = as_u8(&change.after),
                "residual.consequence" => state.residual.1 = as_u8(&change.after),
                "inherent" => state.inherent = (None, None),
                "residual" => state.residual = (None, None),
                _ => {}
            }
        }
    }
    if let Some(d) = day {
        points.push(TrendPoint {
            day: d.to_string(),
            counts: count(&risks),
        });
    }
    points
}

pub struct DashboardData {
    pub heat: HeatCounts,
    pub trend: Vec<TrendPoint>,
    pub body: String,
}

fn heat_svg(heat: &HeatCounts, which: &[Vec<usize>], title: &str) -> Markup {
    let cell = 46.0;
    let left = 120.0;
    let top = 10.0;
    let nl = heat.likelihood.len();
    let nc = heat.consequence.len();
    let width = left + cell * nc as f64 + 50.0;
    let height = top + cell * nl as f64 + 90.0;
    html! {
        figure {
            svg role="img" aria-label=(title) width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) {
                title { (title) }
                @for l in (0..nl).rev() {
                    @let y = top + cell * (nl - 1 - l) as f64;
                    text x=(left - 6.0) y=(y + cell / 2.0 + 4.0) text-anchor="end" { (truncate(&heat.likelihood[l], 16)) }
                    @for c in 0..nc {
                        @let x = left + cell * c as f64;
                        @let level = heat.levels[l][c];
                        @let n = which[l][c];
                        rect x=(x) y=(y) width=(cell - 2.0) height=(cell - 2.0) rx="3"
                            fill=(level_colour(level)) fill-opacity=(if n > 0 { "1" } else { "0.35" }) {
                            title { (heat.likelihood[l]) " × " (heat.consequence[c]) ": " (n) " open risks (" (level.map_or("unscored", |l| l.as_str())) ")" }
                        }
                        @if n > 0 {
                            text x=(x + cell / 2.0 - 1.0) y=(y + cell / 2.0 + 5.0) text-anchor="middle" font-weight="700" { (n) }
                        }
                    }
                }
                @for c in 0..nc {
                    @let x = left + cell * c as f64 + cell / 2.0;
                    @let y = top + cell * nl as f64 + 12.0;
                    text transform=(format!("translate({x},{y}) rotate(35)")) { (truncate(&heat.consequence[c], 16)) }
                }
            }
            figcaption { (title) ": likelihood (rows) × consequence (columns)" }
        }
    }
}

fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n - 1).collect::<String>())
    }
}

fn level_colour(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Low) => "#8fd19e",
        Some(Level::Medium) => "#f2d46b",
        Some(Level::High) => "#f4a261",
        Some(Level::Critical) => "#e5675f",
        None => "#d0d7de",
    }
}

fn trend_svg(points: &[TrendPoint]) -> Markup {
    let levels = ["critical", "high", "medium", "low", "unscored"];
    let colours = ["#c62828", "#e16f24", "#b58900", "#2da44e", "#8c959f"];
    let (w, h, pad) = (560.0, 180.0, 30.0);
    let max = points
        .iter()
        .flat_map(|p| p.counts.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |i: usize| {
        if points.len() <= 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |n: usize| h - pad - (h - 2.0 * pad) * n as f64 / max;
    html! {
        figure {
            svg role="img" aria-label="Open risks by level over time" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) {
                title { "Open risks by level over time" }
                line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) stroke="#8c959f" {}
                @for (level, colour) in levels.iter().zip(colours) {
                    @let pts: Vec<String> = points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(*p.counts.get(*level).unwrap_or(&0)))).collect();
                    @if points.iter().any(|p| p.counts.contains_key(*level)) {
                        polyline points=(pts.join(" ")) fill="none" stroke=(colour) stroke-width="2" {}
                        @for (i, p) in points.iter().enumerate() {
                            circle cx=(x(i)) cy=(y(*p.counts.get(*level).unwrap_or(&0))) r="3" fill=(colour) {
                                title { (p.day) ": " (p.counts.get(*level).unwrap_or(&0)) " " (level) }
                            }
                        }
                    }
                }
                @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                    text x=(pad) y=(h - 8.0) { (first.day) }
                    text x=(w - pad) y=(h - 8.0) text-anchor="end" { (last.day) }
                }
            }
            figcaption {
                "Open risks by current level at the end of each day with changes: "
                @for (level, colour) in levels.iter().zip(colours) {
                    span style=(format!("color:{colour};font-weight:600")) { (level) } " "
                }
            }
        }
    }
}

fn render_body(snapshot: &Snapshot, heat: &HeatCounts, trend: &[TrendPoint]) -> String {
    let due = snapshot.register.due(snapshot.today);
    let mut top: Vec<&airisk_model::RiskView> = snapshot
        .views
        .iter()
        .filter(|v| v.status != RiskStatus::Closed && v.level.is_some())
        .collect();
    let score = |v: &airisk_model::RiskView| {
        v.residual
            .as_ref()
            .or(v.inherent.as_ref())
            .map_or(0, |s| u32::from(s.likelihood) * u32::from(s.consequence))
    };
    top.sort_by(|a, b| b.level.cmp(&a.level).then(score(b).cmp(&score(a))));
    top.truncate(10);
    let open = snapshot
        .views
        .iter()
        .filter(|v| v.status != RiskStatus::Closed)
        .count();
    let body = html! {
        h1 { "Dashboard" }
        p.muted { (snapshot.register.systems.len()) " systems, " (open) " open risks of " (snapshot.views.len())
            ", " (snapshot.register.controls.len()) " applied controls; " (snapshot.ledger_size) " ledger entries. As of " (snapshot.today.to_string()) "." }
        div.grid {
            section.card { h2 { "Inherent risk" } (heat_svg(heat, &heat.inherent, "Inherent risk heat map")) }
            section.card { h2 { "Residual risk" } (heat_svg(heat, &heat.residual, "Residual risk heat map")) }
        }
        section.card {
            h2 { "Trend" }
            @if trend.is_empty() { p.muted { "No risk history yet." } } @else { (trend_svg(trend)) }
        }
        div.grid {
            section.card {
                h2 { "Top risks" }
                table {
                    thead { tr { th { "Risk" } th { "Level" } th { "Owner" } } }
                    tbody { @for v in &top { tr {
                        td { a href=(format!("/risks/{}", v.id)) { (v.id) } " " (v.title) }
                        td { (level_badge(v.level)) }
                        td { (v.owner) }
                    } } }
                }
            }
            section.card {
                h2 { "Above the threshold without an approved treatment (" (due.above_threshold_without_approved_treatment.len()) ")" }
                @if due.above_threshold_without_approved_treatment.is_empty() { p.ok { "None." } }
                ul { @for r in &due.above_threshold_without_approved_treatment {
                    li { a href=(format!("/risks/{}", r.id)) { (r.id) } " " (r.title) " " (level_badge(r.level)) }
                } }
            }
            section.card {
                h2 { "Overdue reviews (" (due.overdue_risk_reviews.len() + due.overdue_system_reviews.len()) ")" }
                ul {
                    @for r in &due.overdue_risk_reviews {
                        li { a href=(format!("/risks/{}", r.id)) { (r.id) } " due " (r.next_review.to_string()) " (" (r.days_overdue) " days late), " (r.owner) }
                    }
                    @for s in &due.overdue_system_reviews {
                        li { a href=(format!("/systems/{}", s.id)) { (s.id) } " (system) due " (s.next_review.to_string()) " (" (s.days_overdue) " days late)" }
                    }
                }
            }
            section.card {
                h2 { "Overdue treatments (" (due.overdue_treatments.len()) ")" }
                ul { @for t in &due.overdue_treatments {
                    li { (t.id) " for " a href=(format!("/risks/{}", t.risk)) { (t.risk) } ", target " (t.target_date.map(|d| d.to_string()).unwrap_or_default()) " (" (t.days_overdue) " days late), " (t.owner) }
                } }
            }
            section.card {
                h2 { "Nonconformities (" (due.nonconformities.len()) ")" }
                p.muted { "Past the target date with no evidence." }
                ul { @for t in &due.nonconformities {
                    li { (t.id) " for " a href=(format!("/risks/{}", t.risk)) { (t.risk) } ", target " (t.target_date.map(|d| d.to_string()).unwrap_or_default()) }
                } }
            }
        }
    };
    body.into_string()
}

pub async fn dashboard(user: User, State(state): State<S>) -> Result<Response, Response> {
    let fail = |p: Problem| super::error_page(p, None);
    let snapshot = state.snapshot().await.map_err(fail)?;
    if snapshot.dashboard.get().is_none() {
        let history = state
            .with_store(|store| Ok(store.history(Some(airisk_model::ObjectKind::Risk), None)?))
            .await
            .map_err(fail)?;
        let heat = heat_counts(&snapshot);
        let trend = trend(&history, snapshot.register.active_criteria());
        let body = render_body(&snapshot, &heat, &trend);
        let _ = snapshot.dashboard.set(DashboardData { heat, trend, body });
    }
    let data = snapshot
        .dashboard
        .get()
        .ok_or_else(|| fail(Problem::internal("dashboard not computed")))?;
    Ok(html_page(
        "Dashboard",
        Some(&user),
        PreEscaped(data.body.clone()),
    ))
}
