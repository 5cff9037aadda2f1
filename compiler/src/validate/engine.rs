//! A JSON Schema evaluator for exactly the keywords svcc's own schemas use.
//!
//! `schemas/validation.json` is generated from svcc's types (k8s-openapi's
//! schemars support and svcc's CRD structs) and uses a small subset of
//! draft 2020-12: `type`, `properties`, `required`, `items`,
//! `additionalProperties`, `anyOf`, `allOf`, `if`/`then`, `const`, `$ref`
//! into `$defs`, `format` and `x-kubernetes-int-or-string`. A general
//! validator library spends most of a one-spec `svcc check` compiling the
//! schema (resolving references, building regexes for the meta-schema);
//! this one reads the schema straight into an array of nodes and walks it.
//!
//! Each keyword is evaluated in one place, `Schema::walk`, generic over a
//! `Sink` that receives the failures: `FirstFailure` stops at the first
//! one and builds nothing (the yes/no answer, and `anyOf` branches and
//! `if` conditions), `Collect` records each with its instance and schema
//! pointers and message. Only an invalid instance is walked twice.
//!
//! Reading is strict: a keyword it does not know is an error (see
//! `RawSchema`'s `deny_unknown_fields`), so a schema change that would need
//! a new keyword cannot be silently ignored. `tests/schemas.rs` checks the
//! verdicts against the `jsonschema` crate on valid and broken objects.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::Value;

/// One way an instance breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance (`""` is the root).
    pub instance_path: String,
    /// JSON pointer of the failing keyword in the schema document.
    pub schema_path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

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
    additional: Option<Box<RawSchema<'a>>>,
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
    #[serde(borrow)]
    format: Option<Cow<'a, str>>,
    #[serde(rename = "x-kubernetes-int-or-string", default)]
    int_or_string: bool,
    /// Annotations: they validate nothing.
    #[serde(rename = "title", borrow)]
    _title: Option<Cow<'a, str>>,
    #[serde(rename = "description", borrow)]
    _description: Option<Cow<'a, str>>,
    #[serde(rename = "default")]
    _default: Option<Value>,
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

const STRING: u8 = 1;
const OBJECT: u8 = 2;
const ARRAY: u8 = 4;
const INTEGER: u8 = 8;
const NUMBER: u8 = 16;
const BOOLEAN: u8 = 32;
const NULL: u8 = 64;

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

fn type_names(bits: u8) -> String {
    let names = ["string", "object", "array", "integer", "number", "boolean", "null"];
    let listed: Vec<String> =
        names.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| format!("\"{n}\"")).collect();
    listed.join(" or ")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntFormat {
    Int32,
    Int64,
}

pub type NodeId = usize;
/// Text and lists of a schema: borrowed from static tables generated at
/// build time (`Schema::to_rust`, build.rs), or owned when read at run time.
pub type Text = Cow<'static, str>;
pub type List<T> = Cow<'static, [T]>;

/// One schema object, with its keywords resolved. Public only so that the
/// tables build.rs generates can spell it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Where this node sits in the schema document, as a JSON pointer: a
    /// range of `Schema::locations`.
    pub location: (u32, u32),
    /// Allowed types as bits; 0 allows any.
    pub types: u8,
    pub int_or_string: bool,
    pub int_format: Option<IntFormat>,
    /// `const`: svcc's schemas only compare strings (the kind dispatch).
    pub constant: Option<Text>,
    /// Sorted by name, for binary search.
    pub properties: List<(Text, NodeId)>,
    pub required: List<Text>,
    pub items: Option<NodeId>,
    pub additional: Option<NodeId>,
    pub any_of: List<NodeId>,
    pub all_of: List<NodeId>,
    pub reference: Option<NodeId>,
    pub if_then: Option<(NodeId, NodeId)>,
}

