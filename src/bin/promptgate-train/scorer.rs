//! `promptgate-train scorer`: fits the learned scorer (src/inspect/scorer.rs), a logistic
//! regression per attack kind over the hashed features that file computes, and measures it
//! leave-one-source-out.
//!
//!   promptgate-train scorer --dev JSONL [--po DIR...] [--code DIR...] [--sql DIR...] --out FILE
//!   promptgate-train scorer --dev JSONL [--po DIR...] [--code DIR...] [--sql DIR...] --loso
//!
//! Training rows: the dev set's rows except those of the sources in [`HELD_OUT`] (licences that
//! do not allow it, or sources the project is evaluated on), each cut to its first
//! [`scorer::WINDOW`] bytes; benign chunks of translations (`.po`), of code and its docs, and of
//! SQL queries (`.sql`).
//! Head `k` learns rows of kind `k` against benign rows (other attack kinds are left out of
//! it). Reproducible byte for byte: rows in file order, a seeded shuffle, `f32` arithmetic in a
//! fixed order.
//!
//! `--loso` trains once per source group (a dev-set repository, `po`, `code`) without that
//! group and scores the group's rows with the quantised model exactly as the filter does; the
//! held-out sources are scored by the model trained on every group. It prints, per threshold,
//! the recall of each attack source and the false-positive rate of each benign source, for the
//! model alone and for the rule pack or the model.

use super::corpus::{self, die};
use promptgate::inspect::scorer::{self, HEADS, HEAD_NAMES};
use promptgate::inspect::{Decision, InspectionConfig, Inspector};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;

/// Source prefixes never trained on: CC BY-NC 4.0 (Alpaca / Code Alpaca extensions), no licence
/// stated (the SQL set), or evaluation sources of the project (InjecGuard, LLaMA-Factory).
/// They are scored as unseen sources.
pub const HELD_OUT: &[&str] = &[
    "gururise/",
    "sahil280114/",
    "RohanHavannavar/",
    "SaFoLab-WISC/",
    "hiyouga/",
];

const EPOCHS: usize = 6;
const RATE: f32 = 0.5;
const L2: f32 = 2e-4;
const SEED: u64 = 0x5eed_5c0e;
const CAP_PO: usize = 1 << 20;
const CAP_CODE: usize = 3 << 20;
const CAP_SQL: usize = 1 << 20;
/// A rule-pack score that counts as a weak signal (the pack acts at 40 by default).
const WEAK: u32 = 20;
const THRESHOLDS: &[f32] = &[0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];

struct Row {
    text: String,
    group: String,
    source: String,
    label: i64,
    kind: String,
    held_out: bool,
    /// Sparse features of the first window: (bucket, value), buckets ascending.
    x: Vec<(u32, f32)>,
}

/// The features of a row's first window as the filter weighs them (`Model::score_window`):
/// present or not, scaled by 1 / sqrt(distinct features); buckets ascending.
fn sparse(text: &[u8]) -> Vec<(u32, f32)> {
    let mut b = Vec::new();
    scorer::features(&text[..text.len().min(scorer::WINDOW)], |i| b.push(i));
    b.sort_unstable();
    b.dedup();
    let norm = 1.0 / (b.len().max(1) as f32).sqrt();
    b.into_iter().map(|i| (i, norm)).collect()
}

/// The head a row trains: `Some(h)` for an attack of kind `h`, `None` for benign, and rows of
/// other kinds are skipped by the caller.
fn head_of(kind: &str) -> Option<usize> {
    HEAD_NAMES.iter().position(|&k| k == kind)
}

fn chunks(texts: &[String], size: usize, cap: usize, group: &str, out: &mut Vec<Row>) {
    let mut cur = String::new();
    let mut used = 0;
    let push = |cur: &mut String, out: &mut Vec<Row>| {
        if !cur.trim().is_empty() {
            out.push(Row {
                x: sparse(cur.as_bytes()),
                text: std::mem::take(cur),
                group: group.to_owned(),
                source: group.to_owned(),
                label: 0,
                kind: "benign".to_owned(),
                held_out: false,
            });
        }
        cur.clear();
    };
    'all: for t in texts {
        for line in t.split_inclusive('\n') {
            if used >= cap {
                break 'all;
            }
            if cur.len() + line.len() > size && !cur.is_empty() {
                push(&mut cur, out);
            }
            cur.push_str(line);
            used += line.len();
        }
        if !cur.ends_with('\n') {
            cur.push('\n');
        }
    }
    push(&mut cur, out);
}

