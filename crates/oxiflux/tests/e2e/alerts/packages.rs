//! Flux's notification packages: each request as Flux's own package sends
//! it, checked on a loopback peer; a Slack rule and PagerDuty's endpoint end
//! to end.

use reqwest::Method;
use serde_json::{Value, json};

use super::{body_of, created, threshold_check, wait_received, write_usage};
use crate::server::{TOKEN, TestServer, org_id};

/// Runs `call` (a Flux expression sending one notification) in a query and
/// answers the one request the peer got for it, at `path`.
fn sent_by(
    s: &TestServer,
    peer: &crate::calls_out::Peer,
    imports: &str,
    call: &str,
    path: &str,
) -> crate::calls_out::Received {
    let csv = s.flux_csv(&format!("import \"array\"\n{imports}\narray.from(rows: [{{v: {call}}}])"));
    assert!(csv.contains(",200"), "{csv}");
    let got = peer.received();
    let found: Vec<_> = got.iter().filter(|r| r.target == path).collect();
    assert_eq!(found.len(), 1, "{path}: {got:?}");
    found[0].clone()
}

#[test]
fn notification_packages_send_what_fluxs_own_send() {
    let (s, _) = TestServer::onboarded();
    let peer = crate::calls_out::Peer::start();
    let url = &peer.url;

    let slack = sent_by(
        &s,
        &peer,
        "import \"slack\"",
        &format!(
            "slack.message(url: \"{url}/slack\", token: \"xoxb\", channel: \"#ops\", text: \"disk full\", color: \"warning\")"
        ),
        "/slack",
    );
    assert_eq!(slack.header("Authorization"), Some("Bearer xoxb"));
    assert_eq!(
        body_of(&slack),
        json!({"channel": "#ops", "attachments": [{"color": "warning", "text": "disk full", "mrkdwn_in": ["text"]}]})
    );
    let (status, bad) = s.call(
        Method::POST,
        "/api/v2/query?org=acme",
        Some(TOKEN),
        Some(json!({"query": format!("import \"slack\"\nimport \"array\"\narray.from(rows: [{{v: slack.message(url: \"{url}/x\", channel: \"c\", text: \"t\", color: \"pink\")}}])")})),
    );
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("could not parse color string"), "{bad}");

    let pd = sent_by(
        &s,
        &peer,
        "import \"pagerduty\"",
        &format!(
            "pagerduty.sendEvent(pagerdutyURL: \"{url}/pd\", routingKey: \"rk\", client: \"influxdata\", clientURL: \"http://c\", \
             dedupKey: \"dk\", class: \"cpu\", group: \"hosts\", severity: \"critical\", eventAction: \"trigger\", source: \"rule\", \
             summary: \"cpu high\", timestamp: \"2021-01-01T00:00:00Z\")"
        ),
        "/pd",
    );
    assert_eq!(pd.header("Accept"), Some("application/vnd.pagerduty+json;version=2"));
    assert_eq!(
        body_of(&pd),
        json!({"routing_key": "rk", "dedup_key": "dk", "event_action": "trigger", "client": "influxdata", "client_url": "http://c",
            "payload": {"summary": "cpu high", "timestamp": "2021-01-01T00:00:00Z", "source": "rule", "component": "",
                "severity": "critical", "group": "hosts", "class": "cpu"}})
    );

    let tg = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/telegram\"",
        &format!("telegram.message(url: \"{url}/tg/bot\", token: \"T0K\", channel: \"-100\", text: \"hi\")"),
        "/tg/botT0K/sendMessage",
    );
    assert_eq!(
        body_of(&tg),
        json!({"chat_id": "-100", "text": "hi", "parse_mode": "MarkdownV2", "disable_web_page_preview": false, "disable_notification": true})
    );

    let discord = sent_by(
        &s,
        &peer,
        &format!("import \"contrib/chobbs/discord\"\noption discord.discordURL = \"{url}/d/\""),
        "discord.send(webhookToken: \"tok\", webhookID: \"42\", username: \"influx\", content: \"down\")",
        "/d/42/tok",
    );
    assert_eq!(body_of(&discord), json!({"username": "influx", "content": "down", "avatar_url": ""}));

    let vo = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/victorops\"",
        &format!(
            "victorops.alert(url: \"{url}/vo\", messageType: \"CRITICAL\", entityID: \"e1\", timestamp: 2021-01-01T00:00:00Z)"
        ),
        "/vo",
    );
    assert_eq!(
        body_of(&vo),
        json!({"message_type": "CRITICAL", "entity_id": "e1", "entity_display_name": "", "state_message": "",
            "state_start_time": 1609459200, "monitoring_tool": "InfluxDB"})
    );

    let long = "x".repeat(80);
    let teams = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/teams\"",
        &format!("teams.message(url: \"{url}/teams\", title: \"CPU \\\"high\\\"\", text: \"{long}\")"),
        "/teams",
    );
    assert_eq!(
        body_of(&teams),
        json!({"@type": "MessageCard", "@context": "http://schema.org/extensions", "title": "CPU \"high\"", "text": long,
            "summary": format!("{}...", &long[..70])})
    );

    let pb = sent_by(
        &s,
        &peer,
        "import \"pushbullet\"",
        &format!("pushbullet.pushNote(url: \"{url}/pb\", token: \"pbt\", title: \"t\", text: \"x\")"),
        "/pb",
    );
    assert_eq!(pb.header("Access-Token"), Some("pbt"));
    assert_eq!(body_of(&pb), json!({"type": "note", "title": "t", "body": "x"}));

    let og = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/opsgenie\"",
        &format!(
            "opsgenie.sendAlert(url: \"{url}/og\", apiKey: \"k\", message: \"disk <full>\", priority: \"P1\", \
             responders: [\"user:ann@x.com\", \"team:ops\"], tags: [\"a\"], entity: \"db\")"
        ),
        "/og",
    );
    assert_eq!(og.header("Authorization"), Some("GenieKey k"));
    assert!(og.body.contains("\\u003cfull\\u003e"), "{}", og.body);
    assert_eq!(
        body_of(&og),
        json!({"message": "disk <full>", "alias": "disk <full>", "description": "", "priority": "P1", "entity": "db",
            "responders": [{"type": "user", "username": "ann@x.com"}, {"type": "team", "name": "ops"}],
            "visibleTo": [], "actions": [], "tags": ["a"], "details": {}})
    );

    let sensu = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/sensu\"",
        &format!(
            "sensu.event(url: \"{url}/sensu\", apiKey: \"k\", checkName: \"cpu check!\", text: \"high\", status: 2)"
        ),
        "/sensu/api/core/v2/namespaces/default/events",
    );
    assert_eq!(sensu.header("Authorization"), Some("Key k"));
    assert_eq!(
        body_of(&sensu),
        json!({"entity": {"entity_class": "proxy", "metadata": {"name": "influxdb"}},
            "check": {"output": "high", "state": "failing", "status": 2, "handlers": [], "interval": 60,
                "metadata": {"name": "cpu_check_"}}})
    );

    let sn = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/servicenow\"",
        &format!(
            "servicenow.event(url: \"{url}/sn\", username: \"u\", password: \"p\", node: \"h1\", description: \"d\", \
             severity: \"major\", additionalInfo: {{a: 1}})"
        ),
        "/sn",
    );
    assert_eq!(sn.header("Authorization"), Some("Basic dTpw"));
    assert_eq!(
        body_of(&sn),
        json!({"records": [{"source": "Flux", "node": "h1", "type": "", "resource": "", "metric_name": "", "message_key": "",
            "description": "d", "severity": "2", "additional_info": "{\"a\":1}"}]})
    );

    let bp = sent_by(
        &s,
        &peer,
        "import \"contrib/rhajek/bigpanda\"",
        &format!(
            "bigpanda.sendAlert(url: \"{url}/bp\", token: \"t\", appKey: \"ak\", status: bigpanda.statusFromLevel(level: \"crit\"), \
             rec: {{host: \"h1\", check: \"cpu\"}})"
        ),
        "/bp",
    );
    assert_eq!(bp.header("Authorization"), Some("Bearer t"));
    assert_eq!(body_of(&bp), json!({"host": "h1", "check": "cpu", "app_key": "ak", "status": "critical"}));

    let zenoss = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/zenoss\"",
        &format!(
            "zenoss.event(url: \"{url}/zen\", apiKey: \"zk\", summary: \"s\", device: \"h1\", severity: \"Critical\")"
        ),
        "/zen",
    );
    assert_eq!(zenoss.header("z-api-key"), Some("zk"));
    assert_eq!(
        body_of(&zenoss),
        json!({"action": "EventsRouter", "method": "add_event", "type": "rpc", "tid": 1,
            "data": [{"summary": "s", "device": "h1", "component": "", "severity": "Critical", "evclass": "",
                "evclasskey": "", "collector": "", "message": ""}]})
    );
}

