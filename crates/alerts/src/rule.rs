//! Notification rules: `slack`, `pagerduty`, `http` and `telegram`, read
//! from their JSON bodies and checked as 2.7 checks them, and the Flux task
//! each runs against its endpoint, generated as 2.7 generates it.

use flux_syntax::ast::{Expression, File, Statement};
use serde_json::Value;

use crate::build::{
    self, binary, boolean, call, call_of, define, function_of_r, ident, logical, member, object, property,
};
use crate::{Duration, Invalid, duration, invalid, text};

/// A level a status rule names: a check's levels and `ANY`.
fn level(v: &Value) -> Result<String, Invalid> {
    match v.as_str().map(str::to_ascii_uppercase).as_deref() {
        Some(l @ ("CRIT" | "WARN" | "INFO" | "OK" | "UNKNOWN" | "ANY")) => Ok(l.to_ascii_lowercase()),
        Some(other) => invalid(format!("invalid status rule level {other:?}: use CRIT, WARN, INFO, OK or ANY")),
        None => invalid("a status rule needs its currentLevel"),
    }
}

/// `currentLevel`, with `previousLevel` for a change between two levels.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRule {
    pub current: String,
    pub previous: Option<String>,
}

impl StatusRule {
    /// `<name> = statuses |> ...`, and its name.
    fn statement(&self) -> (Statement, String) {
        let statuses = ident("statuses");
        let (name, pipe) = match &self.previous {
            None if self.current == "any" => {
                let keep_all = function_of_r(boolean(true));
                (
                    "any".to_owned(),
                    build::pipe(statuses, vec![call_of(ident("filter"), vec![property("fn", keep_all)])]),
                )
            }
            None => {
                let at = function_of_r(binary("==", member("r", "_level"), build::string(&self.current)));
                (self.current.clone(), build::pipe(statuses, vec![call_of(ident("filter"), vec![property("fn", at)])]))
            }
            Some(previous) => {
                let changes = call_of(
                    member("monitor", "stateChanges"),
                    vec![
                        property("fromLevel", build::string(previous)),
                        property("toLevel", build::string(&self.current)),
                    ],
                );
                (format!("{previous}_to_{}", self.current), build::pipe(statuses, vec![changes]))
            }
        };
        (define(&name, pipe), name)
    }
}

/// A tag a rule's statuses must (or must not) have.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRule {
    pub key: String,
    pub value: String,
    /// The Flux operator: `==`, `!=`, `=~`, `!~`.
    pub operator: &'static str,
}

impl TagRule {
    fn predicate(&self) -> Expression {
        let value = match self.operator {
            "=~" | "!~" => Expression::RegexpLiteral { base: Default::default(), value: self.value.clone() },
            _ => build::string(&self.value),
        };
        binary(self.operator, member("r", &self.key), value)
    }
}

/// What a rule's Flux needs of its endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub name: String,
    /// The endpoint's stored body (`type`, `url`, secret keys, ...).
    pub body: Value,
}

impl Target {
    fn text(&self, key: &str) -> &str {
        self.body[key].as_str().unwrap_or_default()
    }

    /// The secret key a field names (`"secret: <key>"`), if any.
    fn secret(&self, key: &str) -> Option<&str> {
        self.text(key).strip_prefix("secret: ")
    }

