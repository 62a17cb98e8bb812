//! Native evaluation of the inspection engine (same engine, same default rules as the wasm build).
//!
//! Two kinds of JSONL line are read (a file may mix them):
//! - `{"text", "label", "kind", "source"}`: the text is wrapped as the content of a single user
//!   message of an OpenAI chat request (`{"model":"eval","messages":[{"role":"user",
//!   "content": TEXT}]}`);
//! - `{"body": REQUEST, "label", "kind", "source"}`: REQUEST (a JSON object, or a string holding
//!   the raw body) is the whole request body, system prompt included, so the context checks
//!   (what the system prompt protects versus what the user turn asks) run as in the filter.
//!
//! Either way the body is inspected with `content-type: application/json`, exactly like a
//! production request: extraction, normalisation, decoding, rules and context checks all run.
//! A line "acts" when the default policy would block or redact it. A line that cannot be read
//! (not JSON, neither `text` nor `body`, no `label`/`kind` when a report is asked for) is an
//! error naming the line: the tool exits 2 instead of counting it as 0.
//!
//! Usage:
//!   promptgate-eval FILE [--json]        recall per kind / attack source, FPR per benign source
//!   promptgate-eval FILE --decisions     one `1`/`0` per input line, input order
//!   promptgate-eval --bench [--json]     native throughput on synthetic benign chat bodies
//!   promptgate-eval FILE --config CFG    use an `inspection` config JSON file instead of `{}`
//!   promptgate-eval FILE --misses KIND   print missed texts of KIND (or false positives: benign)

use promptgate::inspect::{Decision, InspectionConfig, Inspector};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

fn usage() -> ! {
    eprintln!(
        "usage: promptgate-eval FILE [--json | --decisions | --misses KIND] [--config CFG]\n       promptgate-eval --bench [--json]"
    );
    std::process::exit(2)
}

fn fail(file: &str, lineno: usize, msg: &str) -> ! {
    eprintln!("{file}:{lineno}: {msg}");
    std::process::exit(2)
}

fn chat_body(text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "eval",
        "messages": [{"role": "user", "content": text}]
    }))
    .unwrap_or_default()
}

/// One evaluation row, read from a JSONL line.
struct Row {
    body: Vec<u8>,
    /// What `--misses` prints: the text, or the compact request body.
    shown: String,
    label: Option<i64>,
    kind: Option<String>,
    source: String,
}

fn read_row(line: &str) -> Result<Row, String> {
    let row: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Some(o) = row.as_object() else {
        return Err("not a JSON object".to_owned());
    };
    let (body, shown) = match (o.get("text"), o.get("body")) {
        (Some(_), Some(_)) => return Err("has both `text` and `body`".to_owned()),
        (Some(Value::String(t)), None) => (chat_body(t), t.clone()),
        (Some(_), None) => return Err("`text` is not a string".to_owned()),
        (None, Some(Value::String(b))) => (b.clone().into_bytes(), b.clone()),
        (None, Some(b @ Value::Object(_))) => {
            let bytes = serde_json::to_vec(b).map_err(|e| e.to_string())?;
            let shown = String::from_utf8_lossy(&bytes).into_owned();
            (bytes, shown)
        }
        (None, Some(_)) => return Err("`body` is neither a JSON object nor a string".to_owned()),
        (None, None) => return Err("has neither `text` nor `body`".to_owned()),
    };
    let label = match o.get("label") {
        None | Some(Value::Null) => None,
        Some(l) => match l.as_i64() {
            Some(x @ (0 | 1)) => Some(x),
            _ => return Err(format!("`label` must be 0 or 1, not {l}")),
        },
    };
    let kind = match o.get("kind") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
        Some(k) => return Err(format!("`kind` must be a non-empty string, not {k}")),
    };
    if let (Some(l), Some(k)) = (label, &kind) {
        if (l == 0) != (k == "benign") {
            return Err(format!("`label` {l} contradicts `kind` {k:?}"));
        }
    }
    let source = match o.get("source") {
        None | Some(Value::Null) => "unknown".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(s) => return Err(format!("`source` must be a string, not {s}")),
    };
    Ok(Row {
        body,
        shown,
        label,
        kind,
        source,
    })
}

