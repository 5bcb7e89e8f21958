//! Every format on one awkward report: snapshots of the exact output, plus checks that the
//! machine formats parse back and keep what consumers rely on.

mod common;

use std::collections::HashMap;

use common::{TRICKY_FILE, TRICKY_MESSAGE, clean_report, options, report};
use pave_policy::Status;
use pave_policy_output::{Format, RenderOptions, render, sarif_value, summary_line};
use serde_json::Value;

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings
}

// --- format names -------------------------------------------------------------------------

#[test]
fn formats_parse_by_name() {
    for (name, format) in Format::NAMES.iter().zip(Format::ALL) {
        assert_eq!(Format::parse(name), Some(format));
        assert_eq!(format.to_string(), *name);
    }
    assert_eq!(Format::parse("TEXT"), Some(Format::Human));
    assert_eq!(" Sarif ".parse::<Format>(), Ok(Format::Sarif));
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown format \"xml\" (expected one of: human, json, sarif, junit, github)"
    );
}

#[test]
fn summary_line_counts_everything() {
    assert_eq!(
        summary_line(&report()),
        "8 files, 7 objects checked: 6 failed, 2 warnings, 1 excepted, 2 errors \
         (profile recommended, failing at medium and above)"
    );
}

// --- human ----------------------------------------------------------------------------------

#[test]
fn human() {
    let out = render(&report(), Format::Human, &options());
    assert!(!out.contains('\x1b'), "no colour unless asked");
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "control characters from the input do not reach the terminal"
    );
    snapshot_settings().bind(|| insta::assert_snapshot!("human", out));
}

#[test]
fn human_verbose() {
    let mut o = options();
    o.verbose = true;
    let out = render(&report(), Format::Human, &o);
    snapshot_settings().bind(|| insta::assert_snapshot!("human_verbose", out));
}

#[test]
fn human_colour() {
    let mut o = options();
    o.color = true;
    let out = render(&report(), Format::Human, &o);
    assert!(out.contains("\x1b[1;31mFAIL\x1b[0m"));
    assert!(out.contains("\x1b[33mWARN\x1b[0m"));
    assert!(out.contains("\x1b[36mEXCP\x1b[0m"));
    // Without the escape codes it is the plain text, so colour changes nothing else.
    let plain = strip_ansi(&out);
    assert_eq!(plain, render(&report(), Format::Human, &options()));
}

#[test]
fn human_clean() {
    let out = render(&clean_report(), Format::Human, &options());
    assert_eq!(
        out,
        "6 files, 7 objects checked: no findings (profile recommended, failing at medium and above)\n"
    );
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// --- JSON -----------------------------------------------------------------------------------

#[test]
fn json() {
    let out = render(&report(), Format::Json, &options());
    snapshot_settings().bind(|| insta::assert_snapshot!("json", out));
}

#[test]
fn json_round_trips() {
    let r = report();
    let out = render(&r, Format::Json, &options());
    let v: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["tool"]["version"], "0.1.0-test");
    assert_eq!(v["exitCode"], 2);
    assert_eq!(v["failOn"], "medium");
    assert_eq!(
        v["summary"],
        serde_json::json!({"files": 8, "documents": 7, "failed": 6, "warnings": 2, "excepted": 1, "errors": 2})
    );
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), r.findings.len());
    for (j, f) in findings.iter().zip(&r.findings) {
        assert_eq!(j["message"], f.message.as_str(), "text survives unchanged");
        assert_eq!(j["file"], &*f.file);
        // Every field is present, null when unknown.
        for key in ["line", "column", "object", "exception"] {
            assert!(j.get(key).is_some(), "{key} present");
        }
    }
    let tricky = findings
        .iter()
        .find(|f| f["message"] == TRICKY_MESSAGE)
        .unwrap();
    assert_eq!(tricky["file"], TRICKY_FILE);
    let excepted = findings.iter().find(|f| f["status"] == "excepted").unwrap();
    assert_eq!(excepted["exception"]["id"], "EXC-7");
    let rule = &v["rules"][0];
    assert_eq!(rule["references"]["kubeLinter"], "privileged-container");
    assert_eq!(rule["references"]["checkov"][0], "CKV_K8S_16");
    assert_eq!(
        v["rules"][1]["references"]["checkov"],
        serde_json::json!([])
    );
}

