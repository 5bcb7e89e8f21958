//! The pure pieces of the OpenID Connect authorization-code flow with PKCE: the discovery
//! document, PKCE, `state` and `nonce`, the authorization and logout URLs, the token request
//! and response, the sign-in resolvers and the post-login return path check. The server does
//! the HTTP; these do the deciding.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;
use url::Url;

use crate::config::{OidcConfig, Resolver, Unmatched};
use crate::jwt::Claims;
use crate::policy::is_loopback;
use crate::subject::{Directory, transitive_groups, with_ancestors};

/// Why an OIDC step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("discovery document: {0}")]
    Discovery(String),
    #[error("discovery document is for issuer \"{got}\", expected \"{expected}\"")]
    IssuerMismatch { expected: String, got: String },
    #[error("token response: {0}")]
    TokenResponse(String),
    #[error("the provider refused the code: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    TokenEndpoint {
        error: String,
        description: Option<String>,
    },
    #[error("the system random generator failed")]
    Random,
}

/// `/.well-known/openid-configuration`, the parts pave uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<Url>,
}

impl Discovery {
    /// Parses the document and checks that it is for `expected_issuer`, exactly (OIDC
    /// Discovery §4.3: a document naming another issuer is a mix-up, not a typo).
    pub fn parse(json: &str, expected_issuer: &str) -> Result<Discovery, OidcError> {
        let bad = |m: String| OidcError::Discovery(m);
        let doc: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let text = |name: &str| doc.get(name).and_then(Value::as_str);
        let issuer = text("issuer").ok_or_else(|| bad("no issuer".into()))?;
        if issuer != expected_issuer {
            return Err(OidcError::IssuerMismatch {
                expected: expected_issuer.to_owned(),
                got: issuer.to_owned(),
            });
        }
        let endpoint = |name: &str| -> Result<Option<Url>, OidcError> {
            let Some(value) = text(name) else {
                return Ok(None);
            };
            let url = Url::parse(value).map_err(|e| bad(format!("{name} \"{value}\": {e}")))?;
            if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) {
                Ok(Some(url))
            } else {
                Err(bad(format!("{name} \"{value}\" is not https")))
            }
        };
        let required = |name: &str| endpoint(name)?.ok_or_else(|| bad(format!("no {name}")));
        let methods = doc
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array);
        if methods.is_some_and(|m| !m.iter().any(|v| v == "S256")) {
            return Err(bad("the provider does not support PKCE with S256".into()));
        }
        Ok(Discovery {
            issuer: issuer.to_owned(),
            authorization_endpoint: required("authorization_endpoint")?,
            token_endpoint: required("token_endpoint")?,
            jwks_uri: required("jwks_uri")?,
            end_session_endpoint: endpoint("end_session_endpoint")?,
        })
    }
}

/// `n` random bytes as base64url.
fn random_b64(n: usize) -> Result<String, OidcError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| OidcError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh `state` (256 bits), tying the callback to the browser that started the login.
pub fn random_state() -> Result<String, OidcError> {
    random_b64(32)
}

/// A fresh `nonce` (256 bits), tying the ID token to this login.
pub fn random_nonce() -> Result<String, OidcError> {
    random_b64(32)
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// 43 characters (256 bits); stays on the server until the token request.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`, sent with the authorization request.
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Result<Pkce, OidcError> {
        Ok(Pkce::from_verifier(&random_b64(32)?))
    }

    pub fn from_verifier(verifier: &str) -> Pkce {
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        Pkce {
            verifier: verifier.to_owned(),
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        }
    }
}

/// Where to send the browser to sign in (query parameters percent-encoded; parameters the
/// endpoint already has are kept).
pub fn authorization_url(
    discovery: &Discovery,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    nonce: &str,
    pkce: &Pkce,
) -> String {
    let mut url = discovery.authorization_endpoint.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url.into()
}

/// The form of the token request (`client_secret_post` when a secret is given).
pub fn token_request_form(
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    client_id: &str,
    client_secret: Option<&str>,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret));
    }
    form.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What the token endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub id_token: String,
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
}