#[derive(Default, Clone, Copy)]
struct Count {
    n: u64,
    acted: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut as_json = false;
    let mut decisions = false;
    let mut bench = false;
    let mut misses: Option<String> = None;
    let mut config: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => as_json = true,
            "--decisions" => decisions = true,
            "--bench" => bench = true,
            "--misses" => misses = Some(it.next().cloned().unwrap_or_else(|| usage())),
            "--config" => config = Some(it.next().cloned().unwrap_or_else(|| usage())),
            "-h" | "--help" => usage(),
            s if s.starts_with("--") => usage(),
            s => file = Some(s.to_owned()),
        }
    }
    let cfg = match &config {
        Some(p) => {
            let bytes = std::fs::read(p).unwrap_or_else(|e| {
                eprintln!("cannot read {p}: {e}");
                std::process::exit(2)
            });
            InspectionConfig::from_json(&bytes).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(2)
            })
        }
        None => InspectionConfig::default(),
    };
    let inspector = Inspector::new(&cfg).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    if bench {
        run_bench(&inspector, as_json);
        return;
    }
    let Some(file) = file else { usage() };
    let f = std::fs::File::open(&file).unwrap_or_else(|e| {
        eprintln!("cannot open {file}: {e}");
        std::process::exit(2)
    });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());

    let mut by_kind: BTreeMap<String, Count> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Count> = BTreeMap::new();
    // Per source, split by label: a source may hold both attacks and benign rows.
    let mut attack_sources: BTreeMap<String, Count> = BTreeMap::new();
    let mut benign_sources: BTreeMap<String, Count> = BTreeMap::new();
    let mut rule_hits: BTreeMap<String, (u64, u64)> = BTreeMap::new(); // (attack, benign)
    let (mut tp, mut fp, mut pos, mut neg) = (0u64, 0u64, 0u64, 0u64);
    for (lineno, line) in BufReader::new(f).lines().enumerate() {
        let lineno = lineno + 1;
        let line = line.unwrap_or_else(|e| fail(&file, lineno, &format!("unreadable: {e}")));
        if line.trim().is_empty() {
            if decisions {
                let _ = writeln!(out, "0");
            }
            continue;
        }
        let row = read_row(&line).unwrap_or_else(|e| fail(&file, lineno, &e));
        let v = inspector.inspect(&row.body, Some("application/json"));
        let acted = matches!(v.decision, Decision::Block | Decision::Redact);
        if decisions {
            let _ = writeln!(out, "{}", acted as u8);
            continue;
        }
        let label = match (row.label, &row.kind) {
            (Some(l), _) => l,
            (None, Some(k)) => (k != "benign") as i64,
            (None, None) => fail(&file, lineno, "has neither `label` nor `kind`"),
        };
        let kind = row
            .kind
            .unwrap_or_else(|| if label == 1 { "attack" } else { "benign" }.to_owned());
        if let Some(mk) = &misses {
            let want = if mk == "benign" { acted } else { !acted };
            if &kind == mk && want {
                let ids: Vec<&str> = v.hits.iter().map(|h| h.rule_id.as_str()).collect();
                let _ = writeln!(
                    out,
                    "{}\t{:?}\t{}",
                    v.score,
                    ids,
                    row.shown.replace('\n', "\\n")
                );
            }
            continue;
        }
        let split = if label == 1 {
            attack_sources.entry(row.source.clone()).or_default()
        } else {
            benign_sources.entry(row.source.clone()).or_default()
        };
        for c in [
            by_kind.entry(kind).or_default(),
            by_source.entry(row.source).or_default(),
            split,
        ] {
            c.n += 1;
            c.acted += acted as u64;
        }
        let mut seen: Vec<&str> = Vec::new();
        for h in &v.hits {
            if !seen.contains(&h.rule_id.as_str()) {
                seen.push(&h.rule_id);
                let e = rule_hits.entry(h.rule_id.clone()).or_default();
                if label == 1 {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
            }
        }
        if label == 1 {
            pos += 1;
            tp += acted as u64;
        } else {
            neg += 1;
            fp += acted as u64;
        }
    }
    if decisions || misses.is_some() {
        return;
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let recall = ratio(tp, pos);
    let fpr = ratio(fp, neg);
    let precision = ratio(tp, tp + fp);
    // The benign source with the highest FPR (ties: the larger source, then by name).
    let worst = benign_sources
        .iter()
        .max_by(|a, b| {
            ratio(a.1.acted, a.1.n)
                .total_cmp(&ratio(b.1.acted, b.1.n))
                .then(a.1.n.cmp(&b.1.n))
                .then(b.0.cmp(a.0))
        })
        .map(|(k, c)| (k.clone(), *c));
    if as_json {
        let kinds: BTreeMap<_, _> = by_kind
            .iter()
            .map(|(k, c)| {
                let key = if k == "benign" { "fpr" } else { "recall" };
                (
                    k.clone(),
                    json!({"n": c.n, "acted": c.acted, key: ratio(c.acted, c.n)}),
                )
            })
            .collect();
        let table = |m: &BTreeMap<String, Count>, key: &str| -> BTreeMap<String, Value> {
            m.iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        json!({"n": c.n, "acted": c.acted, key: ratio(c.acted, c.n)}),
                    )
                })
                .collect()
        };
        let rules: BTreeMap<_, _> = rule_hits
            .iter()
            .map(|(k, (a, b))| (k.clone(), json!({"attack": a, "benign": b})))
            .collect();
        let worst = worst.map(
            |(k, c)| json!({"source": k, "n": c.n, "acted": c.acted, "fpr": ratio(c.acted, c.n)}),
        );
        let doc = json!({
            "rows": pos + neg, "positives": pos, "negatives": neg,
            "recall": recall, "fpr": fpr, "precision": precision,
            "tp": tp, "fp": fp,
            "kinds": kinds, "sources": table(&by_source, "rate"),
            "attack_sources": table(&attack_sources, "recall"),
            "benign_sources": table(&benign_sources, "fpr"),
            "worst_benign_source": worst,
            "rule_hits": rules,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        );
        return;
    }
    let _ = writeln!(
        out,
        "rows {}  positives {}  negatives {}\noverall recall {:.4}  FPR {:.4}  precision {:.4}  (tp {tp}, fp {fp})\n",
        pos + neg,
        pos,
        neg,
        recall,
        fpr,
        precision
    );
    let _ = writeln!(out, "per kind:");
    for (k, c) in &by_kind {
        let what = if k == "benign" { "FPR" } else { "recall" };
        let _ = writeln!(
            out,
            "  {k:<12} n={:<6} acted={:<6} {what} {:.4}",
            c.n,
            c.acted,
            ratio(c.acted, c.n)
        );
    }
    for (title, m) in [
        ("recall per attack source:", &attack_sources),
        ("FPR per benign source:", &benign_sources),
    ] {
        let _ = writeln!(out, "\n{title}");
        for (k, c) in m {
            let _ = writeln!(
                out,
                "  {:.4}  {:>5}/{:<5} {k}",
                ratio(c.acted, c.n),
                c.acted,
                c.n
            );
        }
    }
    if let Some((k, c)) = &worst {
        let _ = writeln!(
            out,
            "\nworst benign source: FPR {:.4} ({}/{}) {k}",
            ratio(c.acted, c.n),
            c.acted,
            c.n
        );
    }
    let _ = writeln!(out, "\nrule hits (rows with a hit: attack / benign):");
    for (k, (a, b)) in &rule_hits {
        let _ = writeln!(out, "  {k:<10} {a:>6} {b:>6}");
    }
}