// --- SARIF ----------------------------------------------------------------------------------

#[test]
fn sarif() {
    let out = render(&report(), Format::Sarif, &options());
    snapshot_settings().bind(|| insta::assert_snapshot!("sarif", out));
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array")
}

fn non_empty_str(v: &Value, what: &str) -> String {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {v}"));
    assert!(!s.trim().is_empty(), "{what} is not empty");
    s.to_owned()
}

/// GitHub's "SARIF support for code scanning": the properties it requires, and the values
/// it accepts for the optional ones we set.
#[test]
fn sarif_has_what_github_requires() {
    let r = report();
    let sarif = sarif_value(&r, &options());
    non_empty_str(&sarif["$schema"], "$schema");
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "pave");
    assert_eq!(driver["version"], "0.1.0-test");
    let rules = driver["rules"].as_array().unwrap();
    let mut ids = Vec::new();
    for rule in rules {
        let id = non_empty_str(&rule["id"], "rule id");
        assert!(!ids.contains(&id), "rule ids are unique");
        ids.push(id);
        let name = non_empty_str(&rule["name"], "rule name");
        assert!(name.chars().count() <= 255);
        assert!(
            name.chars().all(char::is_alphanumeric),
            "{name} is CamelCase"
        );
        for field in ["shortDescription", "fullDescription"] {
            let text = non_empty_str(&rule[field]["text"], field);
            assert!(text.chars().count() <= 1024);
        }
        non_empty_str(&rule["help"]["text"], "help.text");
        non_empty_str(&rule["help"]["markdown"], "help.markdown");
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["note", "warning", "error"].contains(&level));
        let props = &rule["properties"];
        assert!(
            props["tags"]
                .as_array()
                .unwrap()
                .contains(&"security".into())
        );
        assert!(
            ["very-high", "high", "medium", "low"].contains(&props["precision"].as_str().unwrap())
        );
        let score: f64 = props["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(score > 0.0 && score <= 10.0);
    }
    // Every rule that ran is described, and so is the custom rule the report left out.
    assert_eq!(rules.len(), r.rules.len() + 1);
    assert!(ids.contains(&"deny_latest_tag".to_owned()));

    let results = results(&sarif);
    assert_eq!(results.len(), r.findings.len());
    for (result, finding) in results.iter().zip(&r.findings) {
        let rule_id = non_empty_str(&result["ruleId"], "ruleId");
        assert_eq!(rule_id, finding.rule);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], rule_id.as_str());
        let level = result["level"].as_str().unwrap();
        assert!(["note", "warning", "error"].contains(&level));
        non_empty_str(&result["message"]["text"], "message.text");
        let locations = result["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        let uri = non_empty_str(&physical["artifactLocation"]["uri"], "uri");
        assert!(!uri.contains('\\') && !uri.contains(' '), "{uri}");
        let region = &physical["region"];
        for field in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[field].as_u64().unwrap() >= 1, "{field}");
        }
        assert_eq!(region["endLine"], region["startLine"]);
        assert!(region["endColumn"].as_u64() > region["startColumn"].as_u64());
        let hash = non_empty_str(
            &result["partialFingerprints"]["primaryLocationLineHash"],
            "primaryLocationLineHash",
        );
        let (hex, n) = hash.split_once(':').unwrap();
        assert_eq!(hex.len(), 16);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(n.parse::<u32>().unwrap() >= 1);
    }
}

