//! A located value tree: what TOML, YAML and JSON files are read into before validation.
//!
//! Decisions recorded here:
//! - Validation walks this tree instead of deserializing straight into structs, so that it can
//!   report every problem of a file at once, each with its line and column, and suggest the
//!   closest field name for unknown keys.
//! - TOML is read with `toml::de::DeTable` (spans), YAML with `serde-saphyr`'s `Spanned`
//!   (`strict_booleans: true`, so `yes`/`no` stay strings), and JSON is first checked with
//!   `serde_json` (JSON syntax errors, exact line and column) and then read with
//!   `serde-saphyr` for locations, since valid JSON is valid YAML 1.2 and `serde_json` keeps
//!   no positions.
//! - TOML date-times (unquoted `2024-04-01T12:00:00Z`) become [`Value::Time`] and are
//!   accepted wherever a time string is.

use super::error::Loc;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A value with its location.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) loc: Loc,
}

/// One entry of a table: key, where the key is, and the value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_loc: Loc,
    pub(crate) node: Node,
}

/// The value kinds the loaders produce.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A TOML date-time literal, as text.
    Time(String),
    /// A CSV cell: text that may be read as a number or boolean.
    Cell(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

impl Node {
    /// Describes the value for a "found …" message.
    pub(crate) fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) | Value::Cell(s) => format!("{s:?}"),
            Value::Time(s) => s.clone(),
            Value::Seq(_) => "an array".to_owned(),
            Value::Map(_) => "a table".to_owned(),
        }
    }
}

/// Maps byte offsets to line and column.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn loc(&self, offset: usize) -> Loc {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        Loc::Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

/// Parses TOML into a tree. On a syntax error, returns the location and message.
pub(crate) fn parse_toml(text: &str) -> Result<Node, (Loc, String)> {
    use toml::de::{DeTable, DeValue};
    let index = LineIndex::new(text);
    let root = DeTable::parse(text).map_err(|e| {
        let loc = e.span().map_or(Loc::Unknown, |s| index.loc(s.start));
        (loc, e.message().trim().to_owned())
    })?;

    fn conv(v: &toml::Spanned<DeValue<'_>>, index: &LineIndex<'_>) -> Node {
        let loc = index.loc(v.span().start);
        let value = match v.get_ref() {
            DeValue::String(s) => Value::Str(s.to_string()),
            DeValue::Integer(i) => {
                let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
                i64::from_str_radix(&digits, i.radix())
                    .map_or_else(|_| Value::Str(i.to_string()), Value::Int)
            }
            DeValue::Float(f) => f
                .as_str()
                .replace('_', "")
                .parse::<f64>()
                .map_or_else(|_| Value::Str(f.to_string()), Value::Float),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::Time(d.to_string()),
            DeValue::Array(a) => Value::Seq(a.iter().map(|n| conv(n, index)).collect()),
            DeValue::Table(t) => Value::Map(table(t, index)),
        };
        Node { value, loc }
    }
    fn table(t: &DeTable<'_>, index: &LineIndex<'_>) -> Vec<Entry> {
        let mut entries: Vec<Entry> = t
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                key_loc: index.loc(k.span().start),
                node: conv(v, index),
            })
            .collect();
        // Report in file order.
        entries.sort_by_key(|e| match e.key_loc {
            Loc::Pos { line, col } => (line, col),
            _ => (u32::MAX, u32::MAX),
        });
        entries
    }
    Ok(Node {
        value: Value::Map(table(root.get_ref(), &index)),
        loc: Loc::Pos { line: 1, col: 1 },
    })
}

/// Parses YAML into a tree (strict booleans: only `true`/`false` are booleans).
pub(crate) fn parse_yaml(text: &str) -> Result<Node, (Loc, String)> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let root: YNode = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let loc = e.location().map_or(Loc::Unknown, |l| pos(&l));
        (loc, e.to_string().lines().next().unwrap_or("").to_owned())
    })?;
    Ok(root.into_node())
}

/// Parses JSON into a tree: syntax checked by `serde_json`, locations from `serde-saphyr`.
pub(crate) fn parse_json(text: &str) -> Result<Node, (Loc, String)> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let loc = Loc::Pos {
            line: u32::try_from(e.line()).unwrap_or(u32::MAX),
            col: u32::try_from(e.column()).unwrap_or(u32::MAX),
        };
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        return Err((loc, msg));
    }
    parse_yaml(text)
}

