//! `GET /api/dora`: the five DORA metrics (and deployment success rate, time to restore by
//! severity) for any window and slice of the organisation, computed by `pave_dora::report`
//! from the index the [`DeliveryReports`](crate::DeliveryReports) hand out. `GET
//! /api/incidents` and `GET /api/incidents/{id}`: incidents from the same source. `GET
//! /api/alerts`: alert quality (short-lived, actionable and noisy alerts).
//!
//! The portal's DORA pages read their parameters through [`DoraParams::parse`] too, so the
//! page and the API agree on what `since=90d` means.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use pave_catalog::EntityRef;
use pave_dora::facts::{Millis, Org};
use pave_dora::{BucketSize, GroupBy, Index, Query, Report, Scope, TierVersion};
use serde::Serialize;
use serde_json::json;

use super::audit::{BadParam, bad, parse_time};
use crate::AppState;
use crate::delivery::{DeliveryReports, IncidentFilter, IncidentState};
use crate::error::ApiError;

const DAY_MS: Millis = 86_400_000;
/// The window when neither `since` nor `from` is given.
pub(crate) const DEFAULT_SINCE: &str = "90d";
/// The longest window a report covers (pave-dora's bound: about a century).
const MAX_WINDOW_DAYS: i64 = 36_600;
/// Year 1 and year 9999 (pave-dora's bounds on a window).
const MIN_TIME: Millis = -62_135_596_800_000;
const MAX_TIME: Millis = 253_402_300_800_000;

/// Every parameter of `GET /api/dora`, in the order links write them.
pub(crate) const API_PARAMS: [&str; 9] = [
    "since", "from", "to", "env", "group_by", "only", "buckets", "previous", "tiers",
];

/// The parameters of the portal's DORA pages (the path says what is shown, the page decides
/// its rows and series).
pub(crate) const PAGE_PARAMS: [&str; 5] = ["since", "from", "to", "env", "tiers"];

/// A DORA request's parameters, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DoraParams {
    pub(crate) from: Millis,
    pub(crate) to: Millis,
    pub(crate) environment: String,
    pub(crate) group_by: GroupBy,
    /// The key (`group:default/payments`) of the slice to narrow to.
    pub(crate) only: Option<String>,
    pub(crate) buckets: BucketSize,
    pub(crate) previous: bool,
    pub(crate) tiers: TierVersion,
    /// The values as given (for the portal's form).
    pub(crate) given: Vec<(String, String)>,
}

/// `90d`, `12w`, `36h` in milliseconds.
fn parse_duration(name: &str, text: &str) -> Result<Millis, BadParam> {
    let unit = text
        .chars()
        .last()
        .map_or(0, |c| c.to_ascii_lowercase() as u8);
    let (digits, per) = match unit {
        b'd' => (&text[..text.len() - 1], DAY_MS),
        b'w' => (&text[..text.len() - 1], 7 * DAY_MS),
        b'h' => (&text[..text.len() - 1], 3_600_000),
        _ => (text, 0),
    };
    let count = digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && per > 0 && !digits.starts_with('+'));
    let Some(count) = count else {
        return Err(bad(
            name,
            format!(
                "`{text}` is not a duration: a positive number of days, weeks or hours (90d, 12w, 36h)"
            ),
        ));
    };
    count
        .checked_mul(per)
        .filter(|ms| *ms <= MAX_WINDOW_DAYS * DAY_MS)
        .ok_or_else(|| {
            bad(
                name,
                format!("`{text}` is longer than {MAX_WINDOW_DAYS} days"),
            )
        })
}

fn parse_flag(name: &str, text: &str) -> Result<bool, BadParam> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(name, format!("`{text}` is not true or false"))),
    }
}

/// `kind:namespace/name` (namespace optional) → its lower-case key.
fn parse_ref(name: &str, text: &str, default_kind: Option<&str>) -> Result<String, BadParam> {
    EntityRef::parse(text, default_kind, pave_catalog::DEFAULT_NAMESPACE)
        .map(|r| r.key().into_string())
        .map_err(|e| {
            bad(
                name,
                format!("`{text}` is not an entity reference ({e}); write kind:namespace/name, e.g. group:default/payments"),
            )
        })
}