    fn kind(&self) -> &str {
        self.text("type")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub endpoint_id: String,
    pub every: Duration,
    pub offset: Option<Duration>,
    pub message: String,
    pub channel: String,
    pub parse_mode: String,
    pub disable_preview: bool,
    pub status_rules: Vec<StatusRule>,
    pub tag_rules: Vec<TagRule>,
}

impl Rule {
    /// Reads a rule body (`id` is the rule's own ID) and checks it as 2.7
    /// does, with 2.7's messages.
    pub fn read(id: &str, body: &Value) -> Result<Self, Invalid> {
        let kind = text(body, "type");
        if !matches!(kind.as_str(), "slack" | "pagerduty" | "http" | "telegram") {
            return invalid(format!("invalid notification type {kind}"));
        }
        let mut status_rules = Vec::new();
        for s in body["statusRules"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let previous = match &s["previousLevel"] {
                Value::Null => None,
                p => Some(level(p)?),
            };
            status_rules.push(StatusRule { current: level(&s["currentLevel"])?, previous });
        }
        let mut tag_rules = Vec::new();
        for t in body["tagRules"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let (key, value) = (text(t, "key"), text(t, "value"));
            if key.is_empty() || value.is_empty() {
                return invalid("tag must contain a key and a value");
            }
            let operator = match t["operator"].as_str().unwrap_or("equal") {
                "equal" => "==",
                "notequal" => "!=",
                "equalregex" => "=~",
                "notequalregex" => "!~",
                _ => return invalid("Operator is invalid"),
            };
            tag_rules.push(TagRule { key, value, operator });
        }
        let name = text(body, "name");
        if name.is_empty() {
            return invalid("Notification Rule Name can't be empty");
        }
        let endpoint_id = text(body, "endpointID");
        if endpoint_id.len() != 16 || !endpoint_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return invalid("Notification Rule EndpointID is invalid");
        }
        let Some(every) = duration(body, "every")? else { return invalid("Notification Rule Every must exist") };
        let offset = duration(body, "offset")?;
        if offset.as_ref().is_some_and(|o| o.nanos() >= every.nanos()) {
            return invalid("Offset should not be equal or greater than the interval");
        }
        let limit = (&body["limit"], &body["limitEvery"]);
        if !limit.0.is_null() || !limit.1.is_null() {
            let positive = |v: &Value| v.as_i64().is_some_and(|n| n > 0);
            if !positive(limit.0) || !positive(limit.1) {
                return invalid("if limit is set, limit and limitEvery must be larger than 0");
            }
        }
        let message = text(body, "messageTemplate");
        if message.is_empty() {
            match kind.as_str() {
                "slack" => return invalid("slack msg template is empty"),
                "pagerduty" => return invalid("pagerduty invalid message template"),
                "telegram" => return invalid("Telegram MessageTemplate is invalid"),
                _ => {}
            }
        }
        Ok(Rule {
            id: id.to_owned(),
            name,
            kind,
            endpoint_id,
            every,
            offset,
            message,
            channel: text(body, "channel"),
            parse_mode: text(body, "parseMode"),
            disable_preview: body["disableWebPagePreview"].as_bool().unwrap_or(false),
            status_rules,
            tag_rules,
        })
    }

