//! mock-model: a small, fast, deterministic OpenAI/Anthropic-compatible mock
//! LLM server used by promptgate's harness, end-to-end tests and benchmarks.
//!
//! See `mock-model/README.md` for the endpoints, the usage formula, the
//! per-request control headers and the recording API.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Number of requests kept in the recording ring.
pub const RING_CAPACITY: usize = 256;
/// Recorded bodies are truncated to this many bytes (before lossy UTF-8 decoding).
pub const RECORDED_BODY_LIMIT: usize = 64 * 1024;
/// Largest request body accepted; larger bodies get a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Upper bound on completion tokens per response (protects against absurd headers).
pub const MAX_COMPLETION_TOKENS: u64 = 100_000;
/// Upper bound on any configured or requested delay.
pub const MAX_DELAY_MS: u64 = 3_600_000;
/// Default embedding dimensions when the request does not ask for `dimensions`.
pub const DEFAULT_EMBEDDING_DIMS: usize = 8;
/// Upper bound on `dimensions` for embeddings.
pub const MAX_EMBEDDING_DIMS: usize = 4096;

/// Server-wide configuration (from the command line).
#[derive(Clone, Debug)]
pub struct Config {
    /// Completion tokens per response unless the request asks for fewer.
    pub completion_tokens: u64,
    /// Delay before answering any model request.
    pub delay_ms: u64,
    /// Delay between streamed body frames.
    pub chunk_delay_ms: u64,
    /// Suppress the one-line-per-request log on stderr.
    pub quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            completion_tokens: 16,
            delay_ms: 0,
            chunk_delay_ms: 0,
            quiet: true,
        }
    }
}

/// One recorded request, as served by `/_mock/requests` and `/_mock/last`.
#[derive(Debug, Serialize)]
pub struct RecordedRequest {
    /// 1-based sequence number since the last reset.
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<[String; 2]>,
    pub body_len: usize,
    pub body_sha256: String,
    /// Body as lossy UTF-8, truncated to [`RECORDED_BODY_LIMIT`] bytes.
    pub body: String,
    pub body_truncated: bool,
}

#[derive(Default)]
struct Recorder {
    count: u64,
    ring: VecDeque<Arc<RecordedRequest>>,
}

struct State {
    cfg: Config,
    recorder: Mutex<Recorder>,
    next_id: AtomicU64,
}

impl State {
    fn recorder(&self) -> std::sync::MutexGuard<'_, Recorder> {
        // A poisoned lock only means another task panicked mid-update; the ring
        // is still structurally valid, so keep serving.
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bind `addr`, returning the listener (use port 0 for an ephemeral port).
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Accept connections on `listener` forever, serving HTTP/1.1 with keep-alive.
pub async fn serve(listener: TcpListener, cfg: Config) -> io::Result<()> {
    let state = Arc::new(State {
        cfg,
        recorder: Mutex::new(Recorder::default()),
        next_id: AtomicU64::new(1),
    });
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                if !state.cfg.quiet {
                    eprintln!("mock-model: accept error: {e}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let reset = Arc::new(AtomicBool::new(false));
            let io = hyper_util::rt::TokioIo::new(ResetOnDrop {
                inner: stream,
                reset: reset.clone(),
            });
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                let reset = reset.clone();
                async move { handle(state, reset, req).await }
            });
            // Errors here are client disconnects, parse errors or our own
            // deliberate resets; none are interesting.
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, svc)
                .await;
        });
    }
}

// ---------------------------------------------------------------------------
// Connection wrapper that turns a close into a TCP RST when asked to.

struct ResetOnDrop {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // SO_LINGER=0: close() sends RST instead of FIN.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResetOnDrop {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetOnDrop {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------
// Response body: either a complete buffer or a sequence of SSE frames.

/// Response body used for every response.
pub enum MockBody {
    Full(Option<Bytes>),
    Frames(FramesBody),
}

/// Streams pre-rendered frames, one HTTP body frame each, with an optional
/// delay between them and an optional abrupt connection reset.
pub struct FramesBody {
    frames: VecDeque<Bytes>,
    delay: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    waited: bool,
    sent: usize,
    reset_after: Option<usize>,
    reset: Arc<AtomicBool>,
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Frames(f) => f.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(b) => b.is_none(),
            MockBody::Frames(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Frames(_) => SizeHint::default(),
        }
    }
}