fn read_rows(dev: &str, po: &[String], code: &[String], sql: &[String]) -> Vec<Row> {
    let f = std::fs::File::open(dev).unwrap_or_else(|e| die(format!("{dev}: {e}")));
    let mut rows = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.unwrap_or_else(|e| die(format!("{dev}:{}: {e}", i + 1)));
        let r: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| die(format!("{dev}:{}: {e}", i + 1)));
        let (Some(text), Some(label), Some(source)) = (
            r["text"].as_str(),
            r["label"].as_i64(),
            r["source"].as_str(),
        ) else {
            die(format!("{dev}:{}: needs text, label and source", i + 1))
        };
        let kind = r["kind"]
            .as_str()
            .unwrap_or(if label == 1 { "attack" } else { "benign" });
        rows.push(Row {
            x: sparse(text.as_bytes()),
            text: text.to_owned(),
            group: source.split(':').next().unwrap_or(source).to_owned(),
            source: source.to_owned(),
            label,
            kind: kind.to_owned(),
            held_out: HELD_OUT.iter().any(|p| source.starts_with(p)),
        });
    }
    let (_, po_texts) = corpus::po_texts(po);
    // Every k-th string, so the cap does not cut off the last locales.
    let total: usize = po_texts.iter().map(String::len).sum();
    let stride = total / CAP_PO.max(1) + 1;
    let sampled: Vec<String> = po_texts.into_iter().step_by(stride).collect();
    chunks(&sampled, 400, CAP_PO, "po", &mut rows);
    let (_, code_texts) = corpus::code_texts(code);
    chunks(&code_texts, scorer::WINDOW, CAP_CODE, "code", &mut rows);
    let mut sql_files = Vec::new();
    for d in sql {
        corpus::files(std::path::Path::new(d), &[".sql"], &mut sql_files);
    }
    // Queries as people paste them; not a parser's grammar torture test (identity.sql).
    let sql_texts: Vec<String> = sql_files
        .iter()
        .filter(|p| !p.ends_with("identity.sql") && !p.to_string_lossy().contains("invalid"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    chunks(&sql_texts, 300, CAP_SQL, "sql", &mut rows);
    rows
}

struct Fit {
    w: Vec<[f32; HEADS]>,
    b: [f32; HEADS],
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Logistic regression per head by SGD over the rows `use_row` admits.
fn fit(rows: &[Row], use_row: impl Fn(&Row) -> bool) -> Fit {
    let idx: Vec<usize> = (0..rows.len())
        .filter(|&i| !rows[i].held_out && use_row(&rows[i]))
        .collect();
    let mut pos = [0f32; HEADS];
    let mut neg = 0f32;
    for &i in &idx {
        match head_of(&rows[i].kind) {
            Some(h) if rows[i].label == 1 => pos[h] += 1.0,
            _ if rows[i].label == 0 => neg += 1.0,
            _ => {}
        }
    }
    // Each class weighs as much as the benign rows in total.
    let wpos: [f32; HEADS] = std::array::from_fn(|h| (neg / pos[h].max(1.0)).clamp(1.0, 50.0));
    let mut w = vec![[0f32; HEADS]; 1 << scorer::BITS];
    let mut b = [0f32; HEADS];
    let mut order = idx.clone();
    let mut seed = SEED;
    for epoch in 0..EPOCHS {
        for i in (1..order.len()).rev() {
            let j = (xorshift(&mut seed) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let rate = RATE / (1.0 + epoch as f32).sqrt();
        for &i in &order {
            let r = &rows[i];
            let target = if r.label == 1 { head_of(&r.kind) } else { None };
            if r.label == 1 && target.is_none() {
                continue;
            }
            for h in 0..HEADS {
                let (y, cw) = match target {
                    Some(t) if t == h => (1.0, wpos[h]),
                    Some(_) => continue,
                    None => (0.0, 1.0),
                };
                let z = b[h] + r.x.iter().map(|&(f, v)| w[f as usize][h] * v).sum::<f32>();
                let g = (scorer::sigmoid(z) - y) * cw * rate;
                for &(f, v) in &r.x {
                    w[f as usize][h] -= g * v;
                }
                b[h] -= g;
            }
        }
        let shrink = 1.0 - L2 * rate * 100.0;
        for e in w.iter_mut() {
            for v in e.iter_mut() {
                *v *= shrink;
            }
        }
    }
    Fit { w, b }
}

/// The model file of a fit: weights quantised to one signed byte per head.
fn quantise(fit: &Fit, version: &str) -> Vec<u8> {
    let mut scale = [0f32; HEADS];
    for h in 0..HEADS {
        let m = fit.w.iter().map(|e| e[h].abs()).fold(0f32, f32::max);
        scale[h] = if m > 0.0 { m / 127.0 } else { 1.0 };
    }
    let mut q = vec![0i8; HEADS << scorer::BITS];
    for (i, e) in fit.w.iter().enumerate() {
        for h in 0..HEADS {
            q[i * HEADS + h] = (e[h] / scale[h]).round().clamp(-127.0, 127.0) as i8;
        }
    }
    // The version names the weights: FNV-1a of the quantised table.
    let mut d: u32 = 0x811c_9dc5;
    for &v in &q {
        d = (d ^ v as u8 as u32).wrapping_mul(0x0100_0193);
    }
    let v = format!("{version}-{:05x}", d >> 12);
    scorer::write(&v, &fit.b, &scale, &q)
}

fn score_all(model: &[u8], rows: &[Row], which: impl Fn(&Row) -> bool, out: &mut [[f32; HEADS]]) {
    let m = scorer::Model::parse(model).unwrap_or_else(|| die("model shape".into()));
    for (i, r) in rows.iter().enumerate() {
        if which(r) {
            let mut budget = scorer::MAX_BYTES;
            out[i] = m.score(r.text.as_bytes(), &mut budget);
        }
    }
}

pub fn main(args: &[String]) {
    let mut dev = None;
    let mut po = Vec::new();
    let mut code = Vec::new();
    let mut sql = Vec::new();
    let mut out = None;
    let mut loso = false;
    let mut version = "unversioned".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| die(format!("{a} needs a value")))
        };
        match a.as_str() {
            "--dev" => dev = Some(val()),
            "--po" => po.push(val()),
            "--code" => code.push(val()),
            "--sql" => sql.push(val()),
            "--out" => out = Some(val()),
            "--version" => version = val(),
            "--loso" => loso = true,
            _ => die(format!("promptgate-train scorer: unknown argument {a}")),
        }
    }
    let Some(dev) = dev else {
        die("promptgate-train scorer: --dev JSONL is required".into())
    };
    let rows = read_rows(&dev, &po, &code, &sql);
    let trained = rows.iter().filter(|r| !r.held_out).count();
    eprintln!(
        "{} rows, {trained} trained on ({} po, {} code, {} sql chunks)",
        rows.len(),
        rows.iter().filter(|r| r.group == "po").count(),
        rows.iter().filter(|r| r.group == "code").count(),
        rows.iter().filter(|r| r.group == "sql").count()
    );
    if let Some(out) = out {
        let model = quantise(&fit(&rows, |_| true), &version);
        std::fs::write(&out, &model).unwrap_or_else(|e| die(format!("{out}: {e}")));
        eprintln!("wrote {out} ({} bytes)", model.len());
    }
    if loso {
        run_loso(&rows, &version);
    }
}

fn run_loso(rows: &[Row], version: &str) {
    let mut oof = vec![[0f32; HEADS]; rows.len()];
    let mut groups: Vec<&str> = rows
        .iter()
        .filter(|r| !r.held_out)
        .map(|r| r.group.as_str())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    for g in &groups {
        let model = quantise(&fit(rows, |r| r.group != *g), version);
        score_all(&model, rows, |r| r.group == *g, &mut oof);
        eprintln!("fold without {g} done");
    }
    let full = quantise(&fit(rows, |_| true), version);
    score_all(&full, rows, |r| r.held_out, &mut oof);

    let cfg = InspectionConfig {
        model_check: false,
        ..InspectionConfig::default()
    };
    let insp = Inspector::new(&cfg).unwrap_or_else(|e| die(e.to_string()));
    // Per row: the rule pack acts; per head, the rule pack scored a weak signal (a hit of the
    // head's category, a score >= WEAK) without acting.
    let (rules, weak): (Vec<bool>, Vec<[bool; HEADS]>) = rows
        .iter()
        .map(|r| {
            let body = serde_json::to_vec(&serde_json::json!({
                "model": "eval", "messages": [{"role": "user", "content": r.text}]
            }))
            .unwrap_or_default();
            let v = insp.inspect(&body, Some("application/json"));
            let acts = matches!(v.decision, Decision::Block | Decision::Redact);
            let w = !acts && v.score >= WEAK;
            let cat = |h: usize| {
                w && v
                    .hits
                    .iter()
                    .any(|x| x.score > 0 && x.category == HEAD_NAMES[h])
            };
            (acts, std::array::from_fn(cat))
        })
        .unzip();
    print_deployed(rows, &oof, &rules, &weak);
    // (kind, source) -> (n, rules, per threshold: model, union)
    type Tally = (u32, u32, Vec<(u32, u32, u32)>);
    for (h, name) in HEAD_NAMES.iter().enumerate() {
        let mut by: BTreeMap<(i64, String), Tally> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            if r.label == 1 && r.kind != *name {
                continue;
            }
            if matches!(r.group.as_str(), "po" | "code" | "sql") {
                continue;
            }
            let tag = if r.held_out { " (unseen)" } else { "" };
            let e = by
                .entry((r.label, format!("{}{tag}", short(&r.source))))
                .or_insert((0, 0, vec![(0, 0, 0); THRESHOLDS.len()]));
            e.0 += 1;
            e.1 += rules[i] as u32;
            for (k, &t) in THRESHOLDS.iter().enumerate() {
                let m = oof[i][h] >= t;
                e.2[k].0 += m as u32;
                e.2[k].1 += (m || rules[i]) as u32;
                e.2[k].2 += (rules[i] || (m && weak[i][h])) as u32;
            }
        }
        // code / po chunks: the model's false positives on them, out of fold.
        for g in ["code", "po", "sql"] {
            let e = by.entry((0, format!("{g} chunks"))).or_insert((
                0,
                0,
                vec![(0, 0, 0); THRESHOLDS.len()],
            ));
            for (i, _) in rows.iter().enumerate().filter(|(_, r)| r.group == g) {
                e.0 += 1;
                for (k, &t) in THRESHOLDS.iter().enumerate() {
                    e.2[k].0 += (oof[i][h] >= t) as u32;
                    e.2[k].1 += (oof[i][h] >= t) as u32;
                    e.2[k].2 += (oof[i][h] >= t) as u32;
                }
            }
        }
        println!("\n## head {name}: rate out of fold (model alone / rules or model / rules or (weak rule signal and model))");
        print!("{:<58} {:>5} {:>6}", "source", "n", "rules");
        for t in THRESHOLDS {
            print!("  {t:>17}");
        }
        println!();
        for ((label, src), (n, r, ks)) in by.iter().rev() {
            let what = if *label == 1 { "recall" } else { "FPR" };
            print!(
                "{:<58} {n:>5} {:>6.3}",
                format!("{what} {src}"),
                *r as f32 / *n as f32
            );
            let f = |x: u32| x as f32 / *n as f32;
            for (m, u, w) in ks {
                print!("  {:.3}/{:.3}/{:.3}", f(*m), f(*u), f(*w));
            }
            println!();
        }
    }
}

