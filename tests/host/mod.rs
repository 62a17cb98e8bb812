//! A small proxy-wasm host on `wasmtime`, for the conformance tests (`tests/conformance.rs`).
//!
//! It loads the real release `promptgate.wasm` and drives it through request lifecycles the way
//! each host does, with each host's answers to the host calls, as read from their sources
//! (`docs/hosts.md` cites them):
//! - [`Profile::Envoy`]: proxy-wasm-cpp-host. Accurate `eof`; body per chunk, buffered while the
//!   filter answers `Pause`; shared data with Envoy CAS (cas 0 = unconditional, absent keys
//!   always created); metrics; `on_log` then `on_done`.
//! - [`Profile::Kong`]: ngx_wasm_module. `eof` always false on headers; the body once, whole,
//!   `eof = true`, only when there is one, and `NotFound` for it when nginx spilled it to a temp
//!   file; strict CAS (`cas` must equal the key's, 0 when absent); `Pause` from request headers
//!   waits for a resume that never comes (the request stalls); `ngx.*` properties; a header map
//!   read whole is pseudo-headers first and at most 100 pairs.
//! - [`Profile::Apisix`]: wasm-nginx-module + `apisix/wasm.lua`. Headers as `(0, eof = true)`;
//!   the body only after `set_property(wasm_process_req_body)`; a returned 1 (`Pause`) reads as
//!   "HTTP call pending"; shared data, time, tick and `set_buffer_bytes` answer Unimplemented;
//!   metric calls answer Ok and do nothing; single-segment properties only; no `on_log`.
//!
//! Only WASI preview1 functions the module imports are provided (environ, fd_write, clocks,
//! random, proc_exit); `tests/conformance.rs` checks the import list against each profile.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime::{
    bail, Caller, Engine, Extern, ExternType, Instance, Linker, Module, Result, Store, Val,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    Envoy,
    Kong,
    Apisix,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Envoy, Profile::Kong, Profile::Apisix];
}

const OK: i32 = 0;
const NOT_FOUND: i32 = 1;
const BAD_ARGUMENT: i32 = 2;
const CAS_MISMATCH: i32 = 8;
const UNIMPLEMENTED: i32 = 12;

/// Shared data of one host process (all its VMs/workers), with the cas semantics of a profile.
#[derive(Default)]
pub struct SharedData {
    map: HashMap<String, (Vec<u8>, u32)>,
    next_cas: u32,
}

impl SharedData {
    fn set(&mut self, profile: Profile, key: &str, value: Vec<u8>, cas: u32) -> i32 {
        let current = self.map.get(key).map(|(_, c)| *c);
        let ok = match profile {
            // cpp-host shared_data.cc: cas 0 or an absent key always succeeds.
            Profile::Envoy => cas == 0 || current.is_none() || current == Some(cas),
            // ngx_wa_shm_kv.c: cas must equal the key's (0 when absent).
            _ => cas == current.unwrap_or(0),
        };
        if !ok {
            return CAS_MISMATCH;
        }
        self.next_cas = self.next_cas.wrapping_add(1).max(1);
        self.map.insert(key.to_string(), (value, self.next_cas));
        OK
    }
}

/// A local reply: status, headers, body.
pub type LocalReply = (u32, Vec<(String, String)>, Vec<u8>);

/// What one request context saw and did.
#[derive(Default, Debug, Clone)]
pub struct Exchange {
    pub req_headers: Vec<(String, String)>,
    pub req_body: Vec<u8>,
    pub resp_headers: Vec<(String, String)>,
    pub resp_body: Vec<u8>,
    /// `send_local_response`: status, headers, body.
    pub local: Option<LocalReply>,
    /// The body as it would reach the upstream (after any `set_buffer_bytes`).
    pub upstream_body: Option<Vec<u8>>,
    pub properties_set: HashMap<String, Vec<u8>>,
}

pub struct HostState {
    pub profile: Profile,
    pub config: Vec<u8>,
    pub shared: Arc<Mutex<SharedData>>,
    pub logs: Vec<(i32, String)>,
    pub stdout: Vec<u8>,
    pub metrics: HashMap<u32, (String, i64)>,
    next_metric: u32,
    /// Host calls the profile does not implement, or that were not expected at all.
    pub unexpected_calls: Vec<String>,
    /// Calls answered Unimplemented (APISIX), by name.
    pub unimplemented_answers: Vec<String>,
    pub ex: Exchange,
    /// The current callback, for Kong's "only during on_request_body" checks.
    pub step: &'static str,
    /// Kong: the request body was spilled to a temp file (larger than client_body_buffer_size).
    pub body_in_temp_file: bool,
    /// Every host call the module made, with the callback it made it in; kept only by a VM made
    /// with [`Vm::counting_calls`].
    pub calls: Vec<(&'static str, String)>,
    counting: bool,
    /// `proxy_http_call` / `proxy_grpc_call` attempts (each refused with InternalFailure).
    pub outbound_calls: Vec<String>,
    /// Envoy: the CEL expressions the module created (`expr_create`), by token.
    pub expressions: Vec<String>,
}

impl HostState {
    fn note(&mut self, name: &str) {
        if self.counting {
            self.calls.push((self.step, name.to_string()));
        }
    }

