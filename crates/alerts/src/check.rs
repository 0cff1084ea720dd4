//! Checks: `threshold`, `deadman` and `custom`, read from their JSON bodies,
//! checked as 2.7 checks them, and the Flux task each runs.

use flux_syntax::ast::{Expression, File, Statement};
use serde_json::Value;

use crate::build::{
    self, binary, call, call_of, define, float, function_of_r, ident, logical, member, object, property,
};
use crate::{Duration, Invalid, duration, invalid, text};

/// A check's level: the lower-case name is the Flux predicate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Crit,
    Warn,
    Info,
    Ok,
}

impl Level {
    /// `CRIT`, `WARN`, `INFO`, `OK` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CRIT" => Level::Crit,
            "WARN" => Level::Warn,
            "INFO" => Level::Info,
            "OK" => Level::Ok,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Crit => "crit",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Ok => "ok",
        }
    }
}

fn level(v: &Value, what: &str) -> Result<Level, Invalid> {
    match v.as_str() {
        Some(s) => {
            Level::parse(s).ok_or_else(|| Invalid(format!("invalid {what} level {s:?}: use CRIT, WARN, INFO or OK")))
        }
        None => invalid(format!("{what} level is required: CRIT, WARN, INFO or OK")),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    Greater { level: Level, value: f64 },
    Lesser { level: Level, value: f64 },
    Range { level: Level, min: f64, max: f64, within: bool },
}

impl Threshold {
    fn level(&self) -> Level {
        match self {
            Threshold::Greater { level, .. } | Threshold::Lesser { level, .. } | Threshold::Range { level, .. } => {
                *level
            }
        }
    }

    /// `<level> = (r) => ...` on the check's field.
    fn predicate(&self, field: &str) -> Statement {
        let f = || member("r", field);
        let body = match *self {
            Threshold::Greater { value, .. } => binary(">", f(), float(value)),
            Threshold::Lesser { value, .. } => binary("<", f(), float(value)),
            Threshold::Range { min, max, within: true, .. } => {
                logical("and", binary("<", f(), float(max)), binary(">", f(), float(min)))
            }
            Threshold::Range { min, max, within: false, .. } => {
                logical("or", binary("<", f(), float(min)), binary(">", f(), float(max)))
            }
        };
        define(self.level().name(), function_of_r(body))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Threshold(Vec<Threshold>),
    Deadman { time_since: Option<Duration>, stale_time: Option<Duration>, level: Level },
    Custom,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Threshold(_) => "threshold",
            Kind::Deadman { .. } => "deadman",
            Kind::Custom => "custom",
        }
    }
}

/// What a check's task is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The check's ID as InfluxDB writes IDs (16 hex digits).
    pub id: String,
    pub name: String,
    pub query: String,
    pub every: Option<Duration>,
    pub offset: Option<Duration>,
    pub message: String,
    pub tags: Vec<(String, String)>,
    pub kind: Kind,
}

fn number(v: &Value, key: &str) -> Result<f64, Invalid> {
    match &v[key] {
        Value::Null => Ok(0.0),
        Value::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
        other => invalid(format!("threshold {key} must be a number, not {other}")),
    }
}

