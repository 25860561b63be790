//! The JSON API. Every route is declared once in [`routes`], with the documentation the
//! OpenAPI document is generated from.

use crate::access::{Action, Role};
use crate::auth::{hash_password, new_token, User};
use crate::openapi::{schema_of, RouteDoc, SchemaFn};
use crate::problem::Problem;
use crate::state::{AppState, Snapshot};
use crate::writes::{write_object, WriteResult};
use airisk_compliance::{assess_control, build_soa, coverage, oscal, render as report};
use airisk_model::{
    natural_cmp, AiSystem, Control, CriteriaSet, Object, ObjectKind, Risk, RiskView, Treatment,
};
use airisk_store::accounts::Account;
use airisk_store::evidence::{EvidenceOutcome, NewEvidence};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

type S = Arc<AppState>;
type ApiResult = Result<Response, Problem>;

/// A JSON body, read but not yet parsed, so that authorization can be decided first.
pub struct RawJson(pub Bytes);

impl FromRequest<S> for RawJson {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
            ));
        }
        Bytes::from_request(req, state)
            .await
            .map(RawJson)
            .map_err(|e| Problem::bad_request(format!("cannot read the body: {e}")))
    }
}

impl RawJson {
    /// Parses the body; errors name the bad field.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let mut de = serde_json::Deserializer::from_slice(&self.0);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let status = if inner.is_syntax() || inner.is_eof() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Problem::new(
                status,
                if path == "." {
                    inner.to_string()
                } else {
                    format!("{path}: {inner}")
                },
            )
            .typed("invalid")
        })
    }
}

/// A parsed JSON body (for routes whose authorization does not depend on the body).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        RawJson::from_request(req, state)
            .await?
            .parse()
            .map(ApiJson)
    }
}

/// Query parameters whose errors are problem details.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}

fn json_response<T: Serialize>(value: &T) -> ApiResult {
    Ok(Json(value).into_response())
}

fn created(result: WriteResult) -> ApiResult {
    let status = if result.action == "create" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)).into_response())
}

// ----------------------------------------------------------------------------------------
// Lists: filters and paging.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Paging {
    /// At most this many items (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Skip this many items.
    pub offset: Option<usize>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub items: Vec<T>,
}

