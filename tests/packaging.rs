//! Checks on the shipped deployment files.

mod common;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn yaml(rel: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(common::repo_root().join(rel)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn to_json(v: &serde_yaml::Value) -> Value {
    serde_json::to_value(v).expect("yaml as json")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(common::repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn docker_compose_file_is_valid() {
    let out = Command::new("docker-compose")
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .current_dir(common::repo_root())
        .output()
        .expect(
            "docker-compose not found: scripts/setup installs it (Debian package docker-compose)",
        );
    assert!(
        out.status.success(),
        "docker-compose config failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docker_compose_profiles_are_valid() {
    for profile in ["kong", "apisix"] {
        let out = Command::new("docker-compose")
            .args(["-f", "docker-compose.yml", "--profile", profile, "config"])
            .current_dir(common::repo_root())
            .output()
            .expect("docker-compose");
        assert!(
            out.status.success(),
            "docker-compose --profile {profile} config failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
        assert!(v["services"][profile]["image"].is_string(), "{profile}");
    }
}

#[test]
fn model_is_only_reachable_through_the_gateways() {
    let v = yaml("docker-compose.yml");
    let model = &v["services"]["mock-model"];
    assert!(model.is_mapping(), "mock-model service");
    assert!(
        model.get("ports").is_none(),
        "mock-model must not publish ports"
    );
    assert_eq!(v["networks"]["models"]["internal"], true);
    // Kong and APISIX mount the same filter the tests ran, and are opt-in profiles.
    let wasm = "./target/wasm32-wasip1/release/promptgate.wasm";
    for (svc, target) in [
        ("kong", "/kong/filters/promptgate.wasm"),
        ("apisix", "/usr/local/apisix/wasm/promptgate.wasm"),
    ] {
        let s = &v["services"][svc];
        assert_eq!(s["profiles"][0], svc);
        let mounts: Vec<&str> = s["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        assert!(
            mounts
                .iter()
                .any(|m| m.starts_with(&format!("{wasm}:{target}"))),
            "{svc}: {mounts:?}"
        );
    }
}

#[test]
fn compose_envoy_config_matches_the_template() {
    let out = Command::new(common::repo_root().join("scripts/render-compose-envoy"))
        .output()
        .expect("render-compose-envoy");
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(common::repo_root().join("envoy/envoy-compose.yaml")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        committed,
        "envoy/envoy-compose.yaml is stale: run scripts/render-compose-envoy --out envoy/envoy-compose.yaml"
    );
}

#[test]
fn shipped_example_configs_are_valid() {
    let mut n = 0;
    let dirs = ["examples", "bench/configs"].map(|d| common::repo_root().join(d));
    for entry in dirs.iter().flat_map(|d| std::fs::read_dir(d).unwrap()) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).unwrap();
            if let Err(e) = promptgate::plugin::Plugin::from_json(&bytes) {
                panic!("{}: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n > 0, "no example configs found");
}

#[test]
fn schema_files_are_current() {
    for (rel, value) in [
        ("kong/promptgate.meta.json", promptgate::schema::kong_meta()),
        (
            "schemas/config.schema.json",
            promptgate::schema::config_schema(),
        ),
    ] {
        assert_eq!(
            read(rel),
            promptgate::schema::to_file_text(&value),
            "{rel} is stale: run `cargo run --bin promptgate-schema`"
        );
    }
    // Kong reads label_patterns for every label the filter encodes.
    let meta: Value = serde_json::from_str(&read("kong/promptgate.meta.json")).unwrap();
    let labels: Vec<&str> = meta["metrics"]["label_patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, promptgate::metrics::LABEL_KEYS);
}

/// Every configuration shipped anywhere in the repository, with where it came from.
fn shipped_configs() -> Vec<(String, Value)> {
    let root = common::repo_root();
    let mut out = Vec::new();
    for dir in ["examples", "bench/configs"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                out.push((path.display().to_string(), v));
            }
        }
    }
    let kong = to_json(&yaml("kong/kong.yml"));
    for chain in kong["services"][0]["filter_chains"].as_array().unwrap() {
        for f in chain["filters"].as_array().unwrap() {
            assert_eq!(f["name"], "promptgate");
            out.push(("kong/kong.yml filter".into(), f["config"].clone()));
        }
    }
    let plugins = to_json(&yaml("kong/kong-plugins.yml"));
    let p = &plugins["services"][0]["plugins"][0];
    assert_eq!(p["name"], "promptgate");
    out.push(("kong/kong-plugins.yml plugin".into(), p["config"].clone()));
    let apisix = to_json(&yaml("apisix/apisix.yaml"));
    out.push((
        "apisix/apisix.yaml route".into(),
        apisix["routes"][0]["plugins"]["promptgate"]["conf"].clone(),
    ));
    let route: Value = serde_json::from_str(&read("apisix/route.json")).unwrap();
    out.push((
        "apisix/route.json".into(),
        route["plugins"]["promptgate"]["conf"].clone(),
    ));
    let wp = to_json(&yaml("istio/wasmplugin.yaml"));
    out.push((
        "istio/wasmplugin.yaml".into(),
        wp["spec"]["pluginConfig"].clone(),
    ));
    let ef = to_json(&yaml("istio/envoyfilter.yaml"));
    let value = ef["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["config"]
        ["configuration"]["value"]
        .as_str()
        .unwrap();
    out.push((
        "istio/envoyfilter.yaml".into(),
        serde_json::from_str(value).unwrap(),
    ));
    out
}

#[test]
fn shipped_configs_validate_against_the_schema() {
    let schema: Value = serde_json::from_str(&read("kong/promptgate.meta.json")).unwrap();
    let schema = &schema["config_schema"];
    let validator =
        jsonschema::draft4::new(schema).expect("config_schema is a valid draft-4 schema");
    let configs = shipped_configs();
    assert!(configs.len() >= 10, "{}", configs.len());
    for (origin, config) in &configs {
        let errors: Vec<String> = validator
            .iter_errors(config)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{origin}: {errors:?}");
        // And the filter itself accepts it (the schema cannot express every rule).
        let bytes = serde_json::to_vec(config).unwrap();
        if let Err(e) = promptgate::plugin::Plugin::from_json(&bytes) {
            panic!("{origin}: {e}");
        }
    }
    // The schema rejects what the filter rejects at the JSON level.
    for bad in [
        r#"{"max_body_bytez": 1}"#,
        r#"{"on_oversize": "drop"}"#,
        r#"{"inspection": {"treshold": 10}}"#,
        r#"{"limits": {"default": {"requests_per_minute": "lots"}}}"#,
        r#"{"max_body_bytes": "big"}"#,
    ] {
        let v: Value = serde_json::from_str(bad).unwrap();
        assert!(!validator.is_valid(&v), "schema accepted {bad}");
        assert!(
            promptgate::plugin::Plugin::from_json(bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
    for good in [
        r#"{}"#,
        r#"{"limits": {"default": {"requests_per_minute": "off", "tokens_per_day": {"limit": 5, "window": "fixed"}}}}"#,
    ] {
        let v: Value = serde_json::from_str(good).unwrap();
        assert!(validator.is_valid(&v), "schema rejected {good}");
    }
}

#[test]
fn host_manifests_are_consistent() {
    for rel in [
        "kong/kong.yml",
        "kong/kong-plugins.yml",
        "apisix/config.yaml",
        "apisix/apisix.yaml",
        "istio/wasmplugin.yaml",
        "istio/envoyfilter.yaml",
    ] {
        assert!(yaml(rel).is_mapping(), "{rel}");
    }
    // Kong: wasm on, filters path where compose mounts the module, bodies kept in memory up to
    // the configured max_body_bytes (a spilled body is invisible to filters).
    let env: std::collections::HashMap<String, String> = read("kong/kong.env")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    assert_eq!(env["KONG_WASM"], "on");
    assert_eq!(env["KONG_WASM_FILTERS_PATH"], "/kong/filters");
    assert!(env.contains_key("KONG_NGINX_WASM_SHM_KV"));
    let size = |s: &str| -> u64 {
        let (n, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_alphabetic()).len());
        n.parse::<u64>().unwrap()
            * match unit {
                "k" | "K" => 1024,
                "m" | "M" => 1024 * 1024,
                "" => 1,
                u => panic!("unit {u}"),
            }
    };
    let kong = to_json(&yaml("kong/kong.yml"));
    let max = kong["services"][0]["filter_chains"][0]["filters"][0]["config"]["max_body_bytes"]
        .as_u64()
        .unwrap();
    assert!(size(&env["KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE"]) >= max);
    assert_eq!(kong["services"][0]["routes"][0]["request_buffering"], true);
    // The filter name is the file name in the filters path; meta.json sits beside it.
    assert!(Path::new(&common::repo_root().join("kong/promptgate.meta.json")).exists());

    // APISIX: the plugin registered under the name the routes use, at the mounted path.
    let conf = to_json(&yaml("apisix/config.yaml"));
    let plugin = &conf["wasm"]["plugins"][0];
    assert_eq!(plugin["name"], "promptgate");
    assert_eq!(plugin["file"], "/usr/local/apisix/wasm/promptgate.wasm");
    assert!(plugin["priority"].is_u64());
    assert!(["access", "rewrite"].contains(&plugin["http_request_phase"].as_str().unwrap()));
    assert!(read("apisix/apisix.yaml").trim_end().ends_with("#END"));

    // Istio: pinned module, fail closed, a real phase; the EnvoyFilter variant sets the option
    // promptgate needs on Envoy >= 1.35.
    let wp = to_json(&yaml("istio/wasmplugin.yaml"));
    let spec = &wp["spec"];
    let url = spec["url"].as_str().unwrap();
    assert!(
        url.contains("@sha256:") || spec["sha256"].is_string(),
        "unpinned: {url}"
    );
    assert_eq!(spec["failStrategy"], "FAIL_CLOSE");
    assert!(["AUTHN", "AUTHZ", "STATS"].contains(&spec["phase"].as_str().unwrap()));
    let ef = to_json(&yaml("istio/envoyfilter.yaml"));
    let cfg = &ef["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["config"];
    assert_eq!(cfg["allow_on_headers_stop_iteration"], true);
    assert_eq!(cfg["failure_policy"], "FAIL_CLOSED");
    assert_eq!(cfg["vm_config"]["vm_id"], "promptgate");
    let docker = read("istio/Dockerfile.wasm");
    let lines: Vec<&str> = docker
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(lines, ["FROM scratch", "COPY plugin.wasm ./"]);
}

#[test]
fn release_script_writes_a_pinned_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(common::repo_root().join("scripts/release"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("scripts/release");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = env!("CARGO_PKG_VERSION");
    let wasm = dir.path().join(format!("promptgate-{version}.wasm"));
    let bytes = std::fs::read(&wasm).unwrap();
    assert_eq!(&bytes[..4], b"\0asm");
    let sum = std::fs::read_to_string(dir.path().join(format!("promptgate-{version}.wasm.sha256")))
        .unwrap();
    let (hex, name) = sum.trim().split_once("  ").unwrap();
    assert_eq!(name, format!("promptgate-{version}.wasm"));
    assert_eq!(hex, promptgate::audit::sha256_hex(&bytes));
    // Byte for byte the module the other tests ran.
    assert_eq!(bytes, std::fs::read(common::wasm_path()).unwrap());
}