/// A schema ready to validate with.
pub struct Schema {
    nodes: List<Node>,
    locations: Text,
    /// `$defs` entries, sorted by name.
    defs: List<(Text, NodeId)>,
    root: NodeId,
}

/// What the schema says about one field, while walking a JSON pointer
/// (`Schema::field`; patches use it to check the fields they name).
pub enum Field<'s> {
    /// The schema of the child.
    Known(NodeId),
    /// The parent lists its fields and this is not one of them.
    Unknown(Vec<&'s str>),
    /// Nothing more is known (a free-form value): stop checking.
    Open,
}

struct Compiler {
    nodes: Vec<Node>,
    locations: String,
    /// `$ref` targets by definition name, and the references to patch.
    defs: BTreeMap<String, NodeId>,
    pending: Vec<(NodeId, String)>,
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
    fn compile(&mut self, raw: RawSchema<'_>, path: &mut String) -> Result<NodeId, String> {
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        let start = self.locations.len();
        self.locations.push_str(path);
        let constant = match raw.constant {
            None => None,
            Some(Value::String(c)) => Some(Cow::Owned(c)),
            Some(other) => return Err(format!("a `const` that is not a string ({other}) at {path}")),
        };
        let mut node = Node {
            location: (start as u32, self.locations.len() as u32),
            int_or_string: raw.int_or_string,
            constant,
            ..Node::default()
        };
        node.types = match &raw.ty {
            None => 0,
            Some(TypeSpec::One(t)) => type_bit(t)?,
            Some(TypeSpec::Many(ts)) => ts.iter().try_fold(0, |acc, t| Ok::<u8, String>(acc | type_bit(t)?))?,
        };
        node.int_format = match raw.format.as_deref() {
            Some("int32") => Some(IntFormat::Int32),
            Some("int64") => Some(IntFormat::Int64),
            // Other formats (`date-time`, `byte`, `double`) are annotations,
            // as draft 2020-12 treats every format by default.
            _ => None,
        };
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
        node.required = raw.required.into_iter().map(|r| Cow::Owned(r.into_owned())).collect();
        if let Some(items) = raw.items {
            node.items = Some(sub(self, *items, &["items"], path)?);
        }
        if let Some(additional) = raw.additional {
            node.additional = Some(sub(self, *additional, &["additionalProperties"], path)?);
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
}

impl Schema {
    /// Read a schema document. Fails on any keyword or `$ref` this
    /// evaluator does not implement, rather than ignoring it.
    pub fn from_json(text: &str) -> Result<Schema, String> {
        let raw: RawSchema = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut c =
            Compiler { nodes: Vec::new(), locations: String::new(), defs: BTreeMap::new(), pending: Vec::new() };
        let root = c.compile(raw, &mut String::new())?;
        for (id, name) in std::mem::take(&mut c.pending) {
            let target = *c.defs.get(&name).ok_or_else(|| format!("`$ref` to a missing definition `{name}`"))?;
            c.nodes[id].reference = Some(target);
        }
        let defs: Vec<(Text, NodeId)> = c.defs.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect();
        Ok(Schema { nodes: Cow::Owned(c.nodes), locations: Cow::Owned(c.locations), defs: Cow::Owned(defs), root })
    }

    /// A schema from the tables build.rs generated with [`Schema::to_rust`].
    pub const fn from_static(
        nodes: &'static [Node],
        locations: &'static str,
        defs: &'static [(Text, NodeId)],
        root: NodeId,
    ) -> Schema {
        Schema { nodes: Cow::Borrowed(nodes), locations: Cow::Borrowed(locations), defs: Cow::Borrowed(defs), root }
    }

    /// Rust source for static tables holding this schema: `NODES`,
    /// `LOCATIONS`, `DEFS` and `ROOT`, for [`Schema::from_static`]. It
    /// expects `Cow`, `Node` and `IntFormat` in scope.
    pub fn to_rust(&self) -> String {
        use std::fmt::Write as _;
        fn ids(v: &[NodeId]) -> String {
            v.iter().map(|i| format!("{i},")).collect()
        }
        let mut out = String::from("// Generated by build.rs from schemas/validation.json: do not edit.\n");
        let _ = writeln!(out, "pub static LOCATIONS: &str = {:?};", self.locations);
        let _ = writeln!(out, "pub const ROOT: usize = {};", self.root);
        out.push_str("pub static DEFS: &[(Cow<'static, str>, usize)] = &[\n");
        for (name, id) in self.defs.iter() {
            let _ = writeln!(out, "(Cow::Borrowed({name:?}), {id}),");
        }
        out.push_str("];\npub static NODES: &[Node] = &[\n");
        for n in self.nodes.iter() {
            let props: String =
                n.properties.iter().map(|(name, id)| format!("(Cow::Borrowed({name:?}), {id}),")).collect();
            let required: String = n.required.iter().map(|r| format!("Cow::Borrowed({r:?}),")).collect();
            let _ = writeln!(
                out,
                "Node {{ location: ({}, {}), types: {}, int_or_string: {}, int_format: {}, constant: {}, \
                 properties: Cow::Borrowed(&[{props}]), required: Cow::Borrowed(&[{required}]), items: {:?}, \
                 additional: {:?}, any_of: Cow::Borrowed(&[{}]), all_of: Cow::Borrowed(&[{}]), reference: {:?}, \
                 if_then: {:?} }},",
                n.location.0,
                n.location.1,
                n.types,
                n.int_or_string,
                match n.int_format {
                    None => "None".to_string(),
                    Some(f) => format!("Some(IntFormat::{f:?})"),
                },
                match &n.constant {
                    None => "None".to_string(),
                    Some(c) => format!("Some(Cow::Borrowed({c:?}))"),
                },
                n.items,
                n.additional,
                ids(&n.any_of),
                ids(&n.all_of),
                n.reference,
                n.if_then,
            );
        }
        out.push_str("];\n");
        out
    }

    /// The node of a `$defs` entry.
    pub fn definition(&self, name: &str) -> Option<NodeId> {
        self.defs.binary_search_by(|(k, _)| k.as_ref().cmp(name)).ok().map(|i| self.defs[i].1)
    }

    /// Follow references and optional (`anyOf [X, null]`) wrappers to the
    /// node that describes the value.
    fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..32 {
            let node = &self.nodes[id];
            if let Some(target) = node.reference {
                id = target;
            } else if let Some(&alt) = node.any_of.iter().find(|&&a| self.nodes[a].types != NULL) {
                id = alt;
            } else {
                break;
            }
        }
        id
    }

    /// The child `name` (an object key, or a list index) of node `id`.
    pub fn field(&self, id: NodeId, name: &str) -> Field<'_> {
        let node = &self.nodes[self.resolve(id)];
        if !node.properties.is_empty() {
            if let Ok(i) = node.properties.binary_search_by(|p| p.0.as_ref().cmp(name)) {
                return Field::Known(node.properties[i].1);
            }
            return match node.additional {
                Some(a) => Field::Known(a),
                None => Field::Unknown(node.properties.iter().map(|p| p.0.as_ref()).collect()),
            };
        }
        match (node.additional, node.items) {
            (Some(a), _) => Field::Known(a),
            (None, Some(i)) => Field::Known(i),
            (None, None) => Field::Open,
        }
    }

