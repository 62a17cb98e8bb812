//! Host calls that never trap, and what this host can do.
//!
//! The proxy-wasm Rust SDK's `hostcalls` helpers `panic!` on any status they do not expect, and
//! its `get_current_time` / `set_tick_period` / `get_shared_data` unwrap. One such call on a host
//! that answers `Unimplemented` (APISIX's wasm-nginx-module for shared data, time, tick and
//! `set_buffer_bytes`) or `BadArgument` (APISIX's `get_buffer_bytes` for a size above
//! `i32::MAX`) kills the VM. Every capability-dependent call therefore goes through the raw
//! imports below, which return the host's status as a number; callers treat a failure as
//! "capability off" and carry on. Time comes from WASI (`SystemTime::now()`), which all three
//! hosts implement; `proxy_get_current_time_nanoseconds` and `proxy_set_tick_period_milliseconds`
//! are never called.
//!
//! Which host this is (Envoy, Kong's ngx_wasm_module or APISIX's wasm-nginx-module) decides how
//! the request body is awaited; see [`Flavor`] and `docs/hosts.md`.

pub use crate::flavor::Flavor;
use std::cell::Cell;
use std::ptr::null_mut;

pub const OK: u32 = 0;
pub const NOT_FOUND: u32 = 1;
pub const CAS_MISMATCH: u32 = 8;
pub const UNIMPLEMENTED: u32 = 12;

pub const MAP_REQUEST_HEADERS: u32 = 0;
pub const MAP_RESPONSE_HEADERS: u32 = 2;
pub const BUFFER_REQUEST_BODY: u32 = 0;
pub const BUFFER_RESPONSE_BODY: u32 = 1;
pub const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;
pub const BUFFER_HTTP_CALL_RESPONSE_BODY: u32 = 4;
pub const BUFFER_GRPC_RECEIVE: u32 = 5;
pub const MAP_HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
pub const STREAM_REQUEST: u32 = 0;
pub const STREAM_RESPONSE: u32 = 1;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_get_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_add_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_call_foreign_function(
        function_name_data: *const u8,
        function_name_size: usize,
        arguments_data: *const u8,
        arguments_size: usize,
        results_data: *mut *mut u8,
        results_size: *mut usize,
    ) -> u32;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
}

/// Takes ownership of a host-allocated buffer (allocated through the SDK's
/// `proxy_on_memory_allocate` export, i.e. the global allocator), as the SDK itself does.
///
/// # Safety
/// `data` must be null or a buffer of `size` bytes the host allocated through
/// `proxy_on_memory_allocate`.
unsafe fn owned(data: *mut u8, size: usize) -> Option<Vec<u8>> {
    if data.is_null() {
        return None;
    }
    Some(Vec::from_raw_parts(data, size, size))
}

/// Sizes are `i32` in the nginx hosts' ABI: `usize::MAX` (u32::MAX on wasm32) reads as -1 there
/// and APISIX answers `BadArgument`.
fn clamp(n: usize) -> usize {
    n.min(i32::MAX as usize)
}

fn serialize_path(path: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.iter().map(|p| p.len() + 1).sum());
    for (i, p) in path.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// Value and cas of a shared-data key; `Ok(None)` if absent, `Err(status)` if the host failed.
pub fn get_shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, u32> {
    let (mut data, mut size, mut cas) = (null_mut(), 0usize, 0u32);
    // SAFETY: out-pointers to locals; the returned buffer is taken over by `owned`.
    let status =
        unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
    match status {
        OK => Ok(unsafe { owned(data, size) }.map(|v| (v, cas))),
        NOT_FOUND => Ok(None),
        s => Err(s),
    }
}

pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), u32> {
    // SAFETY: pointers to live slices for the duration of the call.
    result_of(unsafe {
        proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
    })
}

/// A metric id, or `None` when the host refuses (metrics are then off for that series).
pub fn define_metric(metric_type: u32, name: &str) -> Option<u32> {
    let mut id = 0u32;
    // SAFETY: name slice and out-pointer to a local.
    match unsafe { proxy_define_metric(metric_type, name.as_ptr(), name.len(), &mut id) } {
        OK => Some(id),
        _ => None,
    }
}