impl TokenResponse {
    /// Parses a success response, or turns an OAuth error response into its message.
    pub fn parse(json: &str) -> Result<TokenResponse, OidcError> {
        let bad = |m: &str| OidcError::TokenResponse(m.to_owned());
        let doc: Value =
            serde_json::from_str(json).map_err(|e| OidcError::TokenResponse(e.to_string()))?;
        let text = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
        if let Some(error) = text("error") {
            let description = text("error_description");
            return Err(OidcError::TokenEndpoint { error, description });
        }
        let token_type = text("token_type").ok_or_else(|| bad("no token_type"))?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(bad("token_type is not Bearer"));
        }
        Ok(TokenResponse {
            id_token: text("id_token")
                .ok_or_else(|| bad("no id_token (is the openid scope requested?)"))?,
            access_token: text("access_token").ok_or_else(|| bad("no access_token"))?,
            token_type,
            expires_in: doc.get("expires_in").and_then(Value::as_u64),
            refresh_token: text("refresh_token"),
        })
    }
}

/// RP-initiated logout, when the provider has an `end_session_endpoint`.
pub fn logout_url(
    discovery: &Discovery,
    id_token_hint: Option<&str>,
    client_id: &str,
    post_logout_redirect: Option<&str>,
) -> Option<String> {
    let mut url = discovery.end_session_endpoint.clone()?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("client_id", client_id);
        if let Some(hint) = id_token_hint {
            query.append_pair("id_token_hint", hint);
        }
        if let Some(redirect) = post_logout_redirect {
            query.append_pair("post_logout_redirect_uri", redirect);
        }
    }
    Some(url.into())
}

/// The outcome of mapping an ID token to a catalog identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// A catalog User with their groups (catalog memberships, transitively, plus the groups
    /// claim when configured).
    User {
        user_ref: String,
        groups: BTreeSet<String>,
    },
    /// No User matched and `unmatched: guest`.
    Guest {
        display_name: String,
    },
    Refused(String),
}

/// Backstage's sign-in resolvers over verified ID-token claims.
pub fn resolve_sign_in(config: &OidcConfig, claims: &Claims, dir: &dyn Directory) -> SignIn {
    let found = match config.resolver {
        Resolver::Email => by_email(claims, dir),
        Resolver::Username => by_username(claims, dir),
    };
    let user_ref = match found {
        Ok(user_ref) => user_ref,
        // A missing or unverified claim is refused even for guests: it is not an identity.
        Err(Unusable(reason)) => return SignIn::Refused(reason),
        Err(NoUser(reason)) => {
            return match config.unmatched {
                Unmatched::Refuse => SignIn::Refused(reason),
                Unmatched::Guest => SignIn::Guest {
                    display_name: display_name(claims),
                },
            };
        }
    };
    let mut groups = transitive_groups(dir, &user_ref);
    if let Some(claim) = &config.groups_claim {
        let named: Vec<String> = match claims.0.get(claim) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        // Names that are not group refs are ignored rather than failing the sign-in.
        let refs = named
            .iter()
            .filter_map(|g| crate::policy::normalize_ref(g, "group").ok());
        groups.extend(with_ancestors(dir, refs.collect()));
    }
    SignIn::User { user_ref, groups }
}

enum Miss {
    Unusable(String),
    NoUser(String),
}
use Miss::{NoUser, Unusable};

fn by_email(claims: &Claims, dir: &dyn Directory) -> Result<String, Miss> {
    let email = claims.str("email").ok_or_else(|| {
        Unusable("the ID token has no email claim (is the email scope requested?)".into())
    })?;
    // Someone able to set an arbitrary unverified address must not become its owner.
    if claims.0.get("email_verified") == Some(&Value::Bool(false)) {
        return Err(Unusable(format!(
            "the provider has not verified the email address {email}"
        )));
    }
    dir.user_by_email(email)
        .map(|u| u.to_lowercase())
        .ok_or_else(|| {
            NoUser(format!(
                "no catalog User has the email {email} (spec.profile.email)"
            ))
        })
}

fn by_username(claims: &Claims, dir: &dyn Directory) -> Result<String, Miss> {
    let name = claims
        .str("preferred_username")
        .ok_or_else(|| Unusable("the ID token has no preferred_username claim".into()))?;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let user_ref = format!("user:default/{}", name.to_lowercase());
    if valid && dir.user_exists(&user_ref) {
        Ok(user_ref)
    } else {
        Err(NoUser(format!(
            "no catalog User is named \"{name}\" (metadata.name in namespace default)"
        )))
    }
}

fn display_name(claims: &Claims) -> String {
    ["name", "email", "preferred_username", "sub"]
        .iter()
        .find_map(|c| claims.str(c))
        .unwrap_or("guest")
        .to_owned()
}

