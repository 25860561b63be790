//! Read-only pages: inventory, risks, screening, controls, SoA, evidence, the auditor's walk.

use super::{error_page, html_page, level_badge, S};
use crate::access::Action;
use crate::api::{bundle_and_verify, filter_risks, RiskFilter};
use crate::auth::User;
use crate::problem::Problem;
use airisk_compliance::{assess_control, build_soa, ControlAssessment};
use airisk_model::{natural_cmp, Category, ObjectKind, ScreeningCell};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

type Page = Result<Response, Response>;

fn fail(user: &User) -> impl Fn(Problem) -> Response + '_ {
    move |p| error_page(p, Some(user))
}

fn risk_link(id: &str) -> Markup {
    html! { a href=(format!("/risks/{id}")) { (id) } }
}

pub async fn systems(user: User, State(state): State<S>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let mut systems: Vec<_> = snapshot.register.systems.values().collect();
    systems.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    let body = html! {
        h1 { "AI system inventory" }
        @if user.may(Action::Create) { div.actions { a.button href="/systems/new" { "New system" } } }
        table {
            thead { tr { th { "System" } th { "Lifecycle" } th { "Exposure" } th { "Tier" } th { "EU AI Act" } th { "Business owner" } th { "Open risks" } } }
            tbody { @for s in &systems { tr {
                td { a href=(format!("/systems/{}", s.id)) { (s.id) } br; span.muted { (s.name) } }
                td { (serde_json::to_value(s.lifecycle).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) }
                td { (serde_json::to_value(s.exposure).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) }
                td { (level_badge(s.tier())) }
                td { (s.eu_ai_act.as_ref().map(|c| serde_json::to_value(c.class).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()).unwrap_or_else(|| "unclassified".into())) }
                td { (s.owners.business) }
                td { (snapshot.open_risks.get(&s.id).copied().unwrap_or(0)) }
            } } }
        }
    };
    Ok(html_page("Inventory", Some(&user), body))
}

pub async fn system(user: User, State(state): State<S>, Path(id): Path<String>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let Some(s) = snapshot.register.systems.get(&id) else {
        return Err(error_page(
            Problem::not_found(format!("no system with id `{id}`")),
            Some(&user),
        ));
    };
    let row = snapshot
        .register
        .screening_matrix()
        .into_iter()
        .find(|r| r.system == id);
    let evidence = &snapshot.evidence_index;
    let controls: Vec<ControlAssessment> = snapshot
        .register
        .controls
        .values()
        .filter(|c| c.systems.contains(&id))
        .map(|c| assess_control(c, evidence, snapshot.today))
        .collect();
    let json = serde_json::to_value(s).unwrap_or_default();
    let body = html! {
        h1 { (s.name) " " span.muted { "(" (s.id) ")" } }
        @if user.may(Action::Update { owned: crate::writes::owns(&snapshot.register, &user, ObjectKind::System, &id) }) {
            div.actions { a.button href=(format!("/systems/{id}/edit")) { "Edit" } }
        }
        p { (s.purpose) }
        div.grid {
            section.card {
                h2 { "Inventory" }
                table { tbody {
                    @for key in ["model_type", "environment", "exposure", "criticality", "lifecycle", "intended_use"] {
                        @if let Some(v) = json.get(key).filter(|v| !v.is_null()) {
                            tr { th scope="row" { (key.replace('_', " ")) } td { (v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())) } }
                        }
                    }
                    tr { th scope="row" { "tier" } td { (level_badge(s.tier())) } }
                    tr { th scope="row" { "EU AI Act" } td { (json.get("eu_ai_act").map(|v| v.to_string()).unwrap_or_else(|| "not classified".into())) } }
                } }
                h2 { "Owners" }
                ul { @for (role, who) in s.owners.roles() { li { (role) ": " (who) } } }
            }
            section.card {
                h2 { "Components" }
                @if s.components.is_empty() { p.muted { "None recorded." } }
                ul { @for c in &json.get("components").and_then(|v| v.as_array().cloned()).unwrap_or_default() {
                    li { (c.get("name").and_then(|v| v.as_str()).unwrap_or("")) " " span.muted { (c.get("kind").map(|v| v.to_string()).unwrap_or_default()) } }
                } }
                h2 { "Screening" }
                @if let Some(row) = &row {
                    table { tbody { @for cell in &row.cells {
                        @let (class, text) = screening_cell(&cell.cell);
                        tr { th scope="row" { (cell.category.as_str()) } td class=(class) { (text) } }
                    } } }
                }
            }
        }
        h2 { "Risks" }
        table {
            thead { tr { th { "Risk" } th { "Category" } th { "Level" } th { "Status" } th { "Owner" } } }
            tbody { @for v in snapshot.views.iter().filter(|v| v.systems.contains(&id)) { tr {
                td { (risk_link(&v.id)) " " (v.title) }
                td { (v.category.as_str()) } td { (level_badge(v.level)) } td { (v.status.as_str()) } td { (v.owner) }
            } } }
        }
        h2 { "Controls" }
        (controls_table(&controls))
    };
    Ok(html_page(&s.name, Some(&user), body))
}

