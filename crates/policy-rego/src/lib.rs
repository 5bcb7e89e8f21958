//! conftest-compatible Rego policies for pave's guardrails, evaluated with
//! [regorus](https://crates.io/crates/regorus).
//!
//! [`RegoPolicies`] loads policies (and `--data` documents) once and plugs into
//! [`pave_policy::Policy`] through [`pave_policy::CustomPolicies`]. Each document is
//! `input`, as in `conftest test`: a Kubernetes object, a Terraform plan, or a Dockerfile's
//! instruction array (`input[i].Cmd == "from"`).
//!
//! # What matches conftest
//!
//! - Rules: `deny`, `violation` and `warn`, optionally suffixed (`deny_run_as_root`), in the
//!   `main` namespace unless [`RegoOptions::namespaces`] (literal names, or Go globs when a
//!   pattern has `*?[`) or [`RegoOptions::all_namespaces`] say otherwise.
//! - Results: strings and `{"msg": …}` objects in sets or arrays; anything else passes (a
//!   boolean `deny if { … }` included). In Rego v1, `deny[msg] if { … }` is refused at load,
//!   as conftest does: it makes an object, so it could never fail.
//! - `exception` rules set aside the results of the rules they name, counted apart.
//! - `--data`: OPA's loader semantics (see [`RegoPolicies::load`]); `data.conftest.file`
//!   holds the document's file `name` and absolute `dir`.
//! - `--rego-version v0|v1` (default v1); a syntax error says when the other version reads
//!   the policy. A call to a function that exists nowhere (`http.send`, which pave does not
//!   build, or a typo) is refused when the policies load, naming every such call, as OPA's
//!   compiler does. In v0, `if`/`contains` without their `future.keywords` import are refused
//!   as OPA refuses them (regorus alone would read them as identifiers).
//!
//! # Differences
//!
//! - `*_test.rego` files are not loaded (conftest's `test` loads but never queries them).
//! - Evaluation stops after [`RegoOptions::timeout`] per document (conftest has none), and
//!   `numbers.range` may make at most [`RANGE_LIMIT`] numbers.
//! - Findings map to pave's model: rule id `<package>.<rule>` (`main.deny`,
//!   `main.warn_labels`); `deny`/`violation` are [`FAILURE_SEVERITY`] (fail at the default
//!   threshold), `warn` is [`WARNING_SEVERITY`] (reported only). Results set aside by
//!   `exception` rules are left out of [`pave_policy::CustomPolicies::evaluate`] and counted
//!   in [`RegoPolicies::excepted`]; [`RegoPolicies::check`] returns them, with metadata
//!   and `print()` output.
//! - `--strict` and `_loc` locations are not supported; `--capabilities` is
//!   [`RegoOptions::allowed_builtins`], `--combine` is the caller's (`pave check --conftest`).
//! - Builtins that need the network or the host (`http.send`, `opa.runtime`), JSON Schema,
//!   YAML and UUID builtins are not built in; conftest's `parse_config*` neither. A call to
//!   any of them is refused when the policies load. `json.patch`, `crypto.sha1`,
//!   `crypto.sha256`, `io.jwt.decode` and `sprintf`'s `%q`, which regorus 0.11 lacks, are
//!   added as extensions.

mod builtins;
mod cidr_merge;
mod error;
mod glob;
mod globs_match;
mod load;
mod modules;
mod policies;
mod recursion;
mod render_template;
mod scan;
mod sprintf;
mod worker;

pub use error::RegoError;
pub use policies::{
    AppliedException, ConftestRule, FAILURE_SEVERITY, Outcome, RANGE_LIMIT, RegoFinding,
    RegoOptions, RegoPolicies, RegoVersion, WARNING_SEVERITY,
};
pub use recursion::MAX_RULE_DEPTH;
pub use worker::EVAL_STACK;
