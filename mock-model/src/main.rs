//! `mock-model` binary: argument parsing, runtime setup, healthcheck client.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use mock_model::Config;

const USAGE: &str = "\
usage: mock-model --listen ADDR [--threads N] [--completion-tokens N] [--delay-ms N]
                  [--chunk-delay-ms N] [--quiet]
       mock-model --healthcheck [ADDR]   (GET /health on ADDR, default 127.0.0.1:8000)";

struct Args {
    listen: String,
    threads: usize,
    cfg: Config,
}

enum Cmd {
    Serve(Args),
    Healthcheck(String),
    Help,
}

fn parse_num(flag: &str, v: Option<String>) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse::<u64>()
        .map_err(|_| format!("{flag}: invalid number {v:?}"))
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Cmd, String> {
    let mut listen = None;
    let mut threads = 1usize;
    let mut cfg = Config {
        quiet: false,
        ..Config::default()
    };
    while let Some(a) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "--listen" => listen = Some(value().ok_or("--listen needs an address")?),
            "--threads" => {
                threads = parse_num("--threads", value())?.clamp(1, 256) as usize;
            }
            "--completion-tokens" => {
                cfg.completion_tokens = parse_num("--completion-tokens", value())?
                    .min(mock_model::MAX_COMPLETION_TOKENS)
            }
            "--delay-ms" => {
                cfg.delay_ms = parse_num("--delay-ms", value())?.min(mock_model::MAX_DELAY_MS)
            }
            "--chunk-delay-ms" => {
                cfg.chunk_delay_ms =
                    parse_num("--chunk-delay-ms", value())?.min(mock_model::MAX_DELAY_MS)
            }
            "--quiet" | "-q" => cfg.quiet = true,
            "--healthcheck" => {
                let addr = inline
                    .or_else(|| it.next())
                    .unwrap_or_else(|| "127.0.0.1:8000".into());
                return Ok(Cmd::Healthcheck(addr));
            }
            "--help" | "-h" => return Ok(Cmd::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen.ok_or("--listen ADDR is required")?;
    Ok(Cmd::Serve(Args {
        listen,
        threads,
        cfg,
    }))
}

fn healthcheck(addr: &str) -> bool {
    let try_once = || -> std::io::Result<bool> {
        let sa = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("address did not resolve"))?;
        let mut s = TcpStream::connect_timeout(&sa, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.set_write_timeout(Some(Duration::from_secs(2)))?;
        write!(
            s,
            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = Vec::new();
        s.take(4096).read_to_end(&mut buf)?;
        let head = String::from_utf8_lossy(&buf);
        Ok(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"))
    };
    match try_once() {
        Ok(true) => true,
        Ok(false) => {
            eprintln!("mock-model: healthcheck {addr}: unhealthy response");
            false
        }
        Err(e) => {
            eprintln!("mock-model: healthcheck {addr}: {e}");
            false
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let cmd = match parse_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mock-model: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let args = match cmd {
        Cmd::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Cmd::Healthcheck(addr) => {
            return if healthcheck(&addr) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        Cmd::Serve(a) => a,
    };

    // One thread: a current-thread runtime (no cross-thread hand-offs at all).
    // More: a multi-thread runtime with exactly that many workers.
    let rt = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock-model: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(async move {
        let listener = match mock_model::bind(&args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("mock-model: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| args.listen.clone());
        println!("mock-model listening on {local}");
        let _ = std::io::stdout().flush();
        let server = tokio::spawn(mock_model::serve(listener, args.cfg));
        tokio::select! {
            _ = shutdown_signal() => ExitCode::SUCCESS,
            r = server => match r {
                Ok(Ok(())) => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            },
        }
    });
    // Don't wait for in-flight connections (streams with long delays).
    rt.shutdown_background();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Cmd, String> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_serve_flags() {
        let Ok(Cmd::Serve(a)) = parse(&[
            "--listen",
            "127.0.0.1:9",
            "--threads=2",
            "--completion-tokens",
            "5",
            "--delay-ms",
            "7",
            "--chunk-delay-ms",
            "3",
            "--quiet",
        ]) else {
            panic!("expected serve");
        };
        assert_eq!(a.listen, "127.0.0.1:9");
        assert_eq!(a.threads, 2);
        assert_eq!(a.cfg.completion_tokens, 5);
        assert_eq!(a.cfg.delay_ms, 7);
        assert_eq!(a.cfg.chunk_delay_ms, 3);
        assert!(a.cfg.quiet);
    }

    #[test]
    fn defaults_and_errors() {
        let Ok(Cmd::Serve(a)) = parse(&["--listen", "x:1"]) else {
            panic!("expected serve");
        };
        assert_eq!(a.threads, 1);
        assert_eq!(a.cfg.completion_tokens, 16);
        assert!(!a.cfg.quiet);
        assert!(parse(&[]).is_err());
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--listen", "x:1", "--threads", "abc"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(
            matches!(parse(&["--healthcheck"]), Ok(Cmd::Healthcheck(a)) if a == "127.0.0.1:8000")
        );
        assert!(matches!(parse(&["--healthcheck", "h:1"]), Ok(Cmd::Healthcheck(a)) if a == "h:1"));
    }
}