fn screening_cell(cell: &ScreeningCell) -> (&'static str, String) {
    match cell {
        ScreeningCell::Risks { risks } => ("cell-risks", risks.join(", ")),
        ScreeningCell::NotApplicable { reason } => {
            ("cell-not_applicable", format!("n/a: {reason}"))
        }
        ScreeningCell::Conflict { risks, reason } => (
            "cell-conflict",
            format!("conflict: {} despite n/a ({reason})", risks.join(", ")),
        ),
        _ => ("cell-gap", "gap".to_string()),
    }
}

fn controls_table(controls: &[ControlAssessment]) -> Markup {
    html! {
        @if controls.is_empty() { p.muted { "No applied controls." } } @else {
            table {
                thead { tr { th { "Control" } th { "Status" } th { "Owner" } th { "Evidence" } th { "Effectiveness" } } }
                tbody { @for c in controls { tr {
                    td { a href=(format!("/controls/{}", c.id)) { (c.id) } " " (c.title) }
                    td { (c.status.as_str()) }
                    td { (c.owner.clone().unwrap_or_else(|| "—".into())) }
                    td { (c.evidence.len()) }
                    td { (c.effectiveness.rating.as_str().replace('_', " ")) }
                } } }
            }
        }
    }
}

pub async fn risks(user: User, State(state): State<S>, Query(f): Query<RiskFilter>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let all = filter_risks(&snapshot, &f);
    let total = all.len();
    let limit = f.limit.unwrap_or(200).min(1000);
    let shown: Vec<_> = all
        .into_iter()
        .skip(f.offset.unwrap_or(0))
        .take(limit)
        .collect();
    let body = html! {
        h1 { "Risk register" }
        @if user.may(Action::Create) { div.actions { a.button href="/risks/new" { "New risk" } } }
        form.filters method="get" action="/risks" {
            label { "System " select name="system" {
                option value="" { "any" }
                @for id in snapshot.register.systems.keys() { option value=(id) selected[f.system.as_deref() == Some(id.as_str())] { (id) } }
            } }
            " "
            label { "Category " select name="category" {
                option value="" { "any" }
                @for c in Category::ALL { option value=(c.as_str()) selected[f.category.as_deref() == Some(c.as_str())] { (c.as_str()) } }
            } }
            " "
            button type="submit" { "Filter" }
        }
        p.muted { (total) " risks" @if total > shown.len() { ", showing " (shown.len()) } "." }
        table {
            thead { tr { th { "Risk" } th { "Systems" } th { "Category" } th { "Inherent" } th { "Residual" } th { "Status" } th { "Owner" } th { "Next review" } } }
            tbody { @for v in &shown { tr {
                td { (risk_link(&v.id)) " " (v.title) }
                td { (v.systems.join(", ")) }
                td { (v.category.as_str()) }
                td { (level_badge(v.inherent.as_ref().and_then(|s| s.level))) }
                td { (level_badge(v.residual.as_ref().and_then(|s| s.level))) }
                td { (v.status.as_str()) }
                td { (v.owner) }
                td { (v.next_review.map(|d| d.to_string()).unwrap_or_default()) @if v.review_overdue { " " span.bad { "overdue" } } }
            } } }
        }
    };
    Ok(html_page("Risks", Some(&user), body))
}

