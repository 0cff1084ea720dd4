use super::*;

#[test]
fn yaml_documents_are_objects_and_exponents_are_numbers() {
    let yaml = b"apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata:\n  name: a\nspec:\n  n: 1e+08\n---\n\n---\nkind: Bucket\nmetadata: {name: b}\nspec:\n  values: {0: zero, '1': one}\n...\n";
    let objects = decode(yaml, Encoding::Yaml).unwrap();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["spec"]["n"].as_f64(), Some(1e8));
    assert_eq!(objects[1]["spec"]["values"]["0"], "zero");
    assert_eq!(objects[1]["spec"]["values"]["1"], "one");
}

#[test]
fn json_is_an_array_of_objects_or_one_object() {
    assert_eq!(decode(br#"[{"kind":"Label"},{"kind":"Bucket"}]"#, Encoding::Json).unwrap().len(), 2);
    assert_eq!(decode(br#"{"kind":"Label"}"#, Encoding::Json).unwrap().len(), 1);
    let err = decode(br#"[1]"#, Encoding::Json).unwrap_err();
    assert_eq!(err.0, "unable to unmarshal json: element 0 is a number, not an object");
    assert!(decode(b"[{", Encoding::Json).unwrap_err().0.starts_with("unable to unmarshal json: "));
}

#[test]
fn jsonnet_is_evaluated_without_files() {
    let src = br#"local label(n) = { apiVersion: 'influxdata.com/v2alpha1', kind: 'Label', metadata: { name: n } };
[label('l-%d' % i) for i in std.range(1, 3)]"#;
    let objects = decode(src, Encoding::Jsonnet).unwrap();
    assert_eq!(objects.len(), 3);
    assert_eq!(objects[2]["metadata"]["name"], "l-3");
    let err = decode(b"import '/etc/passwd'", Encoding::Jsonnet).unwrap_err();
    assert_eq!(err.0, "unable to unmarshal jsonnet: import \"/etc/passwd\" is refused: a template cannot import files");
    let err = decode(b"error 'no'", Encoding::Jsonnet).unwrap_err();
    assert_eq!(err.0, "unable to unmarshal jsonnet: error: no");
    assert!(decode(b"{ a: ", Encoding::Jsonnet).unwrap_err().0.contains("syntax error"));
}

#[test]
fn an_encoding_is_named_by_content_type_or_extension() {
    assert_eq!(Encoding::named("application/x-yaml", ""), Some(Encoding::Yaml));
    assert_eq!(Encoding::named("", "https://host/t.jsonnet?x=1"), Some(Encoding::Jsonnet));
    assert_eq!(Encoding::named("json", "a.yml"), Some(Encoding::Json));
    assert_eq!(Encoding::named("", "https://host/t"), None);
    assert_eq!(Encoding::sniff(b"  [{}]"), Encoding::Json);
    assert_eq!(Encoding::sniff(b"apiVersion: x"), Encoding::Yaml);
}