impl Check {
    /// Reads a check body (`id` is the check's own ID) and checks it as 2.7
    /// does: the messages are 2.7's.
    pub fn read(id: &str, body: &Value) -> Result<Self, Invalid> {
        let kind = match body["type"].as_str().unwrap_or_default() {
            "threshold" => {
                let mut thresholds = Vec::new();
                for t in body["thresholds"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    let level = level(&t["level"], "threshold")?;
                    thresholds.push(match t["type"].as_str().unwrap_or_default() {
                        "greater" => Threshold::Greater { level, value: number(t, "value")? },
                        "lesser" => Threshold::Lesser { level, value: number(t, "value")? },
                        "range" => {
                            let (min, max) = (number(t, "min")?, number(t, "max")?);
                            if min > max {
                                return invalid("range threshold min can't be larger than max");
                            }
                            Threshold::Range { level, min, max, within: t["within"].as_bool().unwrap_or(false) }
                        }
                        other => return invalid(format!("invalid threshold type {other}")),
                    });
                }
                Kind::Threshold(thresholds)
            }
            "deadman" => Kind::Deadman {
                time_since: duration(body, "timeSince")?,
                stale_time: duration(body, "staleTime")?,
                level: level(&body["level"], "deadman")?,
            },
            "custom" => Kind::Custom,
            other => return invalid(format!("invalid check type {other}")),
        };
        let mut tags = Vec::new();
        for t in body["tags"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let (k, v) = (text(t, "key"), text(t, "value"));
            if k.is_empty() || v.is_empty() {
                return invalid("tag must contain a key and a value");
            }
            tags.push((k, v));
        }
        let check = Check {
            id: id.to_owned(),
            name: text(body, "name"),
            query: body["query"]["text"].as_str().unwrap_or_default().to_owned(),
            every: duration(body, "every")?,
            offset: duration(body, "offset")?,
            message: text(body, "statusMessageTemplate"),
            tags,
            kind,
        };
        check.valid()?;
        Ok(check)
    }

    fn valid(&self) -> Result<(), Invalid> {
        if let Kind::Custom = self.kind {
            return custom_valid(self);
        }
        if self.name.is_empty() {
            return invalid("Check Name can't be empty");
        }
        let Some(every) = &self.every else { return invalid("Check Every must exist") };
        if every.values.is_empty() {
            return invalid("Check Every can't be empty");
        }
        if let Some(offset) = &self.offset
            && offset.nanos() >= every.nanos()
        {
            return invalid("Offset should not be equal or greater than the interval");
        }
        // 2.7 cannot generate these without them either (it fails on them).
        if let Kind::Deadman { time_since, stale_time, .. } = &self.kind {
            if time_since.is_none() {
                return invalid("deadman check timeSince is required");
            }
            if stale_time.is_none() {
                return invalid("deadman check staleTime is required");
            }
        }
        Ok(())
    }

    /// The Flux of the check's task, as 2.7 generates and formats it.
    pub fn flux(&self) -> Result<String, Invalid> {
        match &self.kind {
            Kind::Custom => custom_flux(self),
            Kind::Threshold(thresholds) => {
                let every = self.every.clone().unwrap_or(Duration { values: Vec::new() });
                let mut file = parse(&self.query)?;
                every_instead_of_durations(&mut file, &every);
                keep_only_range_start(&mut file);
                no_empty_windows(&mut file);
                let fields = fields(&mut file);
                let [field] = fields.as_slice() else {
                    return invalid(format!("expected a single field but got: [{}]", fields.join(" ")));
                };
                let field = field.clone();
                pipeline_to_data(&mut file);
                file.imports.extend(build::imports(&["influxdata/influxdb/monitor", "influxdata/influxdb/v1"]));
                file.body.push(self.task_option());
                file.body.push(self.definition());
                file.body.extend(thresholds.iter().map(|t| t.predicate(&field)));
                file.body.push(self.message_fn());
                let levels: Vec<Level> = thresholds.iter().map(Threshold::level).collect();
                let calls = vec![call_of(member("v1", "fieldsAsCols"), vec![]), self.check_call(&levels)];
                file.body.push(build::expression_statement(build::pipe(ident("data"), calls)));
                Ok(flux_syntax::format::file(&file))
            }
            Kind::Deadman { time_since, stale_time, level } => {
                let mut file = parse(&self.query)?;
                without_aggregate_window(&mut file);
                let stale = stale_time.clone().unwrap_or(Duration { values: Vec::new() });
                every_instead_of_durations(&mut file, &stale);
                keep_only_range_start(&mut file);
                pipeline_to_data(&mut file);
                let imports = ["influxdata/influxdb/monitor", "experimental", "influxdata/influxdb/v1"];
                file.imports.extend(build::imports(&imports));
                file.body.push(self.task_option());
                file.body.push(self.definition());
                file.body.push(define(level.name(), function_of_r(member("r", "dead"))));
                file.body.push(self.message_fn());
                let since = time_since.as_ref().map(Duration::literal).unwrap_or_else(|| ident("now"));
                let now = call(ident("now"), vec![]);
                let t = call(member("experimental", "subDuration"), vec![property("from", now), property("d", since)]);
                let calls = vec![
                    call_of(member("v1", "fieldsAsCols"), vec![]),
                    call_of(member("monitor", "deadman"), vec![property("t", t)]),
                    self.check_call(&[*level]),
                ];
                file.body.push(build::expression_statement(build::pipe(ident("data"), calls)));
                Ok(flux_syntax::format::file(&file))
            }
        }
    }

