//! Writes (or, with `--check`, verifies) the configuration schema files generated from the Rust
//! configuration types: `kong/promptgate.meta.json` and `schemas/config.schema.json`.
//!
//! `cargo run --bin promptgate-schema` after changing a configuration type; `tests/packaging.rs`
//! fails while the checked-in files are stale.

use promptgate::schema;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        ("kong/promptgate.meta.json", schema::kong_meta()),
        ("schemas/config.schema.json", schema::config_schema()),
    ];
    let mut stale = false;
    for (rel, value) in files {
        let text = schema::to_file_text(&value);
        let path = root.join(rel);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!("{rel} is stale: run `cargo run --bin promptgate-schema`");
                stale = true;
            }
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
            std::fs::write(&path, text).expect("write");
            println!("wrote {rel}");
        }
    }
    if stale {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
