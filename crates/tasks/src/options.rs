//! A task's `option task = {name, every | cron, offset, concurrency, retry}`:
//! read from its script as InfluxDB reads it (the same checks, the same
//! messages), and written back when an update changes one of them.

use flux_syntax::ast::{Assignment, Expression, File, Property, PropertyKey, Statement};

/// Most runs of one task at once, and most retries, as InfluxDB allows.
const MAX_CONCURRENCY: i64 = 100;
const MAX_RETRY: i64 = 10;

/// The task option of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOptions {
    pub name: String,
    /// `every` as written (`1h30m`), and in nanoseconds.
    pub every: Option<(String, i64)>,
    pub cron: Option<String>,
    /// `offset` in nanoseconds (may be negative); 0 when absent.
    pub offset: i64,
    pub concurrency: i64,
    pub retry: i64,
}

/// A change to the task option (`PATCH /api/v2/tasks/{id}`): `None` leaves
/// an option as it is; an offset of zero removes it.
#[derive(Debug, Clone, Default)]
pub struct OptionsUpdate {
    pub name: Option<String>,
    pub every: Option<String>,
    pub cron: Option<String>,
    pub offset: Option<String>,
}

impl OptionsUpdate {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.every.is_none() && self.cron.is_none() && self.offset.is_none()
    }
}

fn parse(script: &str) -> Result<File, String> {
    flux_syntax::parse_file(script).map_err(|e| e.to_string())
}

/// The `option task = {...}` object of a script.
fn task_object(file: &File) -> Result<&Expression, String> {
    let mut found = file.body.iter().filter_map(|s| match s {
        Statement::OptionStatement { assignment: Assignment::VariableAssignment(a), .. } if a.id.name == "task" => {
            Some(&a.init)
        }
        _ => None,
    });
    let first = found.next().ok_or("no task options defined")?;
    if found.next().is_some() {
        return Err("multiple task options defined".into());
    }
    match first {
        e @ Expression::ObjectExpression { .. } => Ok(e),
        other => Err(format!("task option expected to be object literal, but found {:?}", expression_type(other))),
    }
}

fn expression_type(e: &Expression) -> &'static str {
    match e {
        Expression::StringLiteral(_) => "StringLiteral",
        Expression::IntegerLiteral { .. } => "IntegerLiteral",
        Expression::DurationLiteral { .. } => "DurationLiteral",
        Expression::Identifier(_) => "Identifier",
        Expression::CallExpression(_) => "CallExpression",
        _ => "Expression",
    }
}

fn properties(obj: &Expression) -> &[Property] {
    match obj {
        Expression::ObjectExpression { properties, .. } => properties,
        _ => &[],
    }
}

fn key_of(p: &Property) -> &str {
    match &p.key {
        PropertyKey::Identifier(id) => &id.name,
        PropertyKey::StringLiteral(s) => &s.value,
    }
}

fn property<'a>(obj: &'a Expression, name: &str) -> Option<&'a Expression> {
    properties(obj).iter().find(|p| key_of(p) == name).and_then(|p| p.value.as_ref())
}

/// Nanoseconds of a duration literal's parts; months are refused.
fn literal_nanos(e: &Expression) -> Option<Result<i64, String>> {
    let Expression::DurationLiteral { values, .. } = e else { return None };
    let mut total: i64 = 0;
    for v in values {
        let Some(unit) = time::duration::unit_nanos(&v.unit) else {
            return Some(Err(format!("invalid duration in task: unit {} has no fixed length", v.unit)));
        };
        total = match v.magnitude.checked_mul(unit).and_then(|n| total.checked_add(n)) {
            Some(t) => t,
            None => return Some(Err("invalid duration in task: too long".into())),
        };
    }
    Some(Ok(total))
}

fn source_of(e: &Expression) -> String {
    e.base().location.source.clone()
}