    /// The Flux of the rule's task sending to `endpoint`, as 2.7 generates
    /// and formats it.
    pub fn flux(&self, endpoint: &Target) -> Result<String, Invalid> {
        if endpoint.kind() != self.kind {
            let article = if self.kind == "telegram" { "a" } else { "an" };
            let name = match self.kind.as_str() {
                "slack" => "Slack",
                "pagerduty" => "PagerDuty",
                "http" => "HTTP",
                _ => "Telegram",
            };
            return invalid(format!("endpoint provided is a {}, not {article} {name} endpoint", endpoint.kind()));
        }
        let mut body = vec![self.task_option()];
        let imports: Vec<&str> = match self.kind.as_str() {
            "slack" => {
                body.extend(endpoint.secret("token").map(|k| define("slack_secret", secret(k))));
                let mut props = Vec::new();
                if endpoint.secret("token").is_some() {
                    props.push(property("token", ident("slack_secret")));
                }
                if !endpoint.text("url").is_empty() {
                    props.push(property("url", build::string(endpoint.text("url"))));
                }
                body.push(define("slack_endpoint", call(member("slack", "endpoint"), props)));
                vec!["influxdata/influxdb/monitor", "slack", "influxdata/influxdb/secrets", "experimental"]
            }
            "pagerduty" => {
                let key = endpoint.secret("routingKey").unwrap_or_default();
                body.push(define("pagerduty_secret", secret(key)));
                body.push(define("pagerduty_endpoint", call(member("pagerduty", "endpoint"), vec![])));
                vec!["influxdata/influxdb/monitor", "pagerduty", "influxdata/influxdb/secrets", "experimental"]
            }
            "http" => {
                body.push(define("headers", headers(endpoint)));
                let url = property("url", build::string(endpoint.text("url")));
                body.push(define("endpoint", call(member("http", "endpoint"), vec![url])));
                let mut imports = vec!["influxdata/influxdb/monitor", "http", "json", "experimental"];
                if matches!(endpoint.text("authMethod"), "basic" | "bearer") {
                    imports.push("influxdata/influxdb/secrets");
                }
                imports
            }
            _ => {
                body.extend(endpoint.secret("token").map(|k| define("telegram_secret", secret(k))));
                let mut props = Vec::new();
                if endpoint.secret("token").is_some() {
                    props.push(property("token", ident("telegram_secret")));
                }
                if !self.parse_mode.is_empty() {
                    props.push(property("parseMode", build::string(&self.parse_mode)));
                }
                props.push(property("disableWebPagePreview", boolean(self.disable_preview)));
                body.push(define("telegram_endpoint", call(member("telegram", "endpoint"), props)));
                vec![
                    "influxdata/influxdb/monitor",
                    "contrib/sranka/telegram",
                    "influxdata/influxdb/secrets",
                    "experimental",
                ]
            }
        };
        body.push(self.notification(endpoint));
        body.push(self.statuses());
        body.extend(self.level_checks());
        body.push(self.notify(endpoint));
        let file = File {
            base: Default::default(),
            name: String::new(),
            metadata: String::new(),
            package: None,
            imports: build::imports(&imports),
            body,
        };
        Ok(flux_syntax::format::file(&file))
    }

    fn task_option(&self) -> Statement {
        let mut props = vec![property("name", build::string(&self.name)), property("every", self.every.literal())];
        if let Some(o) = &self.offset {
            props.push(property("offset", o.literal()));
        }
        build::option_task(props)
    }

    fn notification(&self, endpoint: &Target) -> Statement {
        define(
            "notification",
            object(vec![
                property("_notification_rule_id", build::string(&self.id)),
                property("_notification_rule_name", build::string(&self.name)),
                property("_notification_endpoint_id", build::string(&self.endpoint_id)),
                property("_notification_endpoint_name", build::string(&endpoint.name)),
            ]),
        )
    }

    /// `statuses = monitor["from"](start: -<every, widened>, fn: <tag rules>)`
    fn statuses(&self) -> Statement {
        let mut props = vec![property("start", build::negative(widened(&self.every).literal()))];
        let mut tags = self.tag_rules.iter().map(TagRule::predicate);
        if let Some(first) = tags.next() {
            let all = tags.fold(first, |acc, t| logical("and", acc, t));
            props.push(property("fn", function_of_r(all)));
        }
        define("statuses", call(member("monitor", "from"), props))
    }

    /// One statement a status rule, then `all_statuses` of this run's interval.
    fn level_checks(&self) -> Vec<Statement> {
        let (mut out, names): (Vec<Statement>, Vec<String>) =
            self.status_rules.iter().map(StatusRule::statement).unzip();
        let since = call(
            member("experimental", "subDuration"),
            vec![property("from", call(ident("now"), vec![])), property("d", self.every.literal())],
        );
        let recent =
            call_of(ident("filter"), vec![property("fn", function_of_r(binary(">=", member("r", "_time"), since)))]);
        let all = match names.as_slice() {
            [one] => build::pipe(ident(one), vec![recent]),
            _ => {
                let tables = build::array(names.iter().map(|n| ident(n)).collect());
                let columns = build::array(vec![build::string("_time")]);
                build::pipe(
                    call(ident("union"), vec![property("tables", tables)]),
                    vec![call_of(ident("sort"), vec![property("columns", columns)]), recent],
                )
            }
        };
        out.push(define("all_statuses", all));
        out
    }

