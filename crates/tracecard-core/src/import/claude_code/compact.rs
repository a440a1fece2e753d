//! A compact JSON value for Claude Code records, parsed one line at a time.
//!
//! `serde_json::Value` spends a B-tree node (hundreds of bytes) and one `String`
//! per key on every object; a 100k-step transcript held that way took 7× its size.
//! [`J`] keeps objects as a small vector of `(key, value)` pairs whose common keys are
//! `&'static str` (no allocation), and the record parser keeps only the fields the
//! importer reads (see [`RECORD`]): everything else is skipped unparsed
//! (`IgnoredAny`). Lookups are linear scans of a handful of pairs and return the
//! last duplicate, as `Value` does. [`J::to_value`] rebuilds a `serde_json::Value`
//! (sorted keys) where the exact JSON text matters (tool arguments, placeholders).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value; variants named as `serde_json::Value`'s so the importer reads alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum J {
    /// `null` (also: a pruned value that is never read).
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<J>),
    /// An object, in input order (duplicates kept; lookups take the last).
    Object(Vec<(Key, J)>),
}

/// An object key: static for the keys Claude Code writes, owned otherwise.
pub(crate) type Key = Cow<'static, str>;

impl J {
    /// The value of `key` when `self` is an object holding it (the last duplicate).
    pub(crate) fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, when this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            J::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            J::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as `f64`, when this is one.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            J::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub(crate) fn is_object(&self) -> bool {
        matches!(self, J::Object(_))
    }

    /// Whether this is `null`.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, J::Null)
    }

    /// The same value as a `serde_json::Value` (object keys sorted, the last
    /// duplicate winning): what the importer rendered before, byte for byte.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.clone()),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::Array(a.iter().map(J::to_value).collect()),
            J::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    out.insert(k.to_string(), v.to_value());
                }
                Value::Object(out)
            }
        }
    }
}

impl fmt::Display for J {
    /// Compact JSON, as `serde_json::Value`'s `Display` (object keys sorted, the
    /// last duplicate winning), written straight from the pairs: no `Value` built.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            J::String(s) => write_json_str(f, s),
            J::Null => f.write_str("null"),
            J::Bool(b) => write!(f, "{b}"),
            J::Number(n) => write!(f, "{n}"),
            J::Array(a) => {
                f.write_str("[")?;
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    fmt::Display::fmt(x, f)?;
                }
                f.write_str("]")
            }
            J::Object(m) => {
                let mut pairs: Vec<(&str, &J)> = m.iter().map(|(k, v)| (k.as_ref(), v)).collect();
                // stable: duplicates keep their input order, and the last one is kept
                pairs.sort_by(|a, b| a.0.cmp(b.0));
                f.write_str("{")?;
                let mut first = true;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if pairs.get(i + 1).is_some_and(|next| next.0 == *k) {
                        continue;
                    }
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    write_json_str(f, k)?;
                    f.write_str(":")?;
                    fmt::Display::fmt(*v, f)?;
                }
                f.write_str("}")
            }
        }
    }
}

impl J {
    /// How many characters `self.to_string()` has, without rendering it (the
    /// cost-only path needs only the size of a tool call's arguments).
    pub(crate) fn rendered_chars(&self) -> usize {
        match self {
            J::Null => 4,
            J::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
            J::Number(n) => n.to_string().len(),
            J::String(s) => string_chars(s),
            J::Array(a) => {
                2 + a.len().saturating_sub(1) + a.iter().map(J::rendered_chars).sum::<usize>()
            }
            J::Object(m) => {
                // the last of duplicate keys is rendered, once
                let mut n = 2;
                let mut kept = 0usize;
                for (i, (k, v)) in m.iter().enumerate() {
                    if m[i + 1..].iter().any(|(later, _)| later == k) {
                        continue;
                    }
                    kept += 1;
                    n += string_chars(k) + 1 + v.rendered_chars();
                }
                n + kept.saturating_sub(1)
            }
        }
    }
}