impl FramesBody {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(s) = self.sleep.as_mut() {
            if s.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
            self.waited = true;
        }
        let resetting = self.reset_after.is_some_and(|n| self.sent >= n);
        if !self.waited {
            // Wait between frames; and always before a reset, so that what was
            // already produced (at least the response head) reaches the socket
            // before the RST discards any unsent buffers.
            let wait = if resetting {
                Some(self.delay.max(Duration::from_millis(20)))
            } else if self.sent > 0 && !self.frames.is_empty() && !self.delay.is_zero() {
                Some(self.delay)
            } else {
                None
            };
            if let Some(d) = wait {
                self.sleep = Some(Box::pin(tokio::time::sleep(d)));
                return self.poll_next(cx);
            }
        }
        self.waited = false;
        if resetting {
            self.reset.store(true, Ordering::Relaxed);
            self.frames.clear();
            self.reset_after = None;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "mock-model: x-mock-reset-after-chunks",
            ))));
        }
        match self.frames.pop_front() {
            Some(b) => {
                self.sent += 1;
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            None => Poll::Ready(None),
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers.

fn full(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::Full(Some(Bytes::from(body))));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn json_response(status: StatusCode, v: &Value) -> Response<MockBody> {
    // Serializing a `Value` cannot fail.
    let body = serde_json::to_vec(v).unwrap_or_default();
    full(status, "application/json", body)
}

fn error_response(status: StatusCode, message: &str, typ: &str, code: &str) -> Response<MockBody> {
    json_response(
        status,
        &json!({"error": {"message": message, "type": typ, "param": null, "code": code}}),
    )
}

fn header_u64(req_headers: &hyper::HeaderMap, name: &str) -> Option<u64> {
    req_headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `prompt_tokens = ceil(body_len / 4)`.
pub fn prompt_tokens(body_len: usize) -> u64 {
    (body_len as u64).div_ceil(4)
}

/// The response text for `n` completion tokens: `"tok0 tok1 ... tok{n-1}"`.
pub fn words(n: u64) -> String {
    let mut s = String::with_capacity(n as usize * 6);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str("tok");
        s.push_str(&i.to_string());
    }
    s
}

/// The i-th streamed piece: `"tok0"`, `" tok1"`, ... (concatenation == [`words`]).
fn word_piece(i: u64) -> String {
    if i == 0 {
        "tok0".to_string()
    } else {
        format!(" tok{i}")
    }
}

fn sse_data(v: &Value) -> Bytes {
    let mut out = b"data: ".to_vec();
    out.extend_from_slice(&serde_json::to_vec(v).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

fn sse_event(event: &str, v: &Value) -> Bytes {
    let mut out = format!("event: {event}\ndata: ").into_bytes();
    out.extend_from_slice(&serde_json::to_vec(v).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// Per-request parameters derived from the config, headers and JSON body.
struct Plan {
    model: String,
    prompt_tokens: u64,
    completion_tokens: u64,
    /// True when `max_tokens` cut the completion short.
    truncated: bool,
    stream: bool,
    include_usage: bool,
    chunk_delay: Duration,
    reset_after: Option<usize>,
    /// `x-mock-answer` / `x-mock-answer-b64`: the answer text instead of `tok0 tok1 ...`.
    answer: Option<String>,
    /// `x-mock-chunk-bytes`: stream the answer in pieces of this many bytes (a piece ends on a
    /// character boundary, so it may be longer by up to 3 bytes).
    chunk_bytes: Option<usize>,
    /// `x-mock-split-at`: stream the answer split at these byte offsets instead.
    split_at: Option<Vec<usize>>,
}

/// The answer cut at `points` (byte offsets, each moved forward to a character boundary; out of
/// range, repeated and unordered points are ignored). Their concatenation is the answer.
pub fn split_answer(answer: &str, points: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for &p in points {
        let mut p = p.min(answer.len());
        while !answer.is_char_boundary(p) {
            p += 1;
        }
        if p > start {
            out.push(answer[start..p].to_string());
            start = p;
        }
    }
    if start < answer.len() || out.is_empty() {
        out.push(answer[start..].to_string());
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace ignored). `None` on a bad character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The answer a request asked for with `x-mock-answer` (literal) or `x-mock-answer-b64`.
fn requested_answer(headers: &hyper::HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-mock-answer-b64") {
        let bytes = base64_decode(v.to_str().ok()?)?;
        return String::from_utf8(bytes).ok();
    }
    headers
        .get("x-mock-answer")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The streamed pieces of an answer: `chunk` bytes each (extended to a character boundary), or
/// word by word (`"a"`, `" b"`, ...) without `chunk`. Their concatenation is the answer.
pub fn answer_pieces(answer: &str, chunk: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    match chunk {
        Some(n) => {
            let n = n.max(1);
            let mut start = 0;
            while start < answer.len() {
                let mut end = (start + n).min(answer.len());
                while !answer.is_char_boundary(end) {
                    end += 1;
                }
                out.push(answer[start..end].to_string());
                start = end;
            }
        }
        None => {
            let mut cur = String::new();
            for c in answer.chars() {
                if c == ' ' && !cur.is_empty() && !cur.chars().all(|x| x == ' ') {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
            if !cur.is_empty() {
                out.push(cur);
            }
        }
    }
    out
}

impl Plan {
    /// The whole answer text.
    fn text(&self) -> String {
        match &self.answer {
            Some(a) => a.clone(),
            None => words(self.completion_tokens),
        }
    }

    /// The streamed pieces (concatenated: [`Plan::text`]).
    fn pieces(&self) -> Vec<String> {
        match &self.answer {
            Some(a) => match &self.split_at {
                Some(points) => split_answer(a, points),
                None => answer_pieces(a, self.chunk_bytes),
            },
            None => (0..self.completion_tokens).map(word_piece).collect(),
        }
    }
}

fn plan(state: &State, headers: &hyper::HeaderMap, body_len: usize, v: &Value) -> Plan {
    let default_tokens = header_u64(headers, "x-mock-completion-tokens")
        .unwrap_or(state.cfg.completion_tokens)
        .min(MAX_COMPLETION_TOKENS);
    let limit = v
        .get("max_completion_tokens")
        .and_then(Value::as_u64)
        .or_else(|| v.get("max_tokens").and_then(Value::as_u64));
    let completion_tokens = match limit {
        Some(l) => l.min(default_tokens),
        None => default_tokens,
    };
    let chunk_delay_ms = header_u64(headers, "x-mock-chunk-delay-ms")
        .unwrap_or(state.cfg.chunk_delay_ms)
        .min(MAX_DELAY_MS);
    Plan {
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock-model")
            .to_string(),
        prompt_tokens: prompt_tokens(body_len),
        completion_tokens,
        truncated: completion_tokens < default_tokens,
        stream: v.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: v
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true),
        chunk_delay: Duration::from_millis(chunk_delay_ms),
        reset_after: header_u64(headers, "x-mock-reset-after-chunks")
            .map(|n| n.min(usize::MAX as u64) as usize),
        answer: None,
        split_at: headers
            .get("x-mock-split-at")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .filter_map(|x| x.trim().parse::<usize>().ok())
                    .take(4096)
                    .collect()
            }),
        chunk_bytes: header_u64(headers, "x-mock-chunk-bytes")
            .map(|n| n.clamp(1, 1 << 20) as usize),
    }
}

/// `x-mock-body-b64`: exactly these bytes as the answer, whatever the route (any API's shape:
/// tool calls, reasoning, refusals). A streamed request gets them as `text/event-stream`, one
/// frame per `x-mock-chunk-bytes` bytes, or one frame per event (cut after each blank line).
fn raw_answer(reset: Arc<AtomicBool>, p: &Plan, raw: Vec<u8>) -> Response<MockBody> {
    if !p.stream {
        return full(StatusCode::OK, "application/json", raw);
    }
    let mut frames = Vec::new();
    match p.chunk_bytes {
        Some(n) => frames.extend(raw.chunks(n).map(Bytes::copy_from_slice)),
        None => {
            let mut start = 0;
            for i in 1..raw.len() {
                if raw[i] == b'\n' && raw[i - 1] == b'\n' {
                    frames.push(Bytes::copy_from_slice(&raw[start..=i]));
                    start = i + 1;
                }
            }
            if start < raw.len() {
                frames.push(Bytes::copy_from_slice(&raw[start..]));
            }
        }
    }
    sse_response(reset, p, frames)
}

fn sse_response(reset: Arc<AtomicBool>, p: &Plan, frames: Vec<Bytes>) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::Frames(FramesBody {
        frames: frames.into(),
        delay: p.chunk_delay,
        sleep: None,
        waited: false,
        sent: 0,
        reset_after: p.reset_after,
        reset,
    }));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

// ---------------------------------------------------------------------------
// Request handling.

async fn handle(
    state: Arc<State>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, io::Error> {
    let log = !state.cfg.quiet;
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = handle_inner(&state, reset, req).await;
    if log {
        match &result {
            Ok(r) => eprintln!(
                "{method} {path} {} {}ms",
                r.status().as_u16(),
                started.elapsed().as_millis()
            ),
            Err(_) => eprintln!("{method} {path} reset"),
        }
    }
    result
}

async fn handle_inner(
    state: &Arc<State>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, io::Error> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();

    // Control plane: never recorded, never delayed.
    if path == "/health" {
        return Ok(json_response(StatusCode::OK, &json!({"status": "ok"})));
    }
    if let Some(rest) = path.strip_prefix("/_mock/") {
        return Ok(control(state, &parts.method, rest));
    }

    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Ok(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request body too large",
                    "invalid_request_error",
                    "payload_too_large",
                ));
            }
            // The client went away mid-body; nothing sensible to answer.
            return Err(io::Error::other(e));
        }
    };

    record(state, &parts, &body);

    // The stand-in classifier (promptgate's `inspection.classifier`): generic and LLM Guard.
    if parts.method == Method::POST && (path == "/classify" || path == "/analyze/prompt") {
        return Ok(classify(state, path == "/analyze/prompt", &body).await);
    }

    let route = match (parts.method.clone(), path) {
        (Method::POST, "/v1/chat/completions") => Route::Chat,
        (Method::POST, "/v1/completions") => Route::Completions,
        (Method::POST, "/v1/embeddings") => Route::Embeddings,
        (Method::POST, "/v1/messages") => Route::Messages,
        (Method::GET, "/v1/models") => Route::Models,
        (
            _,
            "/v1/chat/completions"
            | "/v1/completions"
            | "/v1/embeddings"
            | "/v1/messages"
            | "/v1/models",
        ) => {
            return Ok(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("method {} not allowed on {}", parts.method, path),
                "invalid_request_error",
                "method_not_allowed",
            ));
        }
        _ => {
            return Ok(error_response(
                StatusCode::NOT_FOUND,
                &format!("unknown path {path}"),
                "invalid_request_error",
                "not_found",
            ));
        }
    };

    let delay_ms = header_u64(&parts.headers, "x-mock-delay-ms")
        .unwrap_or(state.cfg.delay_ms)
        .min(MAX_DELAY_MS);
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }

    if let Some(code) = header_u64(&parts.headers, "x-mock-status") {
        if (400..=599).contains(&code) {
            if let Ok(status) = StatusCode::from_u16(code as u16) {
                let typ = match code {
                    401 => "authentication_error",
                    403 => "permission_error",
                    429 => "rate_limit_error",
                    400..=499 => "invalid_request_error",
                    _ => "server_error",
                };
                return Ok(error_response(
                    status,
                    &format!("mock-model: forced status {code} (x-mock-status)"),
                    typ,
                    &format!("mock_status_{code}"),
                ));
            }
        }
    }

    if route == Route::Models {
        return Ok(models());
    }

    let v: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "request body must be a JSON object",
                "invalid_request_error",
                "invalid_json",
            ))
        }
        Err(e) => {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                &format!("malformed JSON body: {e}"),
                "invalid_request_error",
                "invalid_json",
            ))
        }
    };

    let mut p = plan(state, &parts.headers, body.len(), &v);
    if let Some(answer) = requested_answer(&parts.headers) {
        // Usage of a given answer: a token per 4 bytes (at least 1), not cut by max_tokens.
        p.completion_tokens = (answer.len() as u64).div_ceil(4).max(1);
        p.truncated = false;
        p.answer = Some(answer);
    }
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);

    if p.reset_after.is_some() && !(p.stream && route != Route::Embeddings) {
        // Non-streaming: abort before any response byte.
        reset.store(true, Ordering::Relaxed);
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "mock-model: x-mock-reset-after-chunks",
        ));
    }

    if let Some(raw) = parts
        .headers
        .get("x-mock-body-b64")
        .and_then(|v| base64_decode(v.to_str().ok()?))
    {
        return Ok(raw_answer(reset, &p, raw));
    }

    Ok(match route {
        Route::Chat => chat(reset, &p, id),
        Route::Completions => completions(reset, &p, id),
        Route::Embeddings => embeddings(&p, &v),
        Route::Messages => messages(reset, &p, id),
        Route::Models => models(),
    })
}

