//! Dashboard charts: a chart of a template to its cell and the stored
//! view's `properties` (the shape the 2.x UI draws), and back, as 2.7's
//! pkger maps each chart kind to its view type.

use serde_json::{Map, Value, json};

use crate::error::Faults;
use crate::field::{boolean, float, int, norm, objects, text, texts};

/// A dashboard chart: its cell and the view it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub name: String,
    pub properties: Value,
}

/// A query as a view or check holds it.
pub(crate) fn query_json(text: &str) -> Value {
    json!({
        "text": text,
        "editMode": "advanced",
        "name": "",
        "builderConfig": {
            "buckets": [], "tags": [], "functions": [],
            "aggregateWindow": { "period": "", "fillValues": false },
        },
    })
}

/// Chart kinds (lowercased) and the view types they become.
const KINDS: [(&str, &str); 12] = [
    ("xy", "xy"),
    ("band", "band"),
    ("single_stat", "single-stat"),
    ("single_stat_plus_line", "line-plus-single-stat"),
    ("gauge", "gauge"),
    ("table", "table"),
    ("histogram", "histogram"),
    ("heatmap", "heatmap"),
    ("scatter", "scatter"),
    ("mosaic", "mosaic"),
    ("geo", "geo"),
    ("markdown", "markdown"),
];

/// The chart kind a view type is exported as (`Single_Stat_Plus_Line`).
pub(crate) fn chart_kind(view_type: &str) -> Option<String> {
    let (kind, _) = KINDS.iter().find(|(_, v)| *v == view_type)?;
    Some(kind.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<Vec<_>>().join("_"))
}