    /// Every violation of the schema by `value`, in document order.
    pub fn violations(&self, value: &Value) -> Vec<Violation> {
        // Almost every object is valid: a pass that builds no pointers and
        // no messages answers that; only an invalid one is walked again to
        // say why.
        if self.valid(self.root, value) {
            return Vec::new();
        }
        let mut sink = Collect { schema: self, pointer: String::new(), out: Vec::new() };
        let _ = self.walk(self.root, value, &mut sink);
        sink.out
    }

    /// Does `value` satisfy node `id`?
    fn valid(&self, id: NodeId, value: &Value) -> bool {
        self.walk(id, value, &mut FirstFailure).is_continue()
    }

    /// Evaluate node `id` on `value`: every keyword, in one place, each
    /// failure told to `sink`, which says whether to go on.
    fn walk<S: Sink>(&self, id: NodeId, value: &Value, sink: &mut S) -> Flow {
        let node = &self.nodes[id];
        if let Some(target) = node.reference {
            self.walk(target, value, sink)?;
        }
        if node.types != 0 && !has_type(value, node.types) {
            sink.fail(node, "type", || format!("{} is not of type {}", show(value), type_names(node.types)))?;
        }
        if node.int_or_string && !matches!(value, Value::Number(_) | Value::String(_)) {
            sink.fail(node, "x-kubernetes-int-or-string", || {
                format!("{} is neither a number nor a string", show(value))
            })?;
        }
        if let (Some(format), Value::Number(n)) = (node.int_format, value)
            && !fits(format, n)
        {
            let bits = if matches!(format, IntFormat::Int32) { 32 } else { 64 };
            sink.fail(node, "format", || format!("{n} does not fit in a {bits}-bit integer"))?;
        }
        if let Some(c) = &node.constant
            && value.as_str() != Some(c.as_ref())
        {
            sink.fail(node, "const", || format!("{} was expected", show(&Value::String(c.to_string()))))?;
        }
        match value {
            Value::Object(map) => self.walk_object(node, map, sink)?,
            Value::Array(items) => self.walk_array(node, items, sink)?,
            _ => {}
        }
        if !node.any_of.is_empty() {
            self.walk_any_of(node, value, sink)?;
        }
        for &s in node.all_of.iter() {
            self.walk(s, value, sink)?;
        }
        match node.if_then {
            Some((cond, then)) if self.valid(cond, value) => self.walk(then, value, sink),
            _ => Flow::Continue(()),
        }
    }