/// Splits a query string into checked pairs: known names only (from `allowed`), no
/// repeats, empty values dropped (forms send every field), at most 500 characters.
fn pairs(raw: Option<&str>, allowed: &[&str]) -> Result<Vec<(&'static str, String)>, BadParam> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let Some(name) = API_PARAMS
            .iter()
            .chain(INCIDENT_PARAMS.iter())
            .find(|p| **p == key && allowed.contains(p))
        else {
            return Err(bad(
                &key,
                format!("unknown; the parameters are {}", allowed.join(", ")),
            ));
        };
        if out.iter().any(|(k, _)| k == name) {
            return Err(bad(name, "given more than once"));
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > 500 {
            return Err(bad(name, "longer than 500 characters"));
        }
        out.push((name, value.to_owned()));
    }
    Ok(out)
}

impl DoraParams {
    /// Reads `raw` (a query string) against the parameters in `allowed`, with `now` as the
    /// end of a `since` window. Unknown or repeated parameters and bad values are refused,
    /// naming the parameter.
    pub(crate) fn parse(
        raw: Option<&str>,
        allowed: &[&str],
        now: Millis,
    ) -> Result<DoraParams, BadParam> {
        let mut params = DoraParams {
            from: 0,
            to: now,
            environment: "production".to_owned(),
            group_by: GroupBy::Team,
            only: None,
            buckets: BucketSize::None,
            previous: false,
            tiers: TierVersion::default(),
            given: Vec::new(),
        };
        let (mut since, mut from, mut to) = (None, None, None);
        for (name, value) in pairs(raw, allowed)? {
            match name {
                "since" => since = Some(parse_duration(name, &value)?),
                "from" => from = Some(parse_time(name, &value, false)?),
                // A bare date names a whole day: `to=2026-03-31` includes the 31st.
                "to" => to = Some(parse_time(name, &value, true)?),
                "env" => {
                    if value.len() > 100 {
                        return Err(bad(name, "longer than 100 characters"));
                    }
                    params.environment.clone_from(&value);
                }
                "group_by" => {
                    params.group_by = match value.to_ascii_lowercase().as_str() {
                        "entity" => GroupBy::Entity,
                        "team" | "group" => GroupBy::Team,
                        "system" => GroupBy::System,
                        "domain" => GroupBy::Domain,
                        "org" => GroupBy::Org,
                        _ => {
                            return Err(bad(
                                name,
                                format!(
                                    "`{value}` is not one of entity, team, system, domain, org"
                                ),
                            ));
                        }
                    }
                }
                "only" => params.only = Some(parse_ref(name, &value, None)?),
                "buckets" => {
                    params.buckets = match value.to_ascii_lowercase().as_str() {
                        "none" => BucketSize::None,
                        "week" => BucketSize::Week,
                        "month" => BucketSize::Month,
                        _ => {
                            return Err(bad(
                                name,
                                format!("`{value}` is not one of week, month, none"),
                            ));
                        }
                    }
                }
                "previous" => params.previous = parse_flag(name, &value)?,
                "tiers" => {
                    params.tiers = TierVersion::ALL
                        .into_iter()
                        .find(|t| t.as_str() == value)
                        .ok_or_else(|| {
                            bad(
                                name,
                                format!("`{value}` is not a tier table; there are 2023 and 2024"),
                            )
                        })?;
                }
                _ => {}
            }
            params.given.push((name.to_owned(), value));
        }
        if since.is_some() && from.is_some() {
            return Err(bad(
                "since",
                "give either `since` (a window ending at `to` or now) or `from`, not both",
            ));
        }
        params.to = to.unwrap_or(now);
        params.from = match (from, since) {
            (Some(from), _) => from,
            (None, Some(since)) => params.to.saturating_sub(since),
            (None, None) => params
                .to
                .saturating_sub(parse_duration("since", DEFAULT_SINCE)?),
        };
        let window_param = if from.is_some() { "from" } else { "since" };
        if params.from >= params.to {
            return Err(bad(
                if to.is_some() { "to" } else { window_param },
                "the window is empty: `from` must be before `to`",
            ));
        }
        if params.from < MIN_TIME {
            return Err(bad(window_param, "the window starts before the year 1"));
        }
        if params.to > MAX_TIME {
            return Err(bad("to", "the window ends after the year 9999"));
        }
        if (params.to - params.from) / DAY_MS > MAX_WINDOW_DAYS {
            return Err(bad(
                window_param,
                format!("the window is longer than {MAX_WINDOW_DAYS} days"),
            ));
        }
        Ok(params)
    }