    /// [`note`](Self::note)s a call wasm-nginx-module (APISIX) does not implement, and on the
    /// APISIX profile records its Unimplemented answer: `true` means answer `UNIMPLEMENTED`.
    fn unimplemented_on_apisix(&mut self, name: &str) -> bool {
        self.note(name);
        if self.profile != Profile::Apisix {
            return false;
        }
        self.unimplemented_answers.push(name.into());
        true
    }

    fn prop(&self, path: &[u8]) -> Option<Vec<u8>> {
        let segs: Vec<&[u8]> = path.split(|b| *b == 0).collect();
        let name = String::from_utf8_lossy(&segs.join(&b'.')).into_owned();
        match self.profile {
            Profile::Envoy => match name.as_str() {
                "xds.route_name" => Some(b"llm".to_vec()),
                "xds.cluster_name" => Some(b"model".to_vec()),
                "plugin_root_id" => Some(b"promptgate".to_vec()),
                _ => None,
            },
            Profile::Kong => match name.as_str() {
                "ngx.nginx_version" => Some(b"1.25.3".to_vec()),
                "plugin_root_id" => Some(b"promptgate".to_vec()),
                _ => None,
            },
            // Single-segment nginx variable names only.
            Profile::Apisix => match name.as_str() {
                "remote_addr" => Some(b"127.0.0.1".to_vec()),
                "plugin_root_id" => Some(b"promptgate".to_vec()),
                _ => None,
            },
        }
    }
}

fn engine_and_module(path: &Path) -> &'static (Engine, Module) {
    static M: OnceLock<(Engine, Module)> = OnceLock::new();
    M.get_or_init(|| {
        // No optimisation of the guest: the tests run little code, and compiling the 1.4 MB module
        // with a debug-built Cranelift is what takes the time.
        let mut config = wasmtime::Config::new();
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        // Fuel counts the wasm operators the guest executes: `Vm::wasm_ops` (tests/wasm_cost.rs),
        // a deterministic cost figure next to scripts/bench's wall-clock ones.
        config.consume_fuel(true);
        let engine = Engine::new(&config).expect("engine");
        let module = Module::from_file(&engine, path).expect("compile promptgate.wasm");
        (engine, module)
    })
}

fn memory(caller: &mut Caller<'_, HostState>) -> Result<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => bail!("no memory export"),
    }
}

fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let mem = memory(caller)?;
    let mut buf = vec![0u8; len as u32 as usize];
    mem.read(&*caller, ptr as u32 as usize, &mut buf)?;
    Ok(buf)
}

fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, v: u32) -> Result<()> {
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr as u32 as usize, &v.to_le_bytes())?;
    Ok(())
}

/// Copies `data` into guest memory allocated through `proxy_on_memory_allocate` and writes the
/// pointer and size to the guest's out-parameters, as every host does.
fn hand_over(
    caller: &mut Caller<'_, HostState>,
    data: &[u8],
    ptr_out: i32,
    size_out: i32,
) -> Result<i32> {
    let alloc = match caller.get_export("proxy_on_memory_allocate") {
        Some(Extern::Func(f)) => f.typed::<i32, i32>(&*caller)?,
        _ => bail!("no proxy_on_memory_allocate export"),
    };
    let p = if data.is_empty() {
        0
    } else {
        alloc.call(&mut *caller, data.len() as i32)?
    };
    if !data.is_empty() {
        let mem = memory(caller)?;
        mem.write(&mut *caller, p as u32 as usize, data)?;
    }
    write_u32(caller, ptr_out, p as u32)?;
    write_u32(caller, size_out, data.len() as u32)?;
    Ok(OK)
}