pub async fn risk(user: User, State(state): State<S>, Path(id): Path<String>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let (Some(risk), Some(view)) = (snapshot.register.risks.get(&id), snapshot.view(&id)) else {
        return Err(error_page(
            Problem::not_found(format!("no risk with id `{id}`")),
            Some(&user),
        ));
    };
    let key = id.clone();
    let history = state
        .with_store(move |store| Ok(store.history(Some(ObjectKind::Risk), Some(&key))?))
        .await
        .map_err(fail(&user))?;
    let evidence_index = &snapshot.evidence_index;
    let controls: Vec<ControlAssessment> = snapshot
        .register
        .controls_for_risk(&id)
        .map(|c| assess_control(c, evidence_index, snapshot.today))
        .collect();
    let evidence: Vec<_> = snapshot
        .evidence
        .iter()
        .filter(|e| e.target == format!("risk:{id}"))
        .collect();
    let owned = crate::writes::owns(&snapshot.register, &user, ObjectKind::Risk, &id);
    let body = html! {
        h1 { (risk.id) ": " (risk.title) }
        div.actions {
            @if user.may(Action::Update { owned }) { a.button href=(format!("/risks/{id}/edit")) { "Edit risk" } }
            @if user.may(Action::Create) || user.may(Action::Update { owned }) { a.button href=(format!("/treatments/new?risk={id}")) { "Add treatment" } }
        }
        p { "Systems: " @for (i, s) in risk.systems.iter().enumerate() { @if i > 0 { ", " } a href=(format!("/systems/{s}")) { (s) } }
            " · Category: " (risk.category.as_str()) " · Owner: " (risk.owner) " · Status: " (risk.status.as_str()) }
        div.grid {
            section.card {
                h2 { "Event, cause, consequence" }
                p { strong { "Event: " } (risk.event) }
                p { strong { "Cause: " } (risk.cause) }
                p { strong { "Consequence: " } (risk.consequence) }
            }
            section.card {
                h2 { "Scores" }
                table {
                    thead { tr { th { "" } th { "Likelihood" } th { "Consequence" } th { "Level" } th { "Rationale" } } }
                    tbody {
                        @for (name, score, sv) in [("Inherent", &risk.inherent, &view.inherent), ("Residual", &risk.residual, &view.residual)] {
                            tr {
                                th scope="row" { (name) }
                                @if let (Some(s), Some(v)) = (score, sv) {
                                    td { (s.likelihood) } td { (s.consequence) } td { (level_badge(v.level)) } td { (s.rationale) }
                                } @else { td colspan="4" { span.muted { "not assessed" } } }
                            }
                        }
                    }
                }
                p { "Current level " (level_badge(view.level))
                    @if view.above_threshold { " " span.bad { "above the acceptance threshold" } }
                    " · next review " (view.next_review.map(|d| d.to_string()).unwrap_or_else(|| "—".into()))
                    @if view.review_overdue { " " span.bad { "overdue" } } }
            }
        }
        h2 { "Treatments" }
        table {
            thead { tr { th { "Treatment" } th { "Option" } th { "Status" } th { "Owner" } th { "Target" } th { "" } } }
            tbody { @for t in snapshot.register.treatments_for(&id) { tr {
                td { (t.id) ": " (t.description) }
                td { (t.option.as_str()) }
                td { (t.status.as_str())
                    @if t.is_nonconformity(snapshot.today) { " " span.bad { "nonconformity" } }
                    @else if t.is_overdue(snapshot.today) { " " span.bad { "overdue" } } }
                td { (t.owner) }
                td { (t.target_date.map(|d| d.to_string()).unwrap_or_default()) }
                td { @if user.may(Action::Update { owned: crate::writes::owns(&snapshot.register, &user, ObjectKind::Treatment, &t.id) }) {
                    a href=(format!("/treatments/{}/edit", t.id)) { "Edit" } } }
            } } }
        }
        h2 { "Controls" }
        (controls_table(&controls))
        h2 { "Evidence" }
        @if evidence.is_empty() { p.muted { "No evidence stored for this risk." } }
        ul { @for e in &evidence {
            li { (e.file_name) " — " (e.note) " (" (e.created_at.get(..10).unwrap_or("")) ", by " (e.created_by) ") "
                a href=(format!("/proof/{}", e.ledger_index)) { "ledger proof #" (e.ledger_index) } }
        } }
        h2 { "History" }
        ol.timeline { @for h in history.iter().rev() {
            li {
                strong { (h.at.get(..19).unwrap_or(&h.at).replace('T', " ")) } " · " (h.actor) " · " (h.action) " (revision " (h.revision) ")"
                @if let Some(index) = h.ledger_index { " · " a href=(format!("/proof/{index}")) { "ledger #" (index) } }
                ul { @for c in &h.changes {
                    li { code { (c.path) } ": "
                        (c.before.as_ref().map(short_json).unwrap_or_else(|| "∅".into())) " → "
                        (c.after.as_ref().map(short_json).unwrap_or_else(|| "∅".into())) }
                } }
            }
        } }
    };
    Ok(html_page(
        &format!("{} {}", risk.id, risk.title),
        Some(&user),
        body,
    ))
}