    /// The value given for `name`, or "".
    pub(crate) fn value(&self, name: &str) -> &str {
        self.given
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The report query over `index`; `Err` says what the index does not know (the
    /// environment, or the entity `only` names).
    pub(crate) fn query(&self, index: &Index) -> Result<Query, String> {
        let environment = index.environment(&self.environment).ok_or_else(|| {
            format!(
                "no delivery data for the environment `{}` (there is for {})",
                self.environment,
                index.environments().join(", ")
            )
        })?;
        let only = match &self.only {
            None => None,
            Some(key) => Some(scope_of(index.org(), key).ok_or_else(|| {
                format!("`{key}` is not an entity, group, system or domain of the delivery data")
            })?),
        };
        Ok(Query {
            from: self.from,
            to: self.to,
            environment,
            group_by: self.group_by,
            only,
            buckets: self.buckets,
            compare_previous: self.previous,
            tiers: self.tiers,
        })
    }
}

/// The report query a `GET /api/dora` query string (`since=90d&group_by=team&…`) asks of
/// `index` at `now`: what `pave dora` uses, so the command and the API read every parameter
/// alike. `Err` names the parameter and the problem.
pub fn dora_query(query_string: &str, index: &Index, now: Millis) -> Result<Query, String> {
    let params =
        DoraParams::parse(Some(query_string), &API_PARAMS, now).map_err(|e| e.to_string())?;
    params.query(index)
}

/// The slice `key` (`kind:namespace/name`) names in `org`: a group with its subtree, a
/// system, a domain, or one entity. References compare ignoring case.
pub(crate) fn scope_of(org: &Org, key: &str) -> Option<Scope> {
    fn find<'a>(mut refs: impl Iterator<Item = &'a str>, key: &str) -> Option<u32> {
        refs.position(|r| r.eq_ignore_ascii_case(key))
            .and_then(|i| u32::try_from(i).ok())
    }
    let kind = key.split_once(':').map_or("", |(kind, _)| kind);
    if kind.eq_ignore_ascii_case("group") {
        find(org.groups.iter().map(|g| g.entity_ref.as_str()), key).map(Scope::Group)
    } else if kind.eq_ignore_ascii_case("system") {
        find(org.systems.iter().map(|s| s.entity_ref.as_str()), key).map(Scope::System)
    } else if kind.eq_ignore_ascii_case("domain") {
        find(org.domains.iter().map(|d| d.entity_ref.as_str()), key).map(Scope::Domain)
    } else {
        find(org.entities.iter().map(|e| e.entity_ref.as_str()), key).map(Scope::Entity)
    }
}

/// The reports, or the 404 that says there are none.
pub(crate) fn reports(state: &AppState) -> Result<Arc<dyn DeliveryReports>, ApiError> {
    state.delivery_reports().ok_or_else(|| {
        ApiError::NotFound(
            "no delivery data: this server has no delivery ledger to report from".into(),
        )
    })
}

/// What `GET /api/dora` answers: the report (every name already a reference) and what the
/// query was narrowed to.
#[derive(Serialize)]
struct DoraAnswer<'a> {
    #[serde(flatten)]
    report: &'a Report,
    only: Option<&'a str>,
    buckets: BucketSize,
    /// The postmortem KPIs over the same window, for the whole organisation (as `GET
    /// /api/postmortems` answers them).
    postmortems: &'a pave_dora::postmortem::PostmortemKpis,
}

