//! First-start setup from the official Docker image's variables
//! (`DOCKER_INFLUXDB_INIT_MODE=setup` and friends), so containers and scripts
//! come up already onboarded.

use anyhow::{Context, bail};

use meta::onboarding::Setup;

/// Runs setup if the environment asks for it and the server is not yet set up.
pub(crate) fn run(store: &meta::Store, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    match env("DOCKER_INFLUXDB_INIT_MODE").as_deref() {
        None | Some("") => return Ok(()),
        Some("setup") => {}
        Some("upgrade") => bail!("DOCKER_INFLUXDB_INIT_MODE=upgrade is not supported; use setup"),
        Some(other) => bail!("DOCKER_INFLUXDB_INIT_MODE must be setup, got {other:?}"),
    }
    if !store.onboarding_allowed()? {
        tracing::info!("already set up; ignoring DOCKER_INFLUXDB_INIT_* variables");
        return Ok(());
    }
    let required =
        |name: &str| env(name).filter(|v| !v.is_empty()).with_context(|| format!("{name} is required for setup"));
    let retention = match env("DOCKER_INFLUXDB_INIT_RETENTION").filter(|v| !v.is_empty()) {
        Some(d) => {
            crate::config::parse_duration_ns(&d).with_context(|| format!("DOCKER_INFLUXDB_INIT_RETENTION={d:?}"))?
                / time::SECOND
        }
        None => 0,
    };
    let setup = Setup {
        username: required("DOCKER_INFLUXDB_INIT_USERNAME")?,
        password: Some(required("DOCKER_INFLUXDB_INIT_PASSWORD")?),
        org: required("DOCKER_INFLUXDB_INIT_ORG")?,
        bucket: required("DOCKER_INFLUXDB_INIT_BUCKET")?,
        retention_seconds: retention,
        token: env("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN").filter(|v| !v.is_empty()),
    };
    let done = store.setup(&setup).context("automatic setup")?;
    tracing::info!(user = %done.user.name, org = %done.org.name, bucket = %done.bucket.name, "automatic setup completed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn setup_mode_onboards_once() {
        let store = meta::Store::open_in_memory().unwrap();
        let vars: HashMap<&str, &str> = [
            ("DOCKER_INFLUXDB_INIT_MODE", "setup"),
            ("DOCKER_INFLUXDB_INIT_USERNAME", "admin"),
            ("DOCKER_INFLUXDB_INIT_PASSWORD", "password123"),
            ("DOCKER_INFLUXDB_INIT_ORG", "acme"),
            ("DOCKER_INFLUXDB_INIT_BUCKET", "metrics"),
            ("DOCKER_INFLUXDB_INIT_RETENTION", "1w"),
            ("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN", "secret-token"),
        ]
        .into();
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        run(&store, env).unwrap();
        let auth = store.find_authorization_by_token("secret-token").unwrap();
        assert!(meta::auth::is_operator(&auth.permissions));
        let org = store.find_org_by_name("acme").unwrap();
        assert_eq!(store.find_bucket_by_name(org.id, "metrics").unwrap().retention_seconds, 604_800);
        run(&store, env).unwrap();
    }
}