/// Characters of `s` rendered as a JSON string by [`write_json_str`].
fn string_chars(s: &str) -> usize {
    let extra: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    2 + s.chars().count() + extra
}

/// Write `s` as a JSON string the way serde_json does: `"` and `\\` escaped,
/// `\b \f \n \r \t` for those controls, `\u00xx` for the other ones below 0x20,
/// everything else as it is (runs between escapes are written as slices).
fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    f.write_str("\"")?;
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `start` and `i` sit next to ASCII bytes: always char boundaries
        f.write_str(s.get(start..i).ok_or(fmt::Error)?)?;
        if esc.is_empty() {
            let u = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ];
            f.write_str(std::str::from_utf8(&u).map_err(|_| fmt::Error)?)?;
        } else {
            f.write_str(esc)?;
        }
        start = i + 1;
    }
    f.write_str(s.get(start..).ok_or(fmt::Error)?)?;
    f.write_str("\"")
}

/// Keys Claude Code writes often enough to be worth not allocating (the common
/// content keys and every [`RECORD`] field): a `match`, which compiles to a switch
/// on the length, where a list scan compared the key with every entry.
fn static_key(k: &str) -> Option<&'static str> {
    Some(match k {
        "type" => "type",
        "text" => "text",
        "thinking" => "thinking",
        "signature" => "signature",
        "name" => "name",
        "id" => "id",
        "input" => "input",
        "tool_use_id" => "tool_use_id",
        "content" => "content",
        "is_error" => "is_error",
        "model" => "model",
        "usage" => "usage",
        "stop_reason" => "stop_reason",
        "input_tokens" => "input_tokens",
        "output_tokens" => "output_tokens",
        "cache_read_input_tokens" => "cache_read_input_tokens",
        "cache_creation_input_tokens" => "cache_creation_input_tokens",
        "cache_creation" => "cache_creation",
        "ephemeral_5m_input_tokens" => "ephemeral_5m_input_tokens",
        "ephemeral_1h_input_tokens" => "ephemeral_1h_input_tokens",
        "service_tier" => "service_tier",
        "server_tool_use" => "server_tool_use",
        "web_search_requests" => "web_search_requests",
        "web_fetch_requests" => "web_fetch_requests",
        "inference_geo" => "inference_geo",
        "iterations" => "iterations",
        "speed" => "speed",
        "file_path" => "file_path",
        "command" => "command",
        "description" => "description",
        "pattern" => "pattern",
        "path" => "path",
        "old_string" => "old_string",
        "new_string" => "new_string",
        "replace_all" => "replace_all",
        "prompt" => "prompt",
        "subagent_type" => "subagent_type",
        "timeout" => "timeout",
        "limit" => "limit",
        "offset" => "offset",
        "todos" => "todos",
        "status" => "status",
        "activeForm" => "activeForm",
        "source" => "source",
        "media_type" => "media_type",
        "data" => "data",
        "kind" => "kind",
        "trigger" => "trigger",
        "preTokens" => "preTokens",
        "decision" => "decision",
        "reasonType" => "reasonType",
        "reasonCode" => "reasonCode",
        "agentId" => "agentId",
        "message" => "message",
        "uuid" => "uuid",
        "timestamp" => "timestamp",
        "toolUseResult" => "toolUseResult",
        "subtype" => "subtype",
        "parentUuid" => "parentUuid",
        "isSidechain" => "isSidechain",
        "cwd" => "cwd",
        "version" => "version",
        "gitBranch" => "gitBranch",
        "sessionId" => "sessionId",
        "summary" => "summary",
        "totalCostUSD" => "totalCostUSD",
        "requestId" => "requestId",
        "isApiErrorMessage" => "isApiErrorMessage",
        "origin" => "origin",
        "isMeta" => "isMeta",
        "isCompactSummary" => "isCompactSummary",
        "compactMetadata" => "compactMetadata",
        "toolDenialKind" => "toolDenialKind",
        "permissionDecision" => "permissionDecision",
        "parentToolUseID" => "parentToolUseID",
        _ => return None,
    })
}

