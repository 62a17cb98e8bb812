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
mod leakage;
mod links;
mod mask;
mod pii;
mod secrets;
mod util;
mod window;

pub use crate::error::ConfigError;
pub use config::{
    Action, GuardConfig, LeakageConfig, LinksConfig, PiiConfig, PiiType, RequestPiiMaskingConfig,
    SecretsConfig, UnscannedAction, MAX_LOOKAHEAD,
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
pub(crate) struct GuardInner {
    config: GuardConfig,
    /// Answers without the word detectors (no system text or protected term to look for).
    answer: window::Profile,
    /// Answers with them.
    answer_words: window::Profile,
    /// Request masking.
    request: window::Profile,
    pub(crate) allowed_hosts: Vec<String>,
    pub(crate) flag_all_links: bool,
    pub(crate) canary: Option<Vec<u8>>,
    pub(crate) shingle_words: usize,
}

/// The compiled guard: cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Guard {
    inner: Arc<GuardInner>,
}

#[derive(Debug, Default)]
pub(crate) struct CxInner {
    pub(crate) mask: Option<MaskMap>,
    /// The system texts' shingles.
    pub(crate) shingles: leakage::Shingles,
    /// Sorted protected-term hashes.
    pub(crate) protected: Vec<u64>,
    /// What a protected term can look like.
    pub(crate) term_shape: leakage::TermShape,
}

/// What the request taught the guard about its answer. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ResponseContext {
    inner: Arc<CxInner>,
}

impl ResponseContext {
    /// Has the request given the leakage detector anything to look for (system text shingles,
    /// protected terms)?
    pub fn has_leakage_material(&self) -> bool {
        !self.inner.shingles.is_empty() || !self.inner.protected.is_empty()
    }
}

fn on(enabled: bool, a: Action) -> Option<Action> {
    enabled.then_some(a)
}

impl Guard {
    pub fn new(config: &GuardConfig) -> Result<Guard, ConfigError> {
        config.validate()?;
        let c = config;
        let canary = c.leakage.canary.as_ref().filter(|_| c.leakage.enabled);
        let mut answer = window::Profile {
            leak: on(c.leakage.enabled, c.leakage.action),
            secrets: on(c.secrets.enabled, c.secrets.action),
            pii: on(c.pii.enabled, c.pii.action),
            pii_types: config::type_bits(&c.pii.types),
            links: on(c.links.enabled, c.links.action),
            mask: false,
            restore: c.request_pii_masking.enabled && c.request_pii_masking.restore,
            table: [0; 256],
            skip: [0; 256],
        };
        answer.build(canary.map(String::as_str), false);
        let mut answer_words = answer.clone();
        answer_words.build(canary.map(String::as_str), c.leakage.enabled);
        let mut request = window::Profile {
            leak: None,
            secrets: None,
            pii: on(c.request_pii_masking.enabled, Action::Redact),
            pii_types: config::type_bits(&c.request_pii_masking.types),
            links: None,
            mask: true,
            restore: false,
            table: [0; 256],
            skip: [0; 256],
        };
        request.build(None, false);
        Ok(Guard {
            inner: Arc::new(GuardInner {
                config: config.clone(),
                answer,
                answer_words,
                request,
                allowed_hosts: c.links.allowed_hosts.clone(),
                flag_all_links: c.links.flag_all_links,
                canary: canary.map(|k| k.as_bytes().to_vec()),
                shingle_words: c.leakage.shingle_words,
            }),
        })
    }

    pub fn config(&self) -> &GuardConfig {
        &self.inner.config
    }

    /// The context of one request: its system/developer texts, the protected terms of the
    /// request-side context check (`Verdict::protected_terms`), and the PII mask map (when
    /// requests are masked, for restore).
    pub fn context(
        &self,
        system_texts: &[&str],
        protected_terms: &[ProtectedTerm],
        mask: Option<MaskMap>,
    ) -> ResponseContext {
        let c = &self.inner.config.leakage;
        let (shingles, mut protected) = if c.enabled {
            (
                leakage::shingles(system_texts, c.shingle_words),
                if c.protected_terms {
                    protected_terms.to_vec()
                } else {
                    Vec::new()
                },
            )
        } else {
            (leakage::Shingles::default(), Vec::new())
        };
        protected.sort_unstable();
        protected.dedup();
        let term_shape = match (protected.is_empty(), system_texts.is_empty()) {
            (true, _) => leakage::TermShape::default(),
            (false, true) => leakage::TermShape::ANY,
            (false, false) => leakage::term_shape(system_texts, &protected),
        };
        let restore = self.inner.answer.restore;
        ResponseContext {
            inner: Arc::new(CxInner {
                mask: mask.filter(|m| restore && !m.is_empty()),
                shingles,
                protected,
                term_shape,
            }),
        }
    }