/// The post-login return path, if it is safe to redirect to: a same-origin relative path
/// only (`/catalog?x=1`), never `//host`, `/\host`, a scheme, or anything with control
/// characters or backslashes (browsers drop tabs and newlines and read `\` as `/`).
pub fn safe_return_path(path: &str) -> Option<&str> {
    let bytes = path.as_bytes();
    let safe = bytes.first() == Some(&b'/')
        && bytes.get(1).is_none_or(|b| *b != b'/' && *b != b'\\')
        && path.len() <= 2048
        && !path
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    safe.then_some(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::subject::tests::directory;
    use serde_json::json;

    const ISSUER: &str = "https://id.example.com";

    fn discovery_json(extra: Value) -> String {
        let mut doc = json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://id.example.com/auth?tenant=a",
            "token_endpoint": "https://id.example.com/token",
            "jwks_uri": "https://id.example.com/jwks",
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc.to_string()
    }

    #[test]
    #[rustfmt::skip]
    fn discovery_checks_issuer_and_endpoints() {
        let d = Discovery::parse(&discovery_json(json!({})), ISSUER).unwrap();
        assert_eq!(d.jwks_uri.as_str(), "https://id.example.com/jwks");
        assert!(d.end_session_endpoint.is_none());
        let cases = [
            (json!({"issuer": "https://id.example.com/"}), "is for issuer \"https://id.example.com/\", expected"),
            (json!({"issuer": "https://evil.example"}), "is for issuer \"https://evil.example\""),
            (json!({"token_endpoint": null}), "no token_endpoint"),
            (json!({"jwks_uri": "http://id.example.com/jwks"}), "jwks_uri \"http://id.example.com/jwks\" is not https"),
            (json!({"authorization_endpoint": "not a url"}), "authorization_endpoint \"not a url\""),
            (json!({"code_challenge_methods_supported": ["plain"]}), "does not support PKCE with S256"),
        ];
        for (extra, want) in cases {
            let err = Discovery::parse(&discovery_json(extra.clone()), ISSUER).unwrap_err().to_string();
            assert!(err.contains(want), "{extra}: {err}");
        }
        assert!(Discovery::parse("[]", ISSUER).is_err());
    }

    #[test]
    fn pkce_matches_rfc_7636_and_is_random() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let (a, b) = (Pkce::generate().unwrap(), Pkce::generate().unwrap());
        assert_eq!(a.verifier.len(), 43);
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(random_state().unwrap(), random_state().unwrap());
        assert_eq!(random_nonce().unwrap().len(), 43);
    }

    #[test]
    #[rustfmt::skip]
    fn authorization_and_logout_urls_are_encoded() {
        let extra = json!({"end_session_endpoint": "https://id.example.com/logout"});
        let d = Discovery::parse(&discovery_json(extra), ISSUER).unwrap();
        let pkce = Pkce::from_verifier("v");
        let scopes = ["openid".to_owned(), "email".to_owned()];
        let url = authorization_url(&d, "pave app", "https://pave.example/cb?a=1&b", &scopes, "s&t", "n=1", &pkce);
        let parsed = Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("tenant"), Some("a"));
        assert_eq!(get("client_id"), Some("pave app"));
        assert_eq!(get("redirect_uri"), Some("https://pave.example/cb?a=1&b"));
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!((get("state"), get("nonce")), (Some("s&t"), Some("n=1")));
        assert_eq!(get("code_challenge"), Some(pkce.challenge.as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert!(url.contains("state=s%26t") && !url.contains("cb?a=1&b&"), "{url}");
        let logout = logout_url(&d, Some("idt"), "pave", Some("https://pave.example/")).unwrap();
        assert_eq!(logout, "https://id.example.com/logout?client_id=pave&id_token_hint=idt&post_logout_redirect_uri=https%3A%2F%2Fpave.example%2F");
        let without = Discovery::parse(&discovery_json(json!({})), ISSUER).unwrap();
        assert_eq!(logout_url(&without, None, "pave", None), None);
    }

    #[test]
    #[rustfmt::skip]
    fn token_request_and_response() {
        let form = token_request_form("c", "v", "https://r", "id", Some("s"));
        let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["grant_type", "code", "redirect_uri", "client_id", "code_verifier", "client_secret"]);
        assert_eq!(token_request_form("c", "v", "r", "id", None).len(), 5);
        let ok = TokenResponse::parse(r#"{"id_token":"i","access_token":"a","token_type":"bearer","expires_in":60}"#).unwrap();
        assert_eq!((ok.id_token.as_str(), ok.expires_in), ("i", Some(60)));
        let cases = [
            (r#"{"error":"invalid_grant","error_description":"code expired"}"#, "the provider refused the code: invalid_grant (code expired)"),
            (r#"{"access_token":"a","token_type":"Bearer"}"#, "no id_token"),
            (r#"{"id_token":"i","access_token":"a","token_type":"mac"}"#, "not Bearer"),
            ("<html>", "token response:"),
        ];
        for (json, want) in cases {
            assert!(TokenResponse::parse(json).unwrap_err().to_string().contains(want), "{json}");
        }
    }

    fn oidc(resolver: Resolver, unmatched: Unmatched, groups_claim: Option<&str>) -> OidcConfig {
        OidcConfig {
            issuer: ISSUER.into(),
            client_id: "pave".into(),
            client_secret_env: None,
            scopes: vec!["openid".into()],
            resolver,
            groups_claim: groups_claim.map(str::to_owned),
            unmatched,
            post_logout_redirect: None,
        }
    }

    fn claims(value: Value) -> Claims {
        Claims(value.as_object().unwrap().clone())
    }

    #[test]
    #[rustfmt::skip]
    fn sign_in_resolvers() {
        let dir = directory();
        let email = oidc(Resolver::Email, Unmatched::Refuse, None);
        let jane = resolve_sign_in(&email, &claims(json!({"email": "Jane@Example.com"})), &dir);
        let SignIn::User { user_ref, groups } = jane else { panic!("{jane:?}") };
        assert_eq!(user_ref, "user:default/jane");
        assert!(groups.contains("group:default/org"), "transitive: {groups:?}");

        let refused = |config: &OidcConfig, c: Value, want: &str| match resolve_sign_in(config, &claims(c.clone()), &dir) {
            SignIn::Refused(reason) => assert!(reason.contains(want), "{c}: {reason}"),
            other => panic!("{c}: {other:?}"),
        };
        refused(&email, json!({"email": "x@example.com"}), "no catalog User has the email x@example.com");
        refused(&email, json!({"sub": "1"}), "no email claim");
        refused(&email, json!({"email": "jane@example.com", "email_verified": false}), "not verified");
        let guest = oidc(Resolver::Email, Unmatched::Guest, None);
        // An unverified address is no identity, not even a guest's.
        refused(&guest, json!({"email": "jane@example.com", "email_verified": false}), "not verified");
        let got = resolve_sign_in(&guest, &claims(json!({"email": "x@e.com", "name": "X Y"})), &dir);
        assert_eq!(got, SignIn::Guest { display_name: "X Y".into() });

        let username = oidc(Resolver::Username, Unmatched::Refuse, Some("groups"));
        let got = resolve_sign_in(&username, &claims(json!({"preferred_username": "Bob", "groups": ["team-a", "user:x", "Ops"]})), &dir);
        let SignIn::User { user_ref, groups } = got else { panic!("{got:?}") };
        assert_eq!(user_ref, "user:default/bob");
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        assert_eq!(groups, ["group:default/eng", "group:default/ops", "group:default/org", "group:default/team-a", "group:default/team-b"]);
        refused(&username, json!({"preferred_username": "../admin"}), "no catalog User is named \"../admin\"");
        refused(&username, json!({"preferred_username": "nobody"}), "no catalog User is named");
        refused(&username, json!({"email": "jane@example.com"}), "no preferred_username claim");
    }

    #[test]
    fn only_same_origin_relative_return_paths_are_honoured() {
        let cases = [
            ("/", true),
            ("/catalog", true),
            ("/catalog/component/default/x?tab=deps#top", true),
            ("/a//b", true),
            ("/%2F%2Fevil.example", true),
            ("//evil.example", false),
            ("/\\evil.example", false),
            ("/a\\b", false),
            ("\\\\evil.example", false),
            ("http://evil.example", false),
            ("https:evil.example", false),
            ("javascript:alert(1)", false),
            ("evil.example", false),
            ("", false),
            ("/\t/evil.example", false),
            ("/\n/evil.example", false),
            (" /catalog", false),
            ("/a b", false),
        ];
        for (path, safe) in cases {
            assert_eq!(safe_return_path(path).is_some(), safe, "{path:?}");
        }
        assert!(safe_return_path(&format!("/{}", "a".repeat(3000))).is_none());
    }
}
