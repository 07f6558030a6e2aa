//! A small JSON-schema validator for the subset the official Cloudron OpenAPI files use:
//! `$ref` (relative file references), `type` (one or several, with `null`), `nullable`,
//! `enum`, `required`, `properties`, `additionalProperties`, `items`, `allOf`, `anyOf`,
//! `oneOf`, `not`, `minimum`, `maximum`. Annotations (`description`, `example`, `format`)
//! are ignored, as a validator must.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One mismatch: where in the instance, and what.
#[derive(Debug, Clone)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// The spec files, loaded on demand.
pub struct Spec {
    pub root: PathBuf,
    cache: RefCell<HashMap<PathBuf, Value>>,
}

/// What the spec says about one response.
pub enum Lookup {
    /// Validate the body against this schema; `$ref`s resolve from `base`.
    Schema { schema: Value, base: PathBuf },
    /// The status is declared without a JSON body schema.
    NoSchema,
    /// The route exists but does not declare this status.
    NoStatus,
    /// The spec has no such method on this path.
    NoRoute,
}

impl Spec {
    pub fn new(root: PathBuf) -> Spec {
        Spec {
            root,
            cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn load(&self, path: &Path) -> Value {
        let path = normalize(path);
        if let Some(v) = self.cache.borrow().get(&path) {
            return v.clone();
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading the spec file {}: {e}", path.display()));
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("spec file {} is not JSON: {e}", path.display()));
        self.cache.borrow_mut().insert(path, v.clone());
        v
    }

    /// Follow `$ref`s at the top of `schema` (file references relative to `base`).
    fn deref(&self, schema: &Value, base: &Path) -> (Value, PathBuf) {
        let mut schema = schema.clone();
        let mut base = base.to_path_buf();
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let file = normalize(&base.join(r));
            schema = self.load(&file);
            base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        (schema, base)
    }

    /// The response schema for `METHOD template` answering `status`.
    pub fn response(&self, method: &str, template: &str, status: u16) -> Lookup {
        let root = self.load(&self.root.join("openapi.json"));
        let Some(entry) = root["paths"].get(template) else {
            return Lookup::NoRoute;
        };
        let (item, base) = self.deref(entry, &self.root);
        let Some(op) = item.get(method.to_ascii_lowercase()) else {
            return Lookup::NoRoute;
        };
        let Some(resp) = op["responses"].get(status.to_string()) else {
            return Lookup::NoStatus;
        };
        let (resp, base) = self.deref(resp, &base);
        match resp.pointer("/content/application~1json/schema") {
            Some(schema) => Lookup::Schema {
                schema: schema.clone(),
                base,
            },
            None => Lookup::NoSchema,
        }
    }

    /// Validate `inst` against `schema`; problems are appended to `out`.
    pub fn validate(
        &self,
        schema: &Value,
        base: &Path,
        inst: &Value,
        ptr: &str,
        out: &mut Vec<Problem>,
    ) {
        let (schema, base) = self.deref(schema, base);
        let fail = |out: &mut Vec<Problem>, message: String| {
            out.push(Problem {
                pointer: ptr.to_string(),
                message,
            })
        };
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let nullable = schema.get("nullable") == Some(&Value::Bool(true));
            let fits = types.iter().any(|t| type_fits(t, inst)) || (nullable && inst.is_null());
            if !types.is_empty() && !fits {
                fail(
                    out,
                    format!("expected {} but got {}", types.join("|"), kind(inst)),
                );
                return;
            }
        }
        if let Some(Value::Array(allowed)) = schema.get("enum")
            && !allowed.contains(inst)
        {
            fail(
                out,
                format!("{inst} is not one of {}", Value::Array(allowed.clone())),
            );
        }
        if let Some(n) = inst.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                fail(out, format!("{n} is below the minimum {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                fail(out, format!("{n} is above the maximum {max}"));
            }
        }
        if let Value::Object(obj) = inst {
            if let Some(Value::Array(req)) = schema.get("required") {
                for k in req.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(k) {
                        fail(out, format!("required key {k:?} is missing"));
                    }
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                let child = format!("{ptr}/{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.validate(s, &base, v, &child, out),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => out.push(Problem {
                            pointer: child,
                            message: "additional property not allowed".into(),
                        }),
                        Some(s @ Value::Object(_)) => self.validate(s, &base, v, &child, out),
                        _ => {}
                    },
                }
            }
        }
        if let (Value::Array(items), Some(s)) = (inst, schema.get("items")) {
            for (i, v) in items.iter().enumerate() {
                self.validate(s, &base, v, &format!("{ptr}/{i}"), out);
            }
        }
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for s in all {
                self.validate(s, &base, inst, ptr, out);
            }
        }
        let passing = |list: &Vec<Value>| {
            list.iter()
                .filter(|s| {
                    let mut probe = Vec::new();
                    self.validate(s, &base, inst, ptr, &mut probe);
                    probe.is_empty()
                })
                .count()
        };
        if let Some(Value::Array(any)) = schema.get("anyOf")
            && passing(any) == 0
        {
            out.push(Problem {
                pointer: ptr.to_string(),
                message: "matches none of anyOf".into(),
            });
        }
        if let Some(Value::Array(one)) = schema.get("oneOf") {
            let n = passing(one);
            if n != 1 {
                out.push(Problem {
                    pointer: ptr.to_string(),
                    message: format!("matches {n} of oneOf (exactly one expected)"),
                });
            }
        }
        if let Some(not) = schema.get("not") {
            let mut probe = Vec::new();
            self.validate(not, &base, inst, ptr, &mut probe);
            if probe.is_empty() {
                out.push(Problem {
                    pointer: ptr.to_string(),
                    message: "matches a `not` schema".into(),
                });
            }
        }
    }
}

fn type_fits(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Resolve `.` and `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, inst: Value) -> Vec<String> {
        let spec = Spec::new(PathBuf::from("/nonexistent"));
        let mut out = Vec::new();
        spec.validate(&schema, Path::new("/"), &inst, "", &mut out);
        out.into_iter()
            .map(|p| format!("{}: {}", p.pointer, p.message))
            .collect()
    }

    #[test]
    fn the_validator_catches_what_it_claims_to() {
        let s = json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "n": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string"}},
            "state": {"enum": ["a", "b"]}, "opt": {"type": ["string", "null"]}}});
        assert!(
            check(
                s.clone(),
                json!({"id": "x", "n": 2, "tags": ["a"], "state": "a", "opt": null})
            )
            .is_empty()
        );
        let got = check(s, json!({"n": 0, "tags": [1], "state": "c", "opt": 3}));
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got.contains(&": required key \"id\" is missing".to_string()));
        assert!(got.contains(&"/tags/0: expected string but got integer".to_string()));
        assert!(
            check(
                json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
                json!(1)
            )
            .len()
                == 1
        );
        assert!(
            check(
                json!({"oneOf": [{"type": "number"}, {"type": "integer"}]}),
                json!(1)
            )
            .len()
                == 1
        );
        assert!(check(json!({"type": "integer"}), json!(2.0)).is_empty());
    }
}