fn page<T: Clone>(items: Vec<T>, paging: &Paging) -> Result<Page<T>, Problem> {
    let limit = paging.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Problem::bad_request("limit must be between 1 and 1000"));
    }
    let offset = paging.offset.unwrap_or(0);
    let total = items.len();
    Ok(Page {
        total,
        limit,
        offset,
        items: items.into_iter().skip(offset).take(limit).collect(),
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RiskFilter {
    pub system: Option<String>,
    pub category: Option<String>,
    pub level: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub above_threshold: Option<bool>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

pub fn filter_risks<'a>(snapshot: &'a Snapshot, f: &RiskFilter) -> Vec<&'a RiskView> {
    snapshot
        .views
        .iter()
        .filter(|v| f.system.as_ref().is_none_or(|s| v.systems.contains(s)))
        .filter(|v| {
            f.category
                .as_ref()
                .is_none_or(|c| v.category.as_str() == c.as_str())
        })
        .filter(|v| {
            f.level
                .as_ref()
                .is_none_or(|l| v.level.is_some_and(|x| x.to_string() == *l))
        })
        .filter(|v| f.owner.as_ref().is_none_or(|o| v.owner == *o))
        .filter(|v| f.status.as_ref().is_none_or(|s| v.status.as_str() == s))
        .filter(|v| f.above_threshold.is_none_or(|a| v.above_threshold == a))
        .collect()
}

async fn list_risks(
    _: User,
    State(state): State<S>,
    ApiQuery(f): ApiQuery<RiskFilter>,
) -> ApiResult {
    let snapshot = state.snapshot().await?;
    // Page over references: only the page is serialised, nothing is copied.
    let items: Vec<&RiskView> = filter_risks(&snapshot, &f);
    json_response(&page(
        items,
        &Paging {
            limit: f.limit,
            offset: f.offset,
        },
    )?)
}

async fn get_risk(_: User, State(state): State<S>, Path(id): Path<String>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let risk = snapshot
        .register
        .risks
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no risk with id `{id}`")))?;
    let evidence = &snapshot.evidence_index;
    let controls: Vec<_> = snapshot
        .register
        .controls_for_risk(&id)
        .map(|c| assess_control(c, evidence, snapshot.today))
        .collect();
    json_response(&json!({
        "risk": risk,
        "computed": snapshot.view(&id),
        "treatments": snapshot.register.treatments_for(&id).collect::<Vec<_>>(),
        "controls": controls,
        "evidence": snapshot.evidence.iter().filter(|e| e.target == format!("risk:{id}")).collect::<Vec<_>>(),
    }))
}

/// The values in natural id order, by reference.
fn sorted<T>(map: &std::collections::BTreeMap<String, T>) -> Vec<&T> {
    let mut items: Vec<(&String, &T)> = map.iter().collect();
    items.sort_by(|a, b| natural_cmp(a.0, b.0));
    items.into_iter().map(|(_, v)| v).collect()
}

async fn list_systems(_: User, State(state): State<S>, ApiQuery(p): ApiQuery<Paging>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let systems = page(sorted(&snapshot.register.systems), &p)?;
    let items: Vec<Value> = systems
        .items
        .into_iter()
        .map(|s: &AiSystem| {
            json!({
                "id": s.id, "name": s.name, "lifecycle": s.lifecycle, "exposure": s.exposure,
                "criticality": s.criticality, "tier": s.tier(), "eu_ai_act": s.eu_ai_act,
                "business_owner": s.owners.business,
                "open_risks": snapshot.open_risks.get(&s.id).copied().unwrap_or(0),
            })
        })
        .collect();
    json_response(&Page {
        total: systems.total,
        limit: systems.limit,
        offset: systems.offset,
        items,
    })
}

async fn get_system(_: User, State(state): State<S>, Path(id): Path<String>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let system = snapshot
        .register
        .systems
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no system with id `{id}`")))?;
    let screening = snapshot
        .register
        .screening_matrix()
        .into_iter()
        .find(|row| row.system == id);
    json_response(&json!({
        "system": system,
        "tier": system.tier(),
        "screening": screening,
        "risks": snapshot.views.iter().filter(|v| v.systems.contains(&id)).collect::<Vec<_>>(),
        "controls": snapshot.register.controls.values().filter(|c| c.systems.contains(&id)).map(|c| &c.id).collect::<Vec<_>>(),
    }))
}

async fn list_treatments(
    _: User,
    State(state): State<S>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult {
    let snapshot = state.snapshot().await?;
    json_response(&page(sorted(&snapshot.register.treatments), &p)?)
}

async fn get_treatment(_: User, State(state): State<S>, Path(id): Path<String>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let t = snapshot
        .register
        .treatments
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no treatment with id `{id}`")))?;
    json_response(&json!({
        "treatment": t,
        "overdue": t.is_overdue(snapshot.today),
        "nonconformity": t.is_nonconformity(snapshot.today),
    }))
}

async fn list_criteria(_: User, State(state): State<S>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    json_response(&json!({
        "active": snapshot.register.active_criteria().map(|c| &c.id),
        "criteria": sorted::<CriteriaSet>(&snapshot.register.criteria),
    }))
}

async fn screening(_: User, State(state): State<S>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    json_response(&json!({ "systems": snapshot.register.screening_matrix() }))
}

async fn matrix(_: User, State(state): State<S>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    json_response(&crate::ui::dashboard::heat_counts(&snapshot))
}

async fn due(_: User, State(state): State<S>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    json_response(&snapshot.register.due(snapshot.today))
}

async fn list_controls(
    _: User,
    State(state): State<S>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let evidence = &snapshot.evidence_index;
    let controls = page(sorted(&snapshot.register.controls), &p)?;
    json_response(&Page {
        total: controls.total,
        limit: controls.limit,
        offset: controls.offset,
        items: controls
            .items
            .into_iter()
            .map(|c: &Control| assess_control(c, evidence, snapshot.today))
            .collect(),
    })
}

async fn get_control(_: User, State(state): State<S>, Path(id): Path<String>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let control = snapshot
        .register
        .controls
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no control with id `{id}`")))?;
    json_response(&json!({
        "control": control,
        "assessment": assess_control(control, &snapshot.evidence_index, snapshot.today),
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SoaQuery {
    /// Catalog id or framework name (default `iso42001`).
    pub framework: Option<String>,
    /// `json` (default), `md`, `csv`, `html` or `oscal`.
    pub format: Option<String>,
}

async fn soa(user: User, State(state): State<S>, ApiQuery(q): ApiQuery<SoaQuery>) -> ApiResult {
    user.require(Action::Export, "export the SoA")?;
    let snapshot = state.snapshot().await?;
    let framework = q.framework.as_deref().unwrap_or("iso42001");
    let catalog = state
        .library
        .find_catalog(framework)
        .map_err(|e| Problem::not_found(format!("framework {framework}: {e}")))?;
    let soa = build_soa(
        &snapshot.register,
        catalog,
        &snapshot.evidence_index,
        snapshot.today,
    );
    let organisation = snapshot
        .register
        .settings
        .as_ref()
        .map_or("The organisation".to_string(), |s| s.name.clone());
    let text = |content_type: &'static str, body: String| -> ApiResult {
        Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
    };
    match q.format.as_deref().unwrap_or("json") {
        "json" => json_response(&soa),
        "md" => text("text/markdown; charset=utf-8", report::soa_markdown(&soa)),
        "csv" => text(
            "text/csv; charset=utf-8",
            report::soa_csv(&soa).map_err(Problem::internal)?,
        ),
        "html" => text("text/html; charset=utf-8", report::soa_html(&soa)),
        "oscal" => json_response(&oscal::soa_component_definition(&soa, &organisation)),
        other => Err(Problem::bad_request(format!(
            "format `{other}`: expected json, md, csv, html or oscal"
        ))),
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CoverageQuery {
    /// Catalog id or framework name.
    pub framework: String,
}

async fn coverage_route(
    _: User,
    State(state): State<S>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let catalog = state
        .library
        .find_catalog(&q.framework)
        .map_err(|e| Problem::not_found(format!("framework {}: {e}", q.framework)))?;
    json_response(&coverage(
        &snapshot.register,
        &state.library,
        catalog,
        &snapshot.evidence_index,
        snapshot.today,
    ))
}

// ----------------------------------------------------------------------------------------
// Writes.

/// Refuses before reading the body when the role cannot make this kind of write at all.
fn precheck(user: &User, kind: ObjectKind, expect_new: bool) -> Result<(), Problem> {
    let possible = if expect_new {
        user.may(Action::Create)
            || (kind == ObjectKind::Treatment && user.may(Action::Update { owned: true }))
    } else {
        user.may(Action::Update { owned: true })
    };
    if possible {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "role {} may not {} {kind}s",
            user.role,
            if expect_new { "create" } else { "edit" }
        )))
    }
}

async fn create<T: DeserializeOwned>(
    state: &S,
    user: &User,
    kind: ObjectKind,
    wrap: fn(T) -> Object,
    body: RawJson,
) -> ApiResult {
    precheck(user, kind, true)?;
    created(write_object(state, user, wrap(body.parse()?), true).await?)
}

async fn update<T: DeserializeOwned>(
    state: &S,
    user: &User,
    kind: ObjectKind,
    wrap: fn(T) -> Object,
    id: &str,
    body: RawJson,
) -> ApiResult {
    precheck(user, kind, false)?;
    let object = wrap(body.parse()?);
    if object.id() != id {
        return Err(Problem::bad_request(format!(
            "the body's id `{}` differs from the path's `{id}`",
            object.id()
        )));
    }
    created(write_object(state, user, object, false).await?)
}

async fn create_risk(user: User, State(state): State<S>, body: RawJson) -> ApiResult {
    create(&state, &user, ObjectKind::Risk, Object::Risk, body).await
}
async fn update_risk(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    body: RawJson,
) -> ApiResult {
    update(&state, &user, ObjectKind::Risk, Object::Risk, &id, body).await
}
async fn create_system(user: User, State(state): State<S>, body: RawJson) -> ApiResult {
    create(&state, &user, ObjectKind::System, Object::System, body).await
}
async fn update_system(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    body: RawJson,
) -> ApiResult {
    update(&state, &user, ObjectKind::System, Object::System, &id, body).await
}
async fn create_treatment(user: User, State(state): State<S>, body: RawJson) -> ApiResult {
    create(
        &state,
        &user,
        ObjectKind::Treatment,
        Object::Treatment,
        body,
    )
    .await
}
async fn update_treatment(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    body: RawJson,
) -> ApiResult {
    update(
        &state,
        &user,
        ObjectKind::Treatment,
        Object::Treatment,
        &id,
        body,
    )
    .await
}
async fn create_control(user: User, State(state): State<S>, body: RawJson) -> ApiResult {
    create(&state, &user, ObjectKind::Control, Object::Control, body).await
}
async fn update_control(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    body: RawJson,
) -> ApiResult {
    update(
        &state,
        &user,
        ObjectKind::Control,
        Object::Control,
        &id,
        body,
    )
    .await
}

// ----------------------------------------------------------------------------------------
// Evidence and the ledger.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EvidenceQuery {
    /// `risk:ID`, `treatment:ID`, `system:ID` or `control:ID`.
    #[serde(rename = "for")]
    pub target: Option<String>,
}

async fn list_evidence(
    _: User,
    State(state): State<S>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let items: Vec<_> = snapshot
        .evidence
        .iter()
        .filter(|e| q.target.as_ref().is_none_or(|t| &e.target == t))
        .collect();
    json_response(&json!({ "evidence": items }))
}

async fn get_evidence(_: User, State(state): State<S>, Path(id): Path<i64>) -> ApiResult {
    let snapshot = state.snapshot().await?;
    let record = snapshot
        .evidence
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Problem::not_found(format!("no evidence with id {id}")))?;
    json_response(record)
}

async fn evidence_content(user: User, State(state): State<S>, Path(id): Path<i64>) -> ApiResult {
    user.require(Action::Export, "download evidence")?;
    let snapshot = state.snapshot().await?;
    let record = snapshot
        .evidence
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Problem::not_found(format!("no evidence with id {id}")))?
        .clone();
    let sha = record.sha256.clone();
    let content = state
        .with_store(move |store| Ok(store.evidence_content(&sha)?))
        .await?
        .ok_or_else(|| {
            Problem::internal(format!("the stored content of evidence {id} is missing"))
        })?;
    let name = record.file_name.replace(['"', '\\', '\r', '\n'], "_");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        content,
    )
        .into_response())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NewEvidenceQuery {
    /// `risk:ID`, `treatment:ID`, `system:ID` or `control:ID`.
    #[serde(rename = "for")]
    pub target: String,
    pub file_name: String,
    #[serde(default)]
    pub note: String,
    /// `pass` or `fail` for a test result.
    pub outcome: Option<String>,
}

