//! Notification endpoints: `slack`, `pagerduty`, `http` and `telegram`, read
//! from their JSON bodies and checked as 2.7 checks them. Their secrets
//! (tokens, passwords, routing keys) go to the org's secret store under
//! `<endpoint id>-<name>` keys; a body names them as `"secret: <key>"`.

use serde_json::{Map, Value, json};

use crate::{Invalid, invalid};

/// The secret fields of each endpoint type, with their key suffixes.
fn secret_fields(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "slack" | "telegram" => &[("token", "-token")],
        "pagerduty" => &[("routingKey", "-routing-key")],
        "http" => &[("token", "-token"), ("username", "-username"), ("password", "-password")],
        _ => &[],
    }
}

/// A checked endpoint body: what is stored (secrets as keys only) and the
/// secret values to put in the org's store.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub kind: String,
    pub body: Value,
    pub secrets: Vec<(String, String)>,
}

impl Endpoint {
    /// Reads an endpoint body for the endpoint `id`: each secret given in
    /// clear is moved out of the body under its key.
    pub fn read(id: &str, body: &Value) -> Result<Self, Invalid> {
        let Value::Object(map) = body else {
            return invalid("unable to detect the notification endpoint type from json");
        };
        let kind = map.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !matches!(kind.as_str(), "slack" | "pagerduty" | "http" | "telegram") {
            return invalid(format!("invalid notification endpoint type {kind}"));
        }
        let mut kept: Map<String, Value> = map.clone();
        let mut secrets = Vec::new();
        for (field, suffix) in secret_fields(&kind) {
            match kept.get(*field) {
                None | Some(Value::Null) => {
                    kept.remove(*field);
                }
                Some(Value::String(s)) if s.is_empty() => {
                    kept.remove(*field);
                }
                Some(Value::String(s)) => {
                    let key = match s.strip_prefix("secret: ") {
                        Some(key) => key.to_owned(),
                        None => {
                            let key = format!("{id}{suffix}");
                            secrets.push((key.clone(), s.clone()));
                            key
                        }
                    };
                    kept.insert((*field).to_owned(), json!(format!("secret: {key}")));
                }
                Some(other) => return invalid(format!("{field} must be a string, not {other}")),
            }
        }
        let e = Endpoint { kind, body: Value::Object(kept), secrets };
        e.valid()?;
        Ok(e)
    }

    fn text(&self, key: &str) -> &str {
        self.body[key].as_str().unwrap_or_default()
    }

    fn has(&self, key: &str) -> bool {
        !self.text(key).is_empty()
    }

    fn valid(&self) -> Result<(), Invalid> {
        if self.text("name").is_empty() {
            return invalid("Notification Endpoint Name can't be empty");
        }
        if !matches!(self.text("status"), "active" | "inactive") {
            return invalid("invalid status");
        }
        let url_ok = |u: &str| u.contains("://") || u.starts_with('/');
        match self.kind.as_str() {
            "slack" => {
                if !self.has("url") {
                    return invalid("slack endpoint URL must be provided");
                }
                if !url_ok(self.text("url")) {
                    return invalid(format!(
                        "slack endpoint URL is invalid: parse {:?}: invalid URL",
                        self.text("url")
                    ));
                }
            }
            "pagerduty" => {
                if !self.has("routingKey") {
                    return invalid("pagerduty routing key is invalid");
                }
            }
            "http" => {
                if !self.has("url") {
                    return invalid("http endpoint URL is empty");
                }
                if !url_ok(self.text("url")) {
                    return invalid(format!("http endpoint URL is invalid: parse {:?}: invalid URL", self.text("url")));
                }
                if !matches!(self.text("method"), "GET" | "POST" | "PUT") {
                    return invalid("invalid http http method");
                }
                match self.text("authMethod") {
                    "none" => {}
                    "basic" if !(self.has("username") && self.has("password")) => {
                        return invalid("invalid http username/password for basic auth");
                    }
                    "bearer" if !self.has("token") => return invalid("invalid http token for bearer auth"),
                    "basic" | "bearer" => {}
                    _ => return invalid("invalid http auth method"),
                }
            }
            _ => {
                if !self.has("token") {
                    return invalid("empty telegram bot token");
                }
                if !self.has("channel") {
                    return invalid("empty telegram channel");
                }
            }
        }
        Ok(())
    }

    /// The secret keys the stored body names.
    pub fn secret_keys(body: &Value) -> Vec<String> {
        let kind = body["type"].as_str().unwrap_or_default();
        secret_fields(kind)
            .iter()
            .filter_map(|(f, _)| body[*f].as_str().and_then(|s| s.strip_prefix("secret: ")).map(str::to_owned))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: Value) -> Result<Endpoint, String> {
        Endpoint::read("00000000000000aa", &body).map_err(|e| e.0)
    }

    #[test]
    fn secrets_given_in_clear_move_to_the_store_under_the_endpoints_keys() {
        let e = read(json!({"type": "http", "name": "h", "status": "active", "url": "http://x/y", "method": "POST",
            "authMethod": "basic", "username": "u", "password": "p"}))
        .unwrap();
        assert_eq!(e.body["username"], "secret: 00000000000000aa-username");
        assert_eq!(e.body["password"], "secret: 00000000000000aa-password");
        assert_eq!(
            e.secrets,
            [("00000000000000aa-username".into(), "u".into()), ("00000000000000aa-password".into(), "p".into())]
        );
        assert_eq!(Endpoint::secret_keys(&e.body), ["00000000000000aa-username", "00000000000000aa-password"]);
        // A body that names a key keeps it and puts nothing in the store.
        let again = read(e.body.clone()).unwrap();
        assert!(again.secrets.is_empty());
        let pd = read(json!({"type": "pagerduty", "name": "p", "status": "active", "routingKey": "rk"})).unwrap();
        assert_eq!(pd.body["routingKey"], "secret: 00000000000000aa-routing-key");
    }

    #[test]
    fn bad_endpoints_get_2_7s_messages() {
        let base = |kind: &str| json!({"type": kind, "name": "n", "status": "active"});
        let with = |mut b: Value, k: &str, v: Value| {
            b[k] = v;
            b
        };
        assert_eq!(read(base("email")).unwrap_err(), "invalid notification endpoint type email");
        assert_eq!(
            read(with(base("slack"), "name", json!(""))).unwrap_err(),
            "Notification Endpoint Name can't be empty"
        );
        assert_eq!(read(with(base("slack"), "status", json!("on"))).unwrap_err(), "invalid status");
        assert_eq!(read(base("slack")).unwrap_err(), "slack endpoint URL must be provided");
        assert_eq!(read(base("pagerduty")).unwrap_err(), "pagerduty routing key is invalid");
        assert_eq!(read(base("http")).unwrap_err(), "http endpoint URL is empty");
        let http = with(base("http"), "url", json!("http://x"));
        assert_eq!(read(with(http.clone(), "method", json!("PATCH"))).unwrap_err(), "invalid http http method");
        let http = with(http, "method", json!("POST"));
        assert_eq!(read(with(http.clone(), "authMethod", json!("magic"))).unwrap_err(), "invalid http auth method");
        assert_eq!(
            read(with(http.clone(), "authMethod", json!("bearer"))).unwrap_err(),
            "invalid http token for bearer auth"
        );
        assert_eq!(read(base("telegram")).unwrap_err(), "empty telegram bot token");
        assert_eq!(read(with(base("telegram"), "token", json!("t"))).unwrap_err(), "empty telegram channel");
    }
}