#[test]
fn a_slack_rule_posts_to_a_webhook_and_pagerdutys_endpoint_sends_one_incident_a_series() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let endpoint = created(
        &s,
        "/api/v2/notificationEndpoints",
        json!({"type": "slack", "name": "webhook", "orgID": org, "status": "active", "url": format!("{}/slack", peer.url)}),
    );
    created(&s, "/api/v2/checks", threshold_check(&org, "cpu high"));
    created(
        &s,
        "/api/v2/notificationRules",
        json!({"type": "slack", "name": "to slack", "orgID": org, "status": "active", "every": "1s",
            "endpointID": endpoint["id"], "channel": "#ops", "messageTemplate": "${r._check_name}: ${r._message}",
            "statusRules": [{"currentLevel": "CRIT"}]}),
    );
    let got = wait_received(&peer, || write_usage(&s, 97.0), |got| got.iter().any(|r| r.target == "/slack"));
    let sent = got.iter().find(|r| r.target == "/slack").unwrap();
    assert_eq!(
        body_of(sent),
        json!({"channel": "#ops", "attachments": [{"color": "danger", "text": "cpu high: usage is 97", "mrkdwn_in": ["text"]}]})
    );

    // PagerDuty's endpoint, as a rule calls it: one dedup key per series,
    // whatever its level; the event as the Events API v2 takes it.
    let csv = s.flux_csv(&format!(
        "import \"array\"\nimport \"pagerduty\"\n\
         array.from(rows: [\
           {{_time: 2021-01-01T00:00:00Z, host: \"a\", _level: \"crit\", _check_name: \"c\", _message: \"m\", _source_measurement: \"cpu\", _source_timestamp: 1609459200000000000}},\
           {{_time: 2021-01-01T00:01:00Z, host: \"b\", _level: \"ok\", _check_name: \"c\", _message: \"m\", _source_measurement: \"cpu\", _source_timestamp: 1609459260000000000}}])\n\
         |> group(columns: [\"host\", \"_level\"])\n\
         |> pagerduty.endpoint(url: \"{}/pd\")(mapFn: (r) => ({{routingKey: \"rk\", client: \"influxdata\", clientURL: \"http://c\", class: r._check_name, \
              group: r._source_measurement, severity: pagerduty.severityFromLevel(level: r._level), \
              eventAction: pagerduty.actionFromLevel(level: r._level), source: \"rule\", summary: r._message, \
              timestamp: time(v: r._source_timestamp)}}))()",
        peer.url
    ));
    assert_eq!(csv.matches(",true,").count(), 2, "{csv}");
    let events: Vec<Value> = peer.received().iter().filter(|r| r.target == "/pd").map(body_of).collect();
    assert_eq!(events.len(), 2);
    let by_host = |level: &str| events.iter().find(|e| e["payload"]["severity"] == level).unwrap();
    let (crit, ok) = (by_host("critical"), by_host("info"));
    assert_eq!(crit["event_action"], "trigger");
    assert_eq!(ok["event_action"], "resolve");
    assert_eq!(crit["payload"]["timestamp"], "2021-01-01T00:00:00Z");
    let key = crit["dedup_key"].as_str().unwrap();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_ne!(crit["dedup_key"], ok["dedup_key"]);
}
