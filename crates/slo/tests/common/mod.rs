//! Helpers shared by the conformance and fixture tests: generate as `sloth generate` would,
//! and compare rule files as parsed YAML.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;

use pave_slo::{
    Duration, GenerateOptions, LoadOptions, SloSet, WindowsCatalog, generate, render_file,
};
use serde_json::Value;

/// Options of one generation (Sloth's flags).
#[derive(Default)]
pub(crate) struct Case {
    pub(crate) period: Option<String>,
    pub(crate) extra_labels: Vec<(String, String)>,
    pub(crate) windows: Vec<(String, String)>,
    pub(crate) disable_alerts: bool,
    pub(crate) disable_recordings: bool,
    pub(crate) disable_optimized: bool,
}

/// Generates the rule file text for one input, or the error text.
pub(crate) fn generate_text(name: &str, text: &str, case: &Case) -> Result<String, String> {
    let period = Duration::parse(case.period.as_deref().unwrap_or("30d")).unwrap();
    let (set, problems) = SloSet::load(
        &[(name, text)],
        &LoadOptions {
            default_period: period,
        },
    );
    if !problems.is_empty() {
        return Err(problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let catalog = if case.windows.is_empty() {
        WindowsCatalog::builtin()
    } else {
        let mut c = WindowsCatalog::empty();
        for (name, text) in &case.windows {
            c.add_file(name, text).map_err(|e| e.to_string())?;
        }
        c
    };
    catalog.require(period).map_err(|e| e.to_string())?;
    let options = GenerateOptions {
        extra_labels: case
            .extra_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        disable_alerts: case.disable_alerts,
        disable_recordings: case.disable_recordings,
        disable_optimized: case.disable_optimized,
        version: "dev".to_owned(),
    };
    let files = generate(&set, &catalog, &options).map_err(|e| e.to_string())?;
    Ok(files
        .iter()
        .map(|f| render_file(f, "dev"))
        .collect::<String>())
}

/// The documents of a YAML stream with every `expr` whitespace-normalized.
pub(crate) fn normalized_docs(text: &str) -> Vec<Value> {
    let docs = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()).unwrap();
    docs.into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .map(|mut v| {
            normalize(&mut v);
            v
        })
        .collect()
}

fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "expr" {
                    if let Value::String(s) = v {
                        *s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                    }
                } else {
                    normalize(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// A readable first difference between two values, or `None` when equal.
pub(crate) fn first_difference(path: &str, want: &Value, got: &Value) -> Option<String> {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (a.get(k.as_str()), b.get(k.as_str())) {
                    (Some(x), Some(y)) => {
                        if let Some(d) = first_difference(&p, x, y) {
                            return Some(d);
                        }
                    }
                    (x, y) => return Some(format!("{p}: want {x:?}, got {y:?}")),
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), x, y) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| format!("{path}: want {} items, got {}", a.len(), b.len()))
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: want {a}, got {b}")),
    }
}

/// Compares generated text with expected text as parsed YAML documents.
pub(crate) fn compare(want: &str, got: &str) -> Result<(), String> {
    let want = normalized_docs(want);
    let got = normalized_docs(got);
    if want.len() != got.len() {
        return Err(format!("want {} documents, got {}", want.len(), got.len()));
    }
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        if let Some(d) = first_difference(&format!("doc{i}"), w, g) {
            return Err(d);
        }
    }
    Ok(())
}

/// Whether `promtool` can run; without it tests skip with a note, except under `CI=true`.
pub(crate) fn promtool() -> bool {
    pave_testkit::have("promtool")
}
