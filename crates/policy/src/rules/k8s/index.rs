//! Indexes for rules that relate documents: objects by name, label selectors, pod templates by label.

use super::*;

/// Objects by (namespace, kind, name); see the module docs for namespaces.
pub(super) struct Names<'a> {
    pub(super) by_ns: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    pub(super) any_ns: HashMap<(&'a str, &'a str), Vec<usize>>,
    pub(super) kinds: HashSet<&'a str>,
}

impl<'a> Names<'a> {
    /// From `(namespace, kind, name, value)` entries.
    pub(super) fn new(
        entries: impl Iterator<Item = (Option<&'a str>, &'a str, &'a str, usize)>,
    ) -> Self {
        let mut names = Names {
            by_ns: HashMap::new(),
            any_ns: HashMap::new(),
            kinds: HashSet::new(),
        };
        for (ns, kind, name, value) in entries {
            names.by_ns.entry((ns, kind, name)).or_default().push(value);
            names.any_ns.entry((kind, name)).or_default().push(value);
            names.kinds.insert(kind);
        }
        names
    }

    /// The documents of one kind, by their own namespace and name.
    pub(super) fn of_kind(ctx: &Context<'a>, kind: &'static str) -> Self {
        Names::new(objects(ctx, kind).map(|(i, d)| (namespace_of(d), kind, name_of(d), i)))
    }

    /// What may share namespace `ns` and has this kind and name.
    pub(super) fn find<'s>(
        &'s self,
        ns: Option<&'a str>,
        kind: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = usize> + 's {
        let (a, b): (&'s [usize], &'s [usize]) = match ns {
            Some(_) => (
                self.by_ns.get(&(ns, kind, name)).map_or(&[], Vec::as_slice),
                self.by_ns
                    .get(&(None, kind, name))
                    .map_or(&[], Vec::as_slice),
            ),
            None => (
                self.any_ns.get(&(kind, name)).map_or(&[], Vec::as_slice),
                &[],
            ),
        };
        a.iter().chain(b).copied()
    }
}

/// Autoscalers by the workload they scale: (autoscaler namespace, target kind, target name).
pub(super) fn autoscalers<'a>(ctx: &Context<'a>) -> Names<'a> {
    Names::new(
        objects(ctx, "HorizontalPodAutoscaler").filter_map(|(i, d)| {
            let target = spec_get(d, &["scaleTargetRef"])?;
            Some((
                namespace_of(d),
                target.get("kind")?.as_str()?,
                target.get("name")?.as_str()?,
                i,
            ))
        }),
    )
}

/// A label selector, parsed once.
pub(super) enum Selector<'a> {
    /// Selects nothing: a null PodDisruptionBudget selector, or an invalid one.
    Nothing,
    /// Every `matchLabels` pair and every expression must hold; empty selects everything.
    Match {
        labels: Vec<(&'a str, &'a str)>,
        exprs: Vec<Expr<'a>>,
    },
}

pub(super) struct Expr<'a> {
    pub(super) key: &'a str,
    pub(super) op: Op,
    pub(super) values: Vec<&'a str>,
}

