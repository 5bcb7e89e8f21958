//! The Create page: the golden paths as cards, built-in and registered in the catalog, and
//! for each a form generated from the template's parameter schema (the one `pave new`
//! prompts from). Submitting renders the template in memory and answers with the new
//! repository as a zip archive or, when the server has a push target, pushes it as a
//! branch; the same answers are shown as the `pave new … --set …` command.
//!
//! - `GET /create`: the built-in templates (newest version of each), then the registered
//!   ones ([`registered`]): `kind: Template` entities whose `pave.dev/template-ref` names a
//!   template folder in their source, with their owner and a link to the entity.
//! - `GET /create/{template}`, `GET /create/registered/{namespace}/{name}`: the form; with
//!   `go=1` in the query, the answers are checked and either the archive is sent or the form
//!   comes back with what is wrong (422). With `push=1` as well (the "Push a branch" button),
//!   a page asks to confirm the push instead.
//! - `POST` to the same addresses: the push ([`push`]), with `--create-push-url`.
//!
//! The download submits with GET: rendering a template changes nothing on the server, so it
//! is a safe, repeatable request and needs no CSRF token. The push changes something
//! outside pave, so it is a POST: a signed-in browser's carries the session's CSRF token
//! (checked by `auth::authenticate` before the handler runs), a cross-site one is refused
//! whoever sends it, and the caller needs `template.push`; every push, refused or done, is
//! audited. Rendering is bounded by the renderer's fuel and runs on the heavy pool; git runs
//! off the async threads, within its own time limit.

mod form;
mod push;
mod registered;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_auth::{Permission, Resource, SubjectKind};
use pave_platform::Principal;
use pave_platform::templates::EntitySource;
use pave_store::audit::Outcome;
use pave_template::params;
use pave_template::{Loaded, Manifest, Source};
use serde_json::json;

use super::view::RefView;
use super::{Layout, PortalError, Section};
use crate::AppState;
use crate::auth::Caller;
pub(crate) use form::shell_word;
use form::{Evaluated, Field, evaluate};
pub use push::{CreatePush, DEFAULT_PUSH_IDENTITY, DEFAULT_PUSH_TIMEOUT};
use registered::Registration;

/// Longest query string or form body the form reads (answers are short; a paste of a file
/// is not one).
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// What the registered template's card adds.
pub(crate) struct RegisteredCard {
    pub(crate) entity_href: String,
    pub(crate) entity_ref: String,
    pub(crate) owner: Option<RefView>,
    /// The template folder, relative to its source.
    pub(crate) folder: Option<String>,
}

pub(crate) struct TemplateCard {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    /// Empty when the template cannot be read.
    pub(crate) version: String,
    pub(crate) kind: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) parameters: usize,
    /// The form's address.
    pub(crate) href: String,
    pub(crate) registered: Option<RegisteredCard>,
    /// Why the template cannot be used.
    pub(crate) problem: Option<String>,
}

#[derive(Template)]
#[template(path = "create.html")]
pub(crate) struct CreatePage {
    pub(crate) layout: Layout,
    pub(crate) templates: Vec<TemplateCard>,
    /// Registered templates past the cards shown.
    pub(crate) more: usize,
}

/// The push button's place on the form.
pub(crate) struct PushOffer {
    /// Whether the viewer holds `template.push` (else the form says they would need it).
    pub(crate) allowed: bool,
    /// The target, `{name}` left in, without credentials.
    pub(crate) target: String,
}

#[derive(Template)]
#[template(path = "create_form.html")]
pub(crate) struct CreateForm {
    pub(crate) layout: Layout,
    pub(crate) card: TemplateCard,
    pub(crate) fields: Vec<Field>,
    /// Problems not tied to one input.
    pub(crate) errors: Vec<String>,
    pub(crate) command: String,
    /// Said beside the command when it needs explaining.
    pub(crate) command_note: Option<String>,
    pub(crate) push: Option<PushOffer>,
}