    /// `required`, `properties` and `additionalProperties`.
    fn walk_object<S: Sink>(&self, node: &Node, map: &serde_json::Map<String, Value>, sink: &mut S) -> Flow {
        for name in node.required.iter() {
            if !map.contains_key(name.as_ref()) {
                sink.fail(node, "required", || format!("\"{name}\" is a required property"))?;
            }
        }
        if node.properties.is_empty() && node.additional.is_none() {
            return Flow::Continue(());
        }
        for (key, sub) in map {
            let schema = match node.properties.binary_search_by(|p| p.0.as_ref().cmp(key.as_str())) {
                Ok(i) => Some(node.properties[i].1),
                Err(_) => node.additional,
            };
            if let Some(s) = schema {
                let mark = sink.enter(Segment::Key(key));
                let flow = self.walk(s, sub, sink);
                sink.leave(mark);
                flow?;
            }
        }
        Flow::Continue(())
    }

    /// `items`.
    fn walk_array<S: Sink>(&self, node: &Node, items: &[Value], sink: &mut S) -> Flow {
        let Some(s) = node.items else { return Flow::Continue(()) };
        for (i, item) in items.iter().enumerate() {
            let mark = sink.enter(Segment::Index(i));
            let flow = self.walk(s, item, sink);
            sink.leave(mark);
            flow?;
        }
        Flow::Continue(())
    }

    /// `anyOf`: one branch must hold.
    fn walk_any_of<S: Sink>(&self, node: &Node, value: &Value, sink: &mut S) -> Flow {
        if node.any_of.iter().any(|&s| self.valid(s, value)) {
            return Flow::Continue(());
        }
        // `anyOf: [X, {type: null}]` is how an optional field reads: when
        // the value is not null, X's own errors say what is wrong.
        if S::EXPLAINS && !value.is_null() {
            let mut not_null = node.any_of.iter().filter(|&&s| self.nodes[s].types != NULL);
            if let (Some(&only), None) = (not_null.next(), not_null.next()) {
                return self.walk(only, value, sink);
            }
        }
        sink.fail(node, "anyOf", || {
            format!("{} is not valid under any of the schemas listed in the 'anyOf' keyword", show(value))
        })
    }
}

