//! Sign-in and the forms that create and edit systems, risks and treatments. A form is a
//! list of fields mapped to dotted paths of the object's JSON; an edit starts from the
//! stored object, so fields the form does not show are kept. Errors, from parsing or from
//! the register's rules, are shown next to their field.

use super::{csrf_field, error_page, html_page, S};
use crate::access::Action;
use crate::api::{add_evidence, NewEvidenceQuery};
use crate::auth::{new_session, safe_next, verify_password, User, SESSION_COOKIE};
use crate::problem::{FieldProblem, Problem};
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
    Number,
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
            (Input::Number, [n, ..]) => Some(
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
                        Input::Textarea => textarea id=(id) name=(f.path) aria-invalid=[err.map(|_| "true")] { (text) },
                        Input::Select(opts) => select id=(id) name=(f.path) aria-invalid=[err.map(|_| "true")] {
                            @if !f.required { option value="" { "—" } }
                            @for (v, l) in opts { option value=(v) selected[text == *v] { (l) } }
                        },
                        Input::Multi(opts) => select id=(id) name=(f.path) multiple size=(opts.len().clamp(2, 8)) aria-invalid=[err.map(|_| "true")] {
                            @for (v, l) in opts {
                                option value=(v) selected[current.and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_str() == Some(v.as_str())))] { (l) }
                            }
                        },
                        Input::Number => input id=(id) name=(f.path) type="number" min="1" max="6" value=(text) aria-invalid=[err.map(|_| "true")];,
                        Input::Date => input id=(id) name=(f.path) type="date" value=(text) aria-invalid=[err.map(|_| "true")];,
                        Input::Text => input id=(id) name=(f.path) value=(text) aria-invalid=[err.map(|_| "true")];,
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
    redirect: impl Fn(&str) -> String,
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
    let id = object.id();
    match write_object(state, user, object, expect_new).await {
        Ok(_) => Redirect::to(&redirect(&id)).into_response(),
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
// Risks.

fn risk_fields(snapshot: &crate::state::Snapshot, new: bool) -> Vec<Field> {
    let people = options(snapshot.register.people.keys());
    let systems = options(snapshot.register.systems.keys());
    let scale = |n: usize| {
        (1..=n)
            .map(|i| (i.to_string(), i.to_string()))
            .collect::<Vec<_>>()
    };
    let criteria = snapshot.register.active_criteria();
    let nl = criteria.map_or(5, |c| c.likelihood_steps());
    let nc = criteria.map_or(5, |c| c.consequence_steps());
    let mut fields = vec![
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
        field("systems", "Systems", Input::Multi(systems), true),
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
            Input::Select(scale(nl)),
            false,
        ),
        field(
            "inherent.consequence",
            "Inherent consequence",
            Input::Select(scale(nc)),
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
            Input::Select(scale(nl)),
            false,
        ),
        field(
            "residual.consequence",
            "Residual consequence",
            Input::Select(scale(nc)),
            false,
        ),
        field(
            "residual.rationale",
            "Residual rationale",
            Input::Textarea,
            false,
        ),
        field("last_reviewed", "Last reviewed", Input::Date, false),
    ];
    if !new {
        fields.remove(0);
    }
    fields
}

pub async fn new_risk(user: User, State(state): State<S>) -> Response {
    if let Some(r) = forbid(&user, Action::Create, "create risks") {
        return r;
    }
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let fields = risk_fields(&snapshot, true);
    html_page(
        "New risk",
        Some(&user),
        render_form("New risk", "/risks/new", &user, &fields, &Value::Null, &[]),
    )
}

fn coerce_scores(value: &mut Value) {
    for path in [
        "inherent.likelihood",
        "inherent.consequence",
        "residual.likelihood",
        "residual.consequence",
    ] {
        if let Some(Value::String(s)) = get_path(value, path).cloned() {
            if let Ok(n) = s.parse::<u64>() {
                set_path(value, path, Some(Value::from(n)));
            }
        }
    }
}