fn models() -> Response<MockBody> {
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": [
            {"id": "mock-model", "object": "model", "created": 0, "owned_by": "promptgate-mock"}
        ]}),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Chat,
    Completions,
    Embeddings,
    Messages,
    Models,
}

fn finish_reason(p: &Plan) -> &'static str {
    if p.truncated {
        "length"
    } else {
        "stop"
    }
}

fn openai_usage(p: &Plan) -> Value {
    json!({
        "prompt_tokens": p.prompt_tokens,
        "completion_tokens": p.completion_tokens,
        "total_tokens": p.prompt_tokens + p.completion_tokens,
    })
}

fn chat(reset: Arc<AtomicBool>, p: &Plan, id: u64) -> Response<MockBody> {
    let id = format!("chatcmpl-mock-{id}");
    let created = now_secs();
    if !p.stream {
        return json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": created,
                "model": p.model,
                "system_fingerprint": "fp_mock",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": p.text(), "refusal": null},
                    "logprobs": null,
                    "finish_reason": finish_reason(p),
                }],
                "usage": openai_usage(p),
            }),
        );
    }
    let pieces = p.pieces();
    let n = pieces.len() as u64;
    let mut frames = Vec::with_capacity(n as usize + 3);
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut c = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": p.model,
            "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if p.include_usage {
            c["usage"] = Value::Null;
        }
        sse_data(&c)
    };
    if n == 0 {
        frames.push(chunk(
            json!({"role": "assistant", "content": ""}),
            Some(finish_reason(p)),
        ));
    }
    for (i, piece) in pieces.iter().enumerate() {
        let i = i as u64;
        let delta = if i == 0 {
            json!({"role": "assistant", "content": piece})
        } else {
            json!({"content": piece})
        };
        let finish = if i + 1 == n {
            Some(finish_reason(p))
        } else {
            None
        };
        frames.push(chunk(delta, finish));
    }
    if p.include_usage {
        frames.push(sse_data(&json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": p.model,
            "system_fingerprint": "fp_mock",
            "choices": [],
            "usage": openai_usage(p),
        })));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    sse_response(reset, p, frames)
}