/// Parses JSON held in one place, such as a CSV cell: every value gets `loc`, so no positions
/// are tracked and `serde_json` alone reads it.
pub(crate) fn parse_json_cell(text: &str, loc: Loc) -> Result<Node, String> {
    fn conv(v: serde_json::Value, loc: Loc) -> Node {
        use serde_json::Value as J;
        let value = match v {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::Int(i),
                (None, Some(f)) if n.is_f64() => Value::Float(f),
                _ => Value::Str(n.to_string()),
            },
            J::String(s) => Value::Str(s),
            J::Array(a) => Value::Seq(a.into_iter().map(|v| conv(v, loc)).collect()),
            J::Object(m) => Value::Map(
                m.into_iter()
                    .map(|(key, v)| Entry {
                        key,
                        key_loc: loc,
                        node: conv(v, loc),
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(conv(v, loc)),
        Err(e) => {
            let msg = e.to_string();
            Err(msg.split(" at line ").next().unwrap_or(&msg).to_owned())
        }
    }
}

fn pos(l: &serde_saphyr::Location) -> Loc {
    Loc::Pos {
        line: u32::try_from(l.line()).unwrap_or(u32::MAX),
        col: u32::try_from(l.column()).unwrap_or(u32::MAX),
    }
}

/// A YAML node with its span.
struct YNode(Spanned<YVal>);

enum YVal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<YNode>),
    Map(Vec<(YNode, YNode)>),
}

impl YNode {
    fn into_node(self) -> Node {
        let loc = pos(&self.0.referenced);
        let value = match self.0.value {
            YVal::Null => Value::Null,
            YVal::Bool(b) => Value::Bool(b),
            YVal::Int(i) => Value::Int(i),
            YVal::Float(f) => Value::Float(f),
            YVal::Str(s) => Value::Str(s),
            YVal::Seq(v) => Value::Seq(v.into_iter().map(Self::into_node).collect()),
            YVal::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| {
                        let key = k.into_node();
                        Entry {
                            key: match &key.value {
                                Value::Str(s) => s.clone(),
                                _ => key.describe(),
                            },
                            key_loc: key.loc,
                            node: v.into_node(),
                        }
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }
}

impl<'de> Deserialize<'de> for YNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<YVal>::deserialize(d).map(YNode)
    }
}

impl<'de> Deserialize<'de> for YVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(YVisitor)
    }
}

struct YVisitor;

impl<'de> Visitor<'de> for YVisitor {
    type Value = YVal;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<YVal, E> {
        Ok(YVal::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<YVal, E> {
        Ok(YVal::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YVal, D::Error> {
        YVal::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<YVal, E> {
        Ok(YVal::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<YVal, E> {
        Ok(YVal::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<YVal, E> {
        Ok(i64::try_from(v).map_or_else(|_| YVal::Str(v.to_string()), YVal::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<YVal, E> {
        Ok(i64::try_from(v).map_or_else(|_| YVal::Str(v.to_string()), YVal::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<YVal, E> {
        Ok(i64::try_from(v).map_or_else(|_| YVal::Str(v.to_string()), YVal::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<YVal, E> {
        Ok(YVal::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<YVal, E> {
        Ok(YVal::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<YVal, E> {
        Ok(YVal::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YVal, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<YNode>()? {
            out.push(n);
        }
        Ok(YVal::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YVal, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<YNode, YNode>()? {
            out.push((k, v));
        }
        Ok(YVal::Map(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(n: &Node) -> &[Entry] {
        match &n.value {
            Value::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn toml_locations() {
        let n =
            parse_toml("version = 1\n[defaults]\ndevice = \"X\"\nstart = 2024-04-01T12:00:00Z\n")
                .unwrap();
        let m = map(&n);
        assert_eq!(m[0].key, "version");
        let d = map(&m[1].node);
        assert_eq!(d[0].key_loc, Loc::Pos { line: 3, col: 1 });
        assert_eq!(d[0].node.loc, Loc::Pos { line: 3, col: 10 });
        assert!(matches!(&d[1].node.value, Value::Time(t) if t == "2024-04-01T12:00:00Z"));
    }

    #[test]
    fn yaml_strict_booleans_and_locations() {
        let n = parse_yaml("a: yes\nb:\n  - true\n  - 3\n").unwrap();
        let m = map(&n);
        assert!(matches!(&m[0].node.value, Value::Str(s) if s == "yes"));
        let Value::Seq(s) = &m[1].node.value else {
            panic!()
        };
        assert!(matches!(s[0].value, Value::Bool(true)));
        assert_eq!(s[1].loc, Loc::Pos { line: 4, col: 5 });
    }

    #[test]
    fn json_with_tabs_and_escapes() {
        let text =
            "{\n\t\"requests\": [\n\t\t{\"a\": \"x\\/y\\u00e9\", \"b\": 1e2, \"c\": null}\n\t]\n}";
        let n = parse_json(text).unwrap();
        let Value::Seq(s) = &map(&n)[0].node.value else {
            panic!()
        };
        let r = map(&s[0]);
        assert!(matches!(&r[0].node.value, Value::Str(s) if s == "x/yé"));
        assert!(matches!(r[1].node.value, Value::Float(f) if (f - 100.0).abs() < 1e-9));
        assert!(matches!(r[2].node.value, Value::Null));
        assert_eq!(r[0].key_loc, Loc::Pos { line: 3, col: 4 });
    }

    #[test]
    fn json_syntax_error_has_position() {
        let (loc, msg) = parse_json("{\n  \"a\": ,\n}").unwrap_err();
        assert_eq!(loc, Loc::Pos { line: 2, col: 8 });
        assert!(msg.contains("expected value"), "{msg}");
    }
}