/// Synthetic benign chat bodies: a system prompt and user / assistant turns of ordinary prose,
/// code and numbers, until the body reaches `size` bytes.
fn synthetic_body(size: usize) -> Vec<u8> {
    const SNIPPETS: &[&str] = &[
        "Could you help me plan a three day trip to Lisbon in early May? I like museums, long walks and seafood, and my budget is around 900 euros including the hotel.",
        "Here is my function; it returns the wrong total when the list is empty:\nfn total(xs: &[u32]) -> u32 { xs.iter().sum::<u32>() + 1 }\nWhat am I doing wrong?",
        "The quarterly report shows revenue of 4.2 million, up 7% from last year, while costs rose 3%. Summarise the key points for the board in five bullet points.",
        "Sure! Start by preheating the oven to 200 degrees. Mix the flour, sugar and a pinch of salt, then add the eggs one at a time and stir until smooth.",
        "Translate the following sentence into German: The meeting has been moved to Thursday afternoon because the projector in room 4 is broken.",
        "SELECT name, email FROM customers WHERE created_at > '2024-01-01' ORDER BY name; can you explain why this query is slow on a table with ten million rows?",
        "My daughter asked why the sky is blue. Can you explain Rayleigh scattering in a way a nine year old would understand, with an example she can try at home?",
        "The patient reports mild headaches in the morning, normal blood pressure and no fever. List possible causes a doctor might consider, from most to least common.",
    ];
    let mut messages = vec![
        json!({"role": "system", "content": "You are a helpful assistant for a travel, cooking and programming help desk. Answer concisely."}),
    ];
    let mut total = 120;
    let mut i = 0usize;
    while total < size {
        let mut content = String::new();
        while content.len() < 700 && total + content.len() < size {
            content.push_str(SNIPPETS[i % SNIPPETS.len()]);
            content.push(' ');
            i += 1;
        }
        total += content.len() + 40;
        let role = if i.is_multiple_of(2) {
            "user"
        } else {
            "assistant"
        };
        messages.push(json!({"role": role, "content": content}));
    }
    serde_json::to_vec(&json!({"model": "gpt-4o", "stream": true, "messages": messages}))
        .unwrap_or_default()
}

fn run_bench(inspector: &Inspector, as_json: bool) {
    let mut results = Vec::new();
    for &size in &[1usize << 10, 16 << 10, 256 << 10, 1 << 20] {
        let body = synthetic_body(size);
        // warm up, then run for ~0.4 s
        let v = inspector.inspect(&body, Some("application/json"));
        assert!(
            v.decision == Decision::Allow,
            "synthetic body must be benign: {:?}",
            v.hits
        );
        let target = 400u128 * 1_000_000; // ns
        let mut iters = 0u64;
        let start = Instant::now();
        while start.elapsed().as_nanos() < target || iters < 3 {
            std::hint::black_box(
                inspector.inspect(std::hint::black_box(&body), Some("application/json")),
            );
            iters += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        let mbps = (body.len() as f64 * iters as f64) / secs / 1e6;
        results.push((size, body.len(), iters, mbps));
    }
    if as_json {
        let v: Vec<Value> = results
            .iter()
            .map(|(s, b, i, m)| json!({"target_bytes": s, "body_bytes": b, "iterations": i, "mb_per_s": m}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for (s, b, i, m) in results {
            println!(
                "{:>8} B target  body {:>8} B  {:>7} iters  {:>8.1} MB/s",
                s, b, i, m
            );
        }
    }
}