async fn submit_risk(
    state: S,
    user: User,
    id: Option<String>,
    submitted: Vec<(String, String)>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let fields = risk_fields(&snapshot, id.is_none());
    let base = match &id {
        Some(id) => match snapshot.register.risks.get(id) {
            Some(r) => serde_json::to_value(r).unwrap_or_default(),
            None => {
                return error_page(
                    Problem::not_found(format!("no risk with id `{id}`")),
                    Some(&user),
                )
            }
        },
        None => Value::Null,
    };
    // Scores come from selects as text: turn them into numbers before reading the risk.
    let mut fields_for_numbers = fields.clone();
    for f in fields_for_numbers.iter_mut() {
        if f.path.starts_with("inherent.") && !f.path.ends_with("rationale")
            || f.path.starts_with("residual.") && !f.path.ends_with("rationale")
        {
            f.input = Input::Number;
        }
    }
    let title = if id.is_some() {
        "Edit risk"
    } else {
        "New risk"
    };
    let action = id
        .as_ref()
        .map_or("/risks/new".to_string(), |i| format!("/risks/{i}/edit"));
    let mut base_value = base;
    coerce_scores(&mut base_value);
    submit(
        &state,
        &user,
        Submission {
            kind: ObjectKind::Risk,
            fields: &fields_for_numbers,
            base: base_value,
            expect_new: id.is_none(),
            page: (title, &action),
        },
        submitted,
        |id| format!("/risks/{id}"),
    )
    .await
}

pub async fn create_risk(
    user: User,
    State(state): State<S>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    submit_risk(state, user, None, f).await
}

pub async fn edit_risk(user: User, State(state): State<S>, Path(id): Path<String>) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let Some(risk) = snapshot.register.risks.get(&id) else {
        return error_page(
            Problem::not_found(format!("no risk with id `{id}`")),
            Some(&user),
        );
    };
    let owned = crate::writes::owns(&snapshot.register, &user, ObjectKind::Risk, &id);
    if let Some(r) = forbid(&user, Action::Update { owned }, &format!("edit risk {id}")) {
        return r;
    }
    let fields = risk_fields(&snapshot, false);
    let value = serde_json::to_value(risk).unwrap_or_default();
    let title = format!("Edit risk {id}");
    html_page(
        &title,
        Some(&user),
        render_form(
            &title,
            &format!("/risks/{id}/edit"),
            &user,
            &fields,
            &value,
            &[],
        ),
    )
}

pub async fn update_risk(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    submit_risk(state, user, Some(id), f).await
}

// ----------------------------------------------------------------------------------------
// Treatments.

fn treatment_fields(snapshot: &crate::state::Snapshot, new: bool) -> Vec<Field> {
    let people = options(snapshot.register.people.keys());
    let risks = options(snapshot.register.risks.keys());
    let mut fields = vec![
        field("id", "ID", Input::Text, true),
        field("risk", "Risk", Input::Select(risks), true),
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
    ];
    if !new {
        fields.remove(0);
    }
    fields
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
    let owned = q
        .risk
        .as_deref()
        .is_some_and(|r| crate::writes::owns(&snapshot.register, &user, ObjectKind::Risk, r));
    if !(user.may(Action::Create) || owned && user.may(Action::Update { owned })) {
        return error_page(
            Problem::forbidden(format!("role {} may not create treatments", user.role)),
            Some(&user),
        );
    }
    let fields = treatment_fields(&snapshot, true);
    let value = serde_json::json!({ "risk": q.risk, "status": "planned" });
    html_page(
        "New treatment",
        Some(&user),
        render_form(
            "New treatment",
            "/treatments/new",
            &user,
            &fields,
            &value,
            &[],
        ),
    )
}

async fn submit_treatment(
    state: S,
    user: User,
    id: Option<String>,
    submitted: Vec<(String, String)>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let fields = treatment_fields(&snapshot, id.is_none());
    let base = match &id {
        Some(id) => match snapshot.register.treatments.get(id) {
            Some(t) => serde_json::to_value(t).unwrap_or_default(),
            None => {
                return error_page(
                    Problem::not_found(format!("no treatment with id `{id}`")),
                    Some(&user),
                )
            }
        },
        None => Value::Null,
    };
    let title = if id.is_some() {
        "Edit treatment"
    } else {
        "New treatment"
    };
    let action = id.as_ref().map_or("/treatments/new".to_string(), |i| {
        format!("/treatments/{i}/edit")
    });
    submit(
        &state,
        &user,
        Submission {
            kind: ObjectKind::Treatment,
            fields: &fields,
            base,
            expect_new: id.is_none(),
            page: (title, &action),
        },
        submitted.clone(),
        |_| {
            let risk = submitted
                .iter()
                .find(|(k, _)| k == "risk")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            if risk.is_empty() {
                "/risks".to_string()
            } else {
                format!("/risks/{risk}")
            }
        },
    )
    .await
}