pub fn increment_metric(id: u32, delta: i64) {
    // SAFETY: plain values.
    let _ = unsafe { proxy_increment_metric(id, delta) };
}

/// proxy-wasm log levels.
pub const LOG_INFO: u32 = 2;
pub const LOG_WARN: u32 = 3;

/// One line to the host log at `level` (`LOG_INFO`, `LOG_WARN`), as the SDK's logger writes
/// it, without its copy of the message through `format!` (issue 16: the audit event is written
/// this way once per request) and without its trap when the host refuses.
pub fn log(level: u32, message: &str) {
    // SAFETY: a pointer and length of a live string.
    let _ = unsafe { proxy_log(level, message.as_ptr(), message.len()) };
}

pub fn record_metric(id: u32, value: u64) {
    // SAFETY: plain values.
    let _ = unsafe { proxy_record_metric(id, value) };
}

pub fn get_property(path: &[&str]) -> Option<Vec<u8>> {
    let p = serialize_path(path);
    let (mut data, mut size) = (null_mut(), 0usize);
    // SAFETY: path slice and out-pointers to locals.
    match unsafe { proxy_get_property(p.as_ptr(), p.len(), &mut data, &mut size) } {
        OK => unsafe { owned(data, size) },
        _ => None,
    }
}

pub fn set_property(path: &[&str], value: &[u8]) -> Result<(), u32> {
    let p = serialize_path(path);
    // SAFETY: pointers to live slices.
    result_of(unsafe { proxy_set_property(p.as_ptr(), p.len(), value.as_ptr(), value.len()) })
}

/// Bytes `[start, start + max)` of a buffer; `Ok(None)` when empty or absent.
pub fn get_buffer(buffer_type: u32, start: usize, max: usize) -> Result<Option<Vec<u8>>, u32> {
    let (mut data, mut size) = (null_mut(), 0usize);
    // SAFETY: out-pointers to locals; the returned buffer is taken over by `owned`.
    match unsafe { proxy_get_buffer_bytes(buffer_type, start, clamp(max), &mut data, &mut size) } {
        OK => Ok(unsafe { owned(data, size) }),
        NOT_FOUND => Ok(None),
        s => Err(s),
    }
}

pub fn set_buffer(buffer_type: u32, start: usize, size: usize, value: &[u8]) -> Result<(), u32> {
    // SAFETY: pointer to a live slice.
    result_of(unsafe {
        proxy_set_buffer_bytes(buffer_type, start, size, value.as_ptr(), value.len())
    })
}

/// A whole header map, serialised (decoded by `header_map::parse_header_pairs`, which, unlike the
/// SDK's `get_map_bytes`, cannot panic on a header name that is not UTF-8). One host call for the
/// whole map: each header read from it saves a `proxy_get_header_map_value` (a host call, and a
/// call back into the allocator). `None` if the host failed.
pub fn header_map(map_type: u32) -> Option<Vec<u8>> {
    let (mut data, mut size) = (null_mut(), 0usize);
    // SAFETY: out-pointers to locals; the returned buffer is taken over by `owned`.
    match unsafe { proxy_get_header_map_pairs(map_type, &mut data, &mut size) } {
        OK if size == 0 => Some(Vec::new()),
        OK => Some(unsafe { owned(data, size) }.unwrap_or_default()),
        _ => None,
    }
}

/// One header's value (the first, on hosts that keep repeats), as raw bytes.
pub fn header(map_type: u32, name: &str) -> Option<Vec<u8>> {
    let (mut data, mut size) = (null_mut(), 0usize);
    // SAFETY: name slice and out-pointers to locals.
    match unsafe {
        proxy_get_header_map_value(map_type, name.as_ptr(), name.len(), &mut data, &mut size)
    } {
        OK => Some(unsafe { owned(data, size) }.unwrap_or_default()),
        _ => None,
    }
}

pub fn replace_header(map_type: u32, name: &str, value: &str) -> Result<(), u32> {
    header_call(proxy_replace_header_map_value, map_type, name, value)
}

pub fn remove_header(map_type: u32, name: &str) -> Result<(), u32> {
    // SAFETY: pointer to a live slice.
    result_of(unsafe { proxy_remove_header_map_value(map_type, name.as_ptr(), name.len()) })
}

