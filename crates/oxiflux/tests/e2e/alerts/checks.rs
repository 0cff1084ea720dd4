//! Checks: threshold and deadman checks that run on written data, their
//! tasks following them, paging and 2.7's refusals.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{column, created, drive_to, statuses, threshold_check, write_now};
use crate::server::{TOKEN, TestServer, org_id};

#[test]
fn a_threshold_check_moves_through_ok_warn_and_crit_as_values_cross_its_thresholds() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let check = created(&s, "/api/v2/checks", threshold_check(&org, "cpu high"));
    let id = check["id"].as_str().unwrap().to_owned();
    assert_eq!(check["status"], "active");
    assert_eq!(check["type"], "threshold");
    assert_eq!(check["links"]["query"], format!("/api/v2/checks/{id}/query"));
    let task_id = check["taskID"].as_str().unwrap().to_owned();

    // The check's Flux is its task's, generated as 2.7 generates it.
    let (status, q) = s.get(&format!("/api/v2/checks/{id}/query"), TOKEN);
    assert_eq!(status, 200, "{q}");
    let flux = q["flux"].as_str().unwrap();
    assert!(flux.contains("        |> range(start: -1s)\n"), "{flux}");
    assert!(flux.contains("aggregateWindow(every: 1s, fn: last, createEmpty: false)"), "{flux}");
    assert!(flux.contains("warn = (r) => r[\"usage\"] < 90.0 and r[\"usage\"] > 50.0\n"), "{flux}");
    let (status, task) = s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN);
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["flux"].as_str().unwrap(), flux);

    drive_to(&s, &id, 10.0, "ok");
    drive_to(&s, &id, 70.0, "warn");
    let rows = drive_to(&s, &id, 95.0, "crit");
    let last = rows.last().unwrap();
    assert_eq!(column(last, "_value"), "usage is 95");
    assert_eq!(column(last, "_check_name"), "cpu high");
    assert_eq!(column(last, "_source_measurement"), "cpu");
    assert_eq!(column(last, "_type"), "threshold");
    assert_eq!(column(last, "team"), "ops");
    let stamps = s.flux_csv(&format!(
        "from(bucket: \"_monitoring\") |> range(start: -1h) \
             |> filter(fn: (r) => r._check_id == \"{id}\" and r._field == \"_source_timestamp\") |> count()"
    ));
    assert!(stamps.contains(",_source_timestamp,"), "{stamps}");
    let levels: Vec<String> = rows.iter().map(|r| column(r, "_level")).collect();
    let first = |l: &str| levels.iter().position(|x| x == l).unwrap();
    assert!(first("ok") < first("warn") && first("warn") < first("crit"), "{levels:?}");

    // The answer carries the task's runs.
    let (_, got) = s.get(&format!("/api/v2/checks/{id}"), TOKEN);
    assert!(got["latestCompleted"].is_string(), "{got}");
    assert_eq!(got["lastRunStatus"], "success", "{got}");

    // Pausing and renaming reach the task.
    let (status, paused) =
        s.patch(&format!("/api/v2/checks/{id}"), TOKEN, json!({"status": "inactive", "name": "cpu very high"}));
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "inactive");
    let (_, task) = s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN);
    assert_eq!(task["status"], "inactive");
    assert!(task["flux"].as_str().unwrap().contains("_check_name: \"cpu very high\""), "{task}");

    // Deleting the check deletes its task.
    let (status, _) = s.delete(&format!("/api/v2/checks/{id}"), TOKEN);
    assert_eq!(status, 204);
    assert_eq!(s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN).0, 404);
    assert_eq!(s.get(&format!("/api/v2/checks/{id}"), TOKEN).0, 404);
}

#[test]
fn a_deadman_check_fires_when_a_series_goes_silent() {
    let (s, setup) = TestServer::onboarded();
    let body = json!({
        "type": "deadman",
        "name": "host gone",
        "orgID": org_id(&setup),
        "status": "active",
        "every": "1s",
        "timeSince": "2s",
        "staleTime": "1m",
        "level": "CRIT",
        "statusMessageTemplate": "${r.host} is dead: ${string(v: r.dead)}",
        "query": {"text": "from(bucket: \"metrics\") |> range(start: -1m) |> filter(fn: (r) => r._measurement == \"cpu\") |> filter(fn: (r) => r._field == \"usage\")"},
    });
    let check = created(&s, "/api/v2/checks", body);
    let id = check["id"].as_str().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    write_now(&s, &format!("cpu,host=a usage=1 {now}"));
    // While the point is fresh the host is not dead (level ok, monitor.check's
    // default); once it is older than timeSince, the check says crit.
    let until = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = statuses(&s, id);
        if rows.iter().any(|r| column(r, "_level") == "crit") {
            break rows;
        }
        assert!(Instant::now() < until, "no crit status: {rows:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let crit = rows.iter().find(|r| column(r, "_level") == "crit").unwrap();
    assert_eq!(column(crit, "_value"), "a is dead: true");
    assert_eq!(column(crit, "_type"), "deadman");
    assert!(rows.iter().take_while(|r| column(r, "_level") != "crit").all(|r| column(r, "_level") == "ok"));
}

#[test]
fn checks_are_listed_by_org_paged_and_refused_as_2_7_refuses_them() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    for name in ["a", "b", "c"] {
        created(&s, "/api/v2/checks", threshold_check(&org, name));
    }
    let (status, page) = s.get(&format!("/api/v2/checks?orgID={org}&limit=2"), TOKEN);
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(page["links"]["next"].as_str().unwrap().contains("offset=2"), "{page}");
    let (_, rest) = s.get(&format!("/api/v2/checks?orgID={org}&limit=2&offset=2"), TOKEN);
    assert_eq!(rest["checks"].as_array().unwrap().len(), 1);

    let refused = |body: Value| {
        let (status, answer) = s.post("/api/v2/checks", TOKEN, body);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["code"], "invalid");
        answer["message"].as_str().unwrap().to_owned()
    };
    let with = |k: &str, v: Value| {
        let mut b = threshold_check(&org, "x");
        b[k] = v;
        b
    };
    assert_eq!(refused(with("type", json!("weird"))), "invalid check type weird");
    assert_eq!(refused(with("name", json!(""))), "Check Name can't be empty");
    assert_eq!(refused(with("offset", json!("5s"))), "Offset should not be equal or greater than the interval");
    assert_eq!(refused(with("status", json!("paused"))), "invalid status: must be active or inactive");
    let no_level = json!([{"type": "greater", "value": 1}]);
    assert!(refused(with("thresholds", no_level)).contains("level is required"));
    // A second check of the same name in the org is a conflict.
    let (status, dup) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "a"));
    assert_eq!((status, dup["message"].as_str()), (422, Some("check name is not unique")), "{dup}");
    // Nothing of a refused check is left behind: no task, no check.
    let (_, all) = s.get(&format!("/api/v2/checks?orgID={org}"), TOKEN);
    assert_eq!(all["checks"].as_array().unwrap().len(), 3);

    // Another org's token sees none of them.
    let other = created(&s, "/api/v2/orgs", json!({"name": "other"}));
    let other_id = other["id"].as_str().unwrap();
    let (token, _) =
        s.make_token(other_id, json!([{"action": "read", "resource": {"type": "checks", "orgID": other_id}}]));
    let (status, seen) = s.get("/api/v2/checks", &token);
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["checks"].as_array().unwrap().len(), 0);
    let first = page["checks"][0]["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/api/v2/checks/{first}"), &token).0, 401);
}
