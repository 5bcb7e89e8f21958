//! Search (issue 16): index 10,000 entities and 5,000 docs pages (< 5 s), search p99
//! (< 10 ms) and type-ahead p99 (< 5 ms), side by side with Lunr, the engine Backstage's
//! search backend uses by default, on the same documents and queries.
//!
//! The documents are generated (seeded): names of two made-up words, titles, descriptions,
//! tags and owners from a 3,000-word vocabulary with a skewed (Zipf-like) frequency, and
//! docs pages of ~350 words of Markdown with headings. Queries: exact names, single words,
//! words with one typo, two words; type-ahead: 2 to 8 first letters of names.
//!
//! Lunr (`--lunr <dir>` holding `node_modules/lunr`): the same texts (name, title, text,
//! tags, owner; the pages' text without markup) in Node, queried the way Backstage's
//! `LunrSearchEngine` translates a term (each word exactly with the pipeline, boost 100; as
//! a trailing wildcard, boost 10; within edit distance 2, boost 1).
//!
//! Usage: `bench/search.sh` or `target/release/search-bench [--lunr DIR] [--entities 10000]
//! [--pages 5000] [--queries 2000]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_search::{PageDoc, SearchIndex, SearchRequest, Site};
use pave_testkit::{arg, percentile};
use serde_json::{Value, json};

/// A small seeded generator (xorshift), so every run indexes the same documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards the front: a few words are common, most are rare.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }
}

fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st",
        "tr", "pl", "gr", "sh", "ch",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ea"];
    let mut seen = HashSet::new();
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let syllables = 2 + rng.below(3);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(ONSETS[rng.below(ONSETS.len())]);
            w.push_str(VOWELS[rng.below(VOWELS.len())]);
        }
        if rng.below(3) == 0 {
            w.push_str(["n", "r", "s", "t", "x"][rng.below(5)]);
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String], n: usize) -> String {
    (0..n)
        .map(|_| words[rng.skewed(words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// (entity key, name, Markdown pages (path, text))
type GeneratedSite = (String, String, Vec<(String, String)>);

struct Corpus {
    /// (key, hash, JSON)
    entities: Vec<(String, String, String)>,
    sites: Vec<GeneratedSite>,
    names: Vec<String>,
    words: Vec<String>,
}

fn corpus(entities: usize, pages: usize) -> Corpus {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words = vocabulary(&mut rng, 3_000);
    let tags: Vec<&String> = words.iter().take(120).collect();
    let kinds = [
        ("Component", "service"),
        ("Component", "website"),
        ("Component", "library"),
        ("API", "openapi"),
        ("Resource", "database"),
    ];
    let mut seen = HashSet::new();
    let mut names = Vec::with_capacity(entities);
    let mut out = Vec::with_capacity(entities);
    while out.len() < entities {
        let name = format!(
            "{}-{}",
            words[rng.below(words.len())],
            words[rng.below(words.len())]
        );
        if !seen.insert(name.clone()) {
            continue;
        }
        let (kind, spec_type) = kinds[rng.below(kinds.len())];
        let entity_tags: Vec<&String> = (0..1 + rng.below(3))
            .map(|_| tags[rng.skewed(tags.len())])
            .collect();
        let owner = format!("team-{}", words[rng.below(200)]);
        let title = name
            .split('-')
            .map(capitalised)
            .collect::<Vec<_>>()
            .join(" ");
        let length = 8 + rng.below(16);
        let description = capitalised(&sentence(&mut rng, &words, length));
        let json = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": name, "namespace": "default", "title": title,
                "description": description, "tags": entity_tags},
            "spec": {"type": spec_type, "owner": format!("group:default/{owner}"),
                "lifecycle": "production"}
        });
        let key = format!("{}:default/{name}", kind.to_lowercase());
        out.push((key, format!("h{}", out.len()), json.to_string()));
        names.push(name);
    }
    // Pages: five per site, on the first components.
    let mut sites = Vec::new();
    let mut made = 0;
    for (key, _, json) in &out {
        if made >= pages {
            break;
        }
        let name = key.rsplit('/').next().unwrap().to_owned();
        let _: Value = serde_json::from_str(json).unwrap();
        let mut site_pages = Vec::new();
        for path in [
            "index.md",
            "runbook.md",
            "architecture.md",
            "guides/setup.md",
            "guides/operations.md",
        ] {
            if made >= pages {
                break;
            }
            let mut md = format!(
                "# {} {}\n\n",
                capitalised(&name),
                path.trim_end_matches(".md")
            );
            for _ in 0..4 {
                md.push_str(&format!(
                    "## {}\n\n",
                    capitalised(&sentence(&mut rng, &words, 3))
                ));
                md.push_str(&capitalised(&sentence(&mut rng, &words, 80)));
                md.push_str(".\n\n```sh\nkubectl rollout restart deploy/");
                md.push_str(&name);
                md.push_str("\n```\n\n");
            }
            site_pages.push((path.to_owned(), md));
            made += 1;
        }
        sites.push((key.clone(), name, site_pages));
    }
    Corpus {
        entities: out,
        sites,
        names,
        words,
    }
}

/// What people type: exact names, words, one typo, two words.
fn queries(rng: &mut Rng, c: &Corpus, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 4 {
            0 => c.names[rng.below(c.names.len())].clone(),
            1 => c.words[rng.skewed(c.words.len())].clone(),
            2 => {
                let mut w: Vec<char> = c.words[rng.below(c.words.len())].chars().collect();
                let at = rng.below(w.len());
                w[at] = if w[at] == 'x' { 'q' } else { 'x' };
                w.into_iter().collect()
            }
            _ => format!(
                "{} {}",
                c.words[rng.skewed(c.words.len())],
                c.words[rng.skewed(c.words.len())]
            ),
        })
        .collect()
}