/// Evidence files above this size are refused (link large documents by URL instead).
pub const MAX_EVIDENCE_BYTES: usize = 16 << 20;

pub async fn add_evidence(
    state: &S,
    user: &User,
    q: NewEvidenceQuery,
    content: Vec<u8>,
) -> Result<airisk_store::evidence::EvidenceRecord, Problem> {
    user.require(Action::AddEvidence, "add evidence")?;
    let snapshot = state.snapshot().await?;
    let (kind, id) = q
        .target
        .split_once(':')
        .ok_or_else(|| Problem::bad_request(format!("for `{}`: expected KIND:ID", q.target)))?;
    let exists = match kind {
        "risk" => snapshot.register.risks.contains_key(id),
        "treatment" => snapshot.register.treatments.contains_key(id),
        "system" => snapshot.register.systems.contains_key(id),
        "control" => snapshot.register.controls.contains_key(id),
        other => {
            return Err(Problem::bad_request(format!(
                "for `{}`: unknown kind `{other}` (risk, treatment, system or control)",
                q.target
            )))
        }
    };
    if !exists {
        return Err(Problem::not_found(format!("no {kind} with id `{id}`")));
    }
    if content.is_empty() || content.len() > MAX_EVIDENCE_BYTES {
        return Err(Problem::bad_request(format!(
            "an evidence file has 1 to {MAX_EVIDENCE_BYTES} bytes; this one has {}",
            content.len()
        )));
    }
    let outcome = match q.outcome.as_deref() {
        None | Some("") => None,
        Some(text) => Some(EvidenceOutcome::parse(text).ok_or_else(|| {
            Problem::bad_request(format!("outcome `{text}`: expected pass or fail"))
        })?),
    };
    let actor = user.name().to_string();
    state
        .with_store(move |store| {
            let (record, _) = store.add_evidence(
                NewEvidence {
                    content,
                    target: q.target,
                    file_name: q.file_name,
                    note: q.note,
                    outcome,
                },
                &actor,
                chrono::Utc::now(),
            )?;
            Ok(record)
        })
        .await
}