/// DORA metrics.
///
/// The five DORA metrics (deployment frequency, change lead time, change failure rate,
/// failed deployment recovery time, rework rate) with deployment success rate and time to
/// restore by severity, per row of the grouping, each with its DORA performance level.
/// Times are Unix milliseconds (UTC), durations milliseconds, rates fractions (0.05 = 5%);
/// figures without a sample are null.
#[utoipa::path(get, path = "/api/dora", tag = "delivery",
    params(
        ("since" = Option<String>, Query, description = "The window: this long before `to` (or now), e.g. `90d`, `12w`, `36h` (default 90d)"),
        ("from" = Option<String>, Query, description = "Window start, inclusive: RFC 3339, a date, or Unix ms (instead of `since`)"),
        ("to" = Option<String>, Query, description = "Window end, exclusive: RFC 3339, a date (that day included), or Unix ms (default now)"),
        ("group_by" = Option<String>, Query, description = "entity, team (each group with its subtree, the default), system, domain or org"),
        ("env" = Option<String>, Query, description = "The environment (default production)"),
        ("only" = Option<String>, Query, description = "Narrow every row to one entity, group (with its subtree), system or domain: `kind:namespace/name`"),
        ("buckets" = Option<String>, Query, description = "A series per row: week (ISO weeks), month, or none (the default)"),
        ("previous" = Option<bool>, Query, description = "Also the figures of the window of the same length just before"),
        ("tiers" = Option<String>, Query, description = "The DORA tier table levels come from: 2023 (default) or 2024"),
    ),
    responses(
        (status = 200, description = "`{from, to, environment, group_by, tiers, previous: [from, to] | null, rows: [{kind, key, parent, depth, entities, metrics, previous, buckets}], warnings, only, buckets, postmortems}`; `metrics` as `pave dora -o json` prints them; `postmortems`: the postmortem KPIs of the window for the whole organisation, as `GET /api/postmortems` answers them"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No delivery data (none configured, none for the environment, or `only` names nothing in it)"),
    ))]
pub(crate) async fn dora(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let now = pave_stdx::time::unix_millis();
    let params = DoraParams::parse(raw.as_deref(), &API_PARAMS, now)?;
    let reports = reports(&state)?;
    let index = reports.index(&params.environment).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no delivery data for the environment `{}`",
            params.environment
        ))
    })?;
    let query = params.query(&index).map_err(ApiError::NotFound)?;
    // An organisation's report over a large history reads every fact of the window: heavy
    // work, off the async threads.
    let body = state
        .heavy()
        .run(move || {
            let window = pave_dora::postmortem::Window {
                from: params.from,
                to: params.to,
            };
            let postmortems = reports.postmortem_kpis(window, now);
            pave_dora::report(&index, &query).map(|report| {
                serde_json::to_string(&DoraAnswer {
                    report: &report,
                    only: params.only.as_deref(),
                    buckets: params.buckets,
                    postmortems: &postmortems,
                })
            })
        })
        .await?
        .map_err(|e| ApiError::Input(e.to_string()))?
        .map_err(|e| ApiError::internal("writing a DORA report", e))?;
    Ok(super::json_response(axum::http::StatusCode::OK, body))
}

/// The parameters of `GET /api/incidents`.
pub(crate) const INCIDENT_PARAMS: [&str; 4] = ["entity", "state", "severity", "limit"];

/// Reads an incident listing's query string.
pub(crate) fn incident_filter(raw: Option<&str>) -> Result<IncidentFilter, BadParam> {
    let mut filter = IncidentFilter::default();
    for (name, value) in pairs(raw, &INCIDENT_PARAMS)? {
        match name {
            "entity" => filter.entities = Some(vec![parse_ref(name, &value, Some("component"))?]),
            "state" => {
                filter.state = Some(match value.to_ascii_lowercase().as_str() {
                    "open" => IncidentState::Open,
                    "resolved" => IncidentState::Resolved,
                    _ => return Err(bad(name, format!("`{value}` is not open or resolved"))),
                });
            }
            "severity" => {
                let lower = value.to_ascii_lowercase();
                let digits = lower.trim_start_matches("sev").trim_start_matches('-');
                filter.severity = Some(
                    digits
                        .parse::<u8>()
                        .ok()
                        .filter(|s| (1..=5).contains(s))
                        .ok_or_else(|| {
                            bad(name, format!("`{value}` is not a severity from 1 to 5"))
                        })?,
                );
            }
            _ => {
                let max = IncidentFilter::MAX_LIMIT;
                filter.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=max).contains(l))
                    .ok_or_else(|| {
                        bad(name, format!("`{value}` is not a number from 1 to {max}"))
                    })?;
            }
        }
    }
    Ok(filter)
}

