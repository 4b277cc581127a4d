//! An order-preserving JSON document for rewriting people's configuration files.
//!
//! `serde_json::Value` sorts object keys (without its `preserve_order` feature, which would change
//! every JSON output of the crate), so a settings file read and written through it comes back
//! reordered. This value keeps keys in file order, duplicates included, and the document keeps the
//! file's indentation, byte-order mark and final newline, so that adding and then removing
//! prodcode's hooks gives back the file a person (or the agent, which writes two-space
//! `JSON.stringify` output) wrote.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Object),
}

/// Object members in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Object(Vec<(String, Json)>);

impl Json {
    pub(crate) fn str(value: &str) -> Json {
        Json::String(value.to_owned())
    }

    pub(crate) fn int(value: u64) -> Json {
        Json::Number(value.into())
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(crate) fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(crate) fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The JSON type's name, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl Object {
    pub(crate) fn new() -> Object {
        Object(Vec::new())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(key, _)| key.as_str())
    }

    /// The member named `key`; with duplicate keys the last one, as JavaScript reads them.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        self.0
            .iter_mut()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Every member, in order, mutably.
    pub(crate) fn members_mut(&mut self) -> impl Iterator<Item = (&str, &mut Json)> {
        self.0
            .iter_mut()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// Replaces the member in place, or appends it.
    pub(crate) fn insert(&mut self, key: &str, value: Json) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    /// The member `key`, appended with `default` first when absent.
    pub(crate) fn entry(&mut self, key: &str, default: impl FnOnce() -> Json) -> &mut Json {
        if self.get(key).is_none() {
            self.0.push((key.to_owned(), default()));
        }
        self.get_mut(key).expect("just inserted")
    }

    /// Removes every member named `key`, keeping the order of the rest.
    pub(crate) fn remove(&mut self, key: &str) {
        self.0.retain(|(name, _)| name != key);
    }
}

impl FromIterator<(String, Json)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Json)>>(iter: I) -> Object {
        Object(iter.into_iter().collect())
    }
}

/// A parsed configuration file: its top-level object and how it was laid out.
#[derive(Clone, Debug)]
pub(crate) struct Document {
    pub(crate) root: Object,
    indent: String,
    bom: bool,
    final_newline: bool,
}

/// Why a file is not a JSON object.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("not valid JSON (line {line}, column {column}: {message}){hint}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
        hint: &'static str,
    },
    #[error("the top level is {0}, not a JSON object")]
    NotAnObject(&'static str),
}

impl Document {
    /// A new, empty file in the agents' own style: two-space indent, final newline.
    pub(crate) fn empty() -> Document {
        Document {
            root: Object::new(),
            indent: "  ".to_owned(),
            bom: false,
            final_newline: true,
        }
    }

    /// Parses a file; an empty (or all-whitespace) file is an empty object.
    pub(crate) fn parse(text: &str) -> Result<Document, ParseError> {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if body.trim().is_empty() {
            return Ok(Document {
                bom,
                ..Document::empty()
            });
        }
        let value: Json = serde_json::from_str(body).map_err(|error| ParseError::Syntax {
            line: error.line(),
            column: error.column(),
            message: bare_message(&error),
            hint: if body.contains("//") || body.contains("/*") {
                " (comments are not JSON; prodcode does not rewrite files with comments, \
                 because it would lose them)"
            } else {
                ""
            },
        })?;
        let Json::Object(root) = value else {
            return Err(ParseError::NotAnObject(value.kind()));
        };
        Ok(Document {
            root,
            indent: detect_indent(body),
            bom,
            final_newline: body.ends_with('\n'),
        })
    }

    /// The document as text, in the layout it was read with.
    pub(crate) fn render(&self) -> String {
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        ObjectRef(&self.root)
            .serialize(&mut serializer)
            .expect("writing JSON to memory cannot fail");
        let mut text = String::with_capacity(bytes.len() + 2);
        if self.bom {
            text.push('\u{feff}');
        }
        text.push_str(&String::from_utf8(bytes).expect("serde_json writes UTF-8"));
        if self.final_newline {
            text.push('\n');
        }
        text
    }
}

/// serde_json's message without its " at line L column C" suffix, which we print ourselves.
fn bare_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

/// The leading whitespace of the first indented line: one level of the file's indentation.
fn detect_indent(text: &str) -> String {
    text.lines()
        .skip(1)
        .find_map(|line| {
            let content = line.trim_start_matches([' ', '\t']);
            let indent = &line[..line.len() - content.len()];
            (!indent.is_empty() && !content.is_empty()).then(|| indent.to_owned())
        })
        .unwrap_or_else(|| "  ".to_owned())
}

struct ObjectRef<'a>(&'a Object);

impl Serialize for ObjectRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.0.len()))?;
        for (key, value) in &self.0.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(value) => serializer.serialize_bool(*value),
            Json::Number(number) => number.serialize(serializer),
            Json::String(text) => serializer.serialize_str(text),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(object) => ObjectRef(object).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(value)
            .map(Json::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json, E> {
        Ok(Json::str(value))
    }

    fn visit_string<E>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            members.push((key, value));
        }
        Ok(Json::Object(Object(members)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_key_order_duplicates_and_layout() {
        let text = "{\n    \"z\": 1,\n    \"a\": [\n        true,\n        null\n    ],\n    \"z\": \"é\"\n}";
        let document = Document::parse(text).unwrap();
        assert_eq!(document.render(), text);
        assert_eq!(document.root.get("z"), Some(&Json::str("é")));
    }

    #[test]
    fn tabs_bom_and_final_newline_are_kept() {
        let text = "\u{feff}{\n\t\"a\": {\n\t\t\"b\": 1.5\n\t}\n}\n";
        assert_eq!(Document::parse(text).unwrap().render(), text);
    }

    #[test]
    fn an_empty_file_is_an_empty_object() {
        let document = Document::parse(" \n").unwrap();
        assert!(document.root.is_empty());
        assert_eq!(document.render(), "{}\n");
    }

    #[test]
    fn errors_say_where_and_mention_comments() {
        let error = Document::parse("{\n  // mine\n  \"a\": 1\n}").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("comments"), "{message}");
        let error = Document::parse("[1]").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the top level is an array, not a JSON object"
        );
    }
}