    fn env<'a>(&'a self, cx: &'a ResponseContext) -> window::Env<'a> {
        let g = &*self.inner;
        let cxi = &*cx.inner;
        let words = !cxi.shingles.is_empty() || !cxi.protected.is_empty();
        window::Env {
            g,
            p: if words { &g.answer_words } else { &g.answer },
            cx: cxi,
        }
    }

    /// Scans one whole answer text (one choice or field).
    pub fn scan_text<'a>(&self, cx: &ResponseContext, text: &'a str) -> Scan<'a> {
        let env = self.env(cx);
        let mut core = window::Core::default();
        let mut out = String::new();
        core.run(&env, None, text, true, &mut out);
        let blocked = core.blocked();
        Scan {
            blocked,
            text: if core.changed {
                Cow::Owned(out)
            } else {
                Cow::Borrowed(text)
            },
            findings: core.findings,
        }
    }

    /// Request side: replaces the configured PII types with typed placeholders (`[EMAIL_1]`,
    /// the same value always the same placeholder within `map`). `None` when nothing was found
    /// (or masking is off).
    pub fn mask_request(&self, text: &str, map: &mut MaskMap) -> Option<String> {
        let g = &*self.inner;
        g.request.pii?;
        let cx = CxInner::default();
        let env = window::Env {
            g,
            p: &g.request,
            cx: &cx,
        };
        let mut core = window::Core::default();
        let mut out = String::new();
        core.run(&env, Some(map), text, true, &mut out);
        core.changed.then_some(out)
    }
}

/// One streamed content (choice, block): push deltas, send what comes back.
#[derive(Debug, Clone)]
pub struct StreamScanner {
    guard: Guard,
    cx: ResponseContext,
    core: window::Core,
    pending: String,
}

impl StreamScanner {
    pub fn new(guard: &Guard, cx: &ResponseContext) -> Self {
        StreamScanner {
            guard: guard.clone(),
            cx: cx.clone(),
            core: window::Core::default(),
            pending: String::new(),
        }
    }

    fn step(&mut self, delta: &str, eof: bool, mut release: String) -> Chunk {
        release.clear();
        let mut chunk = Chunk {
            release,
            ..Chunk::default()
        };
        if self.core.blocked() {
            chunk.blocked = true;
            return chunk;
        }
        let env = self.guard.env(&self.cx);
        let n = if self.pending.is_empty() {
            // Nothing held: walk the delta in place, keep only its undecided end.
            let n = self.core.run(&env, None, delta, eof, &mut chunk.release);
            self.pending.push_str(&delta[n..]);
            0
        } else {
            self.pending.push_str(delta);
            self.core
                .run(&env, None, &self.pending, eof, &mut chunk.release)
        };
        self.pending.drain(..n);
        chunk.findings = std::mem::take(&mut self.core.findings);
        if self.core.blocked() {
            chunk.blocked = true;
            self.pending = String::new();
        }
        chunk
    }

    /// Scans a delta; returns what may be released now.
    pub fn push(&mut self, delta: &str) -> Chunk {
        self.step(delta, false, String::new())
    }

    /// As [`push`](Self::push), the released text written into `buf` (emptied first): a
    /// caller that keeps its buffers allocates nothing per delta.
    pub fn push_into(&mut self, delta: &str, buf: String) -> Chunk {
        self.step(delta, false, buf)
    }

    /// End of the stream: releases what is still held.
    pub fn finish(&mut self) -> Chunk {
        self.step("", true, String::new())
    }

    /// Bytes currently held back.
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// Hits so far (findings beyond the first 64 are counted, not listed).
    pub fn hits(&self) -> usize {
        self.core.hits
    }
}

#[cfg(test)]
mod tests;