/// Whether a walk goes on after a failure (`Continue`) or stops (`Break`).
type Flow = ControlFlow<()>;

/// A step from a value to one of its children.
enum Segment<'v> {
    Key(&'v str),
    Index(usize),
}

/// What a walk does with the failures it finds.
trait Sink {
    /// Whether the sink explains failures: a walk spends work on a better
    /// explanation only for such a sink.
    const EXPLAINS: bool;
    /// The walk goes down into a child; returns what to give `leave`.
    fn enter(&mut self, segment: Segment<'_>) -> usize;
    /// The walk is back from the child `enter` returned `mark` for.
    fn leave(&mut self, mark: usize);
    /// A keyword of `node` fails here, as `message` (called only if the
    /// sink keeps messages) says.
    fn fail(&mut self, node: &Node, keyword: &'static str, message: impl FnOnce() -> String) -> Flow;
}

/// The yes/no answer: stops at the first failure, builds nothing.
struct FirstFailure;

impl Sink for FirstFailure {
    const EXPLAINS: bool = false;
    #[inline(always)]
    fn enter(&mut self, _: Segment<'_>) -> usize {
        0
    }
    #[inline(always)]
    fn leave(&mut self, _: usize) {}
    #[inline(always)]
    fn fail(&mut self, _: &Node, _: &'static str, _: impl FnOnce() -> String) -> Flow {
        Flow::Break(())
    }
}

/// Every violation, with where it is in the instance and in the schema.
struct Collect<'s> {
    schema: &'s Schema,
    /// Where the walk is in the instance.
    pointer: String,
    out: Vec<Violation>,
}

impl Sink for Collect<'_> {
    const EXPLAINS: bool = true;
    fn enter(&mut self, segment: Segment<'_>) -> usize {
        let mark = self.pointer.len();
        match segment {
            Segment::Key(key) => push_segment(&mut self.pointer, key),
            Segment::Index(i) => {
                self.pointer.push('/');
                self.pointer.push_str(&i.to_string());
            }
        }
        mark
    }
    fn leave(&mut self, mark: usize) {
        self.pointer.truncate(mark);
    }
    fn fail(&mut self, node: &Node, keyword: &'static str, message: impl FnOnce() -> String) -> Flow {
        let location = &self.schema.locations[node.location.0 as usize..node.location.1 as usize];
        self.out.push(Violation {
            instance_path: self.pointer.clone(),
            schema_path: format!("{location}/{keyword}"),
            message: message(),
        });
        Flow::Continue(())
    }
}

/// Does an integer fit the format's range? Non-integers are the `type`
/// keyword's business.
fn fits(format: IntFormat, n: &serde_json::Number) -> bool {
    if !(n.is_i64() || n.is_u64()) {
        return true;
    }
    match format {
        IntFormat::Int32 => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        IntFormat::Int64 => n.as_i64().is_some(),
    }
}

fn has_type(value: &Value, types: u8) -> bool {
    let bits = match value {
        Value::String(_) => STRING,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::Bool(_) => BOOLEAN,
        Value::Null => NULL,
        Value::Number(n) => {
            // An integer is a number with no fractional part, as JSON Schema
            // defines it: 3.0 is an integer.
            let integral = n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
            if integral { NUMBER | INTEGER } else { NUMBER }
        }
    };
    bits & types != 0
}