fn completions(reset: Arc<AtomicBool>, p: &Plan, id: u64) -> Response<MockBody> {
    let id = format!("cmpl-mock-{id}");
    let created = now_secs();
    if !p.stream {
        return json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "object": "text_completion",
                "created": created,
                "model": p.model,
                "choices": [{
                    "index": 0,
                    "text": p.text(),
                    "logprobs": null,
                    "finish_reason": finish_reason(p),
                }],
                "usage": openai_usage(p),
            }),
        );
    }
    let pieces = p.pieces();
    let n = pieces.len() as u64;
    let mut frames = Vec::with_capacity(n as usize + 3);
    let chunk = |text: String, finish: Option<&str>| {
        sse_data(&json!({
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": p.model,
            "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": finish}],
        }))
    };
    if n == 0 {
        frames.push(chunk(String::new(), Some(finish_reason(p))));
    }
    for (i, piece) in pieces.into_iter().enumerate() {
        let finish = if i as u64 + 1 == n {
            Some(finish_reason(p))
        } else {
            None
        };
        frames.push(chunk(piece, finish));
    }
    if p.include_usage {
        frames.push(sse_data(&json!({
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": p.model,
            "choices": [],
            "usage": openai_usage(p),
        })));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    sse_response(reset, p, frames)
}

