//! Real processes for the distributed-limit tests: a redis-server on a free loopback port with
//! its own temporary directory and no persistence, and the promptgate-limiter binary. Both are
//! killed by PID when dropped (also when a test panics). Shared by limiter/tests and
//! tests/e2e_distributed.rs.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory removed when dropped (no tempfile dev-dependency: the limiter has none, so
/// its test build shares every compiled unit with the normal build).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "promptgate-limiter-test-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HTTP/1.1 request (`Connection: close`): (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: limiter\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad response {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

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

/// `redis-server` from PATH (or `PROMPTGATE_REDIS_SERVER`), or `None` after saying loudly why
/// the calling test is skipped. scripts/setup installs it, so CI always has it.
pub fn redis_server_bin(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROMPTGATE_REDIS_SERVER") {
        return Some(PathBuf::from(p));
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join("redis-server");
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: redis-server is not installed; scripts/setup installs it");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED {test}: redis-server is not installed (run scripts/setup) !!!!!!!!\n"
    );
    None
}

fn wait_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited before listening on {port}: {st}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port} within 20 s");
}

pub struct Redis {
    bin: PathBuf,
    pub port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl Redis {
    pub fn start(bin: &Path) -> Redis {
        let mut r = Redis {
            bin: bin.to_path_buf(),
            port: free_port(),
            dir: TempDir::new(),
            child: None,
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts it (again) on the same port, empty (no persistence: as a Redis that lost its data
    /// would come back; the tests that need counters to survive restart the limiter, not Redis).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis already running");
        let mut child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        wait_port(self.port, "redis-server", &mut child);
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A raw command over RESP (tests only: reading what the limiter stored).
    pub fn command(&self, args: &[&str]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect redis");
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 65536];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Limiter {
    bin: PathBuf,
    config: PathBuf,
    pub grpc_port: u16,
    pub http_port: u16,
    store: Vec<String>,
    child: Option<Child>,
    log: PathBuf,
    _dir: TempDir,
}

impl Limiter {
    /// Starts the limiter with `config` (a promptgate config JSON) over `redis_url`, or over
    /// in-process counters when `None`.
    pub fn start(bin: &Path, config: &str, redis_url: Option<&str>, extra: &[&str]) -> Limiter {
        let dir = TempDir::new();
        let path = dir.path().join("promptgate.json");
        std::fs::write(&path, config).unwrap();
        let mut store: Vec<String> = match redis_url {
            Some(u) => vec!["--redis".into(), u.into()],
            None => vec!["--memory".into()],
        };
        store.extend(extra.iter().map(|s| s.to_string()));
        let mut l = Limiter {
            bin: bin.to_path_buf(),
            config: path,
            grpc_port: free_port(),
            http_port: free_port(),
            store,
            child: None,
            log: dir.path().join("limiter.log"),
            _dir: dir,
        };
        l.restart();
        l
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "limiter already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(["--grpc-addr", &format!("127.0.0.1:{}", self.grpc_port)])
            .args(["--http-addr", &format!("127.0.0.1:{}", self.http_port)])
            .args(&self.store)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start promptgate-limiter");
        wait_port(self.http_port, "promptgate-limiter", &mut child);
        wait_port(self.grpc_port, "promptgate-limiter", &mut child);
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        self.kill();
    }
}