/// List incidents.
///
/// Newest first (by when they were opened).
#[utoipa::path(get, path = "/api/incidents", tag = "delivery",
    params(
        ("entity" = Option<String>, Query, description = "Only this entity's: `kind:namespace/name` (kind defaults to component)"),
        ("state" = Option<String>, Query, description = "open or resolved"),
        ("severity" = Option<u8>, Query, description = "1 (most severe) to 5"),
        ("limit" = Option<usize>, Query, description = "At most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "`{items: [incidents]}`, each as `GET /api/incidents/{id}` answers but without `timeline`"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No delivery data configured"),
    ))]
pub(crate) async fn incidents(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let filter = incident_filter(raw.as_deref())?;
    let reports = reports(&state)?;
    let mut items = reports.incidents(&filter);
    items.truncate(filter.limit);
    Ok(Json(json!({ "items": items })).into_response())
}

/// The parameters of `GET /api/alerts`.
pub(crate) const ALERT_PARAMS: [&str; 2] = ["since", "entity"];
/// The window of `GET /api/alerts` when `since` is not given.
pub(crate) const ALERT_DEFAULT_SINCE: &str = "30d";

/// Reads an alert report's query string: the window's start and the entity, if one.
pub(crate) fn alert_params(
    raw: Option<&str>,
    now: Millis,
) -> Result<(Millis, Option<String>), BadParam> {
    let mut since = parse_duration("since", ALERT_DEFAULT_SINCE)?;
    let mut entity = None;
    for (name, value) in pairs(raw, &ALERT_PARAMS)? {
        match name {
            "since" => since = parse_duration(name, &value)?,
            _ => entity = Some(parse_ref(name, &value, Some("component"))?),
        }
    }
    Ok((now.saturating_sub(since), entity))
}

/// The window start and entity a `GET /api/alerts` query string (`since=30d&entity=…`)
/// asks for at `now`: what `pave alerts` uses, so both read parameters alike.
pub fn alert_query(query_string: &str, now: Millis) -> Result<(Millis, Option<String>), String> {
    alert_params(Some(query_string), now).map_err(|e| e.to_string())
}

/// Alert quality.
///
/// Alertmanager firings that started in the window, with how many were short-lived
/// (resolved within 5 minutes), actionable (an incident of the same entity open when they
/// fired or opened within an hour), still firing, unattributed, the median and p90 time to
/// resolve, and per alert (name and entity), noisiest first; an alert that fired 5 times or
/// more in the window is noisy.
#[utoipa::path(get, path = "/api/alerts", tag = "delivery",
    params(
        ("since" = Option<String>, Query, description = "The window, ending now: `30d` (default), `12w`, `48h`"),
        ("entity" = Option<String>, Query, description = "Only this entity's: `kind:namespace/name` (kind defaults to component)"),
    ),
    responses(
        (status = 200, description = "The measures over all firings and per alert (`alerts`)"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No delivery data configured"),
    ))]
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let now = pave_stdx::time::unix_millis();
    let (since, entity) = alert_params(raw.as_deref(), now)?;
    let reports = reports(&state)?;
    let report = reports.alert_report(entity.map(|e| vec![e]).as_deref(), since, now);
    Ok(Json(report).into_response())
}

/// One incident, with its timeline.
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "delivery",
    params(("id" = String, Path, description = "The incident's id, as its source gives it (percent-encoded)")),
    responses(
        (status = 200, description = "The incident", body = crate::delivery::IncidentSummary),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No such incident, or no delivery data configured"),
    ))]