/// Deterministic unit-ish vector derived from sha256(input).
fn embedding_vector(input: &str, dims: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(dims);
    let mut block = 0u32;
    while out.len() < dims {
        let mut h = Sha256::new();
        h.update(block.to_le_bytes());
        h.update(input.as_bytes());
        let digest = h.finalize();
        for pair in digest.chunks_exact(2) {
            if out.len() == dims {
                break;
            }
            let x = u16::from_le_bytes([pair[0], pair[1]]);
            // Map to [-1, 1] with 4 decimal places so JSON stays short and exact.
            let f = (x as f64 / 65535.0) * 2.0 - 1.0;
            out.push((f * 10000.0).round() / 10000.0);
        }
        block += 1;
    }
    out
}

fn embeddings(p: &Plan, v: &Value) -> Response<MockBody> {
    let inputs: Vec<String> = match v.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().map(|x| x.to_string()).collect(),
        Some(other) => vec![other.to_string()],
        None => vec![String::new()],
    };
    let dims = v
        .get("dimensions")
        .and_then(Value::as_u64)
        .map(|d| (d as usize).clamp(1, MAX_EMBEDDING_DIMS))
        .unwrap_or(DEFAULT_EMBEDDING_DIMS);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"object": "embedding", "index": i, "embedding": embedding_vector(s, dims)}))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": data,
            "model": p.model,
            "usage": {"prompt_tokens": p.prompt_tokens, "total_tokens": p.prompt_tokens},
        }),
    )
}