fn short_json(v: &serde_json::Value) -> String {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text
    }
}

pub async fn screening(user: User, State(state): State<S>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let rows = snapshot.register.screening_matrix();
    let body = html! {
        h1 { "Screening matrix" }
        p.muted { "Every system against the eight risk categories: covered by risks, not applicable (with the reason), a gap, or a conflict." }
        table {
            thead { tr { th { "System" } @for c in Category::ALL { th scope="col" { (c.as_str().replace('_', " ")) } } } }
            tbody { @for row in &rows { tr {
                th scope="row" { a href=(format!("/systems/{}", row.system)) { (row.system) } }
                @for cell in &row.cells {
                    @let (class, text) = screening_cell(&cell.cell);
                    td class=(class) { (text) }
                }
            } } }
        }
    };
    Ok(html_page("Screening", Some(&user), body))
}

pub async fn controls(user: User, State(state): State<S>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let evidence = &snapshot.evidence_index;
    let mut list: Vec<ControlAssessment> = snapshot
        .register
        .controls
        .values()
        .map(|c| assess_control(c, evidence, snapshot.today))
        .collect();
    list.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    let body = html! { h1 { "Applied controls" } (controls_table(&list)) };
    Ok(html_page("Controls", Some(&user), body))
}

pub async fn control(user: User, State(state): State<S>, Path(id): Path<String>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let Some(control) = snapshot.register.controls.get(&id) else {
        return Err(error_page(
            Problem::not_found(format!("no control with id `{id}`")),
            Some(&user),
        ));
    };
    let c = assess_control(control, &snapshot.evidence_index, snapshot.today);
    let body = html! {
        h1 { (c.id) ": " (c.title) }
        p { (control.description) }
        p { "Status " strong { (c.status.as_str()) } " · owner " (c.owner.clone().unwrap_or_else(|| "none".into()))
            " · effectiveness " strong { (c.effectiveness.rating.as_str().replace('_', " ")) }
            " (" (c.effectiveness.passed) " passed, " (c.effectiveness.failed) " failed in the last " (control.evidence_valid_days()) " days)" }
        h2 { "Implements" }
        @if c.custom { p.muted { "A custom control (no framework item)." } }
        ul { @for r in &c.implements {
            @let (cat, item) = r.split_once(':').unwrap_or((r.as_str(), ""));
            li { a href=(format!("/walk/{cat}/{item}")) { (r) }
                @if let Some((_, it)) = state.library.resolve(r) { " " (it.title) } }
        } }
        h2 { "Treats" }
        ul { @for r in &c.risks { li { (risk_link(r)) } } }
        h2 { "Evidence" }
        (evidence_list(&c))
    };
    Ok(html_page(&c.id, Some(&user), body))
}

fn evidence_list(c: &ControlAssessment) -> Markup {
    html! {
        @if c.evidence.is_empty() { p.muted { "No evidence." } }
        ul { @for e in &c.evidence {
            li {
                (e.file_name.clone().unwrap_or_else(|| e.reference.clone()))
                @if let Some(on) = e.on { " (" (on.to_string()) ")" }
                @if let Some(o) = e.outcome { " " span class=(if o.as_str() == "pass" { "ok" } else { "bad" }) { (o.as_str()) } }
                @if let Some(i) = e.ledger_index { " · " a href=(format!("/proof/{i}")) { "verify ledger proof #" (i) } }
            }
        } }
        @for m in &c.missing_evidence { p.bad { (m) " is listed but not stored" } }
    }
}

#[derive(Deserialize)]
pub struct FrameworkQuery {
    framework: Option<String>,
}