/// An object key: static when [`static_key`] knows it, owned otherwise.
fn key(k: &str) -> Key {
    match static_key(k) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(k.to_owned()),
    }
}

/// A set of object fields to keep: the list, and a `match` over it (compiled to a
/// switch on the length; a list scan compared every key of every record with
/// every entry).
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// The field names.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests check `find` against it")
    )]
    pub(crate) list: &'static [&'static str],
    /// The static name of a field in [`Fields::list`].
    find: fn(&str) -> Option<&'static str>,
}

/// No fields.
const NO_FIELDS: Fields = Fields {
    list: &[],
    find: |_| None,
};

macro_rules! fields {
    ($($(#[$doc:meta])* $vis:vis $name:ident = [$($k:literal),* $(,)?])*) => {$(
        $(#[$doc])*
        $vis const $name: Fields = Fields {
            list: &[$($k),*],
            find: |k| match k {
                $($k => Some($k),)*
                _ => None,
            },
        };
    )*};
}

fields! {
    /// Top-level record fields the importer reads (`message`, `data` and
    /// `toolUseResult` are pruned further).
    pub(crate) RECORD = [
        "message",
        "toolUseResult",
        "data",
        "type",
        "subtype",
        "uuid",
        "parentUuid",
        "isSidechain",
        "timestamp",
        "cwd",
        "version",
        "gitBranch",
        "sessionId",
        "summary",
        "totalCostUSD",
        "requestId",
        "isApiErrorMessage",
        "origin",
        "isMeta",
        "isCompactSummary",
        "compactMetadata",
        "toolDenialKind",
        "permissionDecision",
        "parentToolUseID",
    ]
    /// Fields of `message` the importer reads.
    MESSAGE = ["model", "id", "content", "usage", "stop_reason"]
    /// Fields of a `usage` object the importer reads.
    USAGE = [
        "input_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "output_tokens",
        "cache_creation",
    ]
    /// Fields of `usage.cache_creation` the importer reads.
    CACHE_CREATION = ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"]
    /// Fields of `toolUseResult` the importer reads.
    TOOL_USE_RESULT = ["agentId", "isAsync", "status", "backgroundTaskId", "usage"]
    /// Fields of `progress.data` the importer reads.
    PROGRESS_DATA = ["type", "agentId", "message"]
}

/// Parse one line: a record object pruned to what the importer reads; any other
/// JSON value is kept whole (the importer reports it).
pub(crate) fn parse_record(line: &str) -> serde_json::Result<J> {
    parse(line, false)
}

/// Parse one line for the stream split: a record object pruned to [`HEAD`] (the
/// other fields the importer reads are checked as [`parse_record`] checks them,
/// so a bad line fails here, but not kept); any other JSON value is kept whole.
pub(crate) fn parse_head(line: &str) -> serde_json::Result<J> {
    parse(line, true)
}

fn parse(line: &str, head: bool) -> serde_json::Result<J> {
    let mut de = serde_json::Deserializer::from_str(line);
    let v = if line.trim_start().starts_with('{') {
        Pick(Some(RECORD), true, Some(Nested::Record), head).deserialize(&mut de)?
    } else {
        Whole.deserialize(&mut de)?
    };
    de.end()?;
    Ok(v)
}

/// The head of a record parsed whole: what [`parse_head`] gives for the same line
/// (the [`HEAD`] fields of the record and of a `data.message` record in it).
pub(crate) fn head_of(rec: &J) -> J {
    match rec {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(k, _)| HEAD.contains(&k.as_ref()))
                .map(|(k, v)| {
                    let v = match (k.as_ref(), v) {
                        ("data", J::Object(d)) => J::Object(
                            d.iter()
                                .map(|(dk, dv)| {
                                    let dv = if dk == "message" {
                                        head_of(dv)
                                    } else {
                                        dv.clone()
                                    };
                                    (dk.clone(), dv)
                                })
                                .collect(),
                        ),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Top-level record fields the stream split reads ([`parse_head`]).
const HEAD: &[&str] = &[
    "type",
    "uuid",
    "parentUuid",
    "isSidechain",
    "timestamp",
    "toolUseResult",
    "data",
    "parentToolUseID",
];

/// Checks a value as [`Whole`] parses it (same errors, same depth limit) and
/// keeps nothing.
#[derive(Clone, Copy)]
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while m.next_key_seed(KeySeed(Some(NO_FIELDS)))?.is_some() {
            m.next_value_seed(Check)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        while s.next_element_seed(Check)?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// What to do with the kept fields of a pruned object.
#[derive(Clone, Copy)]
enum Nested {
    /// A top-level record: `message`, `toolUseResult` and `data` pruned again.
    Record,
    /// `progress.data`: its `message` is a record.
    Data,
    /// `message`: its `usage` pruned.
    Message,
    /// `usage` (of a message or a Task result): `cache_creation` pruned.
    Usage,
}

/// An object key, `None` when it is not among the `.0` kept ones (no allocation
/// for skipped and common keys).
#[derive(Clone, Copy)]
struct KeySeed(Option<Fields>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<Key>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Key>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<Key>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, k: &str) -> Result<Option<Key>, E> {
        Ok(match self.0 {
            Some(keep) => (keep.find)(k).map(Cow::Borrowed),
            None => Some(key(k)),
        })
    }
}

/// Parse any value whole.
#[derive(Clone, Copy)]
struct Whole;

impl<'de> DeserializeSeed<'de> for Whole {
    type Value = J;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        d.deserialize_any(Pick(None, true, None, false))
    }
}

/// An object reduced to the `.0` fields (all when `None`). Any other JSON value is
/// kept as it is when `.1` (so a wrong type is still reported), else it becomes
/// `null` (read only when it is an object). `.2`: how kept fields are pruned.
/// `.3`: head mode ([`parse_head`]): records keep only their [`HEAD`] fields.
#[derive(Clone, Copy)]
struct Pick(Option<Fields>, bool, Option<Nested>, bool);

impl<'de> DeserializeSeed<'de> for Pick {
    type Value = J;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pick {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<J, A::Error> {
        let mut out: Vec<(Key, J)> = Vec::new();
        while let Some(k) = m.next_key_seed(KeySeed(self.0))? {
            let Some(k) = k else {
                m.next_value::<IgnoredAny>()?;
                continue;
            };
            let head = self.3;
            if head && matches!(self.2, Some(Nested::Record)) && !HEAD.contains(&k.as_ref()) {
                m.next_value_seed(Check)?;
                continue;
            }
            let v = match (self.2, k.as_ref()) {
                (Some(Nested::Record), "message") => {
                    m.next_value_seed(Pick(Some(MESSAGE), true, Some(Nested::Message), head))?
                }
                (Some(Nested::Record), "toolUseResult") => m.next_value_seed(Pick(
                    Some(TOOL_USE_RESULT),
                    false,
                    Some(Nested::Message),
                    head,
                ))?,
                (Some(Nested::Message), "usage") => {
                    m.next_value_seed(Pick(Some(USAGE), true, Some(Nested::Usage), head))?
                }
                (Some(Nested::Usage), "cache_creation") => {
                    m.next_value_seed(Pick(Some(CACHE_CREATION), true, None, head))?
                }
                (Some(Nested::Record), "data") => {
                    m.next_value_seed(Pick(Some(PROGRESS_DATA), false, Some(Nested::Data), head))?
                }
                (Some(Nested::Data), "message") => {
                    m.next_value_seed(Pick(Some(RECORD), false, Some(Nested::Record), head))?
                }
                _ => m.next_value_seed(Whole)?,
            };
            out.push((k, v));
        }
        // most objects are kept whole for the life of the import: no spare capacity
        out.shrink_to_fit();
        Ok(J::Object(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<J, A::Error> {
        if self.1 {
            let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(64));
            while let Some(v) = s.next_element_seed(Whole)? {
                out.push(v);
            }
            out.shrink_to_fit();
            return Ok(J::Array(out));
        }
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(J::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<J, E> {
        Ok(if self.1 { J::Bool(b) } else { J::Null })
    }
    fn visit_i64<E>(self, n: i64) -> Result<J, E> {
        Ok(if self.1 { J::Number(n.into()) } else { J::Null })
    }
    fn visit_u64<E>(self, n: u64) -> Result<J, E> {
        Ok(if self.1 { J::Number(n.into()) } else { J::Null })
    }
    fn visit_f64<E>(self, n: f64) -> Result<J, E> {
        Ok(match Number::from_f64(n) {
            Some(n) if self.1 => J::Number(n),
            _ => J::Null,
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<J, E> {
        Ok(if self.1 {
            J::String(v.to_owned())
        } else {
            J::Null
        })
    }
    fn visit_string<E>(self, v: String) -> Result<J, E> {
        Ok(if self.1 { J::String(v) } else { J::Null })
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the real Claude Code fixtures (CI must have them).
    fn fixture_lines() -> Vec<String> {
        let Some(root) = super::super::fixtures_dir() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "jsonl") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.extend(
                        text.lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(String::from),
                    );
                }
            }
        }
        out
    }

    #[test]
    fn the_head_of_a_whole_record_is_the_head_parse() {
        let mut lines = fixture_lines();
        let real = lines.len();
        lines.extend(
            [
                r#"{"type":"progress","uuid":"p1","data":{"type":"agent_progress","agentId":"a1","message":{"type":"assistant","uuid":"m1","message":{"model":"x","content":[{"type":"text","text":"hi"}]},"isSidechain":true},"extra":1},"parentToolUseID":"t1","message":{"content":"x"}}"#,
                r#"{"type":"user","data":"not an object","toolUseResult":"text result","uuid":1}"#,
                r#"{"type":"user","data":{"message":"not a record"},"uuid":"u","uuid":"v","timestamp":null}"#,
                r#"[1,{"type":"user"}]"#,
                r#""a string line""#,
            ]
            .map(String::from),
        );
        for line in &lines {
            let whole = parse_record(line).unwrap();
            assert_eq!(head_of(&whole), parse_head(line).unwrap(), "{line}");
            // rendering: as `serde_json::Value` renders the same text
            let mut de = serde_json::Deserializer::from_str(line);
            let all = Whole.deserialize(&mut de).unwrap();
            let want: Value = serde_json::from_str(line).unwrap();
            assert_eq!(all.to_string(), want.to_string(), "{line}");
            let mut stack = vec![&all];
            while let Some(v) = stack.pop() {
                assert_eq!(v.rendered_chars(), v.to_string().chars().count(), "{v}");
                match v {
                    J::Array(a) => stack.extend(a),
                    J::Object(m) => stack.extend(m.iter().map(|(_, x)| x)),
                    _ => {}
                }
            }
            assert_eq!(whole.to_string(), whole.to_value().to_string(), "{line}");
        }
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            assert!(real > 1000, "only {real} fixture lines");
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é𝄞\u{2028}\u{7f}\\\"end");
        for s in [all.as_str(), "", "\"", "a\u{1}b", "\u{1f}", "plain"] {
            let j = J::String(s.to_owned());
            let got = j.to_string();
            assert_eq!(got, serde_json::to_string(s).unwrap(), "{s:?}");
            assert_eq!(j.rendered_chars(), got.chars().count(), "{s:?}");
        }
    }

    #[test]
    fn every_record_field_is_a_static_key() {
        for f in [
            RECORD,
            MESSAGE,
            USAGE,
            CACHE_CREATION,
            TOOL_USE_RESULT,
            PROGRESS_DATA,
        ] {
            for k in f.list {
                assert_eq!((f.find)(k), Some(*k));
            }
        }
        for k in RECORD
            .list
            .iter()
            .chain(MESSAGE.list)
            .chain(USAGE.list)
            .chain(CACHE_CREATION.list)
        {
            assert_eq!(static_key(k), Some(*k));
        }
        assert_eq!(static_key("somethingElse"), None);
        assert!(matches!(key("somethingElse"), Cow::Owned(_)));
    }

    #[test]
    fn renders_like_serde_json_value() {
        for s in [
            r#"{"b":1,"a":[1.5,"x\n\"y",null,true,{"z":-3,"a":{}}],"b":2}"#,
            r#"[1e300, 18446744073709551615, -9223372036854775808, "é\u0000"]"#,
            r#""plain""#,
            "0.1",
            r#"{"z\"q":{"b":[{"y":1,"x":2,"y":3}],"a":"\u0001\t\u001f\u007f é 𝄞"},"é":1,"e":2,"E":3,"":null,"a b":false}"#,
        ] {
            let want: Value = serde_json::from_str(s).unwrap();
            let mut de = serde_json::Deserializer::from_str(s);
            let got = Whole.deserialize(&mut de).unwrap();
            assert_eq!(got.to_string(), want.to_string());
            assert_eq!(got.to_value(), want);
        }
    }

    #[test]
    fn records_are_pruned_and_lookups_take_the_last_duplicate() {
        let line = r#"{"type":"user","junk":{"deep":[1,2]},"toolUseResult":{"agentId":"a","stdout":"big"},"message":{"role":"user","content":"hi"},"type":"assistant"}"#;
        let r = parse_record(line).unwrap();
        assert_eq!(r.get("type").and_then(J::as_str), Some("assistant"));
        assert!(r.get("junk").is_none());
        let tur = r.get("toolUseResult").unwrap();
        assert_eq!(tur.get("agentId").and_then(J::as_str), Some("a"));
        assert!(tur.get("stdout").is_none());
        let msg = r.get("message").unwrap();
        assert!(msg.get("role").is_none());
        assert_eq!(msg.get("content").and_then(J::as_str), Some("hi"));
        // a string `toolUseResult` (an error text) is never read: null
        let r = parse_record(r#"{"type":"user","toolUseResult":"Error: x"}"#).unwrap();
        assert!(r.get("toolUseResult").unwrap().is_null());
        // not an object: kept whole for the importer to report
        assert_eq!(parse_record("[1,2]").unwrap().to_string(), "[1,2]");
        assert!(parse_record("{\"type\":").is_err());
    }

    #[test]
    fn the_head_keeps_the_split_fields_and_fails_where_the_record_fails() {
        let line = r#"{"type":"user","cwd":"/x","uuid":"u","parentUuid":null,"isSidechain":false,"timestamp":"t","message":{"content":[{"type":"text","text":"big"}]},"toolUseResult":{"agentId":"a","stdout":"s"},"data":{"type":"agent_progress","message":{"uuid":"m","message":{"content":"x"}}},"parentToolUseID":"p"}"#;
        let h = parse_head(line).unwrap();
        assert!(h.get("message").is_none() && h.get("cwd").is_none());
        for k in [
            "type",
            "uuid",
            "isSidechain",
            "timestamp",
            "parentToolUseID",
        ] {
            assert_eq!(h.get(k), parse_record(line).unwrap().get(k), "{k}");
        }
        let inner = h.get("data").and_then(|d| d.get("message")).unwrap();
        assert_eq!(inner.get("uuid").and_then(J::as_str), Some("m"));
        assert!(inner.get("message").is_none());
        // what the whole parse refuses in a kept field, the head refuses too (same
        // message): a number out of range, nesting past the depth limit
        let deep = format!(
            r#"{{"type":"user","message":{{"content":{}1{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        for bad in [
            r#"{"type":"user","message":{"content":[1e999]}}"#,
            deep.as_str(),
        ] {
            let (h, r) = (parse_head(bad), parse_record(bad));
            assert!(r.is_err());
            assert_eq!(h.unwrap_err().to_string(), r.unwrap_err().to_string());
        }
    }
}
