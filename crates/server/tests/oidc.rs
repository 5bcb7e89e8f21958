//! Sign-in against a real OpenID provider (node-oidc-provider, `tests/oidc-provider/`,
//! installed by `.ci/run` with `npm ci`), at the HTTP level: a cookie-keeping client walks
//! the provider's own login and consent pages, then pave's callback; sessions, CSRF, roles,
//! sign-out; and the attacks: replayed and unknown `state`, a callback from another browser,
//! an open redirect through `return`; the account pages and `GET /api/audit`; and a full
//! login in headless Chromium (`pave_testkit::browser`). Without node, the installed package
//! or Chromium the tests skip (fail under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pave_ingest::IngestConfig;
use pave_server::AppState;
use pave_store::AuditQuery;
use serde_json::json;
use url::Url;

const CATALOG: &str = r"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec:
  profile: {displayName: Jane Doe, email: jane@example.com}
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ada}
spec:
  profile: {displayName: Ada Admin, email: ada@example.com}
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout}
spec: {type: service, lifecycle: production, owner: team-a}
";

/// node-oidc-provider on a free loopback port; killed on drop.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// The provider, or `None` (a skip; a failure under CI) without node or its package.
fn provider(pave: SocketAddr) -> Option<Provider> {
    if !pave_testkit::have("node") {
        return None;
    }
    if !fixture().join("node_modules/oidc-provider").exists() {
        pave_testkit::skip(
            "oidc-provider is not installed (npm ci in crates/server/tests/oidc-provider)",
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .arg(format!("http://{pave}/auth/callback"))
        .arg(format!("http://{pave}/auth/sign-in"))
        .current_dir(fixture())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(std::env::temp_dir().join("pave-oidc-provider.log")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // The provider logs on: keep reading, or it dies writing to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let issuer = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("provider: {line}"))
        .to_owned();
    Some(Provider { child, issuer })
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A browser without JavaScript: cookies per host:port (paths ignored), HTTP/1.0.
#[derive(Default)]
struct Agent {
    jar: BTreeMap<String, BTreeMap<String, String>>,
}

impl Agent {
    fn send(
        &mut self,
        method: &str,
        url: &Url,
        extra: &[(&str, &str)],
        form: Option<&str>,
    ) -> Answer {
        let content_type = form.map(|_| "application/x-www-form-urlencoded");
        self.request(method, url, extra, content_type, form.unwrap_or(""))
    }

    fn request(
        &mut self,
        method: &str,
        url: &Url,
        extra: &[(&str, &str)],
        content_type: Option<&str>,
        body: &str,
    ) -> Answer {
        let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        let mut stream = TcpStream::connect(&host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let path = &url[url::Position::BeforePath..];
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            head.push_str("Accept: text/html\r\n");
        }
        let cookies: Vec<String> = self
            .jar
            .get(&host)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        write!(stream, "{head}\r\n{body}").unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let text = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = text.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                let cleared = v.to_ascii_lowercase().contains("max-age=0")
                    || v.to_ascii_lowercase().contains("expires=thu, 01 jan 1970");
                let cookies = self.jar.entry(host.clone()).or_default();
                if cleared || value.is_empty() {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// GETs `url` and follows redirects; the final answer and its URL.
    fn follow(&mut self, url: &Url, stop_at: Option<&str>) -> (Url, Answer) {
        let mut url = url.clone();
        for _ in 0..20 {
            let answer = self.send("GET", &url, &[], None);
            if !(300..400).contains(&answer.status) {
                return (url, answer);
            }
            let next = url.join(answer.header("location").unwrap()).unwrap();
            if stop_at.is_some_and(|p| next.path().starts_with(p) && next.host() == url.host()) {
                return (next, answer);
            }
            url = next;
        }
        panic!("too many redirects");
    }

    fn cookie(&self, addr: SocketAddr, name: &str) -> Option<String> {
        self.jar.get(&addr.to_string())?.get(name).cloned()
    }
}

/// The `action` of the page's (first) form.
fn form_action(html: &str) -> String {
    let at = html.find("action=\"").expect("a form") + 8;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

struct Pave {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    addr: SocketAddr,
}

fn start_pave() -> Pave {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog-info.yaml"), CATALOG).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let root = dir.path().to_path_buf();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let store = pave_store_sqlite::SqliteStore::open(&root.join("pave.db"))
                .await
                .unwrap();
            let ingest = IngestConfig {
                file_roots: vec![
                    pave_ingest::reach::parse_file_root(root.to_str().unwrap()).unwrap(),
                ],
                ..IngestConfig::default()
            };
            let state = AppState::new(Arc::new(store), ingest);
            let source = pave_ingest::Source::Path(root.join("catalog-info.yaml"));
            let locations = state
                .platform
                .register(&pave_platform::Principal::Operator, &[source])
                .await
                .unwrap();
            state.refresh(&locations).await.unwrap();
            let options = pave_server::ServeOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)));
            let served = Arc::clone(&state);
            pave_server::serve(served, options, move |bound| {
                tx.send((state, bound.addr)).unwrap();
            })
            .await
            .unwrap();
        });
    });
    let (state, addr) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    Pave {
        _dir: dir,
        state,
        addr,
    }
}