pub async fn soa(user: User, State(state): State<S>, Query(q): Query<FrameworkQuery>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let name = q.framework.unwrap_or_else(|| "iso42001".into());
    let catalog = state.library.find_catalog(&name).map_err(|e| {
        error_page(
            Problem::not_found(format!("framework {name}: {e}")),
            Some(&user),
        )
    })?;
    let soa = build_soa(
        &snapshot.register,
        catalog,
        &snapshot.evidence_index,
        snapshot.today,
    );
    let s = &soa.summary;
    let body = html! {
        h1 { "Statement of Applicability" }
        p { (soa.framework) " · as of " (soa.as_of.to_string()) " · " (s.items) " items: " (s.applicable) " applicable, "
            (s.excluded) " excluded, " (s.undecided) " undecided; " (s.implemented) " implemented, " (s.with_evidence) " with evidence." }
        div.actions {
            @for (format, label) in [("html", "Printable HTML"), ("md", "Markdown"), ("csv", "CSV"), ("json", "JSON"), ("oscal", "OSCAL")] {
                a.button href=(format!("/api/soa?framework={}&format={format}", soa.catalog)) { (label) }
            }
        }
        h2 { "Problems (" (soa.problems.len()) ")" }
        @if soa.problems.is_empty() { p.ok { "None." } }
        ul { @for p in &soa.problems { li { code { (p.code) } " " (p.message) } } }
        table {
            thead { tr { th { "Item" } th { "Title" } th { "Applicability" } th { "Reason / justification" } th { "Status" } th { "Owner" } th { "Controls" } th { "Evidence" } } }
            tbody { @for row in &soa.rows { tr {
                th scope="row" { a href=(format!("/walk/{}/{}", soa.catalog, row.item)) { (row.item) } }
                td { (row.title) }
                td { (row.applicability.as_str()) }
                td { @if let Some(r) = &row.reason { (r) br; }
                    @for (i, r) in row.justification.iter().enumerate() { @if i > 0 { ", " } (risk_link(&r.id)) } }
                td { (row.status.as_str()) }
                td { (row.owners.join(", ")) }
                td { @for (i, c) in row.controls.iter().enumerate() { @if i > 0 { ", " } a href=(format!("/controls/{}", c.id)) { (c.id) } } }
                td { (row.evidence_count) @if let Some(e) = row.effectiveness { " (" (e.as_str().replace('_', " ")) ")" } }
            } } }
        }
    };
    Ok(html_page("Statement of Applicability", Some(&user), body))
}

pub async fn evidence(user: User, State(state): State<S>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let body = html! {
        h1 { "Evidence" }
        p.muted { (snapshot.evidence.len()) " records; every one is a ledger entry with an offline-verifiable proof." }
        @if user.may(Action::AddEvidence) {
            details {
                summary { "Add evidence" }
                form.edit method="post" action="/evidence" enctype="multipart/form-data" {
                    (super::csrf_field(&user))
                    label { "For " span.hint { "risk:ID, treatment:ID, system:ID or control:ID" } input name="for" required; }
                    label { "File" input type="file" name="file" required; }
                    label { "Note" input name="note"; }
                    label { "Outcome " select name="outcome" { option value="" { "documentation (no test)" } option value="pass" { "test passed" } option value="fail" { "test failed" } } }
                    div { button type="submit" { "Store evidence" } }
                }
            }
        }
        table {
            thead { tr { th { "ID" } th { "For" } th { "File" } th { "Outcome" } th { "Added" } th { "By" } th { "Ledger" } } }
            tbody { @for e in snapshot.evidence.iter().rev() { tr {
                td { (e.id) }
                td { (e.target) }
                td { a href=(format!("/api/evidence/{}/content", e.id)) { (e.file_name) } br; span.muted { (e.note) } }
                td { (e.outcome.map(|o| o.as_str()).unwrap_or("—")) }
                td { (e.created_at.get(..10).unwrap_or("")) }
                td { (e.created_by) }
                td { a href=(format!("/proof/{}", e.ledger_index)) { "#" (e.ledger_index) " proof" } }
            } } }
        }
    };
    Ok(html_page("Evidence", Some(&user), body))
}

pub async fn walk(user: User, State(state): State<S>) -> Page {
    let body = html! {
        h1 { "The auditor's walk" }
        p { "From a framework item to the controls that implement it, to their evidence, to a ledger proof verified with the log's public key." }
        ul { @for c in state.library.catalogs() {
            li { a href=(format!("/walk/{}", c.id())) { (c.meta.name) } " " span.muted { "(" (c.id()) ", " (c.items().len()) " items)" } }
        } }
    };
    Ok(html_page("Auditor's walk", Some(&user), body))
}

