//! Every write from the web: authorize, plan, validate (model rules and framework
//! references), and commit in one transaction attributed to the signed-in user.

use crate::access::Action;
use crate::auth::User;
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;
use airisk_model::{plan, Object, ObjectKind, Register};
use airisk_store::CommitSummary;
use serde::Serialize;
use std::sync::Arc;

/// Whether the account's register person owns this object (for the `owner` role).
pub fn owns(register: &Register, user: &User, kind: ObjectKind, id: &str) -> bool {
    let Some(person) = user.person() else {
        return false;
    };
    let owns_system = |system_id: &str| {
        register
            .systems
            .get(system_id)
            .is_some_and(|s| s.owners.roles().iter().any(|(_, who)| *who == person))
    };
    let owns_risk = |risk_id: &str| {
        register
            .risks
            .get(risk_id)
            .is_some_and(|r| r.owner == person || r.systems.iter().any(|s| owns_system(s)))
    };
    match kind {
        ObjectKind::System => owns_system(id),
        ObjectKind::Risk => owns_risk(id),
        ObjectKind::Treatment => register
            .treatments
            .get(id)
            .is_some_and(|t| t.owner == person || owns_risk(&t.risk)),
        ObjectKind::Control => register
            .controls
            .get(id)
            .is_some_and(|c| c.owner.as_deref() == Some(person)),
        _ => false,
    }
}

/// What creating an object of `kind` asks of the role: `Create`, except that adding a
/// treatment to a risk (`risk`) is an edit of that risk for a role that cannot create, so
/// owners may treat the risks they own.
pub fn creation_action(
    register: &Register,
    user: &User,
    kind: ObjectKind,
    risk: Option<&str>,
) -> Action {
    match kind {
        ObjectKind::Treatment if !user.may(Action::Create) => Action::Update {
            owned: risk.is_some_and(|r| owns(register, user, ObjectKind::Risk, r)),
        },
        _ => Action::Create,
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WriteResult {
    pub kind: ObjectKind,
    pub id: String,
    /// `create`, `update` or `unchanged`.
    pub action: String,
    /// The changeset that recorded it (absent when nothing changed).
    pub changeset: Option<i64>,
    /// The object as stored now.
    pub object: serde_json::Value,
}

/// Creates (`expect_new`) or updates one object as `user`.
pub async fn write_object(
    state: &Arc<AppState>,
    user: &User,
    object: Object,
    expect_new: bool,
) -> Result<WriteResult, Problem> {
    let kind = object.kind();
    let id = object.id();
    let snapshot = state.snapshot().await?;
    let exists = snapshot.register.get(kind, &id).is_some();
    match (expect_new, exists) {
        (true, true) => {
            return Err(Problem::conflict(format!(
                "{kind} {id} already exists; edit it instead"
            )))
        }
        (false, false) => return Err(Problem::not_found(format!("no {kind} with id `{id}`"))),
        _ => {}
    }
    let action = if expect_new {
        let risk = match &object {
            Object::Treatment(t) => Some(t.risk.as_str()),
            _ => None,
        };
        creation_action(&snapshot.register, user, kind, risk)
    } else {
        Action::Update {
            owned: owns(&snapshot.register, user, kind, &id),
        }
    };
    user.require(
        action,
        &format!("{} {kind} {id}", if expect_new { "create" } else { "edit" }),
    )?;
    let library = state.library.clone();
    let actor = user.name().to_string();
    state
        .with_store(move |store| {
            let current = store.load_register()?;
            let planned = plan(&current, vec![object]);
            let mut issues = planned.result.validate();
            issues.extend(airisk_compliance::check_references(
                &planned.result,
                &library,
            ));
            if !issues.is_empty() {
                return Err(Problem::invalid(
                    issues
                        .into_iter()
                        .map(|i| FieldProblem {
                            object: format!("{} {}", i.kind, i.id),
                            field: i.field,
                            message: i.message,
                        })
                        .collect(),
                ));
            }
            let change = planned
                .changes
                .iter()
                .find(|c| c.kind == kind && c.id == id)
                .ok_or_else(|| Problem::internal("the plan lost the object"))?;
            let action = change.action.as_str().to_string();
            let after = change.after.clone();
            let changeset = if planned.is_noop() {
                None
            } else {
                let summary: CommitSummary = store.commit(
                    planned.writes(),
                    &actor,
                    chrono::Utc::now(),
                    &format!("web: {action} {kind} {id}"),
                )?;
                Some(summary.changeset)
            };
            Ok(WriteResult {
                kind,
                id,
                action,
                changeset,
                object: after,
            })
        })
        .await
}