#[derive(Clone, Copy)]
pub(super) enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl<'a> Selector<'a> {
    /// A `LabelSelector` (`matchLabels`, `matchExpressions`); absent or null selects nothing.
    pub(super) fn label_selector(v: Option<&'a Value>) -> Self {
        let Some(Value::Object(v)) = v else {
            return Selector::Nothing;
        };
        let mut labels = Vec::new();
        if let Some(Value::Object(m)) = v.get("matchLabels") {
            for (k, val) in m {
                let Some(val) = val.as_str() else {
                    return Selector::Nothing;
                };
                labels.push((k.as_str(), val));
            }
        }
        let mut exprs = Vec::new();
        if let Some(Value::Array(items)) = v.get("matchExpressions") {
            for e in items {
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Op::In,
                    Some("NotIn") => Op::NotIn,
                    Some("Exists") => Op::Exists,
                    Some("DoesNotExist") => Op::DoesNotExist,
                    _ => return Selector::Nothing,
                };
                let Some(key) = e.get("key").and_then(Value::as_str) else {
                    return Selector::Nothing;
                };
                let values = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                exprs.push(Expr { key, op, values });
            }
        }
        Selector::Match { labels, exprs }
    }

    pub(super) fn everything() -> Self {
        Selector::Match {
            labels: Vec::new(),
            exprs: Vec::new(),
        }
    }

    pub(super) fn is_everything(&self) -> bool {
        matches!(self, Selector::Match { labels, exprs } if labels.is_empty() && exprs.is_empty())
    }

    /// A Service's plain map selector; `None` when absent, empty or invalid.
    pub(super) fn map(v: Option<&'a Value>) -> Option<Self> {
        let m = v?.as_object().filter(|m| !m.is_empty())?;
        let labels = m
            .iter()
            .map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Selector::Match {
            labels,
            exprs: Vec::new(),
        })
    }

    pub(super) fn matches(&self, pod_labels: Option<&Map<String, Value>>) -> bool {
        let Selector::Match { labels, exprs } = self else {
            return false;
        };
        let get = |k: &str| pod_labels.and_then(|m| m.get(k)).and_then(Value::as_str);
        labels.iter().all(|(k, v)| get(k) == Some(*v))
            && exprs.iter().all(|e| match e.op {
                Op::In => get(e.key).is_some_and(|x| e.values.contains(&x)),
                Op::NotIn => get(e.key).is_none_or(|x| !e.values.contains(&x)),
                Op::Exists => get(e.key).is_some(),
                Op::DoesNotExist => get(e.key).is_none(),
            })
    }

    /// `app=web, tier in (a, b)`, for messages.
    pub(super) fn describe(&self) -> String {
        let Selector::Match { labels, exprs } = self else {
            return "(none)".into();
        };
        let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for e in exprs {
            parts.push(match e.op {
                Op::In => format!("{} in ({})", e.key, e.values.join(", ")),
                Op::NotIn => format!("{} notin ({})", e.key, e.values.join(", ")),
                Op::Exists => e.key.to_owned(),
                Op::DoesNotExist => format!("!{}", e.key),
            });
        }
        if parts.is_empty() {
            "{} (everything)".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A pod-bearing object, for selector matching.
pub(super) struct Workload<'a> {
    pub(super) doc: usize,
    pub(super) doc_ref: &'a Document,
    pub(super) kind: &'a str,
    pub(super) name: &'a str,
    pub(super) ns: Option<&'a str>,
    pub(super) pod: PodRef<'a>,
    pub(super) owned: bool,
}

/// Pod templates indexed by namespace and label, so that matching a selector costs about as
/// much as the pods it could match rather than every pod in the input.
pub(super) struct PodIndex<'a> {
    pub(super) items: Vec<Workload<'a>>,
    pub(super) all: Vec<usize>,
    pub(super) by_ns: HashMap<Option<&'a str>, Vec<usize>>,
    pub(super) by_label: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    pub(super) any_ns: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> PodIndex<'a> {
    pub(super) fn new(ctx: &Context<'a>) -> Self {
        let mut index = PodIndex {
            items: Vec::new(),
            all: Vec::new(),
            by_ns: HashMap::new(),
            by_label: HashMap::new(),
            any_ns: HashMap::new(),
        };
        for (doc, d) in k8s_docs(ctx) {
            let Some(pod) = pod_ref(d) else { continue };
            let i = index.items.len();
            let ns = namespace_of(d);
            index.all.push(i);
            index.by_ns.entry(ns).or_default().push(i);
            for (k, v) in pod.labels().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    index
                        .by_label
                        .entry((ns, k.as_str(), v))
                        .or_default()
                        .push(i);
                    index.any_ns.entry((k.as_str(), v)).or_default().push(i);
                }
            }
            index.items.push(Workload {
                doc,
                doc_ref: d,
                kind: pod.kind,
                name: name_of(d),
                ns,
                pod,
                owned: owned(d),
            });
        }
        index
    }

    pub(super) fn bucket(&self, ns: Option<&'a str>) -> [&[usize]; 2] {
        match ns {
            Some(_) => [
                self.by_ns.get(&ns).map_or(&[], Vec::as_slice),
                self.by_ns.get(&None).map_or(&[], Vec::as_slice),
            ],
            None => [&self.all, &[]],
        }
    }

    pub(super) fn postings(&self, ns: Option<&'a str>, k: &'a str, v: &'a str) -> [&[usize]; 2] {
        match ns {
            Some(_) => [
                self.by_label.get(&(ns, k, v)).map_or(&[], Vec::as_slice),
                self.by_label.get(&(None, k, v)).map_or(&[], Vec::as_slice),
            ],
            None => [self.any_ns.get(&(k, v)).map_or(&[], Vec::as_slice), &[]],
        }
    }

    /// Calls `f` with each workload that may share namespace `ns` and whose pod template
    /// `sel` selects, until `f` breaks.
    pub(super) fn for_each_match(
        &self,
        ns: Option<&'a str>,
        sel: &Selector<'a>,
        mut f: impl FnMut(usize) -> ControlFlow<()>,
    ) {
        let Selector::Match { labels, exprs } = sel else {
            return;
        };
        // Candidates: the shortest posting lists among the selector's pairs and `In`
        // expressions (each must hold anyway), or every pod in reach. A pod has one value
        // per key, so the lists of one `In` expression never overlap.
        let pairs = labels.iter().map(|(k, v)| self.postings(ns, k, v).to_vec());
        let ins = exprs.iter().filter(|e| matches!(e.op, Op::In)).map(|e| {
            e.values
                .iter()
                .flat_map(|v| self.postings(ns, e.key, v))
                .collect::<Vec<_>>()
        });
        let lists = pairs
            .chain(ins)
            .min_by_key(|lists| lists.iter().map(|l| l.len()).sum::<usize>())
            .unwrap_or_else(|| self.bucket(ns).to_vec());
        for &i in lists.iter().copied().flatten() {
            if sel.matches(self.items[i].pod.labels()) && f(i).is_break() {
                return;
            }
        }
    }

    pub(super) fn any_match(&self, ns: Option<&'a str>, sel: &Selector<'a>) -> bool {
        let mut found = false;
        self.for_each_match(ns, sel, |_| {
            found = true;
            ControlFlow::Break(())
        });
        found
    }
}

/// A PodDisruptionBudget's selector: in policy/v1beta1 an empty selector selected nothing.
pub(super) fn pdb_selector(doc: &Document) -> Selector<'_> {
    let raw = spec_get(doc, &["selector"]);
    let sel = Selector::label_selector(raw);
    if sel.is_everything()
        && doc.value.get("apiVersion").and_then(Value::as_str) == Some("policy/v1beta1")
    {
        return Selector::Nothing;
    }
    sel
}