pub async fn walk_catalog(user: User, State(state): State<S>, Path(catalog): Path<String>) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let Some(cat) = state.library.catalog(&catalog) else {
        return Err(error_page(
            Problem::not_found(format!("no catalog `{catalog}`")),
            Some(&user),
        ));
    };
    let items = airisk_compliance::assessable_items(cat);
    let body = html! {
        h1 { (cat.meta.name) }
        p.muted { "Licence: " (cat.meta.licence) }
        table {
            thead { tr { th { "Item" } th { "Title" } th { "Controls" } } }
            tbody { @for it in &items {
                @let reference = format!("{}:{}", cat.id(), it.id);
                tr {
                    th scope="row" { a href=(format!("/walk/{}/{}", cat.id(), it.id)) { (it.id) } }
                    td { (it.title) }
                    td { (snapshot.register.controls_implementing(&reference).count()) }
                }
            } }
        }
    };
    Ok(html_page(&cat.meta.name, Some(&user), body))
}

pub async fn walk_item(
    user: User,
    State(state): State<S>,
    Path((catalog, item)): Path<(String, String)>,
) -> Page {
    let snapshot = state.snapshot().await.map_err(fail(&user))?;
    let reference = format!("{catalog}:{item}");
    let Some((cat, it)) = state.library.resolve(&reference) else {
        return Err(error_page(
            Problem::not_found(format!("no framework item `{reference}`")),
            Some(&user),
        ));
    };
    let evidence = &snapshot.evidence_index;
    let direct: Vec<ControlAssessment> = snapshot
        .register
        .controls_implementing(&reference)
        .map(|c| assess_control(c, evidence, snapshot.today))
        .collect();
    let mappings = state.library.mappings_from(cat.id(), &it.id);
    let decision = snapshot.register.soa.get(&reference);
    let body = html! {
        p.muted { a href="/walk" { "Walk" } " › " a href=(format!("/walk/{}", cat.id())) { (cat.meta.name) } }
        h1 { (it.id) ": " (it.title) }
        p { (it.description) }
        @if let Some(d) = decision {
            p { "SoA decision: " strong { @if d.applicable { "applicable" } @else { "excluded" } }
                @if let Some(r) = &d.reason { " — " (r) } }
        }
        h2 { "Controls that implement it (" (direct.len()) ")" }
        @for c in &direct {
            section.card {
                h3 { a href=(format!("/controls/{}", c.id)) { (c.id) } " " (c.title) }
                p { (c.status.as_str()) " · owner " (c.owner.clone().unwrap_or_else(|| "none".into())) " · "
                    (c.effectiveness.rating.as_str().replace('_', " ")) }
                (evidence_list(c))
            }
        }
        @if direct.is_empty() { p.muted { "No applied control lists this item." } }
        h2 { "Related items in other frameworks" }
        ul { @for m in &mappings {
            li { a href=(format!("/walk/{}/{}", m.to_catalog, m.to_item)) { (m.to_catalog) ":" (m.to_item) } " (" (m.relationship.as_str()) ") " span.muted { (m.rationale) } }
        } }
    };
    Ok(html_page(&it.title, Some(&user), body))
}

pub async fn proof(user: User, State(state): State<S>, Path(index): Path<u64>) -> Page {
    let (bundle, verification) = bundle_and_verify(&state, index)
        .await
        .map_err(fail(&user))?;
    let verified = verification["verified"].as_bool().unwrap_or(false);
    let entry = &bundle["entry"];
    let body = html! {
        h1 { "Ledger entry #" (index) }
        @if verified {
            p.ok id="proof-status" { "Verified: this entry is leaf " (index) " of the tree of "
                (verification["checkpoint_size"]) " entries whose checkpoint is signed by " (verification["origin"].as_str().unwrap_or("")) "." }
        } @else {
            p.bad id="proof-status" { "NOT verified: " (verification["error"].as_str().unwrap_or("unknown error")) }
        }
        table { tbody {
            tr { th scope="row" { "kind" } td { (entry["kind"].as_str().unwrap_or("")) } }
            tr { th scope="row" { "actor" } td { (entry["actor"].as_str().unwrap_or("")) } }
            tr { th scope="row" { "subject" } td { (entry["subject"].as_str().unwrap_or("")) } }
            tr { th scope="row" { "payload included" } td { (verification["payload_included"]) } }
        } }
        div.actions {
            a.button href=(format!("/api/ledger/bundle/{index}")) { "Download the bundle (JSON)" }
        }
        p { "Check it offline: save the " code { "bundle" } " member as bundle.json and run "
            code { "airisk ledger verify-bundle bundle.json --key '" (verification["verifier_key"].as_str().unwrap_or("")) "'" } }
        h2 { "Bundle" }
        pre { (serde_json::to_string_pretty(&bundle).unwrap_or_default()) }
    };
    Ok(html_page(
        &format!("Ledger entry {index}"),
        Some(&user),
        body,
    ))
}