/// The push's confirmation and its outcome.
#[derive(Template)]
#[template(path = "create_push.html")]
pub(crate) struct CreatePushPage {
    pub(crate) layout: Layout,
    pub(crate) card: TemplateCard,
    /// `confirm`, `pushed` or `failed`.
    pub(crate) stage: &'static str,
    pub(crate) name: String,
    pub(crate) branch: String,
    /// Where the branch goes, without credentials.
    pub(crate) target: String,
    pub(crate) author: String,
    /// The answers, for the confirmation's form.
    pub(crate) hidden: Vec<(String, String)>,
    pub(crate) sets: Vec<String>,
    pub(crate) files: usize,
    pub(crate) commit: Option<String>,
    pub(crate) error: Option<String>,
    /// The form again, with these answers.
    pub(crate) back_href: String,
    pub(crate) command: String,
}

/// The template a page is about.
#[derive(Clone)]
enum Chosen {
    Builtin(String),
    Registered(Box<Registration>),
}

/// A template opened for its form: loaded, or why it cannot be.
struct Opened {
    loaded: Result<Loaded, String>,
    card: TemplateCard,
    /// `pave new <source>`, or what to run to fetch it first.
    command_prefix: String,
    command_note: Option<String>,
    /// What the audit record names as the template's source.
    source_label: String,
}

impl Opened {
    fn command(&self, evaluated: &Evaluated) -> String {
        format!(
            "{} {} {}",
            self.command_prefix,
            evaluated.command_folder(),
            evaluated.sets.join(" ")
        )
        .trim_end()
        .to_owned()
    }
}

/// The newest version of built-in `name`.
fn load_builtin(name: &str) -> Option<Loaded> {
    let versions = pave_template::builtin::catalog();
    let version = versions.get(name)?.last()?.clone();
    let template = pave_template::builtin::load(name, &version).ok()?;
    Some(Loaded {
        template,
        source: Source::Builtin(name.to_owned()),
        commit: None,
    })
}

fn card(manifest: &Manifest, href: String) -> TemplateCard {
    TemplateCard {
        name: manifest.name.clone(),
        title: manifest
            .title
            .clone()
            .unwrap_or_else(|| manifest.name.clone()),
        description: manifest.description.clone(),
        version: manifest.version.to_string(),
        kind: manifest.kind.clone(),
        tags: manifest.tags.clone(),
        parameters: params::parameters(manifest).len(),
        href,
        registered: None,
        problem: None,
    }
}

fn builtin_href(name: &str) -> String {
    format!("/create/{}", super::view::encode_segment(name))
}

/// A registered template's card: from its `template.yaml` when it reads, else from the
/// entity, with the problem.
fn registered_card(
    registration: &Registration,
    found: Option<&registered::Found>,
    manifest: Result<&Manifest, &String>,
) -> TemplateCard {
    let mut card = match manifest {
        Ok(manifest) => card(manifest, registration.href()),
        Err(problem) => TemplateCard {
            name: registration.id.name.clone(),
            title: registration.id.display().to_owned(),
            description: (!registration.id.description.is_empty())
                .then(|| registration.id.description.clone()),
            version: String::new(),
            kind: None,
            tags: Vec::new(),
            parameters: 0,
            href: registration.href(),
            registered: None,
            problem: Some(problem.clone()),
        },
    };
    card.registered = Some(RegisteredCard {
        entity_href: registration.id.href.clone(),
        entity_ref: registration.id.reference.clone(),
        owner: registration.owner.clone(),
        folder: found.map(|f| f.relative.clone()),
    });
    card
}

/// Where each registered template's entity was read from (a failure to ask is each one's
/// problem, not the page's).
async fn sources_of(
    state: &AppState,
    registrations: &[Registration],
) -> HashMap<String, Result<EntitySource, String>> {
    let keys: Vec<String> = registrations.iter().map(|r| r.key.clone()).collect();
    match state.platform.entity_origins(&keys).await {
        Ok(found) => found.into_iter().collect(),
        Err(e) => {
            tracing::warn!(error = %e, "reading registered templates' sources");
            HashMap::new()
        }
    }
}

