//! Test fixture (never deployed): a proxy-wasm HTTP filter that panics in
//! `on_http_request_headers` when the request carries `x-trap: 1`, so the VM traps exactly as
//! promptgate's would on a bug. `tests/e2e_faults.rs` loads it with `failure_policy: FAIL_CLOSED`
//! and `FAIL_OPEN` to show what Envoy does with traffic once a wasm filter has failed.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Trap))
    }
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Trap;
impl Context for Trap {}
impl HttpContext for Trap {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let trap = proxy_wasm::hostcalls::get_map_value_bytes(
            proxy_wasm::types::MapType::HttpRequestHeaders,
            "x-trap",
        );
        if matches!(trap, Ok(Some(v)) if v == b"1") {
            panic!("trap-filter: deliberate trap");
        }
        Action::Continue
    }
}
