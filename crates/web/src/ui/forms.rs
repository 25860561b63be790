//! Sign-in and the forms that create and edit systems, risks and treatments. A form is a
//! list of fields mapped to dotted paths of the object's JSON; an edit starts from the
//! stored object, so fields the form does not show are kept. Errors, from parsing or from
//! the register's rules, are shown next to their field.

use super::{csrf_field, error_page, html_page, S};
use crate::access::Action;
use crate::api::{add_evidence, NewEvidenceQuery};
use crate::auth::{new_session, safe_next, verify_password, User, SESSION_COOKIE};
use crate::problem::{FieldProblem, Problem};
use crate::state::Snapshot;
use crate::writes::write_object;
use airisk_model::{Category, Object, ObjectKind};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};

// ----------------------------------------------------------------------------------------
// Sign in and out.

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_form(next: &str, error: Option<&str>, username: &str) -> Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.edit method="post" action="/login" {
            input type="hidden" name="next" value=(next);
            label { "Username" input name="username" autocomplete="username" required value=(username); }
            label { "Password" input type="password" name="password" autocomplete="current-password" required; }
            div { button type="submit" { "Sign in" } }
        }
    }
}

pub async fn login_page(Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    html_page("Sign in", None, login_form(&next, None, ""))
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(state): State<S>, jar: CookieJar, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    let username = f.username.trim().to_string();
    let lookup = username.clone();
    let account = match state
        .with_store(move |store| Ok(store.account(&lookup)?))
        .await
    {
        Ok(a) => a,
        Err(p) => return error_page(p, None),
    };
    // Verify against a dummy hash when the account is unknown, so timing does not tell.
    let (hash, usable) = match &account {
        Some(a) if !a.disabled => (a.password_hash.clone().unwrap_or_default(), true),
        _ => (crate::auth::dummy_hash().to_string(), false),
    };
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
        && usable;
    if !ok {
        let body = login_form(&next, Some("Wrong username or password."), &username);
        return (
            StatusCode::UNAUTHORIZED,
            Html(super::page("Sign in", None, body).into_string()),
        )
            .into_response();
    }
    let (secret, credential) = new_session(&username, state.config.session_hours);
    if let Err(p) = state
        .with_store(move |store| Ok(store.put_credential(&credential)?))
        .await
    {
        return error_page(p, None);
    }
    let cookie = Cookie::build((SESSION_COOKIE, secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .max_age(time_hours(state.config.session_hours))
        .build();
    (jar.add(cookie), Redirect::to(&next)).into_response()
}

fn time_hours(hours: i64) -> cookie::time::Duration {
    cookie::time::Duration::hours(hours)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn logout(
    user: User,
    State(state): State<S>,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(p) = user.check_csrf(f.csrf.as_deref()) {
        return error_page(p, Some(&user));
    }
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        let hash = crate::auth::sha256_hex(cookie.value());
        let _ = state
            .with_store(move |store| Ok(store.delete_credential(&hash)?))
            .await;
    }
    (
        jar.remove(Cookie::build(SESSION_COOKIE).path("/").build()),
        Redirect::to("/login"),
    )
        .into_response()
}

// ----------------------------------------------------------------------------------------
// Form machinery.

#[derive(Clone)]
enum Input {
    Text,
    Textarea,
    /// A score on an n-step scale: a select, read as a number.
    Score(usize),
    Date,
    Select(Vec<(String, String)>),
    Multi(Vec<(String, String)>),
}

#[derive(Clone)]
struct Field {
    path: &'static str,
    label: &'static str,
    input: Input,
    required: bool,
    hint: &'static str,
}

fn field(path: &'static str, label: &'static str, input: Input, required: bool) -> Field {
    Field {
        path,
        label,
        input,
        required,
        hint: "",
    }
}

fn options<I: IntoIterator<Item = S2>, S2: AsRef<str>>(values: I) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|v| (v.as_ref().to_string(), v.as_ref().replace('_', " ")))
        .collect()
}