/// Reads and checks a script's task option.
pub fn from_script(script: &str) -> Result<TaskOptions, String> {
    let file = parse(script)?;
    let obj = task_object(&file)?;
    let name = match property(obj, "name") {
        None => return Err("missing required option: name".into()),
        Some(Expression::StringLiteral(s)) => s.value.clone(),
        Some(_) => return Err("failed to parse field 'name' in task options".into()),
    };
    let (cron, every) = (property(obj, "cron"), property(obj, "every"));
    let (cron, every) = match (cron, every) {
        (Some(_), Some(_)) => return Err("cannot use both cron and every in task options".into()),
        (None, None) => return Err("missing required option: cron or every".into()),
        (Some(Expression::StringLiteral(s)), None) => (Some(s.value.clone()), None),
        (Some(_), None) => return Err("failed to parse field 'cron' in task options".into()),
        (None, Some(e)) => match literal_nanos(e) {
            Some(n) => (None, Some((source_of(e), n?))),
            None => return Err("failed to parse field 'every' in task options".into()),
        },
    };
    let offset = match property(obj, "offset") {
        None => 0,
        Some(e @ Expression::DurationLiteral { .. }) => literal_nanos(e).unwrap_or(Ok(0))?,
        Some(Expression::UnaryExpression { operator, argument, .. }) if operator == "-" => {
            match literal_nanos(argument) {
                Some(n) => -n?,
                None => return Err("failed to parse field 'offset' in task options".into()),
            }
        }
        Some(_) => return Err("failed to parse field 'offset' in task options".into()),
    };
    let integer = |name: &str| -> Result<Option<i64>, String> {
        match property(obj, name) {
            None => Ok(None),
            Some(Expression::IntegerLiteral { value, .. }) => {
                value.parse().map(Some).map_err(|_| format!("failed to parse field '{name}' in task options"))
            }
            Some(_) => Err(format!("failed to parse field '{name}' in task options")),
        }
    };
    let opts = TaskOptions {
        name,
        every,
        cron,
        offset,
        concurrency: integer("concurrency")?.unwrap_or(1),
        retry: integer("retry")?.unwrap_or(1),
    };
    opts.validate()?;
    Ok(opts)
}

impl TaskOptions {
    fn validate(&self) -> Result<(), String> {
        const SECOND: i64 = 1_000_000_000;
        let mut errs: Vec<String> = Vec::new();
        if self.name.is_empty() {
            errs.push("name required".into());
        }
        match (&self.cron, &self.every) {
            (Some(c), None) if c.is_empty() => errs.push("must specify exactly one of either cron or every".into()),
            (Some(c), None) => {
                if let Err(e) = crate::schedule::Cron::parse(c) {
                    errs.push(format!("cron invalid: {e}"));
                }
            }
            (None, Some((_, every))) => {
                if *every < SECOND {
                    errs.push("every option must be at least 1 second".into());
                } else if every % SECOND != 0 {
                    errs.push("every option must be expressible as whole seconds".into());
                }
            }
            _ => errs.push("must specify exactly one of either cron or every".into()),
        }
        if self.offset % SECOND != 0 {
            errs.push("offset option must be expressible as whole seconds".into());
        }
        if self.concurrency < 1 {
            errs.push("concurrency must be at least 1".into());
        } else if self.concurrency > MAX_CONCURRENCY {
            errs.push(format!("concurrency exceeded max of {MAX_CONCURRENCY}"));
        }
        if self.retry < 1 {
            errs.push("retry must be at least 1".into());
        } else if self.retry > MAX_RETRY {
            errs.push(format!("retry exceeded max of {MAX_RETRY}"));
        }
        if errs.is_empty() { Ok(()) } else { Err(format!("invalid options: {}", errs.join(", "))) }
    }

    /// When the task runs.
    pub fn schedule(&self) -> Result<crate::schedule::Schedule, String> {
        match (&self.every, &self.cron) {
            (Some((_, every)), _) => Ok(crate::schedule::Schedule::Every(*every)),
            (None, Some(cron)) => crate::schedule::Cron::parse(cron).map(crate::schedule::Schedule::Cron),
            (None, None) => Err("must specify exactly one of either cron or every".into()),
        }
    }
}