    /// `all_statuses |> monitor["notify"](data: notification, endpoint: ...)`
    fn notify(&self, endpoint: &Target) -> Statement {
        let (endpoint_fn, map_fn) = match self.kind.as_str() {
            "slack" => {
                let color = if_level(build::string("danger"), build::string("warning"), build::string("good"));
                let fields = vec![
                    property("channel", build::string(&self.channel)),
                    property("text", build::string(&self.message)),
                    property("color", color),
                ];
                ("slack_endpoint", function_of_r(object(fields)))
            }
            "pagerduty" => {
                let by_level = |f: &str| call(member("pagerduty", f), vec![property("level", member("r", "_level"))]);
                let fields = vec![
                    property("routingKey", ident("pagerduty_secret")),
                    property("client", build::string("influxdata")),
                    property("clientURL", build::string(endpoint.text("clientURL"))),
                    property("class", ident("r._check_name")),
                    property("group", member("r", "_source_measurement")),
                    property("severity", by_level("severityFromLevel")),
                    property("eventAction", by_level("actionFromLevel")),
                    property("source", member("notification", "_notification_rule_name")),
                    property("summary", member("r", "_message")),
                    property("timestamp", call(ident("time"), vec![property("v", member("r", "_source_timestamp"))])),
                ];
                ("pagerduty_endpoint", function_of_r(object(fields)))
            }
            "http" => {
                let with_version = build::r_with(vec![property("_version", build::integer(1))]);
                let answer = object(vec![
                    property("headers", ident("headers")),
                    property("data", call(member("json", "encode"), vec![property("v", ident("body"))])),
                ]);
                ("endpoint", build::block_of_r(vec![define("body", with_version), build::return_statement(answer)]))
            }
            _ => {
                let silent = if_level(boolean(true), boolean(true), boolean(false));
                let fields = vec![
                    property("channel", build::string(endpoint.text("channel"))),
                    property("text", build::string(&self.message)),
                    property("silent", silent),
                ];
                ("telegram_endpoint", function_of_r(object(fields)))
            }
        };
        let endpoint_call = call(ident(endpoint_fn), vec![property("mapFn", map_fn)]);
        let notify = call_of(
            member("monitor", "notify"),
            vec![property("data", ident("notification")), property("endpoint", endpoint_call)],
        );
        build::expression_statement(build::pipe(ident("all_statuses"), vec![notify]))
    }
}

/// `monitor.from`'s start reaches back further than one interval: its first
/// unit doubled for seconds and below, one more of it otherwise.
fn widened(every: &Duration) -> Duration {
    let mut values = every.values.clone();
    if let Some(first) = values.first_mut() {
        match first.unit.as_str() {
            "s" | "ms" | "us" | "ns" => first.magnitude *= 2,
            _ => first.magnitude += 1,
        }
    }
    Duration { values }
}

fn secret(key: &str) -> Expression {
    call(member("secrets", "get"), vec![property("key", build::string(key))])
}

/// `if r["_level"] == "crit" then crit else if r["_level"] == "warn" then warn else other`
fn if_level(crit: Expression, warn: Expression, other: Expression) -> Expression {
    let is = |l: &str| binary("==", member("r", "_level"), build::string(l));
    build::conditional(is("crit"), crit, build::conditional(is("warn"), warn, other))
}

/// An HTTP endpoint's headers: JSON, and its authorization from secrets.
fn headers(endpoint: &Target) -> Expression {
    let quoted = build::quoted_property;
    let mut props = vec![quoted("Content-Type", build::string("application/json"))];
    match endpoint.text("authMethod") {
        "bearer" => {
            let token = secret(endpoint.secret("token").unwrap_or_default());
            props.push(quoted("Authorization", binary("+", build::string("Bearer "), token)));
        }
        "basic" => {
            let user = secret(endpoint.secret("username").unwrap_or_default());
            let password = secret(endpoint.secret("password").unwrap_or_default());
            let basic = call(member("http", "basicAuth"), vec![property("u", user), property("p", password)]);
            props.push(quoted("Authorization", basic));
        }
        _ => {}
    }
    object(props)
}

#[cfg(test)]
mod tests;