pub fn add_header(map_type: u32, name: &str, value: &str) -> Result<(), u32> {
    header_call(proxy_add_header_map_value, map_type, name, value)
}

type HeaderFn = unsafe extern "C" fn(u32, *const u8, usize, *const u8, usize) -> u32;

fn header_call(f: HeaderFn, map_type: u32, name: &str, value: &str) -> Result<(), u32> {
    // SAFETY: pointers to live slices.
    result_of(unsafe {
        f(
            map_type,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

/// A host status as a result: `OK` is success, anything else the status itself.
fn result_of(s: u32) -> Result<(), u32> {
    match s {
        OK => Ok(()),
        s => Err(s),
    }
}

/// Serialises a header map the proxy-wasm way: count, then (key len, value len) pairs, then the
/// NUL-terminated keys and values.
fn serialize_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
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

pub fn send_local_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), u32> {
    let map = serialize_map(headers);
    // SAFETY: pointers to live slices; no details string.
    result_of(unsafe {
        proxy_send_local_response(
            status,
            std::ptr::null(),
            0,
            body.as_ptr(),
            body.len(),
            map.as_ptr(),
            map.len(),
            -1,
        )
    })
}

/// What the host offers, learnt by probing at configure time and on the first request.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    pub shared_data: bool,
    pub flavor: Option<Flavor>,
}

thread_local! {
    static CAPS: Cell<Capabilities> = const {
        Cell::new(Capabilities { shared_data: true, flavor: None })
    };
}

pub fn capabilities() -> Capabilities {
    CAPS.with(Cell::get)
}

fn update(f: impl FnOnce(&mut Capabilities)) {
    CAPS.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}

/// Probes shared data with a read of `key` (absent is fine). Returns whether it works.
pub fn probe_shared_data(key: &str) -> bool {
    let ok = get_shared_data(key).is_ok();
    update(|c| {
        c.shared_data = ok;
        if !ok {
            // Envoy and Kong both implement shared data; only the Lua-driven module lacks it.
            c.flavor = Some(Flavor::Apisix);
        }
    });
    ok
}

/// A shared-data call answered "not implemented" at run time: stop calling it.
pub fn shared_data_failed(status: u32) {
    if status == UNIMPLEMENTED {
        update(|c| c.shared_data = false);
    }
}

/// The host's flavour, decided once per VM on the first request's headers.
pub fn flavor(num_headers: usize, end_of_stream: bool) -> Flavor {
    if let Some(f) = capabilities().flavor {
        return f;
    }
    let f = if num_headers == 0 && end_of_stream {
        // No real request has zero headers (HTTP/1.1 needs Host; Envoy adds pseudo-headers):
        // this is wasm-nginx-module, which always passes (0, true).
        Flavor::Apisix
    } else if get_property(&["ngx", "nginx_version"]).is_some() {
        // ngx_wasm_module exposes nginx variables as `ngx.*` properties.
        Flavor::Kong
    } else {
        Flavor::Envoy
    };
    update(|c| c.flavor = Some(f));
    f
}

/// Resumes a paused stream (`STREAM_REQUEST` / `STREAM_RESPONSE`); a failure (the stream is
/// gone) is ignored.
pub fn continue_stream(stream: u32) {
    // SAFETY: no pointers.
    let _ = unsafe { proxy_continue_stream(stream) };
}

/// Calls a host's foreign function (Envoy: `expr_create`, `expr_evaluate`, ...); its answer, or
/// the host's status (`NOT_FOUND` when the host has no such function).
pub fn call_foreign(name: &str, arguments: &[u8]) -> Result<Option<Vec<u8>>, u32> {
    let (mut data, mut size) = (null_mut(), 0usize);
    // SAFETY: pointers to live slices and out-pointers to locals; the returned buffer is taken
    // over by `owned`.
    match unsafe {
        proxy_call_foreign_function(
            name.as_ptr(),
            name.len(),
            arguments.as_ptr(),
            arguments.len(),
            &mut data,
            &mut size,
        )
    } {
        OK => Ok(unsafe { owned(data, size) }),
        s => Err(s),
    }
}
