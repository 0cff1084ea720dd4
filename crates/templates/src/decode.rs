//! A template's bytes to its objects: JSON (an array of objects, or one),
//! YAML (a stream of documents) or Jsonnet (evaluated here, with no
//! imports: a template cannot read the server's files).

use serde_json::{Map, Number, Value};

/// How a template's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Yaml,
    Jsonnet,
}

impl Encoding {
    /// The encoding a `contentType` names (`json`, `yaml`/`yml`, `jsonnet`,
    /// or a MIME type with one of those in it), else the one a URL's or
    /// file's extension names.
    pub fn named(content_type: &str, source: &str) -> Option<Encoding> {
        let ct = content_type.trim().to_ascii_lowercase();
        let by_type = if ct.contains("jsonnet") {
            Some(Encoding::Jsonnet)
        } else if ct.contains("json") {
            Some(Encoding::Json)
        } else if ct.contains("yaml") || ct.contains("yml") {
            Some(Encoding::Yaml)
        } else {
            None
        };
        by_type.or_else(|| {
            let path = source.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
            let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            match ext {
                "json" => Some(Encoding::Json),
                "yml" | "yaml" => Some(Encoding::Yaml),
                "jsonnet" | "libsonnet" => Some(Encoding::Jsonnet),
                _ => None,
            }
        })
    }

    /// The encoding of bytes that say nothing of it: JSON when they start
    /// as JSON does, else YAML (of which JSON is a subset anyway).
    pub fn sniff(bytes: &[u8]) -> Encoding {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[' | b'{') => Encoding::Json,
            _ => Encoding::Yaml,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Yaml => "yaml",
            Encoding::Jsonnet => "jsonnet",
        }
    }
}

/// Why bytes are not a template's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// The objects `bytes` hold, in order. Empty documents are skipped.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Vec<Value>, DecodeError> {
    let value = match encoding {
        Encoding::Json => {
            let v: Value =
                serde_json::from_slice(bytes).map_err(|e| DecodeError(format!("unable to unmarshal json: {e}")))?;
            return objects(v, "json");
        }
        Encoding::Yaml => return yaml(bytes),
        Encoding::Jsonnet => jsonnet(bytes)?,
    };
    objects(value, "jsonnet")
}

/// A decoded value as a list of objects: an array's elements, or one object.
fn objects(v: Value, what: &str) -> Result<Vec<Value>, DecodeError> {
    let items = match v {
        Value::Array(items) => items,
        Value::Object(_) => vec![v],
        Value::Null => Vec::new(),
        other => {
            return Err(DecodeError(format!(
                "unable to unmarshal {what}: a template is an object or an array of objects, not {}",
                type_name(&other)
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(_) => out.push(item),
            Value::Null => {}
            other => {
                return Err(DecodeError(format!(
                    "unable to unmarshal {what}: element {i} is {}, not an object",
                    type_name(&other)
                )));
            }
        }
    }
    Ok(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn yaml(bytes: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_slice(bytes).enumerate() {
        let v: serde_yaml::Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| DecodeError(format!("unable to unmarshal yaml: document {i}: {e}")))?;
        match from_yaml(v) {
            Value::Null => {}
            v @ Value::Object(_) => out.push(v),
            // A document may also hold a list of objects (a JSON template read as YAML).
            Value::Array(items) => out.extend(objects(Value::Array(items), "yaml")?),
            other => {
                return Err(DecodeError(format!(
                    "unable to unmarshal yaml: document {i} is {}, not an object",
                    type_name(&other)
                )));
            }
        }
    }
    Ok(out)
}

/// A YAML value as JSON: keys that are numbers or booleans become their text.
fn from_yaml(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match from_yaml(k) {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                out.insert(key, from_yaml(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => from_yaml(t.value),
    }
}

/// Evaluates a Jsonnet template to its JSON value.
fn jsonnet(bytes: &[u8]) -> Result<Value, DecodeError> {
    use rsjsonnet_lang::program::{Callbacks, EvalStackTraceItem, ImportError, NativeError, Program, Thunk};
    use rsjsonnet_lang::span::SpanId;

    struct NoFiles;

    impl<'p> Callbacks<'p> for NoFiles {
        fn import(&mut self, _: &mut Program<'p>, _: SpanId, _: &str) -> Result<Thunk<'p>, ImportError> {
            Err(ImportError)
        }
        fn import_str(&mut self, _: &mut Program<'p>, _: SpanId, _: &str) -> Result<String, ImportError> {
            Err(ImportError)
        }
        fn import_bin(&mut self, _: &mut Program<'p>, _: SpanId, _: &str) -> Result<Vec<u8>, ImportError> {
            Err(ImportError)
        }
        fn trace(&mut self, _: &mut Program<'p>, _: &str, _: &[EvalStackTraceItem]) {}
        fn native_call(
            &mut self,
            _: &mut Program<'p>,
            _: rsjsonnet_lang::interner::InternedStr<'p>,
            _: &[rsjsonnet_lang::program::Value<'p>],
        ) -> Result<rsjsonnet_lang::program::Value<'p>, NativeError> {
            Err(NativeError)
        }
    }

    let arena = rsjsonnet_lang::arena::Arena::new();
    let mut program = Program::new(&arena);
    let (ctx, _) = program.span_manager_mut().insert_source_context(bytes.len());
    let thunk = program
        .load_source(ctx, bytes, true, "template.jsonnet")
        .map_err(|e| DecodeError(format!("unable to unmarshal jsonnet: {}", load_error(&e))))?;
    let value = program
        .eval_value(&thunk, &mut NoFiles)
        .map_err(|e| DecodeError(format!("unable to unmarshal jsonnet: {}", eval_error(&e.kind))))?;
    let text = program
        .manifest_json(&value, false)
        .map_err(|e| DecodeError(format!("unable to unmarshal jsonnet: {}", eval_error(&e.kind))))?;
    serde_json::from_str(&text).map_err(|e| DecodeError(format!("unable to unmarshal jsonnet: {e}")))
}

fn load_error(e: &rsjsonnet_lang::program::LoadError) -> String {
    use rsjsonnet_lang::program::LoadError;
    match e {
        LoadError::Lex(e) => format!("syntax error: {e:?}"),
        LoadError::Parse(e) => format!("syntax error: {e:?}"),
        LoadError::Analyze(e) => format!("invalid program: {e:?}"),
    }
}

fn eval_error(kind: &rsjsonnet_lang::program::EvalErrorKind) -> String {
    use rsjsonnet_lang::program::EvalErrorKind as K;
    match kind {
        K::ImportFailed { path, .. } => format!("import {path:?} is refused: a template cannot import files"),
        K::StackOverflow | K::InfiniteRecursion => "the program recurses too deeply".to_owned(),
        K::AssertFailed { message, .. } => format!("assertion failed: {}", message.as_deref().unwrap_or_default()),
        K::ExplicitError { message, .. } => format!("error: {message}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests;