fn source_for<'a>(
    sources: &'a HashMap<String, Result<EntitySource, String>>,
    key: &str,
) -> Result<&'a EntitySource, String> {
    match sources.get(key) {
        Some(Ok(source)) => Ok(source),
        Some(Err(e)) => Err(e.clone()),
        None => Err("the store could not be asked".to_owned()),
    }
}

pub(crate) async fn index(State(state): State<Arc<AppState>>) -> Response {
    let mut templates: Vec<TemplateCard> = pave_template::builtin::catalog()
        .keys()
        .filter_map(|name| load_builtin(name))
        .map(|loaded| {
            let href = builtin_href(&loaded.template.manifest.name);
            card(&loaded.template.manifest, href)
        })
        .collect();
    let catalog = state.catalog();
    let (registrations, total) = registered::find(&catalog);
    let shown = registrations.len();
    let sources = sources_of(&state, &registrations).await;
    let job = move || {
        registrations
            .iter()
            .map(|registration| {
                let found =
                    registered::locate(registration, source_for(&sources, &registration.key));
                match found {
                    Ok(found) => {
                        let manifest = found.manifest();
                        registered_card(registration, Some(&found), manifest.as_ref())
                    }
                    Err(problem) => registered_card(registration, None, Err(&problem)),
                }
            })
            .collect::<Vec<_>>()
    };
    match state.heavy().run(job).await {
        Ok(cards) => templates.extend(cards),
        Err(busy) => return PortalError::from(busy).into_response(),
    }
    let page = CreatePage {
        layout: Layout::new("Create", Section::Create),
        templates,
        more: total.saturating_sub(shown),
    };
    match super::render(&page) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `chosen`, loaded (on the heavy pool: a registered template is read from disk).
async fn open(state: &Arc<AppState>, chosen: &Chosen) -> Result<Opened, Response> {
    match chosen {
        Chosen::Builtin(name) => {
            let Some(loaded) = load_builtin(name) else {
                return Err(PortalError::PageNotFound(builtin_href(name)).into_response());
            };
            let card = card(&loaded.template.manifest, builtin_href(name));
            Ok(Opened {
                command_prefix: format!("pave new {}", loaded.template.manifest.name),
                command_note: None,
                source_label: "builtin".to_owned(),
                loaded: Ok(loaded),
                card,
            })
        }
        Chosen::Registered(registration) => {
            let sources = sources_of(state, std::slice::from_ref(registration.as_ref())).await;
            let registration = registration.clone();
            let job = move || {
                let source = source_for(&sources, &registration.key);
                let found = registered::locate(&registration, source);
                let source_label = registration.id.reference.clone();
                match found {
                    Ok(found) => {
                        let (command_prefix, command_note) = found.command();
                        match found.template() {
                            Ok(template) => {
                                let loaded = found.loaded(template);
                                let card = registered_card(
                                    &registration,
                                    Some(&found),
                                    Ok(&loaded.template.manifest),
                                );
                                Opened {
                                    loaded: Ok(loaded),
                                    card,
                                    command_prefix,
                                    command_note,
                                    source_label,
                                }
                            }
                            Err(problem) => Opened {
                                card: registered_card(&registration, Some(&found), Err(&problem)),
                                loaded: Err(problem),
                                command_prefix,
                                command_note,
                                source_label,
                            },
                        }
                    }
                    Err(problem) => Opened {
                        card: registered_card(&registration, None, Err(&problem)),
                        loaded: Err(problem),
                        command_prefix: "pave new".to_owned(),
                        command_note: None,
                        source_label,
                    },
                }
            };
            state
                .heavy()
                .run(job)
                .await
                .map_err(|busy| PortalError::from(busy).into_response())
        }
    }
}

pub(crate) async fn form(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    form_page(state, principal, Chosen::Builtin(name), query).await
}

pub(crate) async fn registered_form(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    match registration(&state, path) {
        Ok(registration) => {
            form_page(state, principal, Chosen::Registered(registration), query).await
        }
        Err(error) => error.into_response(),
    }
}

fn registration(
    state: &AppState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Box<Registration>, PortalError> {
    let Ok(Path((namespace, name))) = path else {
        return Err(PortalError::BadRequest(
            "The template address is malformed.".into(),
        ));
    };
    registered::get(&state.catalog(), &namespace, &name)
        .map(Box::new)
        .ok_or_else(|| PortalError::PageNotFound(format!("/create/registered/{namespace}/{name}")))
}

/// What the submission asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// Show the form (with any answers given).
    View,
    /// Check the answers, then the archive.
    Download,
    /// Check the answers, then the push's confirmation.
    ConfirmPush,
}

async fn form_page(
    state: Arc<AppState>,
    principal: Principal,
    chosen: Chosen,
    query: Option<String>,
) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return too_long().into_response();
    }
    let submitted: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let flag = |key: &str| submitted.iter().any(|(k, v)| k == key && v != "0");
    let asked = match (flag("go"), flag("push")) {
        (false, _) => Asked::View,
        (true, false) => Asked::Download,
        (true, true) => Asked::ConfirmPush,
    };
    let opened = match open(&state, &chosen).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let push = state.create_push();
    let offer = push.as_ref().map(|push| PushOffer {
        allowed: may_push(&state, &principal),
        target: push.shown_target("{name}"),
    });
    let loaded = match &opened.loaded {
        Ok(loaded) => loaded.clone(),
        Err(_) => {
            let status = if asked == Asked::View {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return broken_form(opened, status);
        }
    };
    let job = move || evaluate(&loaded, &submitted, asked != Asked::View);
    let evaluated = match state.heavy().run(job).await {
        Ok(evaluated) => evaluated,
        Err(busy) => return PortalError::from(busy).into_response(),
    };
    let mut evaluated = evaluated;
    match (asked, evaluated.files.take()) {
        (Asked::Download, Some(files)) => {
            match pave_template::zip_archive(&files, &evaluated.folder) {
                Ok(bytes) => {
                    return (
                        [
                            (header::CONTENT_TYPE, "application/zip".to_owned()),
                            (
                                header::CONTENT_DISPOSITION,
                                format!("attachment; filename=\"{}.zip\"", evaluated.folder),
                            ),
                        ],
                        bytes,
                    )
                        .into_response();
                }
                Err(e) => evaluated.errors.push(e.to_string()),
            }
        }
        (Asked::ConfirmPush, Some(files)) => match (&push, &evaluated.name) {
            (None, _) => evaluated
                .errors
                .push("This server has no push target (pave serve --create-push-url).".to_owned()),
            (Some(_), None) => evaluated.errors.push(
                "Pushing needs a `name` answer: the new repository's name in the push URL."
                    .to_owned(),
            ),
            (Some(_), Some(_)) if !may_push(&state, &principal) => evaluated.errors.push(
                "Pushing a branch needs the template.push permission, which you do not hold; download the repository instead."
                    .to_owned(),
            ),
            (Some(push), Some(name)) => match push::check_name(name) {
                Err(e) => set_error(&mut evaluated, "name", e),
                Ok(()) => {
                    let author = requester(&state, &principal, push);
                    let page = CreatePushPage {
                        layout: Layout::new(
                            format!("Create: {} · push", opened.card.title),
                            Section::Create,
                        ),
                        stage: "confirm",
                        name: name.clone(),
                        branch: push::branch_for(name),
                        target: push.shown_target(name),
                        author: author.0.shown(),
                        hidden: evaluated.hidden(),
                        sets: evaluated.sets.clone(),
                        files: files.len(),
                        commit: None,
                        error: None,
                        back_href: back_href(&opened.card.href, &evaluated),
                        command: opened.command(&evaluated),
                        card: opened.card,
                    };
                    return match super::render(&page) {
                        Ok(html) => html.into_response(),
                        Err(e) => e.into_response(),
                    };
                }
            },
        },
        _ => {}
    }
    let status = if asked == Asked::View {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    form_response(opened, evaluated, offer, status)
}

fn too_long() -> PortalError {
    PortalError::BadRequest(format!(
        "The answers are too long (at most {} KiB).",
        MAX_QUERY_BYTES / 1024
    ))
}

fn set_error(evaluated: &mut Evaluated, field: &str, message: String) {
    match evaluated.fields.iter_mut().find(|f| f.name == field) {
        Some(f) => f.error = Some(message),
        None => evaluated.errors.push(message),
    }
}

/// The form's address with `evaluated`'s answers filled in.
fn back_href(href: &str, evaluated: &Evaluated) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in evaluated.hidden() {
        query.append_pair(&k, &v);
    }
    format!("{href}?{}", query.finish())
}

