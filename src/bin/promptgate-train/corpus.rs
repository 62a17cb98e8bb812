//! Reading the training corpora: files of a tree in sorted order, gettext strings.

use std::path::{Path, PathBuf};

pub fn die(msg: String) -> ! {
    eprintln!("{msg}");
    std::process::exit(2)
}

/// Files under `dir` whose name ends with one of `exts`, sorted.
pub fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        die(format!("cannot read directory {}", dir.display()))
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, exts, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| exts.iter().any(|e| n.ends_with(e)))
        {
            out.push(p);
        }
    }
}

/// The strings of a `.po` file: `msgid` and `msgstr` values, continuation lines joined.
pub fn po_strings(text: &str, out: &mut Vec<String>) {
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        let quoted = |s: &str| -> Option<String> {
            let s = s.trim();
            let inner = s.strip_prefix('"')?.strip_suffix('"')?;
            Some(
                inner
                    .replace("\\n", " ")
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\"),
            )
        };
        if let Some(rest) = line
            .strip_prefix("msgid ")
            .or_else(|| line.strip_prefix("msgstr "))
            .or_else(|| line.strip_prefix("msgid_plural "))
            .or_else(|| {
                line.strip_prefix("msgstr[")
                    .and_then(|r| r.split_once("] ").map(|x| x.1))
            })
        {
            if let Some(c) = cur.take() {
                if !c.is_empty() {
                    out.push(c);
                }
            }
            cur = quoted(rest);
        } else if line.starts_with('"') {
            if let (Some(c), Some(q)) = (cur.as_mut(), quoted(line)) {
                c.push_str(&q);
            }
        } else if let Some(c) = cur.take() {
            if !c.is_empty() {
                out.push(c);
            }
        }
    }
    if let Some(c) = cur {
        if !c.is_empty() {
            out.push(c);
        }
    }
}

/// The `.rs`, `.md`, `.py` and `.toml` files under `dirs` (sorted), at most 16 KiB of each so a
/// few huge generated files do not dominate: (files found, texts).
pub fn code_texts(dirs: &[String]) -> (usize, Vec<String>) {
    let mut code_files = Vec::new();
    for d in dirs {
        files(
            Path::new(d),
            &[".rs", ".md", ".py", ".toml"],
            &mut code_files,
        );
    }
    let mut texts = Vec::new();
    for p in &code_files {
        if let Ok(t) = std::fs::read_to_string(p) {
            let mut end = t.len().min(16 << 10);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            texts.push(t[..end].to_owned());
        }
    }
    (code_files.len(), texts)
}

/// The strings of every `.po` file under `dirs` (sorted).
pub fn po_texts(dirs: &[String]) -> (usize, Vec<String>) {
    let mut po_files = Vec::new();
    for d in dirs {
        files(Path::new(d), &[".po"], &mut po_files);
    }
    let mut texts = Vec::new();
    for p in &po_files {
        let text =
            std::fs::read_to_string(p).unwrap_or_else(|e| die(format!("{}: {e}", p.display())));
        po_strings(&text, &mut texts);
    }
    (po_files.len(), texts)
}
