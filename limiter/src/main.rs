//! `promptgate-limiter --config FILE [--redis URL] [--grpc-addr ADDR] [--http-addr ADDR]
//! [--domain NAME] [--store-timeout-ms N]`. See docs/distributed-limits.md.

use promptgate_limiter::service::Service;
use promptgate_limiter::{serve_grpc, serve_http, table};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

const USAGE: &str = "usage: promptgate-limiter --config FILE [--redis redis://HOST:PORT | --memory] \
[--grpc-addr 127.0.0.1:8081] [--http-addr 127.0.0.1:8082] [--domain NAME] [--store-timeout-ms 1000]";

struct Args {
    config: String,
    redis: Option<String>,
    memory: bool,
    grpc_addr: String,
    http_addr: String,
    domain: Option<String>,
    store_timeout_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        config: String::new(),
        redis: None,
        memory: false,
        grpc_addr: "127.0.0.1:8081".into(),
        http_addr: "127.0.0.1:8082".into(),
        domain: None,
        store_timeout_ms: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => a.config = value()?,
            "--redis" => a.redis = Some(value()?),
            "--memory" => a.memory = true,
            "--grpc-addr" => a.grpc_addr = value()?,
            "--http-addr" => a.http_addr = value()?,
            "--domain" => a.domain = Some(value()?),
            "--store-timeout-ms" => {
                let v = value()?;
                a.store_timeout_ms = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=60_000).contains(n))
                    .ok_or_else(|| format!("--store-timeout-ms: {v:?} is not 1..=60000"))?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.config.is_empty() {
        return Err("--config is required".into());
    }
    if a.redis.is_some() == a.memory {
        return Err("give exactly one of --redis URL and --memory".into());
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("promptgate-limiter: {e}");
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let a = parse_args()?;
    let bytes = std::fs::read(&a.config).map_err(|e| format!("{}: {e}", a.config))?;
    let table = table::from_config(&bytes, a.domain.as_deref())?;
    let timeout = Duration::from_millis(a.store_timeout_ms);
    let grpc = TcpListener::bind(&a.grpc_addr)
        .await
        .map_err(|e| format!("--grpc-addr {}: {e}", a.grpc_addr))?;
    let http = TcpListener::bind(&a.http_addr)
        .await
        .map_err(|e| format!("--http-addr {}: {e}", a.http_addr))?;
    let (svc, store) = match &a.redis {
        Some(url) => {
            // Redis may start after the limiter (compose, a restart): wait for it.
            let mut waited = false;
            loop {
                match Service::redis(table.clone(), url, timeout).await {
                    Ok(s) => break (s, format!("redis {}", redact(url))),
                    Err(e) if !waited => {
                        eprintln!("promptgate-limiter: waiting for redis: {e}");
                        waited = true;
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        None => (
            Service::memory(table.clone()),
            "memory (counters are lost on restart)".into(),
        ),
    };
    let svc = Arc::new(svc);
    // The one startup line. Limits are named by rule and kind; no consumer appears in logs.
    eprintln!(
        "promptgate-limiter: domain {:?}, {} limits, store {store}, grpc {}, http {} (/json, /healthz)",
        table.domain,
        table.limits.len(),
        grpc.local_addr().map_err(|e| e.to_string())?,
        http.local_addr().map_err(|e| e.to_string())?,
    );
    tokio::select! {
        r = serve_grpc(svc.clone(), grpc) => r,
        r = serve_http(svc, http) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// The URL without a password (`redis://:secret@host` -> `redis://:***@host`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}