/// What the header box sends while a name is typed.
fn prefixes(rng: &mut Rng, c: &Corpus, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let name = &c.names[rng.below(c.names.len())];
            let len = (2 + rng.below(7)).min(name.len());
            name[..len].to_owned()
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn page_docs(c: &Corpus) -> Vec<Site> {
    c.sites
        .iter()
        .map(|(key, name, pages)| Site {
            entity_key: key.clone(),
            fingerprint: 1,
            pages: pages
                .iter()
                .map(|(path, md)| {
                    let (title, headings, body) = pave_search::page_text(md);
                    PageDoc {
                        entity_key: key.clone(),
                        entity_name: name.clone(),
                        entity_kind: "Component".into(),
                        location: format!("/catalog/default/component/{name}/docs/{path}"),
                        path: path.clone(),
                        title: title.unwrap_or_default(),
                        headings,
                        body,
                        ..PageDoc::default()
                    }
                })
                .collect(),
        })
        .collect()
}

/// Builds the index; the time includes reading the entities' JSON and the pages' Markdown.
fn build(c: &Corpus, threads: usize) -> (SearchIndex, Duration) {
    let started = Instant::now();
    let index = SearchIndex::new(threads).unwrap();
    index
        .sync_entities(
            c.entities
                .iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    index.sync_pages(page_docs(c), true).unwrap();
    (index, started.elapsed())
}

fn timed(index: &SearchIndex, texts: &[String], typeahead: bool) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(texts.len());
    let mut found = 0;
    for text in texts {
        let mut r = SearchRequest::new(text);
        r.typeahead = typeahead;
        r.limit = if typeahead { 8 } else { 25 };
        let started = Instant::now();
        let results = index.search(&r).unwrap();
        times.push(started.elapsed());
        found += usize::from(results.total > 0);
    }
    times.sort();
    (times, found)
}

const LUNR_SCRIPT: &str = r#"
const lunr = require(process.argv[2]);
const fs = require('fs');
const docs = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const sets = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
let t = process.hrtime.bigint();
const idx = lunr(function () {
  this.ref('id');
  for (const f of ['name', 'title', 'text', 'tags', 'owner']) this.field(f);
  for (const d of docs) this.add(d);
});
const indexMs = Number(process.hrtime.bigint() - t) / 1e6;
// Backstage's LunrSearchEngine: each term exactly (pipeline), as a prefix, within 2 edits.
function run(term) {
  return idx.query(q => {
    const tokens = lunr.tokenizer(term);
    q.term(tokens, { usePipeline: true, boost: 100 });
    q.term(tokens, { usePipeline: false, boost: 10, wildcard: lunr.Query.wildcard.TRAILING });
    q.term(tokens, { usePipeline: false, editDistance: 2, boost: 1 });
  });
}
const out = { indexMs, sets: {} };
for (const [name, texts] of Object.entries(sets)) {
  const times = [];
  let found = 0;
  for (const text of texts) {
    const s = process.hrtime.bigint();
    const r = run(text);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (r.length > 0) found++;
  }
  out.sets[name] = { times, found };
}
console.log(JSON.stringify(out));
"#;

struct Peer {
    index: Duration,
    search: (Vec<Duration>, usize),
    typeahead: (Vec<Duration>, usize),
}

fn lunr(dir: &Path, c: &Corpus, searches: &[String], typeahead: &[String]) -> Peer {
    let tmp = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for (key, _, json) in &c.entities {
        let v: Value = serde_json::from_str(json).unwrap();
        docs.push(json!({
            "id": key,
            "name": v["metadata"]["name"],
            "title": v["metadata"]["title"],
            "text": v["metadata"]["description"],
            "tags": v["metadata"]["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect::<Vec<_>>().join(" "),
            "owner": v["spec"]["owner"],
        }));
    }
    for site in page_docs(c) {
        for p in site.pages {
            docs.push(json!({
                "id": p.location, "name": p.entity_name, "title": p.title,
                "text": p.body, "tags": "", "owner": "",
            }));
        }
    }
    let docs_file = tmp.path().join("docs.json");
    std::fs::write(&docs_file, serde_json::to_vec(&docs).unwrap()).unwrap();
    let sets_file = tmp.path().join("queries.json");
    std::fs::write(
        &sets_file,
        serde_json::to_vec(&json!({"search": searches, "typeahead": typeahead})).unwrap(),
    )
    .unwrap();
    let script = tmp.path().join("lunr-bench.js");
    std::fs::File::create(&script)
        .unwrap()
        .write_all(LUNR_SCRIPT.as_bytes())
        .unwrap();
    let output = Command::new("node")
        .arg("--max-old-space-size=4096")
        .arg(&script)
        .arg(dir.join("node_modules/lunr"))
        .arg(&docs_file)
        .arg(&sets_file)
        .output()
        .expect("node");
    assert!(
        output.status.success(),
        "lunr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    let set = |name: &str| {
        let mut times: Vec<Duration> = out["sets"][name]["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| Duration::from_secs_f64(t.as_f64().unwrap() / 1e3))
            .collect();
        times.sort();
        (times, out["sets"][name]["found"].as_u64().unwrap() as usize)
    };
    Peer {
        index: Duration::from_secs_f64(out["indexMs"].as_f64().unwrap() / 1e3),
        search: set("search"),
        typeahead: set("typeahead"),
    }
}

fn main() {
    let entities: usize = arg("--entities").map_or(10_000, |v| v.parse().unwrap());
    let pages: usize = arg("--pages").map_or(5_000, |v| v.parse().unwrap());
    let n: usize = arg("--queries").map_or(2_000, |v| v.parse().unwrap());
    let lunr_dir = arg("--lunr").map(PathBuf::from);
    let c = corpus(entities, pages);
    let page_count: usize = c.sites.iter().map(|s| s.2.len()).sum();
    let bytes: usize = c.sites.iter().flat_map(|s| &s.2).map(|p| p.1.len()).sum();
    println!(
        "{} entities, {page_count} docs pages ({:.1} MB of Markdown), {n} searches, {n} type-ahead queries",
        c.entities.len(),
        bytes as f64 / 1e6
    );
    let mut rng = Rng(42);
    let searches = queries(&mut rng, &c, n);
    let typeahead = prefixes(&mut rng, &c, n);

    let (_, two) = build(&c, 2);
    let (index, one) = build(&c, 1);
    // Warm up (the first queries build tantivy's Levenshtein tables).
    timed(&index, &searches[..20.min(searches.len())], false);
    let (search, search_found) = timed(&index, &searches, false);
    let (ahead, ahead_found) = timed(&index, &typeahead, true);
    // An update: 100 entities changed, as a refresh of a few repositories.
    let mut changed = c.entities.clone();
    for e in changed.iter_mut().take(100) {
        e.1.push('x');
    }
    let started = Instant::now();
    let synced = index
        .sync_entities(
            changed
                .iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    let update = started.elapsed();
    assert_eq!(synced.updated, 100);

    let peer = lunr_dir.map(|dir| {
        // Lunr's fuzzy queries take long: a quarter of the queries is plenty for percentiles.
        let k = (n / 4).max(50).min(n);
        lunr(&dir, &c, &searches[..k], &typeahead[..k])
    });

    println!();
    println!("| measure | pave (tantivy) | Lunr 2.3.9 (Backstage's default) | target |");
    println!("|---|---|---|---|");
    let peer_cell = |f: &dyn Fn(&Peer) -> String| peer.as_ref().map_or("–".to_owned(), f);
    println!(
        "| index {} entities + {page_count} pages, 1 thread (as served) | {} | {} | < 5 s |",
        c.entities.len(),
        secs(one),
        peer_cell(&|p| secs(p.index)),
    );
    println!("| the same, 2 threads | {} | | |", secs(two));
    println!(
        "| search p50 / p99 | {} / {} | {} / {} | p99 < 10 ms |",
        ms(percentile(&search, 0.5)),
        ms(percentile(&search, 0.99)),
        peer_cell(&|p| ms(percentile(&p.search.0, 0.5))),
        peer_cell(&|p| ms(percentile(&p.search.0, 0.99))),
    );
    println!(
        "| type-ahead p50 / p99 | {} / {} | {} / {} | p99 < 5 ms |",
        ms(percentile(&ahead, 0.5)),
        ms(percentile(&ahead, 0.99)),
        peer_cell(&|p| ms(percentile(&p.typeahead.0, 0.5))),
        peer_cell(&|p| ms(percentile(&p.typeahead.0, 0.99))),
    );
    println!(
        "| queries with results (search, type-ahead) | {search_found}/{n}, {ahead_found}/{n} | {} | |",
        peer_cell(&|p| format!(
            "{}/{}, {}/{}",
            p.search.1,
            p.search.0.len(),
            p.typeahead.1,
            p.typeahead.0.len()
        )),
    );
    println!(
        "| 100 changed entities re-indexed | {} | (rebuilds the whole index) | |",
        ms(update)
    );
}