fn get_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn set_path(value: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut cursor = value;
    for part in parts {
        if !cursor.get(part).is_some_and(Value::is_object) {
            if new.is_none() {
                return;
            }
            cursor[part] = Value::Object(Map::new());
        }
        cursor = &mut cursor[part];
    }
    if let Value::Object(map) = cursor {
        match new {
            Some(v) => {
                map.insert(last.to_string(), v);
            }
            None => {
                map.remove(last);
            }
        }
    }
}

/// Builds the object's JSON from `base` and the submitted fields; empty fields are removed,
/// and a nested object left empty (an unassessed score) is removed too.
fn build_value(fields: &[Field], base: Value, submitted: &[(String, String)]) -> Value {
    let mut value = if base.is_object() {
        base
    } else {
        Value::Object(Map::new())
    };
    for f in fields {
        let given: Vec<&str> = submitted
            .iter()
            .filter(|(k, _)| k == f.path)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let new = match (&f.input, given.as_slice()) {
            (Input::Multi(_), list) if !list.is_empty() => Some(Value::Array(
                list.iter().map(|s| Value::String(s.to_string())).collect(),
            )),
            (_, []) => None,
            (Input::Score(_), [n, ..]) => Some(
                n.parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(n.to_string())),
            ),
            (_, [text, ..]) => Some(Value::String(text.to_string())),
        };
        set_path(&mut value, f.path, new);
    }
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.as_object().is_some_and(Map::is_empty));
    }
    value
}

fn error_for<'a>(errors: &'a [FieldProblem], path: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| {
            e.field == path
                || e.field.starts_with(&format!("{path}."))
                || e.field.starts_with(&format!("{path}["))
                || path.starts_with(&format!("{}.", e.field)) && !e.field.is_empty()
        })
        .map(|e| e.message.as_str())
}

fn render_form(
    title: &str,
    action: &str,
    user: &User,
    fields: &[Field],
    value: &Value,
    errors: &[FieldProblem],
) -> Markup {
    let unplaced: Vec<&FieldProblem> = errors
        .iter()
        .filter(|e| {
            !fields
                .iter()
                .any(|f| error_for(std::slice::from_ref(*e), f.path).is_some())
        })
        .collect();
    html! {
        h1 { (title) }
        @if !errors.is_empty() {
            div.error role="alert" {
                p { "Nothing was saved: " (errors.len()) " problem" @if errors.len() != 1 { "s" } " to fix." }
                @if !unplaced.is_empty() { ul { @for e in &unplaced { li { (e.object) " " (e.field) ": " (e.message) } } } }
            }
        }
        form.edit method="post" action=(action) novalidate {
            (csrf_field(user))
            @for f in fields {
                @let id = f.path.replace('.', "-");
                @let err = error_for(errors, f.path);
                @let current = get_path(value, f.path);
                @let text = current.map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| if v.is_array() { String::new() } else { v.to_string() })).unwrap_or_default();
                label for=(id) {
                    (f.label) @if f.required { " *" }
                    @if !f.hint.is_empty() { span.hint { (f.hint) } }
                    @match &f.input {
                        Input::Textarea => textarea id=(id) name=(f.path) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))] { (text) },
                        Input::Select(opts) => select id=(id) name=(f.path) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))] {
                            @if !f.required { option value="" { "—" } }
                            @for (v, l) in opts { option value=(v) selected[text == *v] { (l) } }
                        },
                        Input::Multi(opts) => select id=(id) name=(f.path) multiple size=(opts.len().clamp(2, 8)) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))] {
                            @for (v, l) in opts {
                                option value=(v) selected[current.and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_str() == Some(v.as_str())))] { (l) }
                            }
                        },
                        Input::Score(n) => select id=(id) name=(f.path) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))] {
                            option value="" { "—" }
                            @for i in 1..=*n { option value=(i) selected[text == i.to_string()] { (i) } }
                        },
                        Input::Date => input id=(id) name=(f.path) type="date" value=(text) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))];,
                        Input::Text => input id=(id) name=(f.path) value=(text) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-error"))];,
                    }
                    @if let Some(e) = err { span.field-error id=(format!("{id}-error")) { (e) } }
                }
            }
            div { button type="submit" { "Save" } }
        }
    }
}