fn messages(reset: Arc<AtomicBool>, p: &Plan, id: u64) -> Response<MockBody> {
    let id = format!("msg_mock_{id}");
    let stop_reason = if p.truncated {
        "max_tokens"
    } else {
        "end_turn"
    };
    if !p.stream {
        return json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": p.model,
                "content": [{"type": "text", "text": p.text()}],
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": {"input_tokens": p.prompt_tokens, "output_tokens": p.completion_tokens},
            }),
        );
    }
    let pieces = p.pieces();
    let mut frames = Vec::with_capacity(pieces.len() + 5);
    frames.push(sse_event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": p.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": p.prompt_tokens, "output_tokens": 0},
        }}),
    ));
    frames.push(sse_event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ));
    for piece in pieces {
        frames.push(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    frames.push(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(sse_event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                "usage": {"output_tokens": p.completion_tokens}}),
    ));
    frames.push(sse_event("message_stop", &json!({"type": "message_stop"})));
    sse_response(reset, p, frames)
}

// ---------------------------------------------------------------------------
// The stand-in classifier.

/// Phrases the stand-in classifier scores as attacks. A keyword toy, not a model: it exists so
/// the filter's classifier call can be tested end to end without a model server.
const CLASSIFIER_PHRASES: [&str; 8] = [
    "napalm",
    "ignore previous",
    "ignore all previous",
    "system prompt",
    "password",
    "jailbreak",
    "without any restrictions",
    "exfiltrate",
];

/// The stand-in's score for `text`: 0.93 when it holds one of [`CLASSIFIER_PHRASES`]
/// (case-insensitive), else 0.02.
pub fn classifier_score(text: &str) -> f64 {
    let lower = text.to_lowercase();
    if CLASSIFIER_PHRASES.iter().any(|p| lower.contains(p)) {
        0.93
    } else {
        0.02
    }
}

