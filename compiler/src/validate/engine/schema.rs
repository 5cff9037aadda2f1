//! Reading a schema document into nodes, and writing them out as static
//! tables. This half of the engine needs only serde: `compiler/build.rs`
//! includes this file (and nothing else of the engine) to compile
//! `schemas/validation.json` at build time, so a keyword it does not know
//! fails the build. Evaluation is in `mod.rs`.
//!
//! The keywords read are those `schemas/validation.json` uses, no more:
//! `type`, `properties`, `required`, `items`, `additionalProperties` (a
//! schema, `true` or `false`), `anyOf`, `allOf`, `if`/`then`, `const` and
//! `enum` (of strings), `pattern`, `minLength`, `maxLength`, `minimum` and
//! `maximum` (integers), `minItems`, `maxItems`, `$ref` into `$defs`,
//! `format` (`int32`, `int64` and `date-time` are checked, other formats
//! are annotations), `x-kubernetes-int-or-string` and
//! `x-kubernetes-preserve-unknown-fields`. Annotations are read and
//! ignored: `title`, `description`, `default`, and the Kubernetes rules
//! svcc does not evaluate (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`: uniqueness of
//! list items and map keys; `x-kubernetes-validations`: CEL rules).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::PatternCache;

/// The schema as written: only the keywords svcc's schemas use. Names
/// borrow from the text where they can (they have no JSON escapes).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema<'a> {
    #[serde(rename = "$schema")]
    _dialect: Option<Cow<'a, str>>,
    #[serde(rename = "$defs", default, borrow, deserialize_with = "pairs")]
    defs: Vec<(Cow<'a, str>, RawSchema<'a>)>,
    #[serde(rename = "$ref", borrow)]
    reference: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    ty: Option<TypeSpec<'a>>,
    #[serde(default, borrow, deserialize_with = "pairs")]
    properties: Vec<(Cow<'a, str>, RawSchema<'a>)>,
    #[serde(default, borrow)]
    required: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    items: Option<Box<RawSchema<'a>>>,
    #[serde(rename = "additionalProperties", borrow)]
    additional: Option<Additional<'a>>,
    #[serde(rename = "anyOf", default, borrow)]
    any_of: Vec<RawSchema<'a>>,
    #[serde(rename = "allOf", default, borrow)]
    all_of: Vec<RawSchema<'a>>,
    #[serde(rename = "if", borrow)]
    if_: Option<Box<RawSchema<'a>>>,
    #[serde(borrow)]
    then: Option<Box<RawSchema<'a>>>,
    #[serde(rename = "const")]
    constant: Option<Value>,
    /// Strings, or integers (Gateway API's redirect status codes): a
    /// schema with another `enum` is refused.
    #[serde(rename = "enum", borrow)]
    enumeration: Option<Vec<EnumItem<'a>>>,
    #[serde(borrow)]
    pattern: Option<Cow<'a, str>>,
    #[serde(rename = "minLength")]
    min_length: Option<u32>,
    #[serde(rename = "maxLength")]
    max_length: Option<u32>,
    #[serde(rename = "minProperties")]
    min_properties: Option<u32>,
    #[serde(rename = "maxProperties")]
    max_properties: Option<u32>,
    /// Integers only: a schema with another `minimum` is refused.
    minimum: Option<i64>,
    /// Integers only, as `minimum`.
    maximum: Option<i64>,
    #[serde(rename = "minItems")]
    min_items: Option<u32>,
    #[serde(rename = "maxItems")]
    max_items: Option<u32>,
    #[serde(borrow)]
    format: Option<Cow<'a, str>>,
    #[serde(rename = "x-kubernetes-int-or-string", default)]
    int_or_string: bool,
    #[serde(rename = "x-kubernetes-preserve-unknown-fields", default)]
    preserve_unknown: bool,
    /// OpenAPI's `nullable: true` (a CRD's structural schema): `null` is
    /// allowed besides the type.
    #[serde(default)]
    nullable: bool,
    /// Annotations: they validate nothing.
    #[serde(rename = "title", borrow)]
    _title: Option<Cow<'a, str>>,
    #[serde(rename = "description", borrow)]
    _description: Option<Cow<'a, str>>,
    #[serde(rename = "default")]
    _default: Option<Value>,
    /// Rules the Kubernetes API server applies and svcc does not (see the
    /// module documentation).
    #[serde(rename = "x-kubernetes-list-type")]
    _list_type: Option<Value>,
    #[serde(rename = "x-kubernetes-list-map-keys")]
    _list_map_keys: Option<Value>,
    #[serde(rename = "x-kubernetes-map-type")]
    _map_type: Option<Value>,
    #[serde(rename = "x-kubernetes-validations")]
    _validations: Option<Value>,
}