fn serialize_map(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn parse_map(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if data.len() < 4 {
        return out;
    }
    let n = u32::from_le_bytes(data[0..4].try_into().unwrap()) as usize;
    let mut sizes = Vec::new();
    for i in 0..n {
        let o = 4 + i * 8;
        let k = u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
        let v = u32::from_le_bytes(data[o + 4..o + 8].try_into().unwrap()) as usize;
        sizes.push((k, v));
    }
    let mut p = 4 + n * 8;
    for (k, v) in sizes {
        let key = String::from_utf8_lossy(&data[p..p + k]).into_owned();
        p += k + 1;
        let val = String::from_utf8_lossy(&data[p..p + v]).into_owned();
        p += v + 1;
        out.push((key, val));
    }
    out
}

fn headers_of(st: &HostState, map: i32) -> Option<&Vec<(String, String)>> {
    match map {
        0 => Some(&st.ex.req_headers),
        2 => Some(&st.ex.resp_headers),
        _ => None,
    }
}

fn headers_of_mut(st: &mut HostState, map: i32) -> Option<&mut Vec<(String, String)>> {
    match map {
        0 => Some(&mut st.ex.req_headers),
        2 => Some(&mut st.ex.resp_headers),
        _ => None,
    }
}

fn define_env(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut c: Caller<'_, HostState>, level: i32, p: i32, n: i32| -> Result<i32> {
            c.data_mut().note("proxy_log");
            let msg = String::from_utf8_lossy(&read(&mut c, p, n)?).into_owned();
            c.data_mut().logs.push((level, msg));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut c: Caller<'_, HostState>, out: i32| -> Result<i32> {
            c.data_mut().note("proxy_get_log_level");
            write_u32(&mut c, out, 2)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut c: Caller<'_, HostState>, out: i32| -> Result<i32> {
            if c.data_mut()
                .unimplemented_on_apisix("proxy_get_current_time_nanoseconds")
            {
                return Ok(UNIMPLEMENTED);
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            let mem = memory(&mut c)?;
            mem.write(&mut c, out as u32 as usize, &now.to_le_bytes())?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut c: Caller<'_, HostState>, _ms: i32| -> Result<i32> {
            if c.data_mut()
                .unimplemented_on_apisix("proxy_set_tick_period_milliseconds")
            {
                return Ok(UNIMPLEMENTED);
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut c: Caller<'_, HostState>,
         ty: i32,
         start: i32,
         size: i32,
         pout: i32,
         sout: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_get_buffer_bytes");
            let st = c.data();
            let buf = match ty {
                0 => {
                    if st.profile == Profile::Kong
                        && !matches!(st.step, "request_headers" | "request_body" | "log")
                    {
                        // ngx_proxy_wasm_host.c: a trap, not a status.
                        bail!("can only get request body during \"on_request_body\", \"on_log\"");
                    }
                    if st.profile == Profile::Kong && st.body_in_temp_file {
                        return Ok(NOT_FOUND);
                    }
                    st.ex.req_body.clone()
                }
                1 => st.ex.resp_body.clone(),
                7 => st.config.clone(),
                _ => return Ok(NOT_FOUND),
            };
            if st.profile == Profile::Apisix && ty != 7 && (start < 0 || size <= 0) {
                return Ok(BAD_ARGUMENT);
            }
            if buf.is_empty() {
                return Ok(NOT_FOUND);
            }
            let start = (start as u32 as usize).min(buf.len());
            let end = start.saturating_add(size as u32 as usize).min(buf.len());
            let slice = buf[start..end].to_vec();
            hand_over(&mut c, &slice, pout, sout)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>,
         ty: i32,
         start: i32,
         size: i32,
         p: i32,
         n: i32|
         -> Result<i32> {
            if c.data_mut()
                .unimplemented_on_apisix("proxy_set_buffer_bytes")
            {
                return Ok(UNIMPLEMENTED);
            }
            c.data_mut().note("proxy_set_buffer_bytes");
            let data = read(&mut c, p, n)?;
            let st = c.data_mut();
            let body = match ty {
                0 => &mut st.ex.req_body,
                // The response body: the chunk of this callback (Envoy's buffer under Continue).
                1 => &mut st.ex.resp_body,
                _ => return Ok(BAD_ARGUMENT),
            };
            let start = (start as usize).min(body.len());
            let end = (start + size as usize).min(body.len());
            body.splice(start..end, data);
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map: i32, pout: i32, sout: i32| -> Result<i32> {
            c.data_mut().note("proxy_get_header_map_pairs");
            let profile = c.data().profile;
            let data = match headers_of(c.data(), map) {
                // ngx_proxy_wasm_pairs_marshal: pseudo-headers first, then the nginx list, at
                // most NGX_HTTP_WASM_MAX_REQ_HEADERS (100) pairs in all; the rest is dropped.
                Some(h) if profile == Profile::Kong => {
                    let (mut pairs, rest): (Vec<_>, Vec<_>) =
                        h.iter().cloned().partition(|(k, _)| k.starts_with(':'));
                    pairs.extend(rest);
                    pairs.truncate(100);
                    serialize_map(&pairs)
                }
                Some(h) => serialize_map(h),
                None => return Ok(NOT_FOUND),
            };
            hand_over(&mut c, &data, pout, sout)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut c: Caller<'_, HostState>, _m: i32, _p: i32, _n: i32| -> Result<i32> {
            c.data_mut().note("proxy_set_header_map_pairs");
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kn: i32,
         pout: i32,
         sout: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_get_header_map_value");
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).to_ascii_lowercase();
            let v = match headers_of(c.data(), map).and_then(|h| h.iter().find(|(k, _)| *k == key))
            {
                Some((_, v)) => v.clone(),
                None => return Ok(NOT_FOUND),
            };
            hand_over(&mut c, v.as_bytes(), pout, sout)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kn: i32,
         vp: i32,
         vn: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_replace_header_map_value");
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).to_ascii_lowercase();
            let val = String::from_utf8_lossy(&read(&mut c, vp, vn)?).into_owned();
            if let Some(h) = headers_of_mut(c.data_mut(), map) {
                h.retain(|(k, _)| *k != key);
                h.push((key, val));
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kn: i32,
         vp: i32,
         vn: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_add_header_map_value");
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).to_ascii_lowercase();
            let val = String::from_utf8_lossy(&read(&mut c, vp, vn)?).into_owned();
            if let Some(h) = headers_of_mut(c.data_mut(), map) {
                h.push((key, val));
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut c: Caller<'_, HostState>, map: i32, kp: i32, kn: i32| -> Result<i32> {
            c.data_mut().note("proxy_remove_header_map_value");
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).to_ascii_lowercase();
            if let Some(h) = headers_of_mut(c.data_mut(), map) {
                h.retain(|(k, _)| *k != key);
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, pp: i32, pn: i32, pout: i32, sout: i32| -> Result<i32> {
            c.data_mut().note("proxy_get_property");
            let path = read(&mut c, pp, pn)?;
            if c.data().profile == Profile::Apisix && path.contains(&0) {
                // A multi-segment path is looked up as one nginx variable name: not found.
                return Ok(NOT_FOUND);
            }
            match c.data().prop(&path) {
                Some(v) => hand_over(&mut c, &v, pout, sout),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    // Envoy's `expr_create` / `expr_evaluate` (source/extensions/common/wasm/foreign.cc) for the
    // one expression promptgate creates (`FACTS_EXPRESSION` in src/exchange/host.rs): its value serialised as
    // Envoy serialises a CEL list (a header map of the elements' bytes; the timestamp and the
    // duration as little-endian i64 nanoseconds). The duration exists once the stream is
    // complete (the log phase). The real Envoy is checked by tests/e2e_observability.rs.
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut c: Caller<'_, HostState>,
         np: i32,
         nn: i32,
         ap: i32,
         an: i32,
         pout: i32,
         sout: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_call_foreign_function");
            let name = String::from_utf8_lossy(&read(&mut c, np, nn)?).into_owned();
            let arg = read(&mut c, ap, an)?;
            if c.data().profile != Profile::Envoy {
                // Kong and APISIX have none of Envoy's foreign functions.
                c.data_mut()
                    .unexpected_calls
                    .push(format!("proxy_call_foreign_function({name})"));
                return Ok(NOT_FOUND);
            }
            match name.as_str() {
                "expr_create" => {
                    let expr = String::from_utf8_lossy(&arg).into_owned();
                    // The answer below is the shape of that one expression (no CEL here).
                    let attributes = [
                        "xds.route_name",
                        "xds.cluster_name",
                        "request.time",
                        "request.duration",
                    ];
                    if !attributes.iter().all(|a| expr.contains(a)) {
                        return Ok(BAD_ARGUMENT);
                    }
                    let token = c.data().expressions.len() as u32;
                    c.data_mut().expressions.push(expr);
                    hand_over(&mut c, &token.to_le_bytes(), pout, sout)
                }
                "expr_evaluate" => {
                    let token = match <[u8; 4]>::try_from(arg.as_slice()) {
                        Ok(t) => u32::from_le_bytes(t) as usize,
                        Err(_) => return Ok(BAD_ARGUMENT),
                    };
                    if token >= c.data().expressions.len() {
                        return Ok(NOT_FOUND);
                    }
                    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as i64;
                    let start = (now - 3_000_000).to_le_bytes();
                    let took = 3_000_000i64.to_le_bytes();
                    let duration: &[u8] = if c.data().step == "log" { &took } else { b"" };
                    let items: [&[u8]; 4] = [b"llm", b"model", &start, duration];
                    let mut out = (items.len() as u32).to_le_bytes().to_vec();
                    for i in items {
                        out.extend_from_slice(&(i.len() as u32).to_le_bytes());
                        out.extend_from_slice(&0u32.to_le_bytes());
                    }
                    for i in items {
                        out.extend_from_slice(i);
                        out.extend_from_slice(&[0, 0]);
                    }
                    hand_over(&mut c, &out, pout, sout)
                }
                _ => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut c: Caller<'_, HostState>, pp: i32, pn: i32, vp: i32, vn: i32| -> Result<i32> {
            c.data_mut().note("proxy_set_property");
            let path = String::from_utf8_lossy(&read(&mut c, pp, pn)?).replace('\0', ".");
            let value = read(&mut c, vp, vn)?;
            let st = c.data_mut();
            match st.profile {
                Profile::Envoy => {}
                // Only nginx variables declared for writing exist; promptgate sets none on Kong.
                Profile::Kong => {
                    st.unexpected_calls
                        .push(format!("proxy_set_property({path})"));
                    return Ok(NOT_FOUND);
                }
                Profile::Apisix
                    if path == "wasm_process_req_body" || path == "wasm_process_resp_body" => {}
                Profile::Apisix => {
                    st.unexpected_calls
                        .push(format!("proxy_set_property({path})"));
                    return Ok(NOT_FOUND);
                }
            }
            st.ex.properties_set.insert(path, value);
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut c: Caller<'_, HostState>,
         kp: i32,
         kn: i32,
         pout: i32,
         sout: i32,
         cout: i32|
         -> Result<i32> {
            if c.data_mut()
                .unimplemented_on_apisix("proxy_get_shared_data")
            {
                return Ok(UNIMPLEMENTED);
            }
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).into_owned();
            let got = c.data().shared.lock().unwrap().map.get(&key).cloned();
            match got {
                None => Ok(NOT_FOUND),
                Some((v, cas)) => {
                    write_u32(&mut c, cout, cas)?;
                    hand_over(&mut c, &v, pout, sout)
                }
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut c: Caller<'_, HostState>,
         kp: i32,
         kn: i32,
         vp: i32,
         vn: i32,
         cas: i32|
         -> Result<i32> {
            if c.data_mut()
                .unimplemented_on_apisix("proxy_set_shared_data")
            {
                return Ok(UNIMPLEMENTED);
            }
            let key = String::from_utf8_lossy(&read(&mut c, kp, kn)?).into_owned();
            let value = read(&mut c, vp, vn)?;
            let profile = c.data().profile;
            let status = c
                .data()
                .shared
                .lock()
                .unwrap()
                .set(profile, &key, value, cas as u32);
            Ok(status)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut c: Caller<'_, HostState>, _ty: i32, np: i32, nn: i32, out: i32| -> Result<i32> {
            c.data_mut().note("proxy_define_metric");
            if c.data().profile == Profile::Apisix {
                // Returns Ok and leaves the id untouched.
                return Ok(OK);
            }
            let name = String::from_utf8_lossy(&read(&mut c, np, nn)?).into_owned();
            let st = c.data_mut();
            let existing = st
                .metrics
                .iter()
                .find(|(_, (n, _))| *n == name)
                .map(|(id, _)| *id);
            let id = existing.unwrap_or_else(|| {
                st.next_metric += 1;
                st.metrics.insert(st.next_metric, (name, 0));
                st.next_metric
            });
            write_u32(&mut c, out, id)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut c: Caller<'_, HostState>, id: i32, delta: i64| -> Result<i32> {
            c.data_mut().note("proxy_increment_metric");
            let st = c.data_mut();
            if st.profile == Profile::Apisix {
                return Ok(OK);
            }
            match st.metrics.get_mut(&(id as u32)) {
                Some(m) => {
                    m.1 += delta;
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut c: Caller<'_, HostState>, id: i32, value: i64| -> Result<i32> {
            c.data_mut().note("proxy_record_metric");
            let st = c.data_mut();
            if st.profile == Profile::Apisix {
                return Ok(OK);
            }
            match st.metrics.get_mut(&(id as u32)) {
                Some(m) => {
                    m.1 = value;
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut c: Caller<'_, HostState>,
         status: i32,
         _dp: i32,
         _dn: i32,
         bp: i32,
         bn: i32,
         hp: i32,
         hn: i32,
         _grpc: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_send_local_response");
            let body = read(&mut c, bp, bn)?;
            let headers = parse_map(&read(&mut c, hp, hn)?);
            c.data_mut().ex.local = Some((status as u32, headers, body));
            Ok(OK)
        },
    )?;
    // Outbound calls (`limits.store: rls`): this harness has no upstream to call, so it refuses
    // them as a host refuses an unknown upstream (InternalFailure): the filter must not trap
    // and `failure_mode` decides. Recorded so tests can see whether a call was attempted.
    const INTERNAL_FAILURE: i32 = 10;
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut c: Caller<'_, HostState>,
         _up: i32,
         _upn: i32,
         _hp: i32,
         _hn: i32,
         _bp: i32,
         _bn: i32,
         _tp: i32,
         _tn: i32,
         _timeout: i32,
         _token: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_http_call");
            c.data_mut().outbound_calls.push("proxy_http_call".into());
            Ok(INTERNAL_FAILURE)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |mut c: Caller<'_, HostState>,
         _up: i32,
         _upn: i32,
         _sp: i32,
         _sn: i32,
         _mp: i32,
         _mn: i32,
         _ip: i32,
         _in: i32,
         _msgp: i32,
         _msgn: i32,
         _timeout: i32,
         _token: i32|
         -> Result<i32> {
            c.data_mut().note("proxy_grpc_call");
            c.data_mut().outbound_calls.push("proxy_grpc_call".into());
            Ok(INTERNAL_FAILURE)
        },
    )?;
    for name in ["proxy_continue_stream", "proxy_close_stream"] {
        linker.func_wrap(
            "env",
            name,
            |mut c: Caller<'_, HostState>, _t: i32| -> Result<i32> {
                c.data_mut().note(name);
                Ok(OK)
            },
        )?;
    }
    Ok(())
}

fn define_wasi(linker: &mut Linker<HostState>) -> Result<()> {
    const W: &str = "wasi_snapshot_preview1";
    linker.func_wrap(
        W,
        "environ_sizes_get",
        |mut c: Caller<'_, HostState>, n: i32, size: i32| -> Result<i32> {
            c.data_mut().note("environ_sizes_get");
            write_u32(&mut c, n, 0)?;
            write_u32(&mut c, size, 0)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        W,
        "environ_get",
        |mut c: Caller<'_, HostState>, _a: i32, _b: i32| -> Result<i32> {
            c.data_mut().note("environ_get");
            Ok(0)
        },
    )?;
    linker.func_wrap(
        W,
        "fd_write",
        |mut c: Caller<'_, HostState>, _fd: i32, iovs: i32, n: i32, out: i32| -> Result<i32> {
            c.data_mut().note("fd_write");
            let mut total = 0u32;
            for i in 0..n {
                let iov = read(&mut c, iovs + i * 8, 8)?;
                let p = u32::from_le_bytes(iov[0..4].try_into().unwrap());
                let len = u32::from_le_bytes(iov[4..8].try_into().unwrap());
                let data = read(&mut c, p as i32, len as i32)?;
                c.data_mut().stdout.extend_from_slice(&data);
                total += len;
            }
            write_u32(&mut c, out, total)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        W,
        "proc_exit",
        |mut c: Caller<'_, HostState>, code: i32| -> Result<()> {
            c.data_mut().note("proc_exit");
            bail!("proc_exit({code})")
        },
    )?;
    linker.func_wrap(
        W,
        "clock_time_get",
        |mut c: Caller<'_, HostState>, _id: i32, _prec: i64, out: i32| -> Result<i32> {
            c.data_mut().note("clock_time_get");
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            let mem = memory(&mut c)?;
            mem.write(&mut c, out as u32 as usize, &now.to_le_bytes())?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        W,
        "random_get",
        |mut c: Caller<'_, HostState>, p: i32, n: i32| -> Result<i32> {
            c.data_mut().note("random_get");
            let mut x = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1;
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let mem = memory(&mut c)?;
            mem.write(&mut c, p as u32 as usize, &bytes)?;
            Ok(0)
        },
    )?;
    Ok(())
}

/// The imports this harness implements, per module (for the import-section check).
pub const ENV_IMPLEMENTED: &[&str] = &[
    "proxy_log",
    "proxy_get_log_level",
    "proxy_get_current_time_nanoseconds",
    "proxy_set_tick_period_milliseconds",
    "proxy_get_buffer_bytes",
    "proxy_set_buffer_bytes",
    "proxy_get_header_map_pairs",
    "proxy_set_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_add_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_get_property",
    "proxy_set_property",
    "proxy_get_shared_data",
    "proxy_set_shared_data",
    "proxy_define_metric",
    "proxy_increment_metric",
    "proxy_record_metric",
    "proxy_send_local_response",
    "proxy_http_call",
    "proxy_grpc_call",
    "proxy_continue_stream",
    "proxy_close_stream",
    "proxy_call_foreign_function",
];

pub const WASI_IMPLEMENTED: &[&str] = &[
    "environ_sizes_get",
    "environ_get",
    "fd_write",
    "proc_exit",
    "clock_time_get",
    "random_get",
];

/// One VM (one worker) of a host running promptgate.
pub struct Vm {
    pub store: Store<HostState>,
    instance: Instance,
    next_ctx: i32,
    pub configured: bool,
    /// Wasm operators of each callback of the last request, in order ([`Vm::request`]): the
    /// step name (`create`, `request_headers`, ..., `log`, `delete`) and its operators.
    pub phase_ops: Vec<(&'static str, u64)>,
}

/// The outcome of one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The local reply's status, or the upstream's when forwarded.
    pub status: u32,
    pub forwarded: bool,
    pub exchange: Exchange,
    /// The audit event written for this request (parsed), if any.
    pub audit: Option<serde_json::Value>,
    /// The request stalled: Kong `Pause` in access, or APISIX's `1` read as an HTTP call.
    pub stalled: Option<String>,
}

impl Vm {
    pub fn new(profile: Profile, wasm: &Path, config: &str, shared: Arc<Mutex<SharedData>>) -> Vm {
        Vm::build(profile, wasm, config, shared, false)
    }

    /// As [`Vm::new`], and every host call (proxy-wasm and WASI) is logged in
    /// [`HostState::calls`] with the callback it was made in.
    pub fn counting_calls(
        profile: Profile,
        wasm: &Path,
        config: &str,
        shared: Arc<Mutex<SharedData>>,
    ) -> Vm {
        Vm::build(profile, wasm, config, shared, true)
    }

    fn build(
        profile: Profile,
        wasm: &Path,
        config: &str,
        shared: Arc<Mutex<SharedData>>,
        count: bool,
    ) -> Vm {
        let (engine, module) = engine_and_module(wasm);
        let mut linker = Linker::new(engine);
        define_env(&mut linker).unwrap();
        define_wasi(&mut linker).unwrap();
        // Imports the module has but this harness does not implement (http/grpc calls, queues,
        // foreign functions): recorded and answered Unimplemented. The tests assert none is used.
        for imp in module.imports() {
            let known = match imp.module() {
                "env" => ENV_IMPLEMENTED.contains(&imp.name()),
                "wasi_snapshot_preview1" => WASI_IMPLEMENTED.contains(&imp.name()),
                _ => false,
            };
            if known {
                continue;
            }
            let name = format!("{}.{}", imp.module(), imp.name());
            if let ExternType::Func(ft) = imp.ty() {
                let n = name.clone();
                linker
                    .func_new(
                        imp.module(),
                        imp.name(),
                        ft,
                        move |mut c: Caller<'_, HostState>, _p: &[Val], r: &mut [Val]| {
                            c.data_mut().note(&n);
                            c.data_mut().unexpected_calls.push(n.clone());
                            for v in r.iter_mut() {
                                *v = Val::I32(UNIMPLEMENTED);
                            }
                            Ok(())
                        },
                    )
                    .unwrap();
            }
        }
        let state = HostState {
            profile,
            config: config.as_bytes().to_vec(),
            shared,
            logs: Vec::new(),
            stdout: Vec::new(),
            metrics: HashMap::new(),
            next_metric: 0,
            unexpected_calls: Vec::new(),
            unimplemented_answers: Vec::new(),
            ex: Exchange::default(),
            step: "start",
            body_in_temp_file: false,
            calls: Vec::new(),
            counting: count,
            outbound_calls: Vec::new(),
            expressions: Vec::new(),
        };
        let mut store = Store::new(engine, state);
        store.set_fuel(u64::MAX).expect("fuel");
        let instance = linker.instantiate(&mut store, module).expect("instantiate");
        let mut vm = Vm {
            store,
            instance,
            next_ctx: 2,
            configured: false,
            phase_ops: Vec::new(),
        };
        for init in ["_initialize", "_start"] {
            if vm.instance.get_func(&mut vm.store, init).is_some() {
                vm.call0(init, &[]).expect("init");
                break;
            }
        }
        vm.call0("proxy_on_context_create", &[1, 0])
            .expect("root context");
        vm.store.data_mut().step = "vm_start";
        let started = vm.call_i32("proxy_on_vm_start", &[1, 0]).expect("vm start");
        assert_eq!(started, 1, "proxy_on_vm_start refused");
        vm.store.data_mut().step = "configure";
        let len = vm.store.data().config.len() as i32;
        vm.configured = vm
            .call_i32("proxy_on_configure", &[1, len])
            .expect("configure trapped")
            == 1;
        vm
    }

    fn call0(&mut self, name: &str, args: &[i32]) -> Result<()> {
        let f = self
            .instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| wasmtime::format_err!("no export {name}"))?;
        let params: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        let mut results = vec![Val::I32(0); f.ty(&self.store).results().len()];
        f.call(&mut self.store, &params, &mut results)
    }

    fn call_i32(&mut self, name: &str, args: &[i32]) -> Result<i32> {
        let f = self
            .instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| wasmtime::format_err!("no export {name}"))?;
        let params: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        let mut results = vec![Val::I32(0); f.ty(&self.store).results().len()];
        f.call(&mut self.store, &params, &mut results)?;
        Ok(results.first().map_or(0, Val::unwrap_i32))
    }

    fn step(&mut self, step: &'static str, name: &str, args: &[i32]) -> i32 {
        self.store.data_mut().step = step;
        let before = self.wasm_ops();
        let r = match self.call_i32(name, args) {
            Ok(v) => v,
            Err(e) => panic!(
                "{:?}: promptgate trapped in {name}: {e:?}",
                self.store.data().profile
            ),
        };
        let used = self.wasm_ops() - before;
        self.phase_ops.push((step, used));
        r
    }

    /// A callback without a result (`proxy_on_log`, `proxy_on_delete`), its operators recorded
    /// in [`Vm::phase_ops`] as `step`.
    fn step0(&mut self, step: &'static str, name: &str, args: &[i32]) {
        self.store.data_mut().step = step;
        let before = self.wasm_ops();
        let profile = self.store.data().profile;
        self.call0(name, args)
            .unwrap_or_else(|e| panic!("{profile:?}: trapped in {name}: {e:?}"));
        let used = self.wasm_ops() - before;
        self.phase_ops.push((step, used));
    }

    /// Wasm operators executed by the guest so far (wasmtime fuel).
    pub fn wasm_ops(&self) -> u64 {
        u64::MAX - self.store.get_fuel().expect("fuel")
    }

    pub fn logs(&self) -> &[(i32, String)] {
        &self.store.data().logs
    }

    pub fn metric(&self, name: &str) -> Option<i64> {
        self.store
            .data()
            .metrics
            .values()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// One request through the host's lifecycle. `upstream` is the model's answer when the
    /// request is forwarded: (status, content-type, body).
    pub fn request(
        &mut self,
        headers: &[(&str, &str)],
        body: &[u8],
        upstream: (u32, &str, &[u8]),
    ) -> Outcome {
        self.request_chunked(headers, body, (upstream.0, upstream.1, &[upstream.2]))
    }

    /// [`Vm::request`] with the model's answer arriving in `upstream.2`'s chunks, one
    /// `proxy_on_response_body` each (the last with end_of_stream), as Envoy delivers a stream
    /// read by read: a callback that returns Continue sends its buffer (as the filter left it)
    /// on; one that returns StopIterationAndBuffer keeps it, and the next callback sees it with
    /// the new chunk appended. `Outcome::exchange.resp_body` is what reached the client.
    pub fn request_chunked(
        &mut self,
        headers: &[(&str, &str)],
        body: &[u8],
        upstream: (u32, &str, &[&[u8]]),
    ) -> Outcome {
        let profile = self.store.data().profile;
        let ctx = self.next_ctx;
        self.next_ctx += 1;
        let logs_before = self.store.data().logs.len();
        self.phase_ops.clear();
        {
            let st = self.store.data_mut();
            let mut h: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if !body.is_empty() && !h.iter().any(|(k, _)| k == "content-length") {
                h.push(("content-length".into(), body.len().to_string()));
            }
            st.ex = Exchange {
                req_headers: h,
                req_body: body.to_vec(),
                ..Exchange::default()
            };
        }
        self.step("create", "proxy_on_context_create", &[ctx, 1]);
        let n = headers.len() as i32;
        let (n, eos) = match profile {
            Profile::Envoy => (n, body.is_empty() as i32),
            Profile::Kong => (n, 0),
            Profile::Apisix => (0, 1),
        };
        let mut stalled = None;
        let a = self.step(
            "request_headers",
            "proxy_on_request_headers",
            &[ctx, n, eos],
        );
        let local = |vm: &Vm| vm.store.data().ex.local.is_some();
        match profile {
            Profile::Envoy => {
                if !local(self) && !body.is_empty() {
                    // Headers paused (allow_on_headers_stop_iteration) or continued: the body
                    // arrives in two chunks; Pause buffers, so the second callback sees both.
                    let half = body.len() / 2;
                    let r1 = self.step(
                        "request_body",
                        "proxy_on_request_body",
                        &[ctx, half as i32, 0],
                    );
                    if !local(self) {
                        let size = if r1 == 1 {
                            body.len()
                        } else {
                            body.len() - half
                        };
                        self.step(
                            "request_body",
                            "proxy_on_request_body",
                            &[ctx, size as i32, 1],
                        );
                    }
                } else if !local(self) && a == 1 && body.is_empty() {
                    stalled = Some("Pause on a request without body".into());
                }
            }
            Profile::Kong => {
                if a == 1 && !local(self) {
                    stalled = Some(
                        "Pause from on_request_headers in the access phase waits for an HTTP call"
                            .into(),
                    );
                } else if !local(self) && !body.is_empty() {
                    let b = self.step(
                        "request_body",
                        "proxy_on_request_body",
                        &[ctx, body.len() as i32, 1],
                    );
                    if b == 1 && !local(self) {
                        stalled = Some("Pause from on_request_body".into());
                    }
                }
            }
            Profile::Apisix => {
                if a == 1 && !local(self) {
                    stalled = Some("1 from on_request_headers reads as RC_NEED_HTTP_CALL".into());
                }
                let opted = self
                    .store
                    .data_mut()
                    .ex
                    .properties_set
                    .remove("wasm_process_req_body")
                    .is_some();
                if !local(self) && stalled.is_none() && opted {
                    let b = self.step(
                        "request_body",
                        "proxy_on_request_body",
                        &[ctx, body.len() as i32, 1],
                    );
                    if b == 1 && !local(self) {
                        stalled = Some("1 from on_request_body reads as RC_NEED_HTTP_CALL".into());
                    }
                }
            }
        }
        let forwarded = !local(self) && stalled.is_none();
        let mut status = self.store.data().ex.local.as_ref().map_or(0, |l| l.0);
        if forwarded {
            let st = self.store.data_mut();
            st.ex.upstream_body = Some(st.ex.req_body.clone());
            st.ex.resp_headers = vec![
                (":status".into(), upstream.0.to_string()),
                ("content-type".into(), upstream.1.to_string()),
            ];
            st.ex.resp_body = Vec::new();
            status = upstream.0;
            let rn = if profile == Profile::Apisix { 0 } else { 2 };
            self.step(
                "response_headers",
                "proxy_on_response_headers",
                &[ctx, rn, 0],
            );
            let body_called = profile != Profile::Apisix
                || self
                    .store
                    .data_mut()
                    .ex
                    .properties_set
                    .remove("wasm_process_resp_body")
                    .is_some();
            if body_called {
                let chunks = upstream.2;
                let mut delivered = Vec::new();
                let mut held = Vec::new();
                for (i, chunk) in chunks.iter().enumerate() {
                    let eos = i + 1 == chunks.len();
                    held.extend_from_slice(chunk);
                    let size = held.len() as i32;
                    self.store.data_mut().ex.resp_body = std::mem::take(&mut held);
                    let r = self.step(
                        "response_body",
                        "proxy_on_response_body",
                        &[ctx, size, eos as i32],
                    );
                    let buf = std::mem::take(&mut self.store.data_mut().ex.resp_body);
                    if r == 0 || eos {
                        delivered.extend_from_slice(&buf);
                    } else {
                        held = buf;
                    }
                }
                self.store.data_mut().ex.resp_body = delivered;
            }
        }
        if profile != Profile::Apisix {
            self.step0("log", "proxy_on_log", &[ctx]);
        }
        self.step("done", "proxy_on_done", &[ctx]);
        self.step0("delete", "proxy_on_delete", &[ctx]);
        let audit = self.store.data().logs[logs_before..]
            .iter()
            .filter_map(|(_, m)| {
                m.find('{')
                    .and_then(|i| serde_json::from_str::<serde_json::Value>(&m[i..]).ok())
            })
            .find(|v| v.get("schema").is_some_and(|s| s == "promptgate.audit.v2"));
        Outcome {
            status,
            forwarded,
            exchange: self.store.data().ex.clone(),
            audit,
            stalled,
        }
    }
}

/// A model answer with usage, for forwarded requests.
pub const USAGE: &[u8] = br#"{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;

/// One chat completion through `vm` with API key `key`, answered by [`USAGE`].
pub fn post(vm: &mut Vm, key: &str, body: &[u8]) -> Outcome {
    let auth = format!("Bearer {key}");
    vm.request(
        &[
            (":method", "POST"),
            (":path", "/v1/chat/completions"),
            (":authority", "localhost"),
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("x-request-id", "req-1"),
        ],
        body,
        (200, "application/json", USAGE),
    )
}
