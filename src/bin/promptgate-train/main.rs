//! Trains the adversarial-suffix detector's character 4-gram model (src/inspect/suffix.rs) and
//! calibrates its threshold. Reproducible byte for byte: inputs are read in sorted path order,
//! each class is capped at a fixed number of bytes, and ties are broken by key.
//!
//! Usage (scripts/train runs the first form with the corpus of docs/model.md):
//!   promptgate-train --out FILE [--dev JSONL --dev-source PREFIX...] [--po DIR...]
//!                    [--code DIR...] [--cap-prose N] [--cap-po N] [--cap-code N]
//!   promptgate-train --calibrate JSONL [--threshold Q]
//!
//! Classes: `prose` (benign rows of a JSONL file whose `source` starts with one of the
//! `--dev-source` prefixes), `po` (`msgid`/`msgstr` strings of gettext `.po` files: translations
//! into many languages), `code` (`.rs`, `.md`, `.py`, `.toml` files: code and its documentation).
//!
//! `--calibrate` prints, per source of a JSONL file (`text` lines), how many rows the embedded
//! model flags and the distribution of their window scores (1/8 bits per character).

use promptgate::inspect::suffix;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

mod corpus;
mod scorer;

use corpus::die;

fn usage() -> ! {
    eprintln!("usage: promptgate-train --out FILE [--dev JSONL --dev-source PREFIX...] [--po DIR...] [--code DIR...]\n       promptgate-train --calibrate JSONL [--threshold Q]");
    std::process::exit(2)
}

#[derive(Default)]
struct Counts {
    grams: HashMap<u32, u64>,
    bytes: u64,
}

impl Counts {
    /// Adds one text (a document boundary: n-grams do not cross texts).
    fn add(&mut self, text: &str) {
        self.bytes += text.len() as u64;
        suffix::grams(text.as_bytes(), |key, _| {
            *self.grams.entry(key).or_insert(0) += 1;
        });
    }
}

/// Adds texts in order until `cap` bytes of the class are reached.
fn add_capped<'a>(c: &mut Counts, texts: impl Iterator<Item = &'a str>, cap: u64) -> u64 {
    let mut used = 0u64;
    for t in texts {
        if used >= cap {
            break;
        }
        c.add(t);
        used += t.len() as u64;
    }
    used
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("scorer") {
        scorer::main(&args[1..]);
        return;
    }
    let mut out: Option<String> = None;
    let mut dev: Option<String> = None;
    let mut dev_sources: Vec<String> = Vec::new();
    let mut po_dirs: Vec<String> = Vec::new();
    let mut code_dirs: Vec<String> = Vec::new();
    let mut calibrate: Option<String> = None;
    let mut threshold = suffix::THRESHOLD;
    let mut keep = 100_000usize;
    let mut show = false;
    let (mut cap_prose, mut cap_po, mut cap_code) = (8u64 << 20, 2u64 << 20, 3u64 << 20);
    let mut it = args.iter();
    let num =
        |v: Option<&String>| -> u64 { v.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage()) };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().cloned(),
            "--dev" => dev = it.next().cloned(),
            "--dev-source" => dev_sources.push(it.next().cloned().unwrap_or_else(|| usage())),
            "--po" => po_dirs.push(it.next().cloned().unwrap_or_else(|| usage())),
            "--code" => code_dirs.push(it.next().cloned().unwrap_or_else(|| usage())),
            "--cap-prose" => cap_prose = num(it.next()),
            "--cap-po" => cap_po = num(it.next()),
            "--cap-code" => cap_code = num(it.next()),
            "--calibrate" => calibrate = it.next().cloned(),
            "--threshold" => threshold = num(it.next()) as u32,
            "--show" => show = true,
            "--keep" => keep = num(it.next()) as usize,
            _ => usage(),
        }
    }
    if let Some(f) = calibrate {
        run_calibrate(&f, threshold, show);
        return;
    }
    let Some(out) = out else { usage() };

    let mut counts = Counts::default();
    // prose: benign dev rows of the allowed sources, in file order
    if let Some(dev) = &dev {
        let f = std::fs::File::open(dev).unwrap_or_else(|e| die(format!("{dev}: {e}")));
        let mut texts = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.unwrap_or_else(|e| die(format!("{dev}:{}: {e}", i + 1)));
            let row: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| die(format!("{dev}:{}: {e}", i + 1)));
            let src = row["source"].as_str().unwrap_or("");
            if row["label"].as_i64() == Some(0)
                && dev_sources.iter().any(|p| src.starts_with(p.as_str()))
            {
                if let Some(t) = row["text"].as_str() {
                    texts.push(t.to_owned());
                }
            }
        }
        let used = add_capped(&mut counts, texts.iter().map(String::as_str), cap_prose);
        eprintln!("prose: {} rows, {used} bytes", texts.len());
    }
    let (po_files, po_texts) = corpus::po_texts(&po_dirs);
    // Interleave languages: every k-th string, so the cap does not cut off the last locales.
    let stride =
        (po_texts.iter().map(|s| s.len() as u64).sum::<u64>() / cap_po.max(1) + 1) as usize;
    let used = add_capped(
        &mut counts,
        po_texts.iter().step_by(stride).map(String::as_str),
        cap_po,
    );
    eprintln!(
        "po: {} files, {} strings, stride {stride}, {used} bytes",
        po_files,
        po_texts.len()
    );
    let (code_files, code_texts) = corpus::code_texts(&code_dirs);
    let used = add_capped(&mut counts, code_texts.iter().map(String::as_str), cap_code);
    eprintln!("code: {code_files} files, {used} bytes");

    let table = build_table(&counts, keep);
    std::fs::write(&out, &table).unwrap_or_else(|e| die(format!("{out}: {e}")));
    let filled = table.iter().filter(|&&q| q != 0).count();
    eprintln!(
        "{} distinct 4-grams; table {} slots, {filled} filled; wrote {out}",
        counts.grams.len(),
        table.len()
    );
}