pub(crate) async fn incident(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) =
        id.map_err(|e| ApiError::Input(format!("bad incident id: {}", e.body_text())))?;
    let reports = reports(&state)?;
    reports
        .incident(&id)
        .map(|incident| Json(incident).into_response())
        .ok_or_else(|| ApiError::NotFound(format!("no incident `{id}`")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const NOW: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    #[test]
    fn parameters_parse_with_defaults() {
        let p = DoraParams::parse(None, &API_PARAMS, NOW).unwrap();
        assert_eq!((p.from, p.to), (NOW - 90 * DAY_MS, NOW));
        assert_eq!(p.environment, "production");
        assert_eq!(p.group_by, GroupBy::Team);
        assert_eq!(p.buckets, BucketSize::None);
        assert!(!p.previous && p.only.is_none());

        let p = DoraParams::parse(
            Some("since=2w&env=staging&group_by=system&only=Group:Payments&buckets=week&previous=true&tiers=2024&to=2025-12-31"),
            &API_PARAMS,
            NOW,
        )
        .unwrap();
        // A bare `to` date includes its day.
        assert_eq!(p.to, NOW);
        assert_eq!(p.from, NOW - 14 * DAY_MS);
        assert_eq!(p.environment, "staging");
        assert_eq!(p.group_by, GroupBy::System);
        assert_eq!(p.only.as_deref(), Some("group:default/payments"));
        assert_eq!(p.buckets, BucketSize::Week);
        assert!(p.previous);
        assert_eq!(p.tiers, TierVersion::Dora2024);
        assert_eq!(p.value("env"), "staging");

        let p = DoraParams::parse(
            Some("from=2025-10-01&to=1767225600000&since="),
            &API_PARAMS,
            NOW,
        )
        .unwrap();
        assert_eq!(p.to, NOW);
        assert_eq!(p.from, NOW - 92 * DAY_MS);
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            ("since=90", "since"),
            ("since=-3d", "since"),
            ("since=0d", "since"),
            ("since=99999999999999d", "since"),
            ("since=40000d", "since"),
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("since=7d&from=2025-01-01", "since"),
            ("from=2026-02-01", "from"),
            ("from=2026-01-01&to=2025-12-01", "to"),
            ("group_by=planet", "group_by"),
            ("buckets=day", "buckets"),
            ("previous=maybe", "previous"),
            ("tiers=2019", "tiers"),
            ("only=payments", "only"),
            ("only=group:", "only"),
            ("bogus=1", "bogus"),
            ("env=a&env=b", "env"),
        ];
        for (raw, name) in cases {
            let e = DoraParams::parse(Some(raw), &API_PARAMS, NOW).unwrap_err();
            assert_eq!(e.name, name, "{raw}: {e}");
            assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
        }
        // Pages take no grouping of their own.
        let e = DoraParams::parse(Some("group_by=org"), &PAGE_PARAMS, NOW).unwrap_err();
        assert_eq!(e.name, "group_by");
    }

    #[test]
    fn scopes_resolve_by_kind_ignoring_case() {
        use pave_dora::facts::{EntityNode, GroupNode, Named};
        let org = Org {
            entities: vec![EntityNode {
                entity_ref: "component:default/checkout".into(),
                owner: Some(0),
                system: Some(0),
            }],
            groups: vec![GroupNode {
                entity_ref: "group:default/payments".into(),
                parent: None,
            }],
            systems: vec![Named {
                entity_ref: "system:default/shop".into(),
            }],
            system_domains: vec![None],
            domains: Vec::new(),
        };
        assert_eq!(
            scope_of(&org, "component:default/checkout"),
            Some(Scope::Entity(0))
        );
        assert_eq!(
            scope_of(&org, "group:default/Payments"),
            Some(Scope::Group(0))
        );
        assert_eq!(
            scope_of(&org, "system:default/shop"),
            Some(Scope::System(0))
        );
        assert_eq!(scope_of(&org, "domain:default/shop"), None);
        assert_eq!(scope_of(&org, "group:default/checkout"), None);
    }

    #[test]
    fn incident_filters_parse_or_name_the_bad_one() {
        let f = incident_filter(Some("entity=checkout&state=open&severity=SEV-2&limit=5")).unwrap();
        assert_eq!(
            f.entities,
            Some(vec!["component:default/checkout".to_owned()])
        );
        assert_eq!(f.state, Some(IncidentState::Open));
        assert_eq!(f.severity, Some(2));
        assert_eq!(f.limit, 5);
        assert_eq!(incident_filter(None).unwrap(), IncidentFilter::default());
        for (raw, name) in [
            ("state=closed", "state"),
            ("severity=6", "severity"),
            ("limit=0", "limit"),
            ("since=1d", "since"),
        ] {
            let e = incident_filter(Some(raw)).unwrap_err();
            assert_eq!(e.name, name, "{raw}");
        }
    }
}