/// A JSON object as (key, value) pairs in document order.
fn pairs<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(Cow<'a, str>, RawSchema<'a>)>, D::Error> {
    struct Pairs<'a>(std::marker::PhantomData<&'a ()>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for Pairs<'a> {
        type Value = Vec<(Cow<'a, str>, RawSchema<'a>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of schemas")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
            let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
            while let Some((k, v)) = m.next_entry::<Borrowed<'a>, RawSchema<'a>>()? {
                out.push((k.0, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(Pairs(std::marker::PhantomData))
}

/// An `enum` value: a string or an integer.
#[derive(Deserialize)]
#[serde(untagged)]
enum EnumItem<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Integer(i64),
}

/// A string that borrows from the input when it has no escapes.
#[derive(Deserialize)]
struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);

/// `"string"` or `["string", "null"]`.
enum TypeSpec<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for TypeSpec<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TypeSpec<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a type name or a list of them")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(TypeSpec::One(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(TypeSpec::One(Cow::Owned(s.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Borrowed(t)) = seq.next_element()? {
                    out.push(t);
                }
                Ok(TypeSpec::Many(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `additionalProperties`: a schema, or `true` (anything) or `false`
/// (nothing but the listed `properties`).
enum Additional<'a> {
    Bool(bool),
    Schema(Box<RawSchema<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Additional<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Additional<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a schema or a boolean")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Additional::Bool(b))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, m: M) -> Result<Self::Value, M::Error> {
                let raw = RawSchema::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(Additional::Schema(Box::new(raw)))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

pub const STRING: u8 = 1;
pub const OBJECT: u8 = 2;
pub const ARRAY: u8 = 4;
pub const INTEGER: u8 = 8;
pub const NUMBER: u8 = 16;
pub const BOOLEAN: u8 = 32;
pub const NULL: u8 = 64;

fn type_bit(name: &str) -> Result<u8, String> {
    Ok(match name {
        "string" => STRING,
        "object" => OBJECT,
        "array" => ARRAY,
        "integer" => INTEGER,
        "number" => NUMBER,
        "boolean" => BOOLEAN,
        "null" => NULL,
        other => return Err(format!("unknown type `{other}`")),
    })
}

/// The `format`s svcc checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Int32,
    Int64,
    /// RFC 3339, as `date-time` is defined in JSON Schema.
    DateTime,
}

pub type NodeId = usize;
/// Text and lists of a schema: borrowed from static tables generated at
/// build time (`Schema::to_rust`, build.rs), or owned when read at run time.
pub type Text = Cow<'static, str>;
pub type List<T> = Cow<'static, [T]>;

/// One schema object, with its keywords resolved. Public only so that the
/// tables build.rs generates can spell it.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where this node sits in the schema document, as a JSON pointer: a
    /// range of `Schema::locations`.
    pub location: (u32, u32),
    /// Allowed types as bits; 0 allows any.
    pub types: u8,
    pub int_or_string: bool,
    pub format: Option<Format>,
    /// `const`: svcc's schemas only compare strings (the kind dispatch).
    pub constant: Option<Text>,
    /// `enum` of strings; empty when absent.
    pub enumeration: List<Text>,
    /// `enum` of integers; empty when absent.
    pub int_enumeration: List<i64>,
    /// `pattern`: an index into `Schema::patterns`.
    pub pattern: Option<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// `minProperties`, `maxProperties`: how many fields an object has.
    pub min_properties: Option<u32>,
    pub max_properties: Option<u32>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub min_items: Option<u32>,
    pub max_items: Option<u32>,
    /// Sorted by name, for binary search.
    pub properties: List<(Text, NodeId)>,
    pub required: List<Text>,
    pub items: Option<NodeId>,
    pub additional: Option<NodeId>,
    /// `additionalProperties: false`.
    pub closed: bool,
    /// `x-kubernetes-preserve-unknown-fields: true`: fields beyond the
    /// listed ones are kept (patches may name them).
    pub preserve_unknown: bool,
    /// `nullable: true`: `null` passes every keyword of this node.
    pub nullable: bool,
    pub any_of: List<NodeId>,
    pub all_of: List<NodeId>,
    pub reference: Option<NodeId>,
    pub if_then: Option<(NodeId, NodeId)>,
}

impl Node {
    /// A node with no keywords: it allows anything.
    pub const EMPTY: Node = Node {
        location: (0, 0),
        types: 0,
        int_or_string: false,
        format: None,
        constant: None,
        enumeration: Cow::Borrowed(&[]),
        int_enumeration: Cow::Borrowed(&[]),
        pattern: None,
        min_length: None,
        max_length: None,
        min_properties: None,
        max_properties: None,
        minimum: None,
        maximum: None,
        min_items: None,
        max_items: None,
        properties: Cow::Borrowed(&[]),
        required: Cow::Borrowed(&[]),
        items: None,
        additional: None,
        closed: false,
        preserve_unknown: false,
        nullable: false,
        any_of: Cow::Borrowed(&[]),
        all_of: Cow::Borrowed(&[]),
        reference: None,
        if_then: None,
    };
}

/// A schema ready to validate with.
pub struct Schema {
    pub(super) nodes: List<Node>,
    pub(super) locations: Text,
    /// `$defs` entries, sorted by name.
    defs: List<(Text, NodeId)>,
    /// The distinct `pattern`s, compiled on first use (`regexes`).
    pub(super) patterns: List<Text>,
    /// Per pattern, the DFA build.rs compiled it into (serialised), if any.
    pub(super) dfas: &'static [Option<&'static [u8]>],
    pub(super) root: NodeId,
    pub(super) regexes: PatternCache,
}

struct Compiler {
    nodes: Vec<Node>,
    locations: String,
    /// `$ref` targets by definition name, and the references to patch.
    defs: BTreeMap<String, NodeId>,
    pending: Vec<(NodeId, String)>,
    patterns: Vec<String>,
}

/// `parent` extended by `key`, escaped as a JSON pointer token (`~0`, `~1`).
pub fn child_pointer(parent: &str, key: &str) -> String {
    let mut p = String::with_capacity(parent.len() + key.len() + 1);
    p.push_str(parent);
    push_segment(&mut p, key);
    p
}

/// Append a JSON pointer segment: `/` then `key` with `~` and `/` escaped.
pub fn push_segment(pointer: &mut String, key: &str) {
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

impl Compiler {
    /// Compile `raw`, which sits at `path` in the document (restored on return).
    fn compile(&mut self, mut raw: RawSchema<'_>, path: &mut String) -> Result<NodeId, String> {
        let id = self.nodes.len();
        self.nodes.push(Node::EMPTY);
        let start = self.locations.len();
        self.locations.push_str(path);
        let mut node = self.assertions(&mut raw, path)?;
        node.location = (start as u32, self.locations.len() as u32);
        if let Some(r) = raw.reference {
            let name = r.strip_prefix("#/$defs/").ok_or_else(|| format!("unsupported $ref `{r}` at {path}"))?;
            self.pending.push((id, name.to_string()));
        }
        let len = path.len();
        let sub = |c: &mut Compiler, raw: RawSchema<'_>, segments: &[&str], path: &mut String| {
            for s in segments {
                push_segment(path, s);
            }
            let r = c.compile(raw, path);
            path.truncate(len);
            r
        };
        let mut properties: Vec<(Text, NodeId)> = Vec::with_capacity(raw.properties.len());
        for (name, raw_sub) in raw.properties {
            let sub_id = sub(self, raw_sub, &["properties", &name], path)?;
            properties.push((Cow::Owned(name.into_owned()), sub_id));
        }
        properties.sort_by(|a, b| a.0.cmp(&b.0));
        node.properties = Cow::Owned(properties);
        if let Some(items) = raw.items {
            node.items = Some(sub(self, *items, &["items"], path)?);
        }
        match raw.additional {
            None | Some(Additional::Bool(true)) => {}
            Some(Additional::Bool(false)) => node.closed = true,
            Some(Additional::Schema(additional)) => {
                node.additional = Some(sub(self, *additional, &["additionalProperties"], path)?);
            }
        }
        let mut any_of = Vec::with_capacity(raw.any_of.len());
        for (i, raw_sub) in raw.any_of.into_iter().enumerate() {
            any_of.push(sub(self, raw_sub, &["anyOf", &i.to_string()], path)?);
        }
        node.any_of = Cow::Owned(any_of);
        let mut all_of = Vec::with_capacity(raw.all_of.len());
        for (i, raw_sub) in raw.all_of.into_iter().enumerate() {
            all_of.push(sub(self, raw_sub, &["allOf", &i.to_string()], path)?);
        }
        node.all_of = Cow::Owned(all_of);
        match (raw.if_, raw.then) {
            (Some(cond), Some(then)) => {
                let c = sub(self, *cond, &["if"], path)?;
                let t = sub(self, *then, &["then"], path)?;
                node.if_then = Some((c, t));
            }
            (None, None) => {}
            _ => return Err(format!("`if` without `then` (or the reverse) at {path}")),
        }
        for (name, def) in raw.defs {
            let def_id = sub(self, def, &["$defs", &name], path)?;
            self.defs.insert(name.into_owned(), def_id);
        }
        self.nodes[id] = node;
        Ok(id)
    }

    /// The keywords of `raw` that hold no schema, taken out of it.
    fn assertions(&mut self, raw: &mut RawSchema<'_>, path: &str) -> Result<Node, String> {
        let constant = match raw.constant.take() {
            None => None,
            Some(Value::String(c)) => Some(Cow::Owned(c)),
            Some(other) => return Err(format!("a `const` that is not a string ({other}) at {path}")),
        };
        let types = match &raw.ty {
            None => 0,
            Some(TypeSpec::One(t)) => type_bit(t)?,
            Some(TypeSpec::Many(ts)) => ts.iter().try_fold(0, |acc, t| Ok::<u8, String>(acc | type_bit(t)?))?,
        };
        let format = match raw.format.as_deref() {
            Some("int32") => Some(Format::Int32),
            Some("int64") => Some(Format::Int64),
            Some("date-time") => Some(Format::DateTime),
            // Other formats (`byte`, `double`, `int-or-string`) are
            // annotations, as draft 2020-12 treats every format by default.
            _ => None,
        };
        let pattern = match raw.pattern.take() {
            None => None,
            Some(p) => Some(match self.patterns.iter().position(|q| *q == p) {
                Some(i) => i as u32,
                None => {
                    self.patterns.push(p.into_owned());
                    (self.patterns.len() - 1) as u32
                }
            }),
        };
        let (mut enumeration, mut int_enumeration): (Vec<Text>, Vec<i64>) = (Vec::new(), Vec::new());
        for e in raw.enumeration.take().unwrap_or_default() {
            match e {
                EnumItem::Text(t) => enumeration.push(Cow::Owned(t.into_owned())),
                EnumItem::Integer(n) => int_enumeration.push(n),
            }
        }
        if !enumeration.is_empty() && !int_enumeration.is_empty() {
            return Err("an `enum` of both strings and integers".to_string());
        }
        Ok(Node {
            types,
            int_or_string: raw.int_or_string,
            format,
            constant,
            enumeration: Cow::Owned(enumeration),
            int_enumeration: Cow::Owned(int_enumeration),
            pattern,
            min_length: raw.min_length,
            max_length: raw.max_length,
            min_properties: raw.min_properties,
            max_properties: raw.max_properties,
            minimum: raw.minimum,
            maximum: raw.maximum,
            min_items: raw.min_items,
            max_items: raw.max_items,
            required: std::mem::take(&mut raw.required).into_iter().map(|r| Cow::Owned(r.into_owned())).collect(),
            preserve_unknown: raw.preserve_unknown,
            nullable: raw.nullable,
            ..Node::EMPTY
        })
    }
}

impl Schema {
    /// Read a schema document. Fails on any keyword or `$ref` this
    /// evaluator does not implement, rather than ignoring it.
    pub fn from_json(text: &str) -> Result<Schema, String> {
        let raw: RawSchema = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut c = Compiler {
            nodes: Vec::new(),
            locations: String::new(),
            defs: BTreeMap::new(),
            pending: Vec::new(),
            patterns: Vec::new(),
        };
        let root = c.compile(raw, &mut String::new())?;
        for (id, name) in std::mem::take(&mut c.pending) {
            let target = *c.defs.get(&name).ok_or_else(|| format!("`$ref` to a missing definition `{name}`"))?;
            c.nodes[id].reference = Some(target);
        }
        let defs: Vec<(Text, NodeId)> = c.defs.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect();
        let patterns: Vec<Text> = c.patterns.into_iter().map(Cow::Owned).collect();
        Ok(Schema {
            nodes: Cow::Owned(c.nodes),
            locations: Cow::Owned(c.locations),
            defs: Cow::Owned(defs),
            patterns: Cow::Owned(patterns),
            dfas: &[],
            root,
            regexes: PatternCache::new(),
        })
    }

    /// A schema from the tables build.rs generated with [`Schema::to_rust`],
    /// and the DFAs it compiled the patterns into.
    pub const fn from_static(
        nodes: &'static [Node],
        locations: &'static str,
        defs: &'static [(Text, NodeId)],
        patterns: &'static [Text],
        dfas: &'static [Option<&'static [u8]>],
        root: NodeId,
    ) -> Schema {
        Schema {
            nodes: Cow::Borrowed(nodes),
            locations: Cow::Borrowed(locations),
            defs: Cow::Borrowed(defs),
            patterns: Cow::Borrowed(patterns),
            dfas,
            root,
            regexes: PatternCache::new(),
        }
    }

    /// The distinct `pattern`s, in the order of their indices.
    pub fn patterns(&self) -> &[Text] {
        &self.patterns
    }

    /// Rust source for static tables holding this schema: `NODES`,
    /// `LOCATIONS`, `DEFS`, `PATTERNS` and `ROOT`, for
    /// [`Schema::from_static`]. It expects `Cow`, `Node` and `Format` in
    /// scope. A node spells only its keywords; the rest is `Node::EMPTY`'s.
    pub fn to_rust(&self) -> String {
        use std::fmt::Write as _;
        let texts = |v: &[Text]| -> String { v.iter().map(|t| format!("Cow::Borrowed({t:?}),")).collect() };
        let mut out = String::from("// Generated by build.rs from schemas/validation.json: do not edit.\n");
        let _ = writeln!(out, "pub static LOCATIONS: &str = {:?};", self.locations);
        let _ = writeln!(out, "pub const ROOT: usize = {};", self.root);
        let _ = writeln!(out, "pub static PATTERNS: &[Cow<'static, str>] = &[{}];", texts(&self.patterns));
        out.push_str("pub static DEFS: &[(Cow<'static, str>, usize)] = &[\n");
        for (name, id) in self.defs.iter() {
            let _ = writeln!(out, "(Cow::Borrowed({name:?}), {id}),");
        }
        out.push_str("];\npub static NODES: &[Node] = &[\n");
        for n in self.nodes.iter() {
            out.push_str(&node_rust(n, &texts));
        }
        out.push_str("];\n");
        out
    }

    /// The node of a `$defs` entry.
    pub fn definition(&self, name: &str) -> Option<NodeId> {
        self.defs.binary_search_by(|(k, _)| k.as_ref().cmp(name)).ok().map(|i| self.defs[i].1)
    }
}