/// A form being submitted: what it edits and where it is shown.
struct Submission<'a> {
    kind: ObjectKind,
    fields: &'a [Field],
    /// The stored object (for an edit) or null (for a new one).
    base: Value,
    expect_new: bool,
    /// (page title, form action) for showing it again.
    page: (&'a str, &'a str),
}

/// What happened to a submitted form: saved (redirect) or shown again with its errors.
async fn submit(
    state: &S,
    user: &User,
    form: Submission<'_>,
    submitted: Vec<(String, String)>,
) -> Response {
    let Submission {
        kind,
        fields,
        base,
        expect_new,
        page,
    } = form;
    let csrf = submitted
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if let Err(p) = user.check_csrf(csrf) {
        return error_page(p, Some(user));
    }
    let value = build_value(fields, base, &submitted);
    let missing: Vec<FieldProblem> = fields
        .iter()
        .filter(|f| f.required && get_path(&value, f.path).is_none_or(Value::is_null))
        .map(|f| FieldProblem {
            object: kind.to_string(),
            field: f.path.to_string(),
            message: "required".into(),
        })
        .collect();
    if !missing.is_empty() {
        return form_error(
            page,
            user,
            fields,
            &value,
            &missing,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let object = match Object::from_value(kind, value.clone()) {
        Ok(o) => o,
        Err(e) => {
            // serde names a missing nested field in its message, not in the path.
            let field = match e.message.strip_prefix("missing field `") {
                Some(rest) if e.path.is_empty() => rest.trim_end_matches('`').to_string(),
                Some(rest) => format!("{}.{}", e.path, rest.trim_end_matches('`')),
                None => e.path.clone(),
            };
            let problem = vec![FieldProblem {
                object: kind.to_string(),
                field,
                message: e.message.clone(),
            }];
            return form_error(
                page,
                user,
                fields,
                &value,
                &problem,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let target = after_save(&object);
    match write_object(state, user, object, expect_new).await {
        Ok(_) => Redirect::to(&target).into_response(),
        Err(p) if !p.errors.is_empty() => {
            form_error(page, user, fields, &value, &p.errors, p.status())
        }
        Err(p) if p.status() == StatusCode::CONFLICT || p.status() == StatusCode::NOT_FOUND => {
            let problems = vec![FieldProblem {
                object: kind.to_string(),
                field: "id".into(),
                message: p.detail,
            }];
            form_error(page, user, fields, &value, &problems, StatusCode::CONFLICT)
        }
        Err(p) => error_page(p, Some(user)),
    }
}

fn form_error(
    (title, action): (&str, &str),
    user: &User,
    fields: &[Field],
    value: &Value,
    errors: &[FieldProblem],
    status: StatusCode,
) -> Response {
    let body = render_form(title, action, user, fields, value, errors);
    (
        status,
        Html(super::page(title, Some(user), body).into_string()),
    )
        .into_response()
}

/// The error page when the role may not do `what`.
fn forbid(user: &User, action: Action, what: &str) -> Option<Response> {
    user.require(action, what)
        .err()
        .map(|p| error_page(p, Some(user)))
}

// ----------------------------------------------------------------------------------------
// The forms of systems, risks and treatments.

/// Where a saved object is shown: its page, or for a treatment its risk's page.
fn after_save(object: &Object) -> String {
    match object {
        Object::System(s) => format!("/systems/{}", s.id),
        Object::Risk(r) => format!("/risks/{}", r.id),
        Object::Treatment(t) => format!("/risks/{}", t.risk),
        other => format!("/{}", other.kind()),
    }
}

/// The URL segment of a kind's pages.
fn segment(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::System => "systems",
        ObjectKind::Treatment => "treatments",
        _ => "risks",
    }
}

/// The fields of a kind's form; an edit form has no id (ids never change).
fn fields_for(kind: ObjectKind, snapshot: &Snapshot, new: bool) -> Vec<Field> {
    let people = options(snapshot.register.people.keys());
    let mut fields = match kind {
        ObjectKind::System => vec![
            field("id", "ID", Input::Text, true),
            field("name", "Name", Input::Text, true),
            field("purpose", "Purpose", Input::Textarea, true),
            field("intended_use", "Intended use", Input::Textarea, false),
            field(
                "model_type",
                "Model type",
                Input::Select(options([
                    "proprietary",
                    "fine_tuned",
                    "third_party_foundation",
                ])),
                true,
            ),
            field("environment", "Environment", Input::Text, true),
            field(
                "exposure",
                "Exposure",
                Input::Select(options(["internal", "external", "public"])),
                true,
            ),
            field(
                "criticality",
                "Criticality",
                Input::Select(options(["low", "medium", "high", "critical"])),
                true,
            ),
            field(
                "lifecycle",
                "Lifecycle",
                Input::Select(options([
                    "proposed",
                    "design",
                    "development",
                    "validation",
                    "deployed",
                    "retired",
                ])),
                true,
            ),
            field(
                "owners.business",
                "Business owner",
                Input::Select(people.clone()),
                true,
            ),
            field(
                "owners.technical",
                "Technical owner",
                Input::Select(people),
                true,
            ),
            field("last_reviewed", "Last reviewed", Input::Date, false),
        ],
        ObjectKind::Treatment => vec![
            field("id", "ID", Input::Text, true),
            field(
                "risk",
                "Risk",
                Input::Select(options(snapshot.register.risks.keys())),
                true,
            ),
            field(
                "option",
                "Option",
                Input::Select(options(["avoid", "mitigate", "transfer", "accept"])),
                true,
            ),
            field("description", "Description", Input::Textarea, true),
            field("owner", "Owner", Input::Select(people.clone()), true),
            field("target_date", "Target date", Input::Date, false),
            field(
                "status",
                "Status",
                Input::Select(options(["planned", "in_progress", "done", "cancelled"])),
                true,
            ),
            field("completed_on", "Completed on", Input::Date, false),
            field(
                "transfer_to",
                "Transferred to (for transfer)",
                Input::Text,
                false,
            ),
            field(
                "justification",
                "Justification (required to accept above the threshold)",
                Input::Textarea,
                false,
            ),
            field("approved_by", "Approved by", Input::Select(people), false),
            field("approved_on", "Approved on", Input::Date, false),
        ],
        _ => {
            let criteria = snapshot.register.active_criteria();
            let nl = criteria.map_or(5, |c| c.likelihood_steps());
            let nc = criteria.map_or(5, |c| c.consequence_steps());
            vec![
                Field {
                    hint: "letters, digits, - _ . (cannot change later)",
                    ..field("id", "ID", Input::Text, true)
                },
                field("title", "Title", Input::Text, true),
                field("event", "Event (what could happen)", Input::Textarea, true),
                field("cause", "Cause", Input::Textarea, true),
                field("consequence", "Consequence", Input::Textarea, true),
                field(
                    "category",
                    "Category",
                    Input::Select(options(Category::ALL.map(|c| c.as_str()))),
                    true,
                ),
                field(
                    "systems",
                    "Systems",
                    Input::Multi(options(snapshot.register.systems.keys())),
                    true,
                ),
                field("owner", "Owner", Input::Select(people), true),
                field(
                    "status",
                    "Status",
                    Input::Select(options([
                        "identified",
                        "assessed",
                        "treated",
                        "accepted",
                        "closed",
                    ])),
                    true,
                ),
                field(
                    "inherent.likelihood",
                    "Inherent likelihood",
                    Input::Score(nl),
                    false,
                ),
                field(
                    "inherent.consequence",
                    "Inherent consequence",
                    Input::Score(nc),
                    false,
                ),
                field(
                    "inherent.rationale",
                    "Inherent rationale",
                    Input::Textarea,
                    false,
                ),
                field(
                    "residual.likelihood",
                    "Residual likelihood",
                    Input::Score(nl),
                    false,
                ),
                field(
                    "residual.consequence",
                    "Residual consequence",
                    Input::Score(nc),
                    false,
                ),
                field(
                    "residual.rationale",
                    "Residual rationale",
                    Input::Textarea,
                    false,
                ),
                field("last_reviewed", "Last reviewed", Input::Date, false),
            ]
        }
    };
    if !new {
        fields.remove(0);
    }
    fields
}

/// The stored object as JSON.
fn stored(snapshot: &Snapshot, kind: ObjectKind, id: &str) -> Result<Value, Problem> {
    snapshot
        .register
        .get(kind, id)
        .map(|o| o.to_value())
        .ok_or_else(|| Problem::not_found(format!("no {kind} with id `{id}`")))
}

/// The empty form for a new object (`initial` pre-fills fields).
async fn show_new(state: S, user: User, kind: ObjectKind, initial: Value) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let title = format!("New {kind}");
    let action = format!("/{}/new", segment(kind));
    let fields = fields_for(kind, &snapshot, true);
    html_page(
        &title,
        Some(&user),
        render_form(&title, &action, &user, &fields, &initial, &[]),
    )
}

/// The form of an existing object, for those allowed to edit it.
async fn show_edit(state: S, user: User, kind: ObjectKind, id: String) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let value = match stored(&snapshot, kind, &id) {
        Ok(v) => v,
        Err(p) => return error_page(p, Some(&user)),
    };
    let owned = crate::writes::owns(&snapshot.register, &user, kind, &id);
    if let Some(r) = forbid(
        &user,
        Action::Update { owned },
        &format!("edit {kind} {id}"),
    ) {
        return r;
    }
    let title = format!("Edit {kind} {id}");
    let action = format!("/{}/{id}/edit", segment(kind));
    let fields = fields_for(kind, &snapshot, false);
    html_page(
        &title,
        Some(&user),
        render_form(&title, &action, &user, &fields, &value, &[]),
    )
}

/// Saves a submitted form (a new object when `id` is `None`).
async fn save(
    state: S,
    user: User,
    kind: ObjectKind,
    id: Option<String>,
    submitted: Vec<(String, String)>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let base = match &id {
        Some(id) => match stored(&snapshot, kind, id) {
            Ok(v) => v,
            Err(p) => return error_page(p, Some(&user)),
        },
        None => Value::Null,
    };
    let title = match &id {
        Some(id) => format!("Edit {kind} {id}"),
        None => format!("New {kind}"),
    };
    let action = match &id {
        Some(id) => format!("/{}/{id}/edit", segment(kind)),
        None => format!("/{}/new", segment(kind)),
    };
    let fields = fields_for(kind, &snapshot, id.is_none());
    let form = Submission {
        kind,
        fields: &fields,
        base,
        expect_new: id.is_none(),
        page: (&title, &action),
    };
    submit(&state, &user, form, submitted).await
}

type Submitted = Form<Vec<(String, String)>>;

pub async fn new_risk(user: User, State(state): State<S>) -> Response {
    if let Some(r) = forbid(&user, Action::Create, "create risks") {
        return r;
    }
    show_new(state, user, ObjectKind::Risk, Value::Null).await
}

pub async fn create_risk(user: User, State(state): State<S>, Form(f): Submitted) -> Response {
    save(state, user, ObjectKind::Risk, None, f).await
}

pub async fn edit_risk(user: User, State(state): State<S>, Path(id): Path<String>) -> Response {
    show_edit(state, user, ObjectKind::Risk, id).await
}

pub async fn update_risk(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Submitted,
) -> Response {
    save(state, user, ObjectKind::Risk, Some(id), f).await
}

pub async fn new_system(user: User, State(state): State<S>) -> Response {
    if let Some(r) = forbid(&user, Action::Create, "create systems") {
        return r;
    }
    show_new(state, user, ObjectKind::System, Value::Null).await
}

pub async fn create_system(user: User, State(state): State<S>, Form(f): Submitted) -> Response {
    save(state, user, ObjectKind::System, None, f).await
}

pub async fn edit_system(user: User, State(state): State<S>, Path(id): Path<String>) -> Response {
    show_edit(state, user, ObjectKind::System, id).await
}

pub async fn update_system(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Submitted,
) -> Response {
    save(state, user, ObjectKind::System, Some(id), f).await
}

#[derive(Deserialize)]
pub struct RiskQuery {
    risk: Option<String>,
}

pub async fn new_treatment(
    user: User,
    State(state): State<S>,
    Query(q): Query<RiskQuery>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let action = crate::writes::creation_action(
        &snapshot.register,
        &user,
        ObjectKind::Treatment,
        q.risk.as_deref(),
    );
    if !user.may(action) {
        return error_page(
            Problem::forbidden(format!("role {} may not create treatments", user.role)),
            Some(&user),
        );
    }
    let initial = serde_json::json!({ "risk": q.risk, "status": "planned" });
    show_new(state, user, ObjectKind::Treatment, initial).await
}

pub async fn create_treatment(user: User, State(state): State<S>, Form(f): Submitted) -> Response {
    save(state, user, ObjectKind::Treatment, None, f).await
}

pub async fn edit_treatment(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
) -> Response {
    show_edit(state, user, ObjectKind::Treatment, id).await
}

pub async fn update_treatment(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Submitted,
) -> Response {
    save(state, user, ObjectKind::Treatment, Some(id), f).await
}

// ----------------------------------------------------------------------------------------
// Evidence upload (multipart).

pub async fn upload_evidence(
    user: User,
    State(state): State<S>,
    mut multipart: Multipart,
) -> Response {
    let mut target = String::new();
    let mut note = String::new();
    let mut outcome = String::new();
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let next = match multipart.next_field().await {
            Ok(n) => n,
            Err(e) => {
                return error_page(
                    Problem::bad_request(format!("the upload is malformed: {e}")),
                    Some(&user),
                )
            }
        };
        let Some(part) = next else { break };
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = part.file_name().unwrap_or("evidence").to_string();
            match part.bytes().await {
                Ok(b) => file = Some((file_name, b.to_vec())),
                Err(e) => {
                    return error_page(
                        Problem::bad_request(format!("reading the file: {e}")),
                        Some(&user),
                    )
                }
            }
        } else {
            let text = part.text().await.unwrap_or_default();
            match name.as_str() {
                "for" => target = text.trim().to_string(),
                "note" => note = text,
                "outcome" => outcome = text,
                "csrf" => csrf = text,
                _ => {}
            }
        }
    }
    if let Err(p) = user.check_csrf(Some(&csrf)) {
        return error_page(p, Some(&user));
    }
    let Some((file_name, content)) = file else {
        return error_page(Problem::bad_request("choose a file to upload"), Some(&user));
    };
    let q = NewEvidenceQuery {
        target,
        file_name,
        note,
        outcome: Some(outcome).filter(|o| !o.is_empty()),
    };
    match add_evidence(&state, &user, q, content).await {
        Ok(_) => Redirect::to("/evidence").into_response(),
        Err(p) => error_page(p, Some(&user)),
    }
}