#[test]
fn sarif_levels_suppressions_and_locations() {
    let r = report();
    let sarif = sarif_value(&r, &options());
    let results = results(&sarif);
    let by_status = |status: Status| {
        r.findings
            .iter()
            .zip(results)
            .filter(move |(f, _)| f.status == status)
            .map(|(_, res)| res)
    };
    for res in by_status(Status::Failed) {
        assert_eq!(res["level"], "error");
        assert!(res.get("suppressions").is_none());
    }
    for res in by_status(Status::Warning) {
        assert_eq!(res["level"], "warning");
    }
    let excepted: Vec<&Value> = by_status(Status::Excepted).collect();
    assert_eq!(excepted.len(), 1);
    // A medium finding at a medium threshold would have failed: error, but suppressed.
    assert_eq!(excepted[0]["level"], "error");
    let suppression = &excepted[0]["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    let justification = suppression["justification"].as_str().unwrap();
    for part in ["legacy CNI sidecar", "EXC-7", "team-pay", "2026-03-31"] {
        assert!(justification.contains(part), "{justification} names {part}");
    }

    let uri_of = |res: &Value| res["locations"][0]["physicalLocation"]["artifactLocation"].clone();
    let tricky = results
        .iter()
        .find(|res| {
            res["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("image \"evil")
        })
        .unwrap();
    assert_eq!(
        uri_of(tricky),
        serde_json::json!({"uri": "my%20dir/caf%C3%A9%20%C3%B1.yaml", "uriBaseId": "%SRCROOT%"})
    );
    let logical = &tricky["locations"][0]["logicalLocations"][0];
    assert_eq!(logical["fullyQualifiedName"], "Deployment/pay/api");
    assert_eq!(logical["name"], "api");
    let stdin = results
        .iter()
        .find(|res| res["message"]["text"].as_str().unwrap().contains("debug"))
        .unwrap();
    assert_eq!(uri_of(stdin), serde_json::json!({"uri": "stdin"}));
    let unpositioned = results
        .iter()
        .find(|res| res["ruleId"] == "docker-root-user")
        .unwrap();
    assert_eq!(
        unpositioned["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2})
    );
    assert!(
        unpositioned["locations"][0]
            .get("logicalLocations")
            .is_none()
    );

    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 3, "startColumn": 5})
    );
    assert_eq!(
        notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "odd%2C%20name%3A%2050%25.yaml"
    );
    assert_eq!(
        sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///home/dev/repo/"
    );

    let clean = sarif_value(&clean_report(), &options());
    assert_eq!(
        clean["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(clean["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        clean["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        r.rules.len(),
        "rules that found nothing are still described, so fixed alerts close"
    );
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root() {
    let mut o = options();
    o.working_dir = Some("/home/dev/repo/services/api".into());
    let sarif = sarif_value(&report(), &o);
    let uris: Vec<&str> = results(&sarif)
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"services/api/deploy/app.yaml"), "{uris:?}");
    assert!(uris.contains(&"services/api/Dockerfile"));
    assert!(uris.contains(&"stdin"));
}

