//! Native evaluation of the inspection engine (same engine, same default rules as the wasm build).
//!
//! Each JSONL line `{"text", "label", "kind", "source"}` is wrapped as the content of a single
//! user message of an OpenAI chat request (`{"model":"eval","messages":[{"role":"user",
//! "content": TEXT}]}`) and inspected with `content-type: application/json`, exactly like a
//! production request: extraction, normalisation, decoding and rules all run. A line "acts"
//! when the default policy would block or redact it.
//!
//! Usage:
//!   promptgate-eval FILE [--json]        recall per kind / source, FPR, precision, rule hits
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

fn chat_body(text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "eval",
        "messages": [{"role": "user", "content": text}]
    }))
    .unwrap_or_default()
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
    let mut rule_hits: BTreeMap<String, (u64, u64)> = BTreeMap::new(); // (attack, benign)
    let (mut tp, mut fp, mut pos, mut neg) = (0u64, 0u64, 0u64, 0u64);
    for (lineno, line) in BufReader::new(f).lines().enumerate() {
        let line = line.unwrap_or_default();
        if line.trim().is_empty() {
            if decisions {
                let _ = writeln!(out, "0");
            }
            continue;
        }
        let row: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            eprintln!("line {}: {e}", lineno + 1);
            Value::Null
        });
        let text = row.get("text").and_then(Value::as_str).unwrap_or("");
        let v = inspector.inspect(&chat_body(text), Some("application/json"));
        let acted = matches!(v.decision, Decision::Block | Decision::Redact);
        if decisions {
            let _ = writeln!(out, "{}", acted as u8);
            continue;
        }
        let label = row.get("label").and_then(Value::as_i64).unwrap_or(0);
        let kind = row
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or(if label == 1 { "attack" } else { "benign" })
            .to_owned();
        let source = row
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        if let Some(mk) = &misses {
            let want = if mk == "benign" { acted } else { !acted };
            if &kind == mk && want {
                let ids: Vec<&str> = v.hits.iter().map(|h| h.rule_id.as_str()).collect();
                let _ = writeln!(out, "{}\t{:?}\t{}", v.score, ids, text.replace('\n', "\\n"));
            }
            continue;
        }
        for c in [
            by_kind.entry(kind).or_default(),
            by_source.entry(source).or_default(),
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
        let sources: BTreeMap<_, _> = by_source
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    json!({"n": c.n, "acted": c.acted, "rate": ratio(c.acted, c.n)}),
                )
            })
            .collect();
        let rules: BTreeMap<_, _> = rule_hits
            .iter()
            .map(|(k, (a, b))| (k.clone(), json!({"attack": a, "benign": b})))
            .collect();
        let doc = json!({
            "rows": pos + neg, "positives": pos, "negatives": neg,
            "recall": recall, "fpr": fpr, "precision": precision,
            "tp": tp, "fp": fp,
            "kinds": kinds, "sources": sources, "rule_hits": rules,
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
    let _ = writeln!(
        out,
        "\nper source (rate = recall for attack sources, FPR for benign):"
    );
    for (k, c) in &by_source {
        let _ = writeln!(
            out,
            "  {:.4}  {:>5}/{:<5} {k}",
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