/// Entries ([`suffix::entry`]): -log2 P(d | abc) with add-1/2 smoothing over the alphabet seen,
/// in whole bits, with the 4-gram's fingerprint; the most frequent 4-grams first (ties by key),
/// at most `keep` of them; a slot keeps the first (most frequent) 4-gram that lands in it.
fn build_table(c: &Counts, keep: usize) -> Vec<u8> {
    let mut ctx: HashMap<u32, u64> = HashMap::new();
    let mut alphabet = [false; 256];
    for (&k, &n) in &c.grams {
        *ctx.entry(k >> 8).or_insert(0) += n;
        alphabet[(k & 0xff) as usize] = true;
    }
    let v = alphabet.iter().filter(|&&x| x).count().max(1) as f64;
    let mut grams: Vec<(u32, u64)> = c.grams.iter().map(|(&k, &n)| (k, n)).collect();
    grams.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let size = 1usize << suffix::TABLE_BITS;
    grams.truncate(keep.min(size));
    let mut table = vec![0u8; size];
    for (k, n) in grams {
        let cn = ctx.get(&(k >> 8)).copied().unwrap_or(n) as f64;
        let p = (n as f64 + 0.5) / (cn + 0.5 * v);
        let bits = (-p.log2()).round().clamp(1.0, 15.0) as u8;
        let s = &mut table[suffix::slot(k)];
        if *s == 0 {
            *s = suffix::entry(k, bits);
        }
    }
    table
}

fn run_calibrate(file: &str, threshold: u32, show: bool) {
    let f = std::fs::File::open(file).unwrap_or_else(|e| die(format!("{file}: {e}")));
    // source -> (label, scores)
    let mut by: BTreeMap<String, (i64, Vec<u32>, u64)> = BTreeMap::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.unwrap_or_else(|e| die(format!("{file}:{}: {e}", i + 1)));
        let row: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| die(format!("{file}:{}: {e}", i + 1)));
        let Some(text) = row["text"].as_str() else {
            die(format!("{file}:{}: no `text`", i + 1))
        };
        let label = row["label"].as_i64().unwrap_or(0);
        let src = row["source"].as_str().unwrap_or("unknown").to_owned();
        let e = by
            .entry(format!("{label} {src}"))
            .or_insert((label, Vec::new(), 0));
        e.2 += 1;
        if let Some(s) = suffix::score_from(text, 0).filter(|_| !suffix::looks_like_code(text)) {
            e.1.push(s);
            if show && s > threshold {
                eprintln!(
                    "{s}\t{label}\t{}",
                    text.chars()
                        .take(300)
                        .collect::<String>()
                        .replace('\n', "\\n")
                );
            }
        }
    }
    println!("threshold {threshold} (1/8 bits per char)\nlabel  flagged/n  rate    p50 p90 p99 max (of gated windows)  source");
    for (k, (label, mut s, n)) in by {
        s.sort_unstable();
        let q = |p: f64| {
            s.get(((s.len() as f64 - 1.0) * p) as usize)
                .copied()
                .unwrap_or(0)
        };
        let flagged = s.iter().filter(|&&x| x > threshold).count();
        println!(
            "{label}  {flagged:>5}/{n:<5} {:.4}  {:>3} {:>3} {:>3} {:>3}  {}",
            flagged as f64 / n.max(1) as f64,
            q(0.5),
            q(0.9),
            q(0.99),
            s.last().copied().unwrap_or(0),
            k.split_once(' ').map_or("", |x| x.1)
        );
    }
}