fn fingerprints(r: &pave_policy::Report) -> Vec<String> {
    results(&sarif_value(r, &options()))
        .iter()
        .map(|res| {
            res["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .expect("a fingerprint")
                .to_owned()
        })
        .collect()
}

#[test]
fn fingerprints_survive_moved_lines_and_new_exceptions() {
    let before = report();
    let prints = fingerprints(&before);
    let unique: std::collections::HashSet<&String> = prints.iter().collect();
    assert_eq!(
        unique.len(),
        prints.len(),
        "every result has its own fingerprint"
    );

    // The two identical SYS_ADMIN findings share a hash and are told apart by the counter.
    let sys_admin: Vec<&String> = before
        .findings
        .iter()
        .zip(&prints)
        .filter(|(f, _)| f.message == "a container adds SYS_ADMIN")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(sys_admin.len(), 2);
    assert_eq!(
        sys_admin[0].split(':').next(),
        sys_admin[1].split(':').next()
    );
    assert!(sys_admin[0].ends_with(":1") && sys_admin[1].ends_with(":2"));

    // Lines inserted above everything: positions move, identities do not.
    let mut moved = before.clone();
    for f in &mut moved.findings {
        f.line = f.line.map(|l| l + 40);
        f.column = f.column.map(|c| c + 2);
    }
    assert_eq!(fingerprints(&moved), prints);

    // An exception turns an alert into a suppressed one: same identity.
    let mut waived = before.clone();
    for f in &mut waived.findings {
        f.status = Status::Excepted;
    }
    assert_eq!(fingerprints(&waived), prints);

    // A different message is a different problem.
    let mut reworded = before.clone();
    reworded.findings[0].message.push('!');
    assert_ne!(fingerprints(&reworded)[0], prints[0]);
}

#[test]
fn sarif_can_leave_excepted_findings_out() {
    let r = report();
    let mut o = options();
    o.omit_excepted_from_sarif = true;
    o.automation_id = Some("pave/deploy/".into());
    let sarif = sarif_value(&r, &o);
    let res = results(&sarif);
    assert_eq!(res.len(), r.findings.len() - 1);
    assert!(res.iter().all(|r| r.get("suppressions").is_none()));
    // The others keep their fingerprints.
    let all = fingerprints(&r);
    for p in res.iter().map(|r| {
        r["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap()
    }) {
        assert!(all.iter().any(|a| a == p));
    }
    assert_eq!(sarif["runs"][0]["automationDetails"]["id"], "pave/deploy/");
}

fn validate(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Our closed subset schema (tests/data): catches misspelt or misplaced properties, which
/// GitHub would silently ignore.
#[test]
fn sarif_matches_the_subset_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("data/sarif-github-subset.schema.json")).unwrap();
    let mut o = options();
    o.automation_id = Some("pave/".into());
    for r in [report(), clean_report()] {
        let errors = validate(&schema, &sarif_value(&r, &o));
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // The schema does catch mistakes.
    let mut broken = sarif_value(&report(), &o);
    broken["runs"][0]["results"][0]["partialFingerprint"] = Value::Null;
    broken["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"] = "".into();
    assert_eq!(validate(&schema, &broken).len(), 2);
}

/// The official OASIS schema is not vendored (see tests/data/README.md): point
/// `PAVE_SARIF_SCHEMA` at `sarif-schema-2.1.0.json` to check against it. Under CI the
/// variable must be set when this test is meant to run; unset, it checks nothing.
#[test]
fn sarif_matches_the_official_schema_when_given() {
    let Ok(path) = std::env::var("PAVE_SARIF_SCHEMA") else {
        eprintln!("PAVE_SARIF_SCHEMA not set: official SARIF schema check skipped");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("PAVE_SARIF_SCHEMA readable");
    let schema: Value = serde_json::from_str(&text).unwrap();
    let mut o = options();
    o.automation_id = Some("pave/".into());
    for r in [report(), clean_report()] {
        let errors = validate(&schema, &sarif_value(&r, &o));
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let mut broken = sarif_value(&report(), &o);
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert_eq!(
        validate(&schema, &broken).len(),
        1,
        "the schema is enforced"
    );
}

// --- JUnit ----------------------------------------------------------------------------------

#[test]
fn junit() {
    let out = render(&report(), Format::Junit, &options());
    snapshot_settings().bind(|| insta::assert_snapshot!("junit", out));
}

#[test]
fn junit_is_well_formed_and_counts_add_up() {
    let r = report();
    let out = render(&r, Format::Junit, &options());
    let doc = roxmltree::Document::parse(&out).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let count = |node: roxmltree::Node<'_, '_>, attr: &str| -> usize {
        node.attribute(attr).unwrap().parse().unwrap()
    };
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let mut totals: HashMap<&str, usize> = HashMap::new();
    for suite in &suites {
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
        };
        assert_eq!(count(*suite, "tests"), cases.len());
        assert_eq!(count(*suite, "failures"), with("failure"));
        assert_eq!(count(*suite, "errors"), with("error"));
        assert_eq!(count(*suite, "skipped"), with("skipped"));
        for attr in ["tests", "failures", "errors", "skipped"] {
            *totals.entry(attr).or_default() += count(*suite, attr);
        }
        let names: std::collections::HashSet<_> =
            cases.iter().map(|c| c.attribute("name").unwrap()).collect();
        assert_eq!(
            names.len(),
            cases.len(),
            "test names are unique within a suite"
        );
    }
    for (attr, total) in totals {
        assert_eq!(count(root, attr), total, "{attr}");
    }
    let s = r.summary();
    assert_eq!(count(root, "failures"), s.failed);
    assert_eq!(count(root, "errors"), s.errors);
    assert_eq!(count(root, "skipped"), s.excepted);

    // Text comes back exactly as it went in, markup and all.
    let tricky = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("failure")
                && n.attribute("message")
                    .is_some_and(|m| m.starts_with("image \"evil"))
        })
        .unwrap();
    assert_eq!(tricky.attribute("message"), TRICKY_MESSAGE.lines().next());
    assert!(tricky.text().unwrap().contains(TRICKY_MESSAGE));
    let suite_names: Vec<_> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert!(suite_names.contains(&TRICKY_FILE));
    assert!(suite_names.contains(&"odd, name: 50%.yaml"));
    // The control character was replaced, not passed through.
    let error = doc
        .descendants()
        .find(|n| n.has_tag_name("error") && n.text().is_some_and(|t| t.contains("bell")))
        .unwrap();
    assert!(error.text().unwrap().contains("bell \u{fffd} here"));
    // Warnings pass, with the warning in system-out.
    let warning = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap();
    assert!(
        warning
            .text()
            .unwrap()
            .starts_with("warning: k8s-cpu-requests")
    );
    assert!(
        warning
            .parent()
            .unwrap()
            .children()
            .all(|n| !n.has_tag_name("failure"))
    );
}

// --- GitHub ---------------------------------------------------------------------------------

#[test]
fn github() {
    let out = render(&report(), Format::Github, &options());
    snapshot_settings().bind(|| insta::assert_snapshot!("github", out));
}

fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_commands_parse_back() {
    let r = report();
    let out = render(&r, Format::Github, &options());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), r.errors.len() + r.findings.len() + 1);
    assert_eq!(*lines.last().unwrap(), summary_line(&r));
    // Input errors first, then findings from the most severe (GitHub shows only the first
    // ten of each kind).
    assert!(
        lines[1].starts_with("::error file=odd%2C name%3A 50%25.yaml,title=pave%3A input error::")
    );
    let mut findings: Vec<_> = r.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for (line, f) in lines[r.errors.len()..].iter().zip(findings) {
        let rest = line.strip_prefix("::").unwrap();
        let (head, message) = rest.split_once("::").unwrap();
        assert!(!message.contains('\n') && !message.contains('\r'));
        let (command, props) = head.split_once(' ').unwrap();
        let expected = match f.status {
            Status::Failed => "error",
            Status::Warning => "warning",
            Status::Excepted => "notice",
        };
        assert_eq!(command, expected);
        let props: HashMap<&str, String> = props
            .split(',')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k, unescape(v))
            })
            .collect();
        assert!(unescape(message).starts_with(&f.message));
        assert_eq!(props["title"], format!("{} ({})", f.rule, f.severity));
        if &*f.file == "-" {
            // Neither file nor position: the runner could not place them.
            for key in ["file", "line", "col"] {
                assert!(!props.contains_key(key), "no {key} for stdin");
            }
        } else {
            assert_eq!(props["file"], &*f.file);
            assert_eq!(props.get("line").cloned(), f.line.map(|l| l.to_string()));
            assert_eq!(props.get("col").cloned(), f.column.map(|c| c.to_string()));
        }
    }
}

#[test]
fn github_says_when_annotations_overflow() {
    let mut r = report();
    let extra: Vec<_> = (0..12)
        .map(|i| {
            let mut f = r.findings[1].clone();
            f.line = Some(100 + i);
            f
        })
        .collect();
    r.findings.extend(extra);
    let failed = r.summary().failed;
    let out = render(&r, Format::Github, &options());
    let errors = out.lines().filter(|l| l.starts_with("::error ")).count();
    assert_eq!(errors, failed + r.errors.len());
    let hidden = errors - 10;
    assert!(out.contains(&format!(
        "{hidden} more problems in this log than GitHub shows as annotations"
    )));
}

#[test]
fn default_options_render_every_format() {
    // No working directory or root: paths stay as given, nothing panics.
    for format in Format::ALL {
        let out = render(&report(), format, &RenderOptions::default());
        assert!(out.ends_with('\n'), "{format}");
    }
}

// --- streaming ------------------------------------------------------------------------------

#[test]
fn write_streams_the_same_bytes_as_render() {
    let report = report();
    let options = options();
    for format in Format::ALL {
        let mut streamed = Vec::new();
        pave_policy_output::write(&report, format, &options, &mut streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            render(&report, format, &options),
            "{format}"
        );
    }
}
