//! The home page through the full router on the demo organisation: the overview everyone
//! sees, and the part a signed-in user (here a token owned by a demo user) sees first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use pave_server::AppState;

/// The home page is an overview of the platform, not a table: counts by kind linking to the
/// catalog, systems, and the entities with docs.
#[tokio::test]
async fn the_home_page_is_an_overview() {
    let demo = demo().await;
    let home = get(&demo.state, "/", false).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_layout(&home.body);
    let html = &home.body;
    assert!(!html.contains("<table"), "a table on the home page");
    let components = demo.state.catalog().count("kind", "component");
    assert!(
        html.contains(&format!(
            r#"<a href="/catalog?kind=Component"><strong>{components}</strong> <span>Component</span></a>"#
        )),
        "{html}"
    );
    let kinds = html.find("<span>Component</span>").unwrap();
    assert!(
        kinds < html.find("<span>API</span>").unwrap(),
        "components first"
    );
    assert!(
        html.contains(r#"<a href="/catalog/default/system/checkout">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="/catalog/default/component/cart-service/docs">"#),
        "{html}"
    );
    // What changed last: an edited entity comes first once its location is read again.
    let recent = |html: &str| -> String {
        let at = html.find(r#"id="recent""#).unwrap();
        html[at..at + html[at..].find("</section>").unwrap()].to_owned()
    };
    let before = recent(html);
    assert_eq!(before.matches("<li>").count(), 8, "{before}");
    assert!(!before.contains("/catalog/default/location/"), "{before}");
    let systems = demo.dir.path().join("demo/systems");
    let mut edited = false;
    for file in std::fs::read_dir(&systems).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("Keeps customers' baskets") {
            std::fs::write(
                &path,
                text.replace("Keeps customers' baskets", "Keeps every customer's basket"),
            )
            .unwrap();
            edited = true;
        }
    }
    assert!(edited);
    let locations = demo.state.platform.store().locations().await.unwrap();
    demo.state.refresh(&locations).await.unwrap();
    let after = recent(&get(&demo.state, "/", false).await.body);
    let first = after.find("<li>").unwrap();
    assert!(
        after[first..].starts_with(r#"<li><a href="/catalog/default/component/cart-service">"#),
        "{after}"
    );

    // The golden paths to start from, each to its form.
    assert!(html.contains(r#"<a href="/create/api-service">"#), "{html}");
    assert!(!html.contains(r#"id="yours""#), "nobody is signed in");

    // Signed in (here through a token owned by a demo user), the page starts with the
    // user's teams and what they own, child teams' included.
    demo.state.set_access_policy(Some(Arc::new(
        pave_auth::AuthConfig::default().validate().unwrap(),
    )));
    let user = "user:default/maya.okafor";
    let secret = owned_token(&demo.state, user).await;
    let mine = get_with(
        &demo.state,
        "/",
        &[("authorization", &format!("Bearer {secret}"))],
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let html = &mine.body;
    assert!(html.contains(r#"id="yours""#), "{html}");
    let catalog = demo.state.catalog();
    let related = |key: &str, relation: &str| -> Vec<String> {
        let entity = catalog.get(&key.to_lowercase()).unwrap().entity();
        entity["relations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == relation)
            .map(|r| r["targetRef"].as_str().unwrap().to_owned())
            .collect()
    };
    let teams = related(user, "memberOf");
    assert!(!teams.is_empty());
    let yours = &html[html.find(r#"id="yours""#).unwrap()..html.find(r#"id="kinds""#).unwrap()];
    for team in &teams {
        let (_, name) = team.rsplit_once('/').unwrap();
        assert!(
            yours.contains(&format!(r#"href="/catalog/default/group/{name}""#)),
            "{team}: {yours}"
        );
        // What the team owns directly, and what its child teams own, are counted.
        let mut owned = related(team, "ownerOf");
        for child in related(team, "parentOf") {
            owned.extend(related(&child, "ownerOf"));
        }
        let (_, first) = owned.first().unwrap().rsplit_once('/').unwrap();
        assert!(
            yours.contains(first) || yours.contains("on your account page"),
            "{first}: {yours}"
        );
    }
    let total: usize = yours
        .split(r#"<h2 id="your-owned-title">What your teams own</h2><span class="count">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 0);
    assert!(yours.contains("No published <code>pave check</code> report"));

    // A failing check report on something the team owns is listed, linked to its tab.
    let owned = related(&teams[0], "ownerOf");
    let target = owned.first().unwrap().to_lowercase();
    let report = pave_store::NewCheckReport {
        entity_ref: target.clone(),
        received_at: 1_800_000_000,
        commit: None,
        branch: None,
        counts: pave_store::CheckCounts {
            failed: 3,
            warnings: 1,
            excepted: 0,
            errors: 0,
            files: 4,
        },
        report: "{}".into(),
    };
    demo.state
        .platform
        .store()
        .put_check_report(&report, &[])
        .await
        .unwrap();
    let mine = get_with(
        &demo.state,
        "/",
        &[("authorization", &format!("Bearer {secret}"))],
    )
    .await;
    let (kind, rest) = target.split_once(':').unwrap();
    let (_, name) = rest.split_once('/').unwrap();
    assert!(
        mine.body.contains(&format!(
            r#"href="/catalog/default/{kind}/{name}/guardrails">"#
        )),
        "{}",
        mine.body
    );
    assert!(
        mine.body
            .contains(r#"<span class="badge check-failing">3 failed</span>"#)
    );
}

/// An API token owned by `user`, with the viewer role.
async fn owned_token(state: &AppState, user: &str) -> String {
    let now = pave_ingest::now_millis();
    let (secret, hash) = pave_auth::TokenSecret::generate().unwrap();
    let row = pave_store::TokenRow {
        id: "t-home".into(),
        name: "home".into(),
        owner: user.into(),
        role: "viewer".into(),
        hash: hash.as_str().into(),
        created_at: now - 100,
        expires_at: now + 3_600_000,
        last_used_at: None,
        revoked_at: None,
    };
    state
        .platform
        .store()
        .create_token(&row, &[])
        .await
        .unwrap();
    secret
}