pub(crate) fn read(c: &Map<String, Value>) -> Result<Cell, Faults> {
    let null = Value::Null;
    let g = |k: &str| c.get(k).unwrap_or(&null);
    let mut faults = Faults::default();
    let kind = norm(g("kind"));
    let Some((_, view)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        faults.add("kind", format!("invalid chart kind provided: {kind}"));
        return Err(faults);
    };
    let cell = |properties: Value| Cell {
        x: int(g("xPos")),
        y: int(g("yPos")),
        w: int(g("width")),
        h: int(g("height")),
        name: text(g("name")).trim().to_owned(),
        properties,
    };
    if *view == "markdown" {
        return Ok(cell(json!({ "shape": "chronograf-v2", "type": "markdown", "note": text(g("note")) })));
    }
    let axes = objects(g("axes"));
    for (k, _) in [("width", ()), ("height", ())] {
        if int(g(k)) <= 0 {
            faults.add(k, "must be greater than 0");
        }
    }
    let colors = objects(g("colors"));
    for (i, col) in colors.iter().enumerate() {
        if text(col.get("hex").unwrap_or(&null)).is_empty() {
            faults.add(&format!("colors[{i}].hex"), "a color must have a hex value provided");
        }
    }
    let axis = |name: &str| axes.iter().find(|a| text(a.get("name").unwrap_or(&null)).trim() == name);
    let need_axes: &[&str] = match *view {
        "xy" | "line-plus-single-stat" | "heatmap" | "scatter" => &["x", "y"],
        "histogram" => &["x"],
        _ => &[],
    };
    for a in need_axes {
        if axis(a).is_none() {
            faults.add("axes", format!("axis not found: {a:?}"));
        }
    }
    if *view == "gauge" {
        for t in ["min", "max"] {
            if !colors.iter().any(|c| text(c.get("type").unwrap_or(&null)) == t) {
                faults.add("colors", format!("type not found: {t:?}"));
            }
        }
    }
    let position = text(g("position"));
    if matches!(*view, "xy" | "line-plus-single-stat")
        && !matches!(position.to_lowercase().as_str(), "" | "overlaid" | "stacked")
    {
        faults.add(
            "position",
            format!(
                "invalid position supplied {:?}; valid positions is one of [overlaid, stacked]",
                position.to_lowercase()
            ),
        );
    }
    let geom = text(g("geom"));
    if *view == "xy" {
        if geom.is_empty() {
            faults.add("geom", "type not found: \"\"");
        } else if !["line", "step", "stacked", "monotoneX", "bar"].contains(&geom.as_str()) {
            faults.add("geom", format!("type provided is not supported: {geom:?}"));
        }
    }
    if *view == "table" {
        let wrapping = text(g("tableOptions").get("wrapping").unwrap_or(&null));
        if !["", "single-line", "truncate", "wrap"].contains(&wrapping.as_str()) {
            faults.add(
                "tableOptions.wrapping",
                "chart table option should 1 in [\"single-line\", \"truncate\", \"wrap\"]",
            );
        }
    }
    if !faults.is_empty() {
        return Err(faults);
    }

    let queries: Vec<Value> = objects(g("queries"))
        .iter()
        .map(|q| text(q.get("query").unwrap_or(&null)).trim().to_owned())
        .filter(|q| !q.is_empty())
        .map(|q| query_json(&q))
        .collect();
    let queries = if queries.is_empty() { Value::Null } else { Value::Array(queries) };
    let color_objects = || view_colors(&colors);
    let hex_colors = || -> Value { colors.iter().map(|c| json!(text(c.get("hex").unwrap_or(&null)))).collect() };
    let axes_map = || -> Value {
        let mut m = Map::new();
        for a in &axes {
            let f = |k: &str| a.get(k).unwrap_or(&null);
            m.insert(
                text(f("name")).trim().to_owned(),
                json!({ "bounds": [], "label": text(f("label")), "prefix": text(f("prefix")), "suffix": text(f("suffix")), "base": text(f("base")), "scale": text(f("scale")) }),
            );
        }
        Value::Object(m)
    };
    let decimal = json!({ "isEnforced": c.contains_key("decimalPlaces"), "digits": int(g("decimalPlaces")) });
    let strs = |k: &str| -> Value { if g(k).is_array() { json!(texts(g(k))) } else { Value::Null } };
    let legend = || -> Value {
        let mut m = Map::new();
        if let Some(sl) = g("staticLegend").as_object() {
            for (k, v) in sl {
                if !v.is_null() {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(m)
    };
    let mut p = Map::new();
    let mut set = |k: &str, v: Value| {
        p.insert(k.to_owned(), v);
    };
    set("shape", json!("chronograf-v2"));
    set("type", json!(view));
    set("queries", queries);
    set("note", json!(text(g("note"))));
    set("showNoteWhenEmpty", json!(boolean(g("noteOnEmpty"))));
    let ticks = |set: &mut dyn FnMut(&str, Value), axis: &str| {
        set(
            &format!("generate{}AxisTicks", axis.to_uppercase()),
            strs(&format!("generate{}AxisTicks", axis.to_uppercase())),
        );
        set(&format!("{axis}TotalTicks"), json!(int(g(&format!("{axis}TotalTicks")))));
        set(&format!("{axis}TickStart"), json!(float(g(&format!("{axis}TickStart")))));
        set(&format!("{axis}TickStep"), json!(float(g(&format!("{axis}TickStep")))));
    };
    let legend_flat = |set: &mut dyn FnMut(&str, Value)| {
        set("legendColorizeRows", json!(boolean(g("legendColorizeRows"))));
        set("legendHide", json!(boolean(g("legendHide"))));
        set("legendOpacity", json!(float(g("legendOpacity"))));
        set("legendOrientationThreshold", json!(int(g("legendOrientationThreshold"))));
    };
    let flat_axes = |set: &mut dyn FnMut(&str, Value)| {
        for name in ["x", "y"] {
            if let Some(a) = axis(name) {
                let f = |k: &str| a.get(k).unwrap_or(&null);
                let domain: Vec<f64> =
                    f("domain").as_array().map(|d| d.iter().map(float).collect()).unwrap_or_default();
                if !domain.is_empty() {
                    set(&format!("{name}Domain"), json!(domain));
                }
                set(&format!("{name}AxisLabel"), json!(text(f("label"))));
                set(&format!("{name}Prefix"), json!(text(f("prefix"))));
                set(&format!("{name}Suffix"), json!(text(f("suffix"))));
            }
        }
    };
    match *view {
        "xy" | "band" | "line-plus-single-stat" => {
            set("axes", axes_map());
            set("staticLegend", legend());
            set("colors", color_objects());
            set("xColumn", json!(text(g("xCol"))));
            set("yColumn", json!(text(g("yCol"))));
            ticks(&mut set, "x");
            ticks(&mut set, "y");
            set("hoverDimension", json!(text(g("hoverDimension"))));
            legend_flat(&mut set);
            match *view {
                "xy" => {
                    set("geom", json!(geom));
                    set("shadeBelow", json!(boolean(g("shade"))));
                    set("position", json!(position));
                    set("timeFormat", json!(text(g("timeFormat"))));
                }
                "band" => {
                    set("geom", json!(geom));
                    set("timeFormat", json!(text(g("timeFormat"))));
                    set("upperColumn", json!(text(g("upperColumn"))));
                    set("mainColumn", json!(text(g("mainColumn"))));
                    set("lowerColumn", json!(text(g("lowerColumn"))));
                }
                _ => {
                    set("prefix", json!(text(g("prefix"))));
                    set("suffix", json!(text(g("suffix"))));
                    set("decimalPlaces", decimal);
                    set("shadeBelow", json!(boolean(g("shade"))));
                    set("position", json!(position));
                    set("timeFormat", json!(""));
                }
            }
        }
        "single-stat" | "gauge" => {
            set("prefix", json!(text(g("prefix"))));
            set("tickPrefix", json!(text(g("tickPrefix"))));
            set("suffix", json!(text(g("suffix"))));
            set("tickSuffix", json!(text(g("tickSuffix"))));
            set("colors", color_objects());
            set("decimalPlaces", decimal);
        }
        "table" => {
            let to = g("tableOptions");
            let f = |k: &str| to.get(k).unwrap_or(&null);
            set("colors", color_objects());
            set(
                "tableOptions",
                json!({
                    "verticalTimeAxis": boolean(f("verticalTimeAxis")),
                    "sortBy": { "internalName": text(f("sortBy")), "displayName": "", "visible": false },
                    "wrapping": text(f("wrapping")),
                    "fixFirstColumn": boolean(f("fixFirstColumn")),
                }),
            );
            let fields: Vec<Value> = objects(g("fieldOptions"))
                .iter()
                .map(|o| {
                    let f = |k: &str| o.get(k).unwrap_or(&null);
                    json!({ "internalName": text(f("fieldName")), "displayName": text(f("displayName")), "visible": boolean(f("visible")) })
                })
                .collect();
            set("fieldOptions", json!(fields));
            set("timeFormat", json!(text(g("timeFormat"))));
            set("decimalPlaces", decimal);
        }
        "histogram" => {
            set("colors", color_objects());
            set("xColumn", json!(text(g("xCol"))));
            set("fillColumns", strs("fillColumns"));
            if let Some(a) = axis("x") {
                let domain: Vec<f64> = a
                    .get("domain")
                    .and_then(Value::as_array)
                    .map(|d| d.iter().map(float).collect())
                    .unwrap_or_default();
                if !domain.is_empty() {
                    set("xDomain", json!(domain));
                }
                set("xAxisLabel", json!(text(a.get("label").unwrap_or(&null))));
            }
            set("position", json!(position));
            set("binCount", json!(int(g("binCount"))));
            legend_flat(&mut set);
        }
        "heatmap" | "scatter" | "mosaic" => {
            set("colors", hex_colors());
            set("xColumn", json!(text(g("xCol"))));
            ticks(&mut set, "x");
            match *view {
                "heatmap" => {
                    set("binSize", json!(int(g("binSize"))));
                    set("yColumn", json!(text(g("yCol"))));
                    ticks(&mut set, "y");
                }
                "scatter" => {
                    set("fillColumns", strs("fillColumns"));
                    set("symbolColumns", strs("symbolColumns"));
                    set("yColumn", json!(text(g("yCol"))));
                    ticks(&mut set, "y");
                }
                _ => {
                    set("fillColumns", strs("fillColumns"));
                    set("yLabelColumnSeparator", json!(text(g("yLabelColumnSeparator"))));
                    set("yLabelColumns", strs("yLabelColumns"));
                    set("ySeriesColumns", strs("ySeriesColumns"));
                    set("hoverDimension", json!(text(g("hoverDimension"))));
                }
            }
            flat_axes(&mut set);
            set("timeFormat", json!(text(g("timeFormat"))));
            legend_flat(&mut set);
        }
        _ => {
            // geo
            set("center", json!({ "lat": float(g("lat")), "lon": float(g("lon")) }));
            set("zoom", json!(float(g("zoom"))));
            set("mapStyle", json!(text(g("mapStyle"))));
            set("allowPanAndZoom", json!(boolean(g("allowPanAndZoom"))));
            set("detectCoordinateFields", json!(boolean(g("detectCoordinateFields"))));
            set("colors", color_objects());
            let layers: Vec<Value> = objects(g("geoLayers")).iter().map(|l| geo_layer(l)).collect();
            set("layers", if layers.is_empty() { Value::Null } else { json!(layers) });
        }
    }
    Ok(cell(Value::Object(p)))
}

/// A chart's colours as a view holds them (`null` for none).
fn view_colors(colors: &[&Map<String, Value>]) -> Value {
    if colors.is_empty() {
        return Value::Null;
    }
    let null = Value::Null;
    colors
        .iter()
        .map(|c| {
            let f = |k: &str| c.get(k).unwrap_or(&null);
            json!({ "id": text(f("id")), "type": text(f("type")), "hex": text(f("hex")), "name": text(f("name")), "value": float(f("value")) })
        })
        .collect()
}

fn geo_layer(l: &Map<String, Value>) -> Value {
    let null = Value::Null;
    let f = |k: &str| l.get(k).unwrap_or(&null);
    let dim = |k: &str| {
        let a = f(k);
        let g = |n: &str| text(a.get(n).unwrap_or(&null));
        json!({ "bounds": null, "label": g("label"), "prefix": g("prefix"), "suffix": g("suffix"), "base": g("base"), "scale": g("scale") })
    };
    let colors = view_colors(&objects(f("viewColors")));
    json!({
        "type": text(f("layerType")),
        "radiusField": text(f("radiusField")),
        "colorField": text(f("colorField")),
        "intensityField": text(f("intensityField")),
        "colors": colors,
        "radius": int(f("radius")),
        "blur": int(f("blur")),
        "radiusDimension": dim("radiusDimension"),
        "colorDimension": dim("colorDimension"),
        "intensityDimension": dim("intensityDimension"),
        "interpolateColors": boolean(f("interpolateColors")),
        "trackWidth": int(f("trackWidth")),
        "speed": int(f("speed")),
        "randomColors": boolean(f("randomColors")),
        "isClustered": boolean(f("isClustered")),
    })
}

/// A stored cell and its view's properties as a template chart, with only
/// the fields that are set (as 2.7 exports them). `None`: a view type
/// charts cannot hold.
pub(crate) fn export(x: i64, y: i64, w: i64, h: i64, name: &str, p: &Value) -> Option<Value> {
    let view = p["type"].as_str().unwrap_or_default();
    let kind = chart_kind(view)?;
    let mut c = Map::new();
    c.insert("kind".into(), json!(kind));
    c.insert("name".into(), json!(name));
    c.insert("width".into(), json!(w));
    c.insert("height".into(), json!(h));
    if x != 0 {
        c.insert("xPos".into(), json!(x));
    }
    if y != 0 {
        c.insert("yPos".into(), json!(y));
    }
    let put = |c: &mut Map<String, Value>, k: &str, v: &Value| {
        let set = match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        };
        if set {
            c.insert(k.to_owned(), v.clone());
        }
    };
    let queries: Vec<Value> = p["queries"]
        .as_array()
        .map(|qs| qs.iter().map(|q| json!({ "query": q["text"].as_str().unwrap_or_default() })).collect())
        .unwrap_or_default();
    put(&mut c, "queries", &json!(queries));
    let colors: Vec<Value> = p["colors"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|col| match col {
                    Value::String(hex) => json!({ "hex": hex }),
                    other => {
                        let mut o = Map::new();
                        for k in ["id", "name", "type", "hex", "value"] {
                            if !other[k].is_null() {
                                o.insert(k.into(), other[k].clone());
                            }
                        }
                        Value::Object(o)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    put(&mut c, "colors", &json!(colors));
    let mut axes: Vec<Value> = Vec::new();
    if let Some(m) = p["axes"].as_object() {
        for (name, a) in m {
            let mut o = Map::new();
            o.insert("name".into(), json!(name));
            for k in ["base", "label", "prefix", "scale", "suffix"] {
                if a[k].as_str().is_some_and(|s| !s.is_empty()) {
                    o.insert(k.into(), a[k].clone());
                }
            }
            axes.push(Value::Object(o));
        }
    } else {
        for name in ["x", "y"] {
            let label = &p[format!("{name}AxisLabel")];
            let domain = &p[format!("{name}Domain")];
            if !label.is_null() || !domain.is_null() {
                let mut o = Map::new();
                o.insert("name".into(), json!(name));
                for (k, v) in [
                    ("label", label),
                    ("prefix", &p[format!("{name}Prefix")]),
                    ("suffix", &p[format!("{name}Suffix")]),
                    ("domain", domain),
                ] {
                    if !v.is_null() && v != "" {
                        o.insert(k.into(), v.clone());
                    }
                }
                axes.push(Value::Object(o));
            }
        }
    }
    put(&mut c, "axes", &json!(axes));
    if p["decimalPlaces"]["isEnforced"].as_bool() == Some(true) {
        c.insert("decimalPlaces".into(), p["decimalPlaces"]["digits"].clone());
    }
    let renames = [
        ("note", "note"),
        ("showNoteWhenEmpty", "noteOnEmpty"),
        ("prefix", "prefix"),
        ("suffix", "suffix"),
        ("tickPrefix", "tickPrefix"),
        ("tickSuffix", "tickSuffix"),
        ("timeFormat", "timeFormat"),
        ("shadeBelow", "shade"),
        ("hoverDimension", "hoverDimension"),
        ("geom", "geom"),
        ("xColumn", "xCol"),
        ("yColumn", "yCol"),
        ("position", "position"),
        ("generateXAxisTicks", "generateXAxisTicks"),
        ("xTotalTicks", "xTotalTicks"),
        ("xTickStart", "xTickStart"),
        ("xTickStep", "xTickStep"),
        ("generateYAxisTicks", "generateYAxisTicks"),
        ("yTotalTicks", "yTotalTicks"),
        ("yTickStart", "yTickStart"),
        ("yTickStep", "yTickStep"),
        ("binCount", "binCount"),
        ("binSize", "binSize"),
        ("fillColumns", "fillColumns"),
        ("legendColorizeRows", "legendColorizeRows"),
        ("legendHide", "legendHide"),
        ("legendOpacity", "legendOpacity"),
        ("legendOrientationThreshold", "legendOrientationThreshold"),
        ("upperColumn", "upperColumn"),
        ("mainColumn", "mainColumn"),
        ("lowerColumn", "lowerColumn"),
        ("yLabelColumns", "yLabelColumns"),
        ("yLabelColumnSeparator", "yLabelColumnSeparator"),
        ("ySeriesColumns", "ySeriesColumns"),
        ("zoom", "zoom"),
        ("mapStyle", "mapStyle"),
        ("allowPanAndZoom", "allowPanAndZoom"),
        ("detectCoordinateFields", "detectCoordinateFields"),
    ];
    for (from, to) in renames {
        put(&mut c, to, &p[from]);
    }
    if view == "geo" {
        put(&mut c, "lat", &p["center"]["lat"]);
        put(&mut c, "lon", &p["center"]["lon"]);
        let layers: Vec<Value> = p["layers"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        let mut o = l.as_object().cloned().unwrap_or_default();
                        if let Some(t) = o.remove("type") {
                            o.insert("layerType".into(), t);
                        }
                        if let Some(cs) = o.remove("colors") {
                            o.insert("viewColors".into(), cs);
                        }
                        Value::Object(o)
                    })
                    .collect()
            })
            .unwrap_or_default();
        put(&mut c, "geoLayers", &json!(layers));
    }
    if view == "table" {
        let to = &p["tableOptions"];
        let mut o = Map::new();
        for (k, v) in [
            ("verticalTimeAxis", to["verticalTimeAxis"].clone()),
            ("sortBy", to["sortBy"]["internalName"].clone()),
            ("wrapping", to["wrapping"].clone()),
            ("fixFirstColumn", to["fixFirstColumn"].clone()),
        ] {
            if !v.is_null() && v != "" && v != false {
                o.insert(k.into(), v);
            }
        }
        put(&mut c, "tableOptions", &Value::Object(o));
        let fields: Vec<Value> = p["fieldOptions"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| json!({ "fieldName": f["internalName"], "displayName": f["displayName"], "visible": f["visible"] }))
                    .collect()
            })
            .unwrap_or_default();
        put(&mut c, "fieldOptions", &json!(fields));
    }
    if let Some(sl) = p["staticLegend"].as_object() {
        c.insert("staticLegend".into(), Value::Object(sl.clone()));
    }
    Some(Value::Object(c))
}