/// The deployed combination (`inspection.model_decides`): rules, or an SQLi probability at or
/// above [`scorer::BAR`] (`MDL-001`), or an injection or jailbreak probability at or above it
/// with a weak rule signal of the same category (`MDL-002`); per source, out of fold.
fn print_deployed(rows: &[Row], oof: &[[f32; HEADS]], rules: &[bool], weak: &[[bool; HEADS]]) {
    let mut by: BTreeMap<(i64, String), (u32, u32, u32)> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if matches!(r.group.as_str(), "po" | "code" | "sql") {
            continue;
        }
        let m = oof[i][scorer::SQLI] >= scorer::BAR
            || [scorer::INJECTION, scorer::JAILBREAK]
                .iter()
                .any(|&h| oof[i][h] >= scorer::BAR && weak[i][h]);
        let tag = if r.held_out { " (unseen)" } else { "" };
        let e = by
            .entry((r.label, format!("{} {}{tag}", r.kind, short(&r.source))))
            .or_insert((0, 0, 0));
        e.0 += 1;
        e.1 += rules[i] as u32;
        e.2 += (rules[i] || m) as u32;
    }
    println!(
        "\n## deployed (model_decides, bar {}): rules / rules with MDL-001 and MDL-002, out of fold",
        scorer::BAR
    );
    let (mut tot_n, mut tot_r, mut tot_d) = ([0u32; 2], [0u32; 2], [0u32; 2]);
    for ((label, src), (n, r, d)) in by.iter().rev() {
        let what = if *label == 1 { "recall" } else { "FPR" };
        println!(
            "{:<72} {n:>5}  {:.4}  {:.4}",
            format!("{what} {src}"),
            *r as f32 / *n as f32,
            *d as f32 / *n as f32
        );
        let k = (*label == 1) as usize;
        tot_n[k] += n;
        tot_r[k] += r;
        tot_d[k] += d;
    }
    for (k, what) in [(1, "recall, all attacks"), (0, "FPR, all benign rows")] {
        println!(
            "{what:<72} {:>5}  {:.4}  {:.4}",
            tot_n[k],
            tot_r[k] as f32 / tot_n[k].max(1) as f32,
            tot_d[k] as f32 / tot_n[k].max(1) as f32
        );
    }
}

fn short(source: &str) -> String {
    let (repo, path) = source.split_once(':').unwrap_or((source, ""));
    let file = path.rsplit('/').next().unwrap_or(path);
    let s = format!("{repo}:{file}");
    s.chars().take(56).collect()
}