/// `POST /classify` (`{"text": ...}` -> `{"score", "label", "model"}`) and `POST
/// /analyze/prompt` (LLM Guard API: `{"prompt": ...}` -> `{"sanitized_prompt", "is_valid",
/// "scanners"}`). Markers in the text steer it for tests: `mock-classifier:status=NNN` answers
/// that status, `mock-classifier:garbage` answers 200 with a body that is not JSON,
/// `mock-classifier:sleep=NNN` waits NNN ms first (as does `--delay-ms`).
async fn classify(state: &State, llm_guard: bool, body: &[u8]) -> Response<MockBody> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let key = if llm_guard { "prompt" } else { "text" };
    let Some(text) = v.get(key).and_then(Value::as_str) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            &format!("body must be a JSON object with a string `{key}`"),
            "invalid_request_error",
            "invalid_json",
        );
    };
    let marker = |name: &str| -> Option<u64> {
        let at = text.find(&format!("mock-classifier:{name}="))?;
        let digits: String = text[at + name.len() + 17..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    let delay = marker("sleep")
        .unwrap_or(state.cfg.delay_ms)
        .min(MAX_DELAY_MS);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some(code) = marker("status").and_then(|c| StatusCode::from_u16(c as u16).ok()) {
        return error_response(
            code,
            "mock-classifier: forced status",
            "server_error",
            "forced",
        );
    }
    if text.contains("mock-classifier:garbage") {
        return full(
            StatusCode::OK,
            "text/plain",
            b"definitely not json".to_vec(),
        );
    }
    let score = classifier_score(text);
    let out = if llm_guard {
        json!({"sanitized_prompt": text, "is_valid": score < 0.5,
               "scanners": {"PromptInjection": score, "Toxicity": -1.0}})
    } else {
        let label = if score >= 0.5 { "INJECTION" } else { "BENIGN" };
        json!({"score": score, "label": label, "model": "mock-classifier-1"})
    };
    json_response(StatusCode::OK, &out)
}

// ---------------------------------------------------------------------------
// Recording.

fn record(state: &State, parts: &hyper::http::request::Parts, body: &Bytes) {
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            [
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ]
        })
        .collect();
    let shown = &body[..body.len().min(RECORDED_BODY_LIMIT)];
    let mut entry = RecordedRequest {
        seq: 0,
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers,
        body_len: body.len(),
        body_sha256: hex::encode(Sha256::digest(body)),
        body: String::from_utf8_lossy(shown).into_owned(),
        body_truncated: body.len() > RECORDED_BODY_LIMIT,
    };
    let mut rec = state.recorder();
    rec.count += 1;
    entry.seq = rec.count;
    if rec.ring.len() == RING_CAPACITY {
        rec.ring.pop_front();
    }
    rec.ring.push_back(Arc::new(entry));
}

fn control(state: &State, method: &Method, rest: &str) -> Response<MockBody> {
    match (method, rest) {
        (&Method::GET, "requests") => {
            let (count, entries): (u64, Vec<Arc<RecordedRequest>>) = {
                let rec = state.recorder();
                (rec.count, rec.ring.iter().cloned().collect())
            };
            let requests: Vec<&RecordedRequest> = entries.iter().map(|e| &**e).collect();
            let body = serde_json::to_vec(&ListOut { count, requests }).unwrap_or_default();
            full(StatusCode::OK, "application/json", body)
        }
        (&Method::GET, "last") => {
            let last = state.recorder().ring.back().cloned();
            match last {
                Some(e) => full(
                    StatusCode::OK,
                    "application/json",
                    serde_json::to_vec(&*e).unwrap_or_default(),
                ),
                None => error_response(
                    StatusCode::NOT_FOUND,
                    "no request recorded",
                    "invalid_request_error",
                    "not_found",
                ),
            }
        }
        (&Method::POST, "reset") => {
            {
                let mut rec = state.recorder();
                rec.count = 0;
                rec.ring.clear();
            }
            json_response(StatusCode::OK, &json!({"status": "reset"}))
        }
        (_, "requests" | "last" | "reset") => error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("method {method} not allowed on /_mock/{rest}"),
            "invalid_request_error",
            "method_not_allowed",
        ),
        _ => error_response(
            StatusCode::NOT_FOUND,
            &format!("unknown path /_mock/{rest}"),
            "invalid_request_error",
            "not_found",
        ),
    }
}

#[derive(Serialize)]
struct ListOut<'a> {
    count: u64,
    requests: Vec<&'a RecordedRequest>,
}
