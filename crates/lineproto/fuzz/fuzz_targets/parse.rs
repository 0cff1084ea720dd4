//! Any bytes: the parser must not panic, and every point it accepts must survive
//! a write → parse round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lineproto::{FieldValue, Precision, parse, string_value, write_line};

fuzz_target!(|data: &[u8]| {
    for line in parse(data, Precision::Nanosecond) {
        let Ok(line) = line else { break };
        let measurement = line.measurement.unescaped();
        // A name ending in a backslash cannot be written back unambiguously.
        if measurement.ends_with('\\') || line.tags.iter().any(|(k, v)| k.unescaped().ends_with('\\') || v.unescaped().ends_with('\\')) {
            continue;
        }
        let tags: Vec<(String, String)> = line.tags.iter().map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned())).collect();
        let tag_refs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let keys: Vec<String> = line.fields.iter().map(|(k, _)| k.unescaped().into_owned()).collect();
        if keys.iter().any(|k| k.ends_with('\\')) {
            continue;
        }
        let strings: Vec<String> = line.fields.iter().map(|(_, v)| match v { FieldValue::String(s) => s.unescaped().into_owned(), _ => String::new() }).collect();
        let fields: Vec<(&str, FieldValue<'_>)> = line.fields.iter().zip(&keys).zip(&strings).map(|(((_, v), k), s)| {
            (k.as_str(), match v { FieldValue::String(_) => string_value(s), other => *other })
        }).collect();
        let text = write_line(&measurement, &tag_refs, &fields, line.timestamp);
        let again = parse(text.as_bytes(), Precision::Nanosecond).next().expect("one line").expect("reparses");
        assert_eq!(again.measurement.unescaped(), measurement);
        assert_eq!(again.fields.len(), line.fields.len());
        assert_eq!(again.timestamp, line.timestamp);
    }
});