pub async fn create_treatment(
    user: User,
    State(state): State<S>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    submit_treatment(state, user, None, f).await
}

pub async fn edit_treatment(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let Some(t) = snapshot.register.treatments.get(&id) else {
        return error_page(
            Problem::not_found(format!("no treatment with id `{id}`")),
            Some(&user),
        );
    };
    let owned = crate::writes::owns(&snapshot.register, &user, ObjectKind::Treatment, &id);
    if let Some(r) = forbid(
        &user,
        Action::Update { owned },
        &format!("edit treatment {id}"),
    ) {
        return r;
    }
    let fields = treatment_fields(&snapshot, false);
    let value = serde_json::to_value(t).unwrap_or_default();
    let title = format!("Edit treatment {id}");
    html_page(
        &title,
        Some(&user),
        render_form(
            &title,
            &format!("/treatments/{id}/edit"),
            &user,
            &fields,
            &value,
            &[],
        ),
    )
}

pub async fn update_treatment(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let mut f = f;
    // The risk of an existing treatment is not in the edit form; keep it for the redirect.
    if let Ok(snapshot) = state.snapshot().await {
        if let Some(t) = snapshot.register.treatments.get(&id) {
            if !f.iter().any(|(k, _)| k == "risk") {
                f.push(("risk".into(), t.risk.clone()));
            }
        }
    }
    submit_treatment(state, user, Some(id), f).await
}

// ----------------------------------------------------------------------------------------
// Systems.

fn system_fields(snapshot: &crate::state::Snapshot, new: bool) -> Vec<Field> {
    let people = options(snapshot.register.people.keys());
    let mut fields = vec![
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
    ];
    if !new {
        fields.remove(0);
    }
    fields
}

pub async fn new_system(user: User, State(state): State<S>) -> Response {
    if let Some(r) = forbid(&user, Action::Create, "create systems") {
        return r;
    }
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let fields = system_fields(&snapshot, true);
    html_page(
        "New system",
        Some(&user),
        render_form(
            "New system",
            "/systems/new",
            &user,
            &fields,
            &Value::Null,
            &[],
        ),
    )
}

async fn submit_system(
    state: S,
    user: User,
    id: Option<String>,
    submitted: Vec<(String, String)>,
) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let fields = system_fields(&snapshot, id.is_none());
    let base = match &id {
        Some(id) => match snapshot.register.systems.get(id) {
            Some(s) => serde_json::to_value(s).unwrap_or_default(),
            None => {
                return error_page(
                    Problem::not_found(format!("no system with id `{id}`")),
                    Some(&user),
                )
            }
        },
        None => Value::Null,
    };
    let title = if id.is_some() {
        "Edit system"
    } else {
        "New system"
    };
    let action = id
        .as_ref()
        .map_or("/systems/new".to_string(), |i| format!("/systems/{i}/edit"));
    submit(
        &state,
        &user,
        Submission {
            kind: ObjectKind::System,
            fields: &fields,
            base,
            expect_new: id.is_none(),
            page: (title, &action),
        },
        submitted,
        |id| format!("/systems/{id}"),
    )
    .await
}

pub async fn create_system(
    user: User,
    State(state): State<S>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    submit_system(state, user, None, f).await
}

pub async fn edit_system(user: User, State(state): State<S>, Path(id): Path<String>) -> Response {
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(p) => return error_page(p, Some(&user)),
    };
    let Some(s) = snapshot.register.systems.get(&id) else {
        return error_page(
            Problem::not_found(format!("no system with id `{id}`")),
            Some(&user),
        );
    };
    let owned = crate::writes::owns(&snapshot.register, &user, ObjectKind::System, &id);
    if let Some(r) = forbid(
        &user,
        Action::Update { owned },
        &format!("edit system {id}"),
    ) {
        return r;
    }
    let fields = system_fields(&snapshot, false);
    let value = serde_json::to_value(s).unwrap_or_default();
    let title = format!("Edit system {id}");
    html_page(
        &title,
        Some(&user),
        render_form(
            &title,
            &format!("/systems/{id}/edit"),
            &user,
            &fields,
            &value,
            &[],
        ),
    )
}

pub async fn update_system(
    user: User,
    State(state): State<S>,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    submit_system(state, user, Some(id), f).await
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