/// An instance as it reads in a message: JSON, cut short when long.
fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() <= 60 {
        return s;
    }
    let cut: String = s.chars().take(57).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> Schema {
        Schema::from_json(&v.to_string()).unwrap()
    }

    fn valid(s: &Schema, v: &Value) -> bool {
        s.violations(v).is_empty()
    }

    fn paths(s: &Schema, v: Value) -> Vec<(String, String)> {
        s.violations(&v).into_iter().map(|e| (e.instance_path, e.schema_path)).collect()
    }

    #[test]
    fn types_required_and_nested_pointers() {
        let s = schema(json!({
            "$defs": { "Port": { "type": "object", "required": ["port"],
                "properties": { "port": { "type": "integer", "format": "int32" } } } },
            "type": "object",
            "properties": { "ports": { "type": "array", "items": { "$ref": "#/$defs/Port" } },
                            "a/b": { "type": ["string", "null"] } }
        }));
        assert!(valid(&s, &json!({ "ports": [{ "port": 80 }, { "port": 8080.0 }], "a/b": null })));
        assert_eq!(
            paths(&s, json!({ "ports": [{ "port": "80" }, {}, { "port": 4_294_967_296_i64 }], "a/b": 1 })),
            [
                ("/ports/0/port".into(), "/$defs/Port/properties/port/type".into()),
                ("/ports/1".into(), "/$defs/Port/required".into()),
                ("/ports/2/port".into(), "/$defs/Port/properties/port/format".into()),
                ("/a~1b".into(), "/properties/a~1b/type".into()),
            ]
        );
        let e = &s.violations(&json!({ "ports": [{ "port": "80" }] }))[0];
        assert_eq!(e.message, r#""80" is not of type "integer""#);
        let e = &s.violations(&json!({ "a/b": 1 }))[0];
        assert_eq!(e.message, r#"1 is not of type "string" or "null""#);
        assert_eq!(s.violations(&json!({ "ports": [{}] }))[0].message, r#""port" is a required property"#);
    }

    #[test]
    fn if_then_dispatch_any_of_and_additional_properties() {
        let s = schema(json!({
            "$defs": { "D": { "properties": { "n": { "type": "integer" } } } },
            "allOf": [{ "if": { "properties": { "kind": { "const": "D" } }, "required": ["kind"] },
                        "then": { "$ref": "#/$defs/D" } }],
            "properties": {
                "opt": { "anyOf": [{ "$ref": "#/$defs/D" }, { "type": "null" }] },
                "either": { "anyOf": [{ "type": "string" }, { "type": "boolean" }] },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "q": { "x-kubernetes-int-or-string": true }
            }
        }));
        // Only a D is held to D's rules.
        assert!(valid(&s, &json!({ "kind": "E", "n": "x" })));
        assert_eq!(paths(&s, json!({ "kind": "D", "n": "x" })), [("/n".into(), "/$defs/D/properties/n/type".into())]);
        // An optional field's errors are its own, not "no anyOf branch matched".
        assert_eq!(paths(&s, json!({ "opt": { "n": "x" } })), [("/opt/n".into(), "/$defs/D/properties/n/type".into())]);
        assert!(valid(&s, &json!({ "opt": null, "either": true, "q": 3 })));
        assert_eq!(paths(&s, json!({ "either": 1 })), [("/either".into(), "/properties/either/anyOf".into())]);
        assert_eq!(
            paths(&s, json!({ "labels": { "a": "b", "c": 1 }, "q": [] })),
            [
                ("/labels/c".into(), "/properties/labels/additionalProperties/type".into()),
                ("/q".into(), "/properties/q/x-kubernetes-int-or-string".into()),
            ]
        );
    }

    #[test]
    fn unknown_keywords_and_references_are_refused() {
        assert!(Schema::from_json(r#"{"pattern": "^a$"}"#).is_err());
        assert!(Schema::from_json(r##"{"$ref": "#/$defs/Missing"}"##).is_err());
        assert!(Schema::from_json(r#"{"$ref": "https://example.com/s.json"}"#).is_err());
        assert!(Schema::from_json(r#"{"type": "decimal"}"#).is_err());
    }
}
