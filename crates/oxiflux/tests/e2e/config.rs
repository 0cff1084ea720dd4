use serde_json::json;

use crate::server::{TOKEN, TestServer};

#[test]
fn the_config_file_and_influxd_variables_configure_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "log-level = \"debug\"\nsession-length = 5\n").unwrap();
    let path = file.to_str().unwrap();

    // The file sets what nothing else does; an INFLUXD_* variable beats the file.
    let s = TestServer::start_with(&["--config", path], &[("INFLUXD_SESSION_LENGTH", "7")]);
    s.setup();
    let (_, body) = s.get("/api/v2/config", TOKEN);
    assert_eq!(body["config"]["log-level"], "debug");
    assert_eq!(body["config"]["session-length"], 7);

    // A flag beats the variable.
    let s = TestServer::start_with(&["--config", path, "--session-length", "9"], &[("INFLUXD_SESSION_LENGTH", "7")]);
    s.setup();
    assert_eq!(s.get("/api/v2/config", TOKEN).1["config"]["session-length"], 9);

    // The file is also found through INFLUXD_CONFIG_PATH, as a directory.
    let yaml = tempfile::tempdir().unwrap();
    std::fs::write(yaml.path().join("config.yaml"), "session-length: 3\n").unwrap();
    let s = TestServer::start_with(&[], &[("INFLUXD_CONFIG_PATH", yaml.path().to_str().unwrap())]);
    s.setup();
    assert_eq!(s.get("/api/v2/config", TOKEN).1["config"]["session-length"], 3);
}

#[test]
fn a_bad_config_stops_the_server_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, r#"{"no-such-option": 1}"#).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .args(["run", "--config", file.to_str().unwrap(), "--http-bind-address", "127.0.0.1:0"])
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-option"), "{err}");
}

#[test]
fn https_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let s = TestServer::start_with(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], &[]);
    assert_eq!(s.scheme, "https");
    let (status, body) = s.call(reqwest::Method::GET, "/health", None, None);
    assert_eq!((status, body["status"].clone()), (200, json!("pass")));
    let plain = reqwest::blocking::get(format!("http://{}/health", s.addr));
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true), "plain HTTP must not be served");
}
