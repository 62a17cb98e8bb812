//! Checks on the shipped deployment files.

mod common;
use std::process::Command;

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
fn model_is_only_reachable_through_envoy() {
    let text = std::fs::read_to_string(common::repo_root().join("docker-compose.yml")).unwrap();
    let model = text
        .split("  mock-model:")
        .nth(1)
        .expect("mock-model service");
    assert!(
        !model.contains("ports:"),
        "mock-model must not publish ports"
    );
    assert!(text.contains("internal: true"));
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