fn form_response(
    opened: Opened,
    evaluated: Evaluated,
    push: Option<PushOffer>,
    status: StatusCode,
) -> Response {
    let command = opened.command(&evaluated);
    let page = CreateForm {
        layout: Layout::new(format!("Create: {}", opened.card.title), Section::Create),
        card: opened.card,
        fields: evaluated.fields,
        errors: evaluated.errors,
        command,
        command_note: opened.command_note,
        push,
    };
    match super::render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The form of a template that cannot be read: the problem, no fields.
fn broken_form(opened: Opened, status: StatusCode) -> Response {
    let page = CreateForm {
        layout: Layout::new(format!("Create: {}", opened.card.title), Section::Create),
        card: opened.card,
        fields: Vec::new(),
        errors: Vec::new(),
        command: String::new(),
        command_note: None,
        push: None,
    };
    match super::render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whether the form should offer the push button: a hint only, without an audit record;
/// the push itself is decided (and audited) by [`crate::auth::check`].
fn may_push(state: &AppState, principal: &Principal) -> bool {
    match state.access_policy() {
        None => true,
        Some(policy) => {
            pave_auth::authorize(
                &policy,
                &principal.subject(),
                Permission::TemplatePush,
                &Resource::None,
            )
            .allowed
        }
    }
}

/// The commit's author and who asked, as the commit message names them: a signed-in user
/// with an e-mail address in the catalog is the author; anyone else is named in the
/// message, and the configured identity authors the commit.
fn requester(
    state: &AppState,
    principal: &Principal,
    push: &CreatePush,
) -> (push::GitIdentity, String) {
    let subject = principal.subject();
    let asked_by = match &subject.kind {
        SubjectKind::Operator => "the operator (no sign-in configured)".to_owned(),
        _ => subject.display_name.clone(),
    };
    if let SubjectKind::User { entity_ref } = &subject.kind
        && let Some(record) = state.catalog().get(entity_ref)
    {
        let user = record.entity();
        let email = super::view::str_at(&user, &["spec", "profile", "email"]);
        let name = super::view::str_at(&user, &["spec", "profile", "displayName"])
            .unwrap_or(&subject.display_name);
        if let Some(author) = email.and_then(|email| push::GitIdentity::new(name, email)) {
            return (author, asked_by);
        }
    }
    (push.committer().clone(), asked_by)
}

pub(crate) async fn push_builtin(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    push_page(state, principal, headers, Chosen::Builtin(name), body).await
}

pub(crate) async fn push_registered(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match registration(&state, path) {
        Ok(registration) => {
            push_page(
                state,
                principal,
                headers,
                Chosen::Registered(registration),
                body,
            )
            .await
        }
        Err(error) => error.into_response(),
    }
}

/// `host[:port]` of a URL as a `Host` header writes it (the scheme's default port left out).
fn authority(url: &url::Url) -> Option<String> {
    Some(match (url.host_str()?, url.port()) {
        (host, Some(port)) => format!("{host}:{port}"),
        (host, None) => host.to_owned(),
    })
}

/// Whether a browser sent this request from another site: `Sec-Fetch-Site` when the
/// browser sends it (every current browser does), else an `Origin` that is neither the host
/// asked nor `--public-url`'s (a proxy may rewrite `Host`). Clients that send neither (curl,
/// scripts with a token) are not browsers being tricked.
fn cross_site(headers: &HeaderMap, public_url: Option<&url::Url>) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    // `Origin: null` (a sandboxed frame, a redirect from elsewhere) is no site of ours.
    let Some(from) = url::Url::parse(origin).ok().as_ref().and_then(authority) else {
        return true;
    };
    let host = text("host").unwrap_or_default();
    let public = public_url.and_then(authority);
    !(from.eq_ignore_ascii_case(host) || public.is_some_and(|p| from.eq_ignore_ascii_case(&p)))
}

async fn push_page(
    state: Arc<AppState>,
    principal: Principal,
    headers: HeaderMap,
    chosen: Chosen,
    body: Bytes,
) -> Response {
    let href = match &chosen {
        Chosen::Builtin(name) => builtin_href(name),
        Chosen::Registered(registration) => registration.href(),
    };
    let Some(push) = state.create_push() else {
        return PortalError::BadRequest(
            "This server has no push target (pave serve --create-push-url): download the repository instead."
                .to_owned(),
        )
        .into_response();
    };
    if cross_site(&headers, state.public_site().url.as_ref()) {
        let reason = "a push sent from another site's page";
        let event = principal.event(
            "auth.denied",
            &href,
            Outcome::Denied,
            json!({"permission": Permission::TemplatePush.name(), "reason": reason}),
        );
        if let Err(e) = state.platform.store().append_audit(&[event]).await {
            tracing::error!(error = %e, "cannot append the push refusal's audit record");
        }
        return PortalError::Forbidden(format!("Refused: {reason}.")).into_response();
    }
    if body.len() > MAX_QUERY_BYTES {
        return too_long().into_response();
    }
    if let Err(e) = crate::auth::check(
        &state,
        &principal,
        Permission::TemplatePush,
        &Resource::None,
        &href,
    )
    .await
    {
        let message = match e {
            crate::ApiError::Forbidden(m) | crate::ApiError::Unauthenticated(m) => m,
            other => return other.into_response(),
        };
        return PortalError::Forbidden(message).into_response();
    }
    let opened = match open(&state, &chosen).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let Ok(loaded) = opened.loaded.clone() else {
        return broken_form(opened, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let submitted: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .into_owned()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "go" | "push"))
        .collect();
    let job = move || evaluate(&loaded, &submitted, true);
    let mut evaluated = match state.heavy().run(job).await {
        Ok(evaluated) => evaluated,
        Err(busy) => return PortalError::from(busy).into_response(),
    };
    let offer = Some(PushOffer {
        allowed: true,
        target: push.shown_target("{name}"),
    });
    let Some(files) = evaluated.files.take() else {
        return form_response(opened, evaluated, offer, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let Some(name) = evaluated.name.clone() else {
        evaluated.errors.push(
            "Pushing needs a `name` answer: the new repository's name in the push URL.".to_owned(),
        );
        return form_response(opened, evaluated, offer, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if let Err(e) = push::check_name(&name) {
        set_error(&mut evaluated, "name", e);
        return form_response(opened, evaluated, offer, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let Some(slot) = push.try_slot() else {
        return PortalError::Busy {
            message: format!(
                "{} pushes are running already; try again in a moment",
                push::MAX_PUSHES
            ),
            retry_after: 5,
        }
        .into_response();
    };
    let (author, asked_by) = requester(&state, &principal, &push);
    let manifest = &opened.card;
    let message = format!(
        "Create {name} from the {} golden path ({})\n\nMade on pave's Create page for {asked_by}.\n",
        manifest.name, manifest.version
    );
    let file_count = files.len();
    let config = Arc::clone(&push);
    let request_name = name.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        push::push(
            &config,
            &push::PushRequest {
                files: &files,
                name: &request_name,
                author: author.clone(),
                message,
            },
        )
        .map(|pushed| (pushed, author))
    })
    .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return PortalError::internal("the push task failed", e).into_response(),
    };
    let branch = push::branch_for(&name);
    let target = push.shown_target(&name);
    let mut details = json!({
        "template": opened.card.name,
        "version": opened.card.version,
        "source": opened.source_label,
        "name": name,
        "branch": branch,
        "url": target,
        "files": file_count,
    });
    let (status, stage, commit, error, author) = match &outcome {
        Ok((pushed, author)) => {
            details["commit"] = json!(pushed.commit);
            (
                StatusCode::OK,
                "pushed",
                Some(pushed.commit.clone()),
                None,
                author.shown(),
            )
        }
        Err(e) => {
            details["error"] = json!(e.message());
            let status = match e {
                push::PushError::Name(_) => StatusCode::UNPROCESSABLE_ENTITY,
                push::PushError::Rejected(_) => StatusCode::CONFLICT,
                push::PushError::Setup(_) => StatusCode::INTERNAL_SERVER_ERROR,
                push::PushError::TimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
                push::PushError::Failed(_) => StatusCode::BAD_GATEWAY,
            };
            (status, "failed", None, Some(e.message()), String::new())
        }
    };
    let record_outcome = if outcome.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let event = principal.event(
        "template.push",
        &format!("{target}#{branch}"),
        record_outcome,
        details,
    );
    if let Err(e) = state.platform.store().append_audit(&[event]).await {
        tracing::error!(error = %e, "cannot append the push's audit record");
    }
    let page = CreatePushPage {
        layout: Layout::new(
            format!("Create: {} · push", opened.card.title),
            Section::Create,
        ),
        stage,
        name,
        branch,
        target,
        author,
        hidden: evaluated.hidden(),
        sets: evaluated.sets.clone(),
        files: file_count,
        commit,
        error,
        back_href: back_href(&opened.card.href, &evaluated),
        command: opened.command(&evaluated),
        card: opened.card,
    };
    match super::render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_from_other_sites_are_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, axum::http::HeaderValue::from_static(value));
            }
            map
        };
        let public = url::Url::parse("https://pave.example.com").ok();
        let cases: &[(&[(&'static str, &'static str)], bool)] = &[
            (&[], false),
            (&[("sec-fetch-site", "same-origin")], false),
            (&[("sec-fetch-site", "none")], false),
            (&[("sec-fetch-site", "same-site")], true),
            (&[("sec-fetch-site", "cross-site")], true),
            // Sec-Fetch-Site decides when present.
            (
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://a:1"),
                    ("host", "a:1"),
                ],
                true,
            ),
            (
                &[
                    ("origin", "http://127.0.0.1:7007"),
                    ("host", "127.0.0.1:7007"),
                ],
                false,
            ),
            (
                &[
                    ("origin", "http://LOCALHOST:7007"),
                    ("host", "localhost:7007"),
                ],
                false,
            ),
            (
                &[
                    ("origin", "http://127.0.0.1:7008"),
                    ("host", "127.0.0.1:7007"),
                ],
                true,
            ),
            (
                &[
                    ("origin", "https://evil.example"),
                    ("host", "127.0.0.1:7007"),
                ],
                true,
            ),
            (&[("origin", "null"), ("host", "127.0.0.1:7007")], true),
            // Behind a proxy that rewrites Host: the public URL's origin is ours.
            (
                &[
                    ("origin", "https://pave.example.com"),
                    ("host", "pave.internal:7007"),
                ],
                false,
            ),
            (
                &[
                    ("origin", "https://pave.example.com:8443"),
                    ("host", "pave.internal"),
                ],
                true,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                cross_site(&headers(pairs), public.as_ref()),
                *want,
                "{pairs:?}"
            );
        }
    }
}