    /// `option task = {name, every, offset}`
    fn task_option(&self) -> Statement {
        let mut props = vec![property("name", build::string(&self.name))];
        if let Some(e) = &self.every {
            props.push(property("every", e.literal()));
        }
        if let Some(o) = &self.offset {
            props.push(property("offset", o.literal()));
        }
        build::option_task(props)
    }

    /// `check = {_check_id, _check_name, _type, tags}`
    fn definition(&self) -> Statement {
        let tags = self.tags.iter().map(|(k, v)| property(k, build::string(v))).collect();
        define(
            "check",
            object(vec![
                property("_check_id", build::string(&self.id)),
                property("_check_name", build::string(&self.name)),
                property("_type", build::string(self.kind.name())),
                property("tags", object(tags)),
            ]),
        )
    }

    fn message_fn(&self) -> Statement {
        define("messageFn", function_of_r(build::string(&self.message)))
    }

    fn check_call(&self, levels: &[Level]) -> flux_syntax::ast::CallExpression {
        let mut args = vec![property("data", ident("check")), property("messageFn", ident("messageFn"))];
        args.extend(levels.iter().map(|l| property(l.name(), ident(l.name()))));
        call_of(member("monitor", "check"), args)
    }
}

fn parse(query: &str) -> Result<File, Invalid> {
    flux_syntax::parse_file(query).map_err(|e| Invalid(e.to_string()))
}

/// Every `start:` becomes `-every` and every `every:` becomes `every`.
fn every_instead_of_durations(file: &mut File, every: &Duration) {
    build::each_expression(&mut file.body, &mut |e| {
        if let Expression::ObjectExpression { properties, .. } = e {
            for p in properties {
                match build::key_name(&p.key) {
                    "start" => p.value = Some(build::negative(every.literal())),
                    "every" => p.value = Some(every.literal()),
                    _ => {}
                }
            }
        }
    });
}

/// `range()` keeps only its `start`.
fn keep_only_range_start(file: &mut File) {
    build::each_expression(&mut file.body, &mut |e| {
        if let Some(c) = build::call_in(e)
            && build::calls(c, "range")
        {
            for a in &mut c.arguments {
                if let Expression::ObjectExpression { properties, .. } = a {
                    properties.retain(|p| build::key_name(&p.key) == "start");
                }
            }
        }
    });
}

/// `aggregateWindow()` gets `createEmpty: false` unless it says otherwise.
fn no_empty_windows(file: &mut File) {
    build::each_expression(&mut file.body, &mut |e| {
        if let Some(c) = build::call_in(e)
            && build::calls(c, "aggregateWindow")
        {
            for a in &mut c.arguments {
                if let Expression::ObjectExpression { properties, .. } = a
                    && !properties.iter().any(|p| build::key_name(&p.key) == "createEmpty")
                {
                    properties.push(property("createEmpty", build::boolean(false)));
                }
            }
        }
    });
}

/// A deadman check looks at the raw points: `aggregateWindow()` is taken out.
fn without_aggregate_window(file: &mut File) {
    build::each_expression(&mut file.body, &mut |e| {
        if let Expression::PipeExpression { argument, call, .. } = e
            && build::calls(call, "aggregateWindow")
            && matches!(**argument, Expression::PipeExpression { .. })
        {
            let inner = std::mem::replace(&mut **argument, ident("_"));
            *e = inner;
        }
    });
}