fn set_auth(state: &AppState, issuer: &str) {
    let config: pave_auth::AuthConfig = serde_json::from_value(json!({
        "oidc": {"issuer": issuer, "clientId": "pave"},
        "bindings": [
            {"role": "viewer", "groups": ["team-a"]},
            {"role": "admin", "users": ["ada"]},
        ],
    }))
    .unwrap();
    state.set_access_policy(Some(Arc::new(config.validate().unwrap())));
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn audit(state: &AppState, action: &str) -> Vec<pave_store::audit::AuditRecord> {
    let query = AuditQuery {
        action: Some(action.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    block(state.platform.store().audit_records(&query)).unwrap()
}

/// Signs `login` in through the provider's pages, starting at `/auth/login?return=…`;
/// returns pave's last answer (the redirect after the callback) and the callback URL.
fn sign_in(agent: &mut Agent, pave: SocketAddr, login: &str, ret: &str) -> (Answer, Url) {
    let start = Url::parse(&format!("http://{pave}/auth/login")).unwrap();
    let start = Url::parse_with_params(start.as_str(), [("return", ret)]).unwrap();
    let (url, page) = agent.follow(&start, Some("/auth/callback"));
    assert_eq!(page.status, 200, "{url}: {}", page.body);
    assert!(
        page.body.contains("name=\"login\""),
        "the provider's login page: {}",
        page.body
    );
    let action = url.join(&form_action(&page.body)).unwrap();
    let form = format!("prompt=login&login={login}&password=any");
    let answer = agent.send("POST", &action, &[], Some(&form));
    assert!((300..400).contains(&answer.status), "{}", answer.body);
    let next = action.join(answer.header("location").unwrap()).unwrap();
    let (url, consent) = agent.follow(&next, Some("/auth/callback"));
    let callback = if url.path() == "/auth/callback" {
        url
    } else {
        assert!(
            consent.body.contains("prompt\" value=\"consent"),
            "{}",
            consent.body
        );
        let action = url.join(&form_action(&consent.body)).unwrap();
        let answer = agent.send("POST", &action, &[], Some("prompt=consent"));
        let next = action.join(answer.header("location").unwrap()).unwrap();
        let (url, _) = agent.follow(&next, Some("/auth/callback"));
        url
    };
    assert_eq!(callback.path(), "/auth/callback", "{callback}");
    assert_eq!(callback.port(), Some(pave.port()));
    let answer = agent.send("GET", &callback, &[], None);
    (answer, callback)
}

#[test]
fn sign_in_session_csrf_and_sign_out_against_a_real_provider() {
    let pave = start_pave();
    let Some(provider) = provider(pave.addr) else {
        return;
    };
    set_auth(&pave.state, &provider.issuer);
    let base = Url::parse(&format!("http://{}/", pave.addr)).unwrap();
    let mut agent = Agent::default();

    // Not signed in: the API says 401, a portal page sends the browser to the sign-in page.
    let api = base.join("/api/catalog/entities").unwrap();
    let answer = agent.send("GET", &api, &[("Accept", "application/json")], None);
    assert_eq!(answer.status, 401, "{}", answer.body);
    let page = agent.send("GET", &base.join("/catalog?kind=User").unwrap(), &[], None);
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("location"),
        Some("/auth/sign-in?return=%2Fcatalog%3Fkind%3DUser")
    );
    let sign_in_page = agent.send(
        "GET",
        &base.join("/auth/sign-in?return=/catalog").unwrap(),
        &[],
        None,
    );
    assert!(
        sign_in_page
            .body
            .contains(&format!("Sign in with {}", provider.issuer)),
        "{}",
        sign_in_page.body
    );

    // The full flow: provider login and consent, the callback, a session cookie.
    let (answer, callback) = sign_in(&mut agent, pave.addr, "jane", "/catalog?kind=Component");
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/catalog?kind=Component"));
    let set = answer.header("set-cookie").unwrap();
    assert!(
        set.starts_with("pave_session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax"),
        "{set}"
    );
    let secret = agent
        .cookie(pave.addr, "pave_session")
        .expect("a session cookie");
    assert_eq!(secret.len(), 43);
    let signed_in = audit(&pave.state, "auth.sign_in");
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].event.target, "user:default/jane");
    assert_eq!(signed_in[0].event.actor.role.as_deref(), Some("viewer"));

    let answer = agent.send("GET", &api, &[("Accept", "application/json")], None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Every portal page says who is signed in and offers sign-out with the CSRF token.
    let page = agent.send(
        "GET",
        &base.join("/catalog?kind=Component").unwrap(),
        &[],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(r#"Signed in as <strong id="signed-in-as">Jane Doe</strong>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("checkout"), "the catalog is readable");

    // The same callback again (even with the browser's sign-in cookie put back): refused.
    let state_param = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let mut replayer = Agent::default();
    replayer
        .jar
        .entry(pave.addr.to_string())
        .or_default()
        .insert("pave_login".into(), state_param);
    let replay = replayer.send("GET", &callback, &[], None);
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(
        replay
            .body
            .contains("unknown or already used sign-in state"),
        "{}",
        replay.body
    );
    assert!(replayer.cookie(pave.addr, "pave_session").is_none());
    let unknown = base.join("/auth/callback?code=x&state=made-up").unwrap();
    let answer = Agent::default().send("GET", &unknown, &[], None);
    assert_eq!(answer.status, 400);
    let failed = audit(&pave.state, "auth.failed");
    assert!(
        failed.iter().any(|r| r.event.details["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("already used")),
        "{failed:?}"
    );

    // CSRF: a cookie-authenticated POST needs the session's token; then the role decides.
    let csrf = block(pave.state.platform.store().session(&sha256_hex(&secret)))
        .unwrap()
        .unwrap()
        .csrf;
    let locations = base.join("/api/catalog/locations").unwrap();
    let body = r#"{"type":"url","target":"https://example.com/catalog-info.yaml"}"#;
    let mut no_csrf = agent.send_json("POST", &locations, &[], body);
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    assert!(no_csrf.body.contains("CSRF"), "{}", no_csrf.body);
    no_csrf = agent.send_json("POST", &locations, &[("X-CSRF-Token", "wrong")], body);
    assert_eq!(no_csrf.status, 403);
    let viewer = agent.send_json("POST", &locations, &[("X-CSRF-Token", csrf.as_str())], body);
    assert_eq!(
        viewer.status, 403,
        "a viewer may not register locations: {}",
        viewer.body
    );
    assert!(
        viewer.body.contains("catalog.location.create denied"),
        "{}",
        viewer.body
    );
    // The same without the cookie but with a bearer token needs no CSRF token (401 here: none).

    // Sign-out: CSRF-checked too; the session ends, the provider's logout follows.
    let logout = base.join("/auth/logout").unwrap();
    let refused = agent.send("POST", &logout, &[], Some("csrf=nope"));
    assert_eq!(refused.status, 403);
    let out = agent.send("POST", &logout, &[], Some(&format!("csrf={csrf}")));
    // A page that goes on to the provider's logout (a form's redirect would be held by the
    // portal's CSP `form-action 'self'`).
    assert_eq!(out.status, 200, "{}", out.body);
    let end_session = format!("{}/session/end", provider.issuer);
    assert!(
        out.body.contains(&format!(
            "http-equiv=\"refresh\" content=\"0; url={end_session}"
        )) && out.body.contains("id=\"provider-sign-out\""),
        "{}",
        out.body
    );
    assert!(
        agent.cookie(pave.addr, "pave_session").is_none(),
        "the cookie is cleared"
    );
    assert_eq!(audit(&pave.state, "auth.sign_out").len(), 1);
    let mut stale = Agent::default();
    stale
        .jar
        .entry(pave.addr.to_string())
        .or_default()
        .insert("pave_session".into(), secret);
    let answer = stale.send("GET", &api, &[("Accept", "application/json")], None);
    assert_eq!(answer.status, 401, "the ended session is no credential");
}

#[test]
fn return_paths_to_other_sites_are_ignored() {
    let pave = start_pave();
    let Some(provider) = provider(pave.addr) else {
        return;
    };
    set_auth(&pave.state, &provider.issuer);
    for evil in ["//evil.example", "https://evil.example/", "/\\evil.example"] {
        let mut agent = Agent::default();
        let (answer, _) = sign_in(&mut agent, pave.addr, "jane", evil);
        assert_eq!(answer.status, 303, "{evil}: {}", answer.body);
        assert_eq!(answer.header("location"), Some("/"), "{evil}");
    }
    // An identity with no catalog User is refused (auth.oidc.unmatched: refuse).
    let mut agent = Agent::default();
    let (answer, _) = sign_in(&mut agent, pave.addr, "mallory", "/");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("no catalog User has the email mallory@example.com"),
        "{}",
        answer.body
    );
    assert!(agent.cookie(pave.addr, "pave_session").is_none());
}

/// A callback in a browser other than the one that started the sign-in is refused, even
/// with a valid code and state (someone sending a victim their own callback link).
#[test]
fn a_callback_from_another_browser_is_refused() {
    let pave = start_pave();
    let Some(provider) = provider(pave.addr) else {
        return;
    };
    set_auth(&pave.state, &provider.issuer);
    let mut attacker = Agent::default();
    let start = Url::parse(&format!("http://{}/auth/login?return=/", pave.addr)).unwrap();
    let (url, page) = attacker.follow(&start, Some("/auth/callback"));
    let action = url.join(&form_action(&page.body)).unwrap();
    let answer = attacker.send(
        "POST",
        &action,
        &[],
        Some("prompt=login&login=jane&password=x"),
    );
    let next = action.join(answer.header("location").unwrap()).unwrap();
    let (url, consent) = attacker.follow(&next, Some("/auth/callback"));
    let action = url.join(&form_action(&consent.body)).unwrap();
    let answer = attacker.send("POST", &action, &[], Some("prompt=consent"));
    let next = action.join(answer.header("location").unwrap()).unwrap();
    let (callback, _) = attacker.follow(&next, Some("/auth/callback"));
    let mut victim = Agent::default();
    let answer = victim.send("GET", &callback, &[], None);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("started in another browser"),
        "{}",
        answer.body
    );
    assert!(victim.cookie(pave.addr, "pave_session").is_none());
}

fn sha256_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Agent {
    fn send_json(&mut self, method: &str, url: &Url, extra: &[(&str, &str)], body: &str) -> Answer {
        self.request(method, url, extra, Some("application/json"), body)
    }
}

/// Signs `login` in and returns the session's CSRF token.
fn signed_in(agent: &mut Agent, pave: &Pave, login: &str) -> String {
    let (answer, _) = sign_in(agent, pave.addr, login, "/catalog");
    assert_eq!(answer.status, 303, "{}", answer.body);
    let secret = agent.cookie(pave.addr, "pave_session").unwrap();
    block(pave.state.platform.store().session(&sha256_hex(&secret)))
        .unwrap()
        .unwrap()
        .csrf
}

/// The value of the element with `id` (an input's `value="…"`).
fn input_value(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).expect(id);
    let rest = &html[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_owned()
}

fn json_of(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body))
}

/// `/me`, `/me/tokens` (create, list, revoke, the crafted admin token) and `/audit` through
/// real sign-ins, and `GET /api/audit`'s filters, paging and permissions.
#[test]
fn account_pages_tokens_and_the_audit_log() {
    let pave = start_pave();
    let Some(provider) = provider(pave.addr) else {
        return;
    };
    set_auth(&pave.state, &provider.issuer);
    let base = Url::parse(&format!("http://{}/", pave.addr)).unwrap();
    let at = |path: &str| base.join(path).unwrap();
    let json = [("Accept", "application/json")];

    // Jane (a viewer through team-a).
    let mut jane = Agent::default();
    let csrf = signed_in(&mut jane, &pave, "jane");
    let me = jane.send("GET", &at("/me"), &[], None);
    assert_eq!(me.status, 200, "{}", me.body);
    for want in [
        r#"<h1 id="me-name">Jane Doe</h1>"#,
        "user:default/jane",
        "auth.bindings[0] binds it to your group group:default/team-a",
        "auth.token.manage",
        "/catalog/default/component/checkout",
        r#"href="/me/tokens""#,
    ] {
        assert!(me.body.contains(want), "{want}: {}", me.body);
    }
    assert!(!me.body.contains("role-row\" data-role=\"admin"));

    // The audit log is not for viewers: the API says 403, the page too (as a page).
    let refused = jane.send("GET", &at("/api/audit"), &json, None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("audit.read denied"),
        "{}",
        refused.body
    );
    let page = jane.send("GET", &at("/audit"), &[], None);
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Not allowed") && page.body.contains("audit.read denied"));

    // Tokens: the form offers only roles Jane may grant.
    let tokens = at("/me/tokens");
    let page = jane.send("GET", &tokens, &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"<option value="viewer">"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"<option value="admin">"#));
    assert!(!page.body.contains(r#"<option value="editor">"#));
    assert!(page.body.contains("You have no API tokens."));
    let form = format!("csrf={csrf}&name=ci-deploy&role=viewer&expires=30d");
    let created = jane.send("POST", &tokens, &[], Some(&form));
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let secret = input_value(&created.body, "token-secret");
    assert!(
        secret.starts_with("pave_") && secret.len() == 47,
        "{secret}"
    );
    assert!(created.body.contains("shown only this once"));
    // Listed, never shown again.
    let page = jane.send("GET", &tokens, &[], None);
    assert!(page.body.contains("ci-deploy") && page.body.contains(r#"data-state="active""#));
    assert!(!page.body.contains(&secret), "the secret is shown once");
    // It works as a bearer token, with the viewer role.
    let bearer = format!("Bearer {secret}");
    let mut machine = Agent::default();
    let entities = at("/api/catalog/entities");
    let answer = machine.send(
        "GET",
        &entities,
        &[json[0], ("Authorization", &bearer)],
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let created_records = audit(&pave.state, "token.create");
    assert_eq!(created_records.len(), 1);
    let token_id = created_records[0].event.target.clone();
    assert_eq!(created_records[0].event.actor.id, "user:default/jane");
    assert_eq!(created_records[0].event.details["role"], "viewer");

    // A crafted post for an admin token: 403 shown, recorded, nothing created.
    let crafted = format!("csrf={csrf}&name=root&role=admin&expires=30d");
    let answer = jane.send("POST", &tokens, &[], Some(&crafted));
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("auth.token.manage denied: role admin grants"),
        "{}",
        answer.body
    );
    let denied = audit(&pave.state, "auth.denied");
    assert!(
        denied
            .iter()
            .any(|r| r.event.details["role"] == "admin" && r.event.actor.id == "user:default/jane"),
        "{denied:?}"
    );
    assert_eq!(audit(&pave.state, "token.create").len(), 1);
    // An expiry beyond auth.tokens.maxExpiry, and a form without its CSRF token.
    let long = format!("csrf={csrf}&name=long&role=viewer&expires=10000d");
    assert_eq!(jane.send("POST", &tokens, &[], Some(&long)).status, 400);
    let no_csrf = jane.send("POST", &tokens, &[], Some("name=x&role=viewer&expires=1d"));
    assert_eq!(no_csrf.status, 403);

    // Revoke: the token stops working, the list says so, the log has it.
    let revoke = at(&format!("/me/tokens/{token_id}/revoke"));
    let answer = jane.send("POST", &revoke, &[], Some(&format!("csrf={csrf}")));
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/me/tokens"));
    let answer = machine.send(
        "GET",
        &entities,
        &[json[0], ("Authorization", &bearer)],
        None,
    );
    assert_eq!(answer.status, 401);
    let page = jane.send("GET", &tokens, &[], None);
    assert!(
        page.body.contains(r#"data-state="revoked""#),
        "{}",
        page.body
    );
    let revoked = audit(&pave.state, "token.revoke");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].event.target, token_id);

    // Ada (admin) reads the log through the API and the page.
    let mut ada = Agent::default();
    signed_in(&mut ada, &pave, "ada");
    let all = json_of(&ada.send("GET", &at("/api/audit"), &json, None));
    let items = all["items"].as_array().unwrap();
    assert!(items.len() >= 6, "{all}");
    let seqs: Vec<i64> = items.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    assert!(all["next"].is_null(), "one page holds them all");
    assert!(
        items[0]["hash"].as_str().unwrap().len() == 64,
        "{}",
        items[0]
    );
    type Keep = fn(&serde_json::Value) -> bool;
    let cases: [(&str, Keep); 3] = [
        ("action=token.*", |r| {
            r["action"].as_str().unwrap().starts_with("token.")
        }),
        ("actor=user:default/jane", |r| {
            r["actor"]["id"] == "user:default/jane"
        }),
        ("outcome=denied", |r| r["outcome"] == "denied"),
    ];
    for (query, keep) in &cases {
        let page = json_of(&ada.send("GET", &at(&format!("/api/audit?{query}")), &json, None));
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{query}");
        assert!(items.iter().all(keep), "{query}: {page}");
    }
    let filtered = json_of(&ada.send(
        "GET",
        &at(&format!("/api/audit?target={token_id}")),
        &json,
        None,
    ));
    assert_eq!(
        filtered["items"].as_array().unwrap().len(),
        2,
        "create and revoke"
    );
    let later = json_of(&ada.send(
        "GET",
        &at("/api/audit?since=2999-01-01T00:00:00Z"),
        &json,
        None,
    ));
    assert_eq!(later["items"], serde_json::json!([]));
    // Paging by seq: limit=2, then `before` = next, until next is null.
    let mut seen = Vec::new();
    let mut next: Option<i64> = None;
    loop {
        let path = match next {
            Some(seq) => format!("/api/audit?limit=2&before={seq}"),
            None => "/api/audit?limit=2".to_owned(),
        };
        let page = json_of(&ada.send("GET", &at(&path), &json, None));
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_i64().unwrap()),
        );
        match page["next"].as_i64() {
            Some(seq) => next = Some(seq),
            None => break,
        }
    }
    let total = json_of(&ada.send("GET", &at("/api/audit"), &json, None))["items"]
        .as_array()
        .unwrap()
        .len();
    assert!(seen.len() >= seqs.len() && seen.len() <= total, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
    for (query, name) in [
        ("since=yesterday", "since"),
        ("until=13", ""),
        ("limit=5000", "limit"),
        ("outcome=maybe", "outcome"),
        ("colour=red", "colour"),
    ] {
        let answer = ada.send("GET", &at(&format!("/api/audit?{query}")), &json, None);
        if name.is_empty() {
            assert_eq!(answer.status, 200, "{query}: ms are accepted");
            continue;
        }
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert!(
            answer.body.contains(&format!("bad parameter `{name}`")),
            "{}",
            answer.body
        );
    }
    // The page: filters, the table, the older link.
    let page = ada.send("GET", &at("/audit?action=token.*&limit=1"), &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("token.revoke") && !page.body.contains("<code>token.create</code>"));
    assert!(page.body.contains(r#"value="token.*""#));
    let older = page.body.find("id=\"audit-older\"").map(|_| ());
    assert!(older.is_some(), "{}", page.body);
    let at_older = page.body.find("rel=\"next\"").unwrap();
    let href_start = page.body[..at_older].rfind("href=\"").unwrap() + 6;
    let href = page.body[href_start..at_older]
        .trim_end_matches("\" ")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let older = ada.send("GET", &at(&href), &[], None);
    assert_eq!(older.status, 200, "{href}");
    assert!(
        older.body.contains("<code>token.create</code>"),
        "{href}: {}",
        older.body
    );
    let bad = ada.send("GET", &at("/audit?since=someday"), &[], None);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("bad parameter `since`"));
}

/// Headless Chromium signs in through the provider's own login and consent pages, lands on
/// the portal signed in as Jane, is refused an admin token (403 shown), creates a token on
/// `/me/tokens` and signs out. Screenshots: `oidc-*.png` in the artifacts folder.
#[test]
fn browser_login_through_the_provider_to_the_portal() {
    use pave_testkit::browser::{Browser, Cdp, VIEWPORT, artifacts_dir, find_chromium};
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip(
            "no chromium binary (/usr/bin/chromium, chromium, chromium-browser): install `chromium` or set CHROMIUM=/path/to/binary",
        );
        return;
    };
    let pave = start_pave();
    let Some(provider) = provider(pave.addr) else {
        return;
    };
    set_auth(&pave.state, &provider.issuer);
    let base = format!("http://{}", pave.addr);
    let shots = artifacts_dir();
    let browser = Browser::launch(&chromium);
    let mut cdp = Cdp::connect(&browser.ws_url);
    cdp.call("Page.enable", json!({}));
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );
    let path_is = |path: &str| {
        format!(
            "location.host === {} && location.pathname === {} && document.readyState === 'complete'",
            json!(pave.addr.to_string()),
            json!(path)
        )
    };

    // A portal page sends the browser to sign in; the button leads to the provider.
    cdp.navigate(&format!("{base}/me"));
    cdp.wait_for(
        "pave's sign-in page",
        &(path_is("/auth/sign-in") + " && document.getElementById('sign-in')"),
    );
    cdp.screenshot(&shots.join("oidc-sign-in.png"), false);
    cdp.eval("document.getElementById('sign-in').click()");
    cdp.wait_for(
        "the provider's login page",
        "document.readyState === 'complete' && document.querySelector('input[name=login]')",
    );
    assert_eq!(
        cdp.eval("location.origin"),
        json!(provider.issuer),
        "the login page is the provider's own"
    );
    cdp.eval(
        "(() => { document.querySelector('input[name=login]').value = 'jane'; \
         document.querySelector('input[name=password]').value = 'any'; \
         document.querySelector('button[type=submit]').click(); })()",
    );
    cdp.wait_for(
        "the provider's consent page",
        "document.readyState === 'complete' && document.querySelector('input[name=prompt][value=consent]')",
    );
    cdp.screenshot(&shots.join("oidc-consent.png"), false);
    cdp.eval("document.querySelector('button[type=submit]').click()");

    // Back at the portal, on the page asked for, signed in as Jane.
    cdp.wait_for(
        "the account page",
        &(path_is("/me") + " && document.getElementById('signed-in-as')"),
    );
    assert_eq!(
        cdp.eval("document.getElementById('signed-in-as').textContent"),
        json!("Jane Doe")
    );
    assert_eq!(
        cdp.eval("document.getElementById('me-identity').textContent"),
        json!("user:default/jane")
    );
    assert_eq!(
        cdp.eval("[...document.querySelectorAll('.role-row')].map(r => r.dataset.role).join()"),
        json!("viewer")
    );
    cdp.screenshot(&shots.join("oidc-me.png"), true);

    // At a phone's width the signed-in menu wraps below the links: the page does not scroll
    // sideways and every link and button of the header is on screen, not covered.
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": true}),
    );
    for page in ["/me", "/me/tokens"] {
        cdp.navigate(&format!("{base}{page}"));
        cdp.wait_for(
            page,
            &(path_is(page) + " && document.getElementById('signed-in-as')"),
        );
        let fits = cdp.eval(
            "(() => { const shown = e => { const r = e.getBoundingClientRect(); \
               if (r.width < 1 || r.left < 0 || r.right > 375) return false; \
               const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
               return !!hit && (e === hit || e.contains(hit)); }; \
             return { page: document.documentElement.scrollWidth <= 375 && window.innerWidth === 375, \
               hidden: [...document.querySelectorAll('.topbar a, .topbar button, .topbar input:not([type=hidden])')] \
                 .filter(e => !shown(e)).map(e => e.id || e.textContent.trim()) }; })()",
        );
        assert_eq!(
            fits,
            json!({"page": true, "hidden": []}),
            "{page} signed in at 375px"
        );
    }
    cdp.screenshot(&shots.join("oidc-me-phone.png"), false);
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );
    cdp.navigate(&format!("{base}/me"));
    cdp.wait_for(
        "the account page",
        &(path_is("/me") + " && document.getElementById('signed-in-as')"),
    );

    // A forbidden action: an admin token through a doctored form is refused (403 page).
    cdp.eval("document.getElementById('menu-tokens').click()");
    cdp.wait_for(
        "the tokens page",
        &(path_is("/me/tokens") + " && document.getElementById('token-role')"),
    );
    let offered =
        cdp.eval("[...document.getElementById('token-role').options].map(o => o.value).join()");
    assert!(!offered.as_str().unwrap().contains("admin"), "{offered}");
    cdp.eval(
        "(() => { const s = document.getElementById('token-role'); s.add(new Option('admin', 'admin')); \
         s.value = 'admin'; document.getElementById('token-name').value = 'root'; \
         document.getElementById('create-token').click(); })()",
    );
    cdp.wait_for(
        "the refusal",
        "document.readyState === 'complete' && document.querySelector('.error-status')",
    );
    assert_eq!(
        cdp.eval("document.querySelector('.error-status').textContent.trim()"),
        json!("Error 403")
    );
    let message = cdp.eval("document.querySelector('.error-message').textContent");
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("auth.token.manage denied"),
        "{message}"
    );
    cdp.screenshot(&shots.join("oidc-admin-token-refused.png"), false);

    // A token Jane may have: created, its secret shown once.
    cdp.navigate(&format!("{base}/me/tokens"));
    cdp.wait_for(
        "the tokens page",
        &(path_is("/me/tokens") + " && document.getElementById('token-name')"),
    );
    cdp.eval(
        "(() => { document.getElementById('token-name').value = 'browser-ci'; \
         document.getElementById('token-role').value = 'viewer'; \
         document.getElementById('create-token').click(); })()",
    );
    cdp.wait_for(
        "the new token's secret",
        "document.readyState === 'complete' && document.getElementById('token-secret')",
    );
    let secret = cdp.eval("document.getElementById('token-secret').value");
    let secret = secret.as_str().unwrap().to_owned();
    assert!(secret.starts_with("pave_"), "{secret}");
    cdp.screenshot(&shots.join("oidc-token-created.png"), true);
    cdp.navigate(&format!("{base}/me/tokens"));
    cdp.wait_for(
        "the token list",
        &(path_is("/me/tokens") + " && document.querySelector('.token-row')"),
    );
    assert_eq!(
        cdp.eval("document.querySelector('.token-row .col-name').textContent"),
        json!("browser-ci")
    );
    assert_eq!(
        cdp.eval(&format!(
            "document.body.innerHTML.includes({})",
            json!(secret)
        )),
        json!(false),
        "the secret is not shown again"
    );

    // Sign out: the session ends and the browser goes on to the provider's own logout page.
    cdp.eval("document.getElementById('sign-out').click()");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while audit(&pave.state, "auth.sign_out").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    cdp.wait_for(
        "the provider's logout page",
        "location.pathname.startsWith('/session/end')",
    );
    cdp.screenshot(&shots.join("oidc-signed-out.png"), false);
    assert_eq!(audit(&pave.state, "auth.sign_out").len(), 1);
    cdp.navigate(&format!("{base}/me"));
    cdp.wait_for("the sign-in page again", &path_is("/auth/sign-in"));
    assert_eq!(
        cdp.eval("document.getElementById('signed-in-as') === null"),
        json!(true)
    );
    let created = audit(&pave.state, "token.create");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].event.details["name"], "browser-ci");
    cdp.close();
    drop(browser);
}