/// An offset as InfluxDB shows it: `1h30m`, `-5s`, whole hours, minutes and seconds.
pub fn format_offset(nanos: i64) -> String {
    if nanos == 0 {
        return String::new();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let mut secs = nanos.unsigned_abs() / 1_000_000_000;
    let hours = secs / 3600;
    secs %= 3600;
    let (minutes, seconds) = (secs / 60, secs % 60);
    if hours != 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes != 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds != 0 {
        out.push_str(&format!("{seconds}s"));
    }
    out
}

/// The script with its task option changed as `update` says (a new `every`
/// replaces `cron` and the other way round; an offset of `0` is removed).
/// Only the option's object is rewritten; the rest of the script is kept as
/// written.
pub fn rewrite(script: &str, update: &OptionsUpdate) -> Result<String, String> {
    if update.every.is_some() && update.cron.is_some() {
        return Err("cannot specify both cron and every".into());
    }
    let file = parse(script)?;
    let obj = task_object(&file)?;
    let check_duration = |text: &str, what: &str| -> Result<(), String> {
        let e = flux_syntax::parse_file(&format!("x = {text}"))
            .ok()
            .and_then(|f| match f.body.into_iter().next() {
                Some(Statement::VariableAssignment(a)) => Some(a.init),
                _ => None,
            })
            .ok_or_else(|| format!("invalid duration in task {what}: {text:?}"))?;
        let inner = match &e {
            Expression::UnaryExpression { operator, argument, .. } if operator == "-" => argument.as_ref(),
            e => e,
        };
        match literal_nanos(inner) {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(format!("invalid duration in task {what}: {text:?}")),
        }
    };
    if let Some(e) = &update.every {
        check_duration(e, "every")?;
    }
    let remove_offset = match &update.offset {
        Some(o) => {
            check_duration(o, "offset")?;
            o.trim_start_matches('-').chars().all(|c| c == '0' || c.is_ascii_alphabetic())
        }
        None => false,
    };
    let quoted = |s: &str| format!("{s:?}");
    let mut pending: Vec<(&str, String)> = Vec::new();
    if let Some(n) = &update.name {
        pending.push(("name", quoted(n)));
    }
    if let Some(e) = &update.every {
        pending.push(("every", e.clone()));
    }
    if let Some(c) = &update.cron {
        pending.push(("cron", quoted(c)));
    }
    if let Some(o) = &update.offset
        && !remove_offset
    {
        pending.push(("offset", o.clone()));
    }
    let mut parts: Vec<String> = Vec::new();
    for p in properties(obj) {
        let key = key_of(p);
        let replace_with = |k: &str, pending: &mut Vec<(&str, String)>| -> Option<String> {
            let at = pending.iter().position(|(name, _)| *name == k)?;
            Some(pending.remove(at).1)
        };
        let new = match key {
            "offset" if remove_offset => continue,
            "name" | "offset" => replace_with(key, &mut pending).map(|v| format!("{key}: {v}")),
            // every and cron stand for each other: the one given replaces the one written.
            "every" | "cron" => replace_with("every", &mut pending)
                .map(|v| format!("every: {v}"))
                .or_else(|| replace_with("cron", &mut pending).map(|v| format!("cron: {v}"))),
            _ => None,
        };
        parts.push(new.unwrap_or_else(|| p.base.location.source.clone()));
    }
    parts.extend(pending.into_iter().map(|(k, v)| format!("{k}: {v}")));
    let location = &obj.base().location;
    let (start, end) = (offset_of(script, location.start), offset_of(script, location.end));
    let mut out = String::with_capacity(script.len());
    out.push_str(&script[..start]);
    out.push_str(&format!("{{{}}}", parts.join(", ")));
    out.push_str(&script[end..]);
    Ok(out)
}

/// The byte offset of a 1-based line and column (columns count characters).
fn offset_of(src: &str, pos: flux_syntax::ast::Pos) -> usize {
    let mut line_start = 0;
    for _ in 1..pos.line {
        match src[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return src.len(),
        }
    }
    src[line_start..]
        .char_indices()
        .nth(pos.column.saturating_sub(1) as usize)
        .map_or(src.len(), |(i, _)| line_start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "option task = {name: \"down\", every: 1h, offset: 10m, concurrency: 2}\n\nfrom(bucket: \"b\")\n  |> range(start: -task.every)\n";

    #[test]
    fn options_are_read_and_checked_as_influxdb_does() {
        let o = from_script(SCRIPT).unwrap();
        assert_eq!(
            (o.name.as_str(), o.every.clone(), o.offset, o.concurrency, o.retry),
            ("down", Some(("1h".into(), 3_600_000_000_000)), 600_000_000_000, 2, 1)
        );
        let cron = from_script("option task = {name: \"c\", cron: \"*/5 * * * *\", offset: -5s}").unwrap();
        assert_eq!((cron.cron.as_deref(), cron.offset), (Some("*/5 * * * *"), -5_000_000_000));
        for (script, err) in [
            ("x = 1", "no task options defined"),
            ("option task = {every: 1h}", "missing required option: name"),
            ("option task = {name: \"a\"}", "missing required option: cron or every"),
            (
                "option task = {name: \"a\", every: 1h, cron: \"* * * * *\"}",
                "cannot use both cron and every in task options",
            ),
            ("option task = {name: \"a\", every: 500ms}", "invalid options: every option must be at least 1 second"),
            (
                "option task = {name: \"a\", every: 1500ms}",
                "invalid options: every option must be expressible as whole seconds",
            ),
            (
                "option task = {name: \"a\", every: 1h, concurrency: 0}",
                "invalid options: concurrency must be at least 1",
            ),
            ("option task = {name: \"a\", cron: \"nope\"}", "invalid options: cron invalid"),
            ("option task = 1", "task option expected to be object literal"),
            (
                "option task = {name: \"a\", every: 1h}\noption task = {name: \"b\", every: 1h}",
                "multiple task options defined",
            ),
        ] {
            let got = from_script(script).unwrap_err();
            assert!(got.starts_with(err), "{script}: {got}");
        }
    }

    #[test]
    fn updates_rewrite_only_the_option() {
        let up = OptionsUpdate { every: Some("30m".into()), name: Some("renamed".into()), ..Default::default() };
        let got = rewrite(SCRIPT, &up).unwrap();
        assert_eq!(
            got,
            "option task = {name: \"renamed\", every: 30m, offset: 10m, concurrency: 2}\n\nfrom(bucket: \"b\")\n  |> range(start: -task.every)\n"
        );
        let to_cron = rewrite(
            SCRIPT,
            &OptionsUpdate { cron: Some("0 * * * *".into()), offset: Some("0s".into()), ..Default::default() },
        )
        .unwrap();
        assert!(
            to_cron.starts_with("option task = {name: \"down\", cron: \"0 * * * *\", concurrency: 2}\n"),
            "{to_cron}"
        );
        let added = rewrite(
            "option task = {name: \"x\", every: 1h}",
            &OptionsUpdate { offset: Some("5s".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!(added, "option task = {name: \"x\", every: 1h, offset: 5s}");
        assert!(
            rewrite(
                SCRIPT,
                &OptionsUpdate { every: Some("1h".into()), cron: Some("* * * * *".into()), ..Default::default() }
            )
            .is_err()
        );
        assert!(rewrite(SCRIPT, &OptionsUpdate { every: Some("soon".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn offsets_print_as_influxdb_prints_them() {
        assert_eq!(format_offset(0), "");
        assert_eq!(format_offset(5_400_000_000_000), "1h30m");
        assert_eq!(format_offset(-5_000_000_000), "-5s");
        assert_eq!(format_offset(3_600_000_000_000), "1h");
        assert_eq!(format_offset(90_000_000_000), "1m30s");
    }
}
