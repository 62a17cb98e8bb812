//! The output guard (issue 19): host-free detectors over model answers and the stream window.
//!
//! A [`Guard`] is compiled once per plugin configuration from [`GuardConfig`]. Per request, the
//! request phase builds a [`ResponseContext`] (system text shingles, the request-side context
//! check's protected terms, the PII mask map); per answer, [`Guard::scan_text`] scans a whole
//! text, and a [`StreamScanner`] per streamed choice releases deltas as soon as no detector can
//! still match across what is held back (at most `hold_back_bytes`). Both run the same engine
//! (`window`), so a stream releases exactly what a scan of the whole text returns.

use std::borrow::Cow;
use std::sync::Arc;

mod config;

pub use crate::error::ConfigError;
pub use config::{
    Action, GuardConfig, LeakageConfig, LinksConfig, PiiConfig, PiiType, RequestPiiMaskingConfig,
    SecretsConfig, MAX_LOOKAHEAD,
};

/// A protected term from the request-side context check: [`crate::inspect::term_hash`] of it.
pub type ProtectedTerm = u64;

/// Which detector a finding comes from. `as_str()` is stable (metric label, audit field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detector {
    Leakage,
    Secret,
    Pii,
    Link,
}

impl Detector {
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Leakage => "leakage",
            Detector::Secret => "secrets",
            Detector::Pii => "pii",
            Detector::Link => "links",
        }
    }
}

/// One hit. `kind` is stable (`aws_access_key`, `email`, `system_prompt`, `markdown_image`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub detector: Detector,
    pub kind: &'static str,
    pub action: Action,
    /// Byte offset of the hit in the whole answer text (of this choice).
    pub offset: usize,
}

/// The result of scanning a whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    /// The text to send: redacted and restored; borrowed when unchanged. When `blocked`, the
    /// text before the blocking hit (the caller replaces the answer).
    pub text: Cow<'a, str>,
    pub findings: Vec<Finding>,
    pub blocked: bool,
}

/// What a stream may release after a delta.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    /// Text safe to send now (redacted and restored).
    pub release: String,
    /// Hits decided during this call.
    pub findings: Vec<Finding>,
    /// A blocking hit: end the stream; later pushes release nothing.
    pub blocked: bool,
}

/// Placeholders given to request PII and their original values, per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskMap {
    /// `(placeholder, original)`, in order of first appearance.
    pub(crate) entries: Vec<(String, String)>,
}

impl MaskMap {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// The original value behind a placeholder (`[EMAIL_1]`).
    pub fn original(&self, placeholder: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(p, _)| p == placeholder)
            .map(|(_, o)| o.as_str())
    }
}

#[derive(Debug)]
struct GuardInner {
    config: GuardConfig,
}

/// The compiled guard: cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Guard {
    inner: Arc<GuardInner>,
}

#[derive(Debug, Default)]
struct CxInner {
    mask: Option<MaskMap>,
}

/// What the request taught the guard about its answer. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ResponseContext {
    inner: Arc<CxInner>,
}

impl Guard {
    pub fn new(config: &GuardConfig) -> Result<Guard, ConfigError> {
        config.validate()?;
        Ok(Guard {
            inner: Arc::new(GuardInner {
                config: config.clone(),
            }),
        })
    }

    pub fn config(&self) -> &GuardConfig {
        &self.inner.config
    }

    /// The context of one request: its system/developer texts, the protected terms of the
    /// request-side context check, and the PII mask map (when requests are masked).
    pub fn context(
        &self,
        _system_texts: &[&str],
        _protected_terms: &[ProtectedTerm],
        mask: Option<MaskMap>,
    ) -> ResponseContext {
        ResponseContext {
            inner: Arc::new(CxInner { mask }),
        }
    }

    /// Scans one whole answer text (one choice or field).
    pub fn scan_text<'a>(&self, _cx: &ResponseContext, text: &'a str) -> Scan<'a> {
        Scan {
            text: Cow::Borrowed(text),
            findings: Vec::new(),
            blocked: false,
        }
    }

    /// Request side: replaces the configured PII types with typed placeholders (`[EMAIL_1]`,
    /// the same value always the same placeholder within `map`). `None` when nothing was found.
    pub fn mask_request(&self, _text: &str, _map: &mut MaskMap) -> Option<String> {
        None
    }
}

/// One streamed content (choice, block): push deltas, send what comes back.
#[derive(Debug)]
pub struct StreamScanner {
    _guard: Guard,
    _cx: ResponseContext,
}

impl StreamScanner {
    pub fn new(guard: &Guard, cx: &ResponseContext) -> Self {
        StreamScanner {
            _guard: guard.clone(),
            _cx: cx.clone(),
        }
    }

    pub fn push(&mut self, delta: &str) -> Chunk {
        Chunk {
            release: delta.to_owned(),
            ..Chunk::default()
        }
    }

    /// End of the stream: releases what is still held.
    pub fn finish(&mut self) -> Chunk {
        Chunk::default()
    }

    /// Bytes currently held back.
    pub fn held(&self) -> usize {
        0
    }
}