/// The fields the query filters on: `r._field == "name"` anywhere.
fn fields(file: &mut File) -> Vec<String> {
    let mut found = Vec::new();
    build::each_expression(&mut file.body, &mut |e| {
        if let Expression::BinaryExpression { left, right, .. } = e
            && let Expression::MemberExpression(m) = &**left
            && build::key_name(&m.property) == "_field"
            && let Expression::StringLiteral(s) = &**right
        {
            found.push(s.value.clone());
        }
    });
    found
}

/// The query's one pipeline becomes `data = ...`, without a final `yield()`.
fn pipeline_to_data(file: &mut File) {
    let [Statement::ExpressionStatement { expression: e @ Expression::PipeExpression { .. }, .. }] =
        file.body.as_mut_slice()
    else {
        return;
    };
    let mut pipeline = std::mem::replace(e, ident("_"));
    if let Expression::PipeExpression { argument, call, .. } = &mut pipeline
        && build::calls(call, "yield")
    {
        pipeline = std::mem::replace(&mut **argument, ident("_"));
    }
    file.body[0] = define("data", pipeline);
}

// ---- custom checks ----

fn string_is(e: &Option<Expression>, want: &str) -> bool {
    matches!(e, Some(Expression::StringLiteral(s)) if s.value == want)
}

/// A custom check's Flux must hold what 2.7 requires of it.
fn custom_valid(c: &Check) -> Result<(), Invalid> {
    let file = parse(&c.query)?;
    let (mut has_check, mut name_matches, mut is_custom) = (false, false, false);
    let mut task: Option<Vec<(String, Option<Expression>)>> = None;
    for s in &file.body {
        match s {
            Statement::VariableAssignment(v) if v.id.name == "check" => {
                has_check = true;
                if let Expression::ObjectExpression { properties, .. } = &v.init {
                    for p in properties {
                        let k = build::key_name(&p.key);
                        name_matches |= k == "_check_name" && string_is(&p.value, &c.name);
                        is_custom |= k == "_type" && string_is(&p.value, "custom");
                    }
                }
            }
            Statement::OptionStatement { assignment: flux_syntax::ast::Assignment::VariableAssignment(v), .. }
                if v.id.name == "task" =>
            {
                let props = match &v.init {
                    Expression::ObjectExpression { properties, .. } => {
                        properties.iter().map(|p| (build::key_name(&p.key).to_owned(), p.value.clone())).collect()
                    }
                    _ => Vec::new(),
                };
                task = Some(props);
            }
            _ => {}
        }
    }
    // The same checks, in 2.7's order.
    if !has_check {
        return invalid("Custom flux must have an object called 'check'");
    }
    if !name_matches {
        return invalid("_check_name parameter on check object must match check name");
    }
    if !is_custom {
        return invalid("_type parameter on check object must be set to 'custom'");
    }
    let Some(task) = task else { return invalid("Custom flux missing task option statement") };
    let has = |k: &str| task.iter().any(|(key, _)| key == k);
    if !has("name") {
        return invalid("Custom flux missing name parameter from task option statement");
    }
    if !task.iter().any(|(k, v)| k == "name" && string_is(v, &c.name)) {
        return invalid("Name parameter from task option statement must match check name");
    }
    if !has("every") {
        return invalid("Custom flux missing every parameter from task option statement");
    }
    if !has("offset") {
        return invalid("Custom flux missing offset parameter from task option statement");
    }
    Ok(())
}

/// A custom check runs its own Flux with `_check_id` set to the check's ID.
fn custom_flux(c: &Check) -> Result<String, Invalid> {
    let mut file = parse(&c.query)?;
    for s in &mut file.body {
        if let Statement::VariableAssignment(v) = s
            && v.id.name == "check"
            && let Expression::ObjectExpression { properties, .. } = &mut v.init
        {
            let id = property("_check_id", build::string(&c.id));
            match properties.iter().position(|p| build::key_name(&p.key) == "_check_id") {
                Some(i) => properties[i] = id,
                None => properties.push(id),
            }
        }
    }
    Ok(flux_syntax::format::file(&file))
}

#[cfg(test)]
mod tests;
