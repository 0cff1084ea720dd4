//! The official Python client, `influxdb-client` from PyPI, against the real server.
//!
//! The test makes its own virtualenv under the target directory on first run,
//! so `cargo test` needs nothing but python3 beside the Rust toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{TOKEN, TestServer};

const CLIENT: &str = "influxdb-client==1.50.0";

pub(crate) fn python_with_client() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-influxdb-client");
    let python = venv.join("bin/python");
    let has_client = |py: &Path| {
        Command::new(py).args(["-c", "import influxdb_client"]).status().map(|s| s.success()).unwrap_or(false)
    };
    if has_client(&python) {
        return python;
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    assert!(made.map(|s| s.success()).unwrap_or(false), "python3 -m venv failed: is python3 (with venv) installed?");
    let pip = Command::new(&python).args(["-m", "pip", "install", "--quiet", CLIENT]).status().expect("pip");
    assert!(pip.success(), "pip install {CLIENT} failed");
    assert!(has_client(&python));
    python
}

/// Runs `tests/python/<script>` with the client against `s` (URL, operator
/// token, org `acme`); it must succeed and print each of `parts`.
pub(crate) fn run_client_script(s: &TestServer, script: &str, parts: &[&str]) {
    let python = python_with_client();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = Command::new(python).arg(script).arg(s.url("")).arg(TOKEN).arg("acme").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for part in parts {
        assert!(stdout.contains(part), "{part} missing:\n{stdout}");
    }
}

#[test]
fn the_python_client_manages_tenancy_and_writes_and_queries() {
    let (s, _) = TestServer::onboarded();
    let parts =
        ["orgs ok", "users ok", "buckets ok", "labels ok", "authorizations ok", "write and query ok", "deletes ok"];
    run_client_script(&s, "tenancy_client.py", &parts);
}

#[test]
fn the_python_client_reads_answers_as_it_reads_2_7s() {
    let (s, _) = TestServer::onboarded();
    let parts =
        ["org id ok", "params ok", "profilers ok", "write error ok", "task errors ok", "clone ok", "deleted user ok"];
    run_client_script(&s, "contract_client.py", &parts);
}

#[test]
fn the_python_client_manages_checks_endpoints_and_rules() {
    let (s, _) = TestServer::onboarded();
    run_client_script(&s, "alerts_client.py", &["checks ok", "endpoints ok", "rules ok", "deletes ok"]);
}

#[test]
fn the_python_client_applies_exports_and_uninstalls_templates() {
    let (s, _) = TestServer::onboarded();
    run_client_script(&s, "templates_client.py", &["apply ok", "stacks ok", "export ok", "uninstall ok"]);
}