/// One entry of `NODES`: the fields that differ from `Node::EMPTY`.
fn node_rust(n: &Node, texts: &dyn Fn(&[Text]) -> String) -> String {
    use std::fmt::Write as _;
    let ids = |v: &[NodeId]| -> String { v.iter().map(|i| format!("{i},")).collect() };
    let mut s = format!("Node {{ location: ({}, {}), ", n.location.0, n.location.1);
    let e = &Node::EMPTY;
    if n.types != e.types {
        let _ = write!(s, "types: {}, ", n.types);
    }
    if n.int_or_string {
        s.push_str("int_or_string: true, ");
    }
    if let Some(f) = n.format {
        let _ = write!(s, "format: Some(Format::{f:?}), ");
    }
    if let Some(c) = &n.constant {
        let _ = write!(s, "constant: Some(Cow::Borrowed({c:?})), ");
    }
    if !n.enumeration.is_empty() {
        let _ = write!(s, "enumeration: Cow::Borrowed(&[{}]), ", texts(&n.enumeration));
    }
    if !n.int_enumeration.is_empty() {
        let _ = write!(s, "int_enumeration: Cow::Borrowed(&{:?}), ", n.int_enumeration);
    }
    if n.pattern.is_some() {
        let _ = write!(s, "pattern: {:?}, ", n.pattern);
    }
    if n.min_length.is_some() {
        let _ = write!(s, "min_length: {:?}, ", n.min_length);
    }
    if n.max_length.is_some() {
        let _ = write!(s, "max_length: {:?}, ", n.max_length);
    }
    if n.min_properties.is_some() {
        let _ = write!(s, "min_properties: {:?}, ", n.min_properties);
    }
    if n.max_properties.is_some() {
        let _ = write!(s, "max_properties: {:?}, ", n.max_properties);
    }
    if n.minimum.is_some() {
        let _ = write!(s, "minimum: {:?}, ", n.minimum);
    }
    if n.maximum.is_some() {
        let _ = write!(s, "maximum: {:?}, ", n.maximum);
    }
    if n.min_items.is_some() {
        let _ = write!(s, "min_items: {:?}, ", n.min_items);
    }
    if n.max_items.is_some() {
        let _ = write!(s, "max_items: {:?}, ", n.max_items);
    }
    if !n.properties.is_empty() {
        let props: String = n.properties.iter().map(|(name, id)| format!("(Cow::Borrowed({name:?}), {id}),")).collect();
        let _ = write!(s, "properties: Cow::Borrowed(&[{props}]), ");
    }
    if !n.required.is_empty() {
        let _ = write!(s, "required: Cow::Borrowed(&[{}]), ", texts(&n.required));
    }
    if n.items.is_some() {
        let _ = write!(s, "items: {:?}, ", n.items);
    }
    if n.additional.is_some() {
        let _ = write!(s, "additional: {:?}, ", n.additional);
    }
    if n.closed {
        s.push_str("closed: true, ");
    }
    if n.nullable {
        s.push_str("nullable: true, ");
    }
    if n.preserve_unknown {
        s.push_str("preserve_unknown: true, ");
    }
    if !n.any_of.is_empty() {
        let _ = write!(s, "any_of: Cow::Borrowed(&[{}]), ", ids(&n.any_of));
    }
    if !n.all_of.is_empty() {
        let _ = write!(s, "all_of: Cow::Borrowed(&[{}]), ", ids(&n.all_of));
    }
    if n.reference.is_some() {
        let _ = write!(s, "reference: {:?}, ", n.reference);
    }
    if n.if_then.is_some() {
        let _ = write!(s, "if_then: {:?}, ", n.if_then);
    }
    s.push_str("..Node::EMPTY },\n");
    s
}