async fn post_evidence(
    user: User,
    State(state): State<S>,
    ApiQuery(q): ApiQuery<NewEvidenceQuery>,
    body: Bytes,
) -> ApiResult {
    let record = add_evidence(&state, &user, q, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

async fn ledger_info(_: User, State(state): State<S>) -> ApiResult {
    let info = state
        .with_store(|store| {
            let identity = store.ledger_identity()?;
            let size = store.ledger_size()?;
            let checkpoints = store.checkpoints()?;
            Ok(json!({
                "size": size,
                "origin": identity.as_ref().map(|i| &i.origin),
                "verifier_key": identity.as_ref().map(|i| &i.verifier_key),
                "latest_checkpoint": checkpoints.last().map(|c| json!({"size": c.0, "note": c.1, "created_at": c.2})),
            }))
        })
        .await?;
    json_response(&info)
}

/// The bundle of entry `index` (signing a checkpoint first when none covers it yet) and
/// its verification with the ledger's own verifier key.
pub async fn bundle_and_verify(state: &S, index: u64) -> Result<(Value, Value), Problem> {
    state
        .with_store(move |store| {
            let size = store.ledger_size()?;
            if index >= size {
                return Err(Problem::not_found(format!(
                    "the ledger has {size} entries; there is no entry {index}"
                )));
            }
            let covered = store.checkpoints()?.iter().any(|c| c.0 > index);
            if !covered {
                store.checkpoint(chrono::Utc::now())?;
            }
            let bundle = store.bundle(index, true)?;
            let bytes = bundle.to_json().map_err(Problem::internal)?;
            let identity = store
                .ledger_identity()?
                .ok_or_else(|| Problem::internal("the ledger has no signing identity"))?;
            let key = airisk_ledger::VerifierKey::parse(&identity.verifier_key)
                .map_err(Problem::internal)?;
            let verification = match airisk_ledger::verify_bundle(&bytes, &key) {
                Ok(v) => json!({
                    "verified": true,
                    "checkpoint_size": v.checkpoint.checkpoint.size,
                    "origin": v.checkpoint.checkpoint.origin,
                    "payload_included": matches!(v.payload, airisk_ledger::PayloadStatus::Present(_)),
                    "verifier_key": identity.verifier_key,
                }),
                Err(e) => json!({"verified": false, "error": e.to_string()}),
            };
            let bundle: Value = serde_json::from_slice(&bytes).map_err(Problem::internal)?;
            Ok((bundle, verification))
        })
        .await
}

async fn ledger_bundle(_: User, State(state): State<S>, Path(index): Path<u64>) -> ApiResult {
    let (bundle, verification) = bundle_and_verify(&state, index).await?;
    json_response(&json!({ "bundle": bundle, "verification": verification }))
}

async fn ledger_proof(_: User, State(state): State<S>, Path(index): Path<u64>) -> ApiResult {
    let proof = state
        .with_store(move |store| {
            let size = store
                .checkpoints()?
                .into_iter()
                .map(|c| c.0)
                .find(|s| *s > index)
                .unwrap_or(store.ledger_size()?);
            if index >= size {
                return Err(Problem::not_found(format!(
                    "there is no ledger entry {index}"
                )));
            }
            let proof = store.inclusion_proof(index, size)?;
            let entry = store.ledger_entry(index)?;
            Ok(json!({
                "leaf_index": index,
                "tree_size": size,
                "leaf_hash": entry.leaf_hash,
                "root": airisk_ledger::hash::to_hex(&store.root(size)?),
                "proof": proof,
            }))
        })
        .await?;
    json_response(&proof)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct HistoryQuery {
    pub kind: Option<String>,
    pub id: Option<String>,
}

async fn history(
    _: User,
    State(state): State<S>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult {
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(ObjectKind::parse(k).ok_or_else(|| {
            Problem::bad_request(format!(
                "kind `{k}`: expected one of {}",
                ObjectKind::ALL.map(|k| k.as_str()).join(", ")
            ))
        })?),
    };
    let entries = state
        .with_store(move |store| Ok(store.history(kind, q.id.as_deref())?))
        .await?;
    json_response(&json!({ "history": entries }))
}

// ----------------------------------------------------------------------------------------
// Accounts and tokens.

async fn me(user: User) -> ApiResult {
    json_response(&json!({
        "username": user.account.username,
        "display_name": user.account.display_name,
        "role": user.role,
        "person_id": user.account.person_id,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NewToken {
    /// What the token is for (e.g. `ci`).
    pub name: String,
}

async fn create_token(
    user: User,
    State(state): State<S>,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult {
    if body.name.trim().is_empty() {
        return Err(Problem::bad_request("name: give the token a name"));
    }
    let (secret, credential) = new_token(user.name(), body.name.trim());
    let stored = credential.clone();
    state
        .with_store(move |store| Ok(store.put_credential(&stored)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": secret,
            "name": credential.name,
            "role": user.role,
            "note": "shown once; send it as Authorization: Bearer TOKEN",
        })),
    )
        .into_response())
}

async fn list_accounts(user: User, State(state): State<S>) -> ApiResult {
    user.require(Action::ManageAccounts, "list accounts")?;
    let accounts = state.with_store(|store| Ok(store.accounts()?)).await?;
    json_response(&json!({ "accounts": accounts }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub person_id: Option<String>,
    /// At least 12 characters.
    pub password: String,
}

pub fn check_new_account(a: &NewAccount) -> Result<(), Problem> {
    let valid_name = !a.username.is_empty()
        && a.username.len() <= 64
        && a.username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !valid_name {
        return Err(Problem::bad_request(
            "username: 1–64 letters, digits, `.`, `-`, `_` or `@`",
        ));
    }
    if a.password.chars().count() < 12 {
        return Err(Problem::bad_request("password: at least 12 characters"));
    }
    Ok(())
}

async fn create_account(
    user: User,
    State(state): State<S>,
    ApiJson(body): ApiJson<NewAccount>,
) -> ApiResult {
    user.require(Action::ManageAccounts, "create accounts")?;
    check_new_account(&body)?;
    if let Some(person) = &body.person_id {
        let snapshot = state.snapshot().await?;
        if !snapshot.register.people.contains_key(person) {
            return Err(Problem::bad_request(format!(
                "person_id: no person `{person}` in the register"
            )));
        }
    }
    let account = Account {
        username: body.username.clone(),
        display_name: body.display_name,
        role: body.role.as_str().to_string(),
        person_id: body.person_id,
        password_hash: Some(hash_password(&body.password)?),
        disabled: false,
        created_at: chrono::Utc::now().to_rfc3339(),
    };
    let stored = account.clone();
    state
        .with_store(move |store| {
            if store.account(&stored.username)?.is_some() {
                return Err(Problem::conflict(format!(
                    "account `{}` already exists",
                    stored.username
                )));
            }
            Ok(store.put_account(&stored)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(account)).into_response())
}

async fn openapi_json() -> Response {
    Json(crate::openapi::document(&routes())).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

// ----------------------------------------------------------------------------------------
// The route table.

fn doc(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        tag,
        summary,
        access,
        query: None,
        request: None,
        response: None,
    }
}

impl RouteDoc {
    fn query(mut self, schema: SchemaFn) -> Self {
        self.query = Some(schema);
        self
    }
    fn request(mut self, schema: SchemaFn) -> Self {
        self.request = Some(schema);
        self
    }
    fn response(mut self, schema: SchemaFn) -> Self {
        self.response = Some(schema);
        self
    }
}

/// Every API route with its documentation. The router and the OpenAPI document are both
/// built from this list, so they cannot disagree.
pub fn routes() -> Vec<(RouteDoc, MethodRouter<S>)> {
    const READ: &str = "any signed-in role";
    const WRITE_CREATE: &str = "admin, risk_manager, contributor";
    const WRITE_UPDATE: &str = "admin, risk_manager; owner for what they own";
    vec![
        (
            doc(
                "get",
                "/api/openapi.json",
                "meta",
                "This OpenAPI 3.1 document",
                "public",
            ),
            get(openapi_json),
        ),
        (
            doc("get", "/api/healthz", "meta", "Liveness", "public"),
            get(healthz),
        ),
        (
            doc("get", "/api/me", "accounts", "The signed-in account", READ),
            get(me),
        ),
        (
            doc(
                "post",
                "/api/tokens",
                "accounts",
                "Create an API token for yourself (shown once)",
                READ,
            )
            .request(schema_of::<NewToken>),
            post(create_token),
        ),
        (
            doc("get", "/api/accounts", "accounts", "Every account", "admin"),
            get(list_accounts),
        ),
        (
            doc(
                "post",
                "/api/accounts",
                "accounts",
                "Create an account",
                "admin",
            )
            .request(schema_of::<NewAccount>),
            post(create_account),
        ),
        (
            doc(
                "get",
                "/api/systems",
                "inventory",
                "The AI system inventory",
                READ,
            )
            .query(schema_of::<Paging>),
            get(list_systems),
        ),
        (
            doc(
                "post",
                "/api/systems",
                "inventory",
                "Create a system",
                WRITE_CREATE,
            )
            .request(schema_of::<AiSystem>)
            .response(schema_of::<WriteResult>),
            post(create_system),
        ),
        (
            doc(
                "get",
                "/api/systems/{id}",
                "inventory",
                "One system with its screening row, risks and controls",
                READ,
            ),
            get(get_system),
        ),
        (
            doc(
                "put",
                "/api/systems/{id}",
                "inventory",
                "Replace a system",
                WRITE_UPDATE,
            )
            .request(schema_of::<AiSystem>)
            .response(schema_of::<WriteResult>),
            axum::routing::put(update_system),
        ),
        (
            doc(
                "get",
                "/api/risks",
                "register",
                "Risks with computed levels (filterable, paged)",
                READ,
            )
            .query(schema_of::<RiskFilter>),
            get(list_risks),
        ),
        (
            doc(
                "post",
                "/api/risks",
                "register",
                "Create a risk",
                WRITE_CREATE,
            )
            .request(schema_of::<Risk>)
            .response(schema_of::<WriteResult>),
            post(create_risk),
        ),
        (
            doc(
                "get",
                "/api/risks/{id}",
                "register",
                "One risk with treatments, controls and evidence",
                READ,
            ),
            get(get_risk),
        ),
        (
            doc(
                "put",
                "/api/risks/{id}",
                "register",
                "Replace a risk",
                WRITE_UPDATE,
            )
            .request(schema_of::<Risk>)
            .response(schema_of::<WriteResult>),
            axum::routing::put(update_risk),
        ),
        (
            doc(
                "get",
                "/api/treatments",
                "register",
                "Treatments (paged)",
                READ,
            )
            .query(schema_of::<Paging>),
            get(list_treatments),
        ),
        (
            doc(
                "post",
                "/api/treatments",
                "register",
                "Create a treatment",
                WRITE_CREATE,
            )
            .request(schema_of::<Treatment>)
            .response(schema_of::<WriteResult>),
            post(create_treatment),
        ),
        (
            doc(
                "get",
                "/api/treatments/{id}",
                "register",
                "One treatment",
                READ,
            ),
            get(get_treatment),
        ),
        (
            doc(
                "put",
                "/api/treatments/{id}",
                "register",
                "Replace a treatment",
                WRITE_UPDATE,
            )
            .request(schema_of::<Treatment>)
            .response(schema_of::<WriteResult>),
            axum::routing::put(update_treatment),
        ),
        (
            doc(
                "get",
                "/api/criteria",
                "register",
                "Criteria sets and the one in use",
                READ,
            ),
            get(list_criteria),
        ),
        (
            doc(
                "get",
                "/api/screening",
                "register",
                "Systems × risk categories",
                READ,
            ),
            get(screening),
        ),
        (
            doc(
                "get",
                "/api/matrix",
                "register",
                "Heat map counts, inherent and residual",
                READ,
            ),
            get(matrix),
        ),
        (
            doc("get", "/api/due", "register", "What needs attention", READ),
            get(due),
        ),
        (
            doc(
                "get",
                "/api/controls",
                "controls",
                "Applied controls with effectiveness (paged)",
                READ,
            )
            .query(schema_of::<Paging>),
            get(list_controls),
        ),
        (
            doc(
                "post",
                "/api/controls",
                "controls",
                "Create an applied control",
                WRITE_CREATE,
            )
            .request(schema_of::<Control>)
            .response(schema_of::<WriteResult>),
            post(create_control),
        ),
        (
            doc(
                "get",
                "/api/controls/{id}",
                "controls",
                "One control and its assessment",
                READ,
            ),
            get(get_control),
        ),
        (
            doc(
                "put",
                "/api/controls/{id}",
                "controls",
                "Replace an applied control",
                WRITE_UPDATE,
            )
            .request(schema_of::<Control>)
            .response(schema_of::<WriteResult>),
            axum::routing::put(update_control),
        ),
        (
            doc(
                "get",
                "/api/soa",
                "controls",
                "Statement of Applicability (json, md, csv, html, oscal)",
                READ,
            )
            .query(schema_of::<SoaQuery>),
            get(soa),
        ),
        (
            doc(
                "get",
                "/api/coverage",
                "controls",
                "Coverage of a framework",
                READ,
            )
            .query(schema_of::<CoverageQuery>),
            get(coverage_route),
        ),
        (
            doc("get", "/api/evidence", "evidence", "Evidence records", READ)
                .query(schema_of::<EvidenceQuery>),
            get(list_evidence),
        ),
        (
            doc(
                "post",
                "/api/evidence",
                "evidence",
                "Store the request body as evidence (query: for, file_name, note, outcome)",
                "admin, risk_manager, owner, contributor",
            )
            .query(schema_of::<NewEvidenceQuery>),
            post(post_evidence),
        ),
        (
            doc(
                "get",
                "/api/evidence/{id}",
                "evidence",
                "One evidence record",
                READ,
            ),
            get(get_evidence),
        ),
        (
            doc(
                "get",
                "/api/evidence/{id}/content",
                "evidence",
                "The stored evidence file",
                READ,
            ),
            get(evidence_content),
        ),
        (
            doc(
                "get",
                "/api/ledger",
                "ledger",
                "Ledger size, origin, verifier key and latest checkpoint",
                READ,
            ),
            get(ledger_info),
        ),
        (
            doc(
                "get",
                "/api/ledger/proof/{index}",
                "ledger",
                "Inclusion proof of an entry",
                READ,
            ),
            get(ledger_proof),
        ),
        (
            doc(
                "get",
                "/api/ledger/bundle/{index}",
                "ledger",
                "Offline-verifiable bundle of an entry, with its verification",
                READ,
            ),
            get(ledger_bundle),
        ),
        (
            doc(
                "get",
                "/api/history",
                "register",
                "Field-level change history",
                READ,
            )
            .query(schema_of::<HistoryQuery>),
            get(history),
        ),
    ]
}
