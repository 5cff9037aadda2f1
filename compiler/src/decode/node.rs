//! The node tables. Every spec node is declared once, as a [`Node`] in the
//! table of its block's module (`image.rs`, `probes.rs`, …); the table
//! drives dispatch, "did you mean", duplicate and placement checks, and
//! describes the language to tools ([`Info`]: `tests/language_docs.rs`, a
//! language server's hover and completion).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::reader::{children, first_time, name_span, unknown_node};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

/// The blocks that may hold a body node directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place(u8);

impl Place {
    pub const SERVICE: Place = Place(1);
    pub const ENVIRONMENT: Place = Place(2);
    /// A preset (`preset NAME { … }`) or an org defaults file (`defaults { … }`).
    pub const PRESET: Place = Place(4);
    /// Every block (and, for a child node, wherever its parent is).
    pub const ANY: Place = Place(7);
    /// A `container` or `init-container` block: the container settings only.
    pub const CONTAINER: Place = Place(8);
    /// Every block, and `container` blocks: a container setting.
    pub const ANY_CONTAINER: Place = Place(15);

    pub const fn or(self, other: Place) -> Place {
        Place(self.0 | other.0)
    }

    pub const fn has(self, other: Place) -> bool {
        self.0 & other.0 == other.0
    }

    /// A block that holds only some body nodes, so that an unknown node
    /// is compared with those alone.
    const fn narrow(self) -> bool {
        self.0 == Place::ENVIRONMENT.0 || self.0 == Place::CONTAINER.0
    }
}

/// One spec node: what it is, where it goes, and how it decodes into `T`
/// (the value its parent block builds).
pub struct Node<T: 'static> {
    /// The name, as written in a spec.
    pub name: &'static str,
    /// One line for hover and completion.
    pub summary: &'static str,
    /// Where the reference documents it: `FILE#ANCHOR` under `docs/`.
    pub doc: &'static str,
    /// The positional arguments, as the reference writes them (`""`: none).
    pub args: &'static str,
    /// The properties the node takes.
    pub props: &'static [&'static str],
    /// For a map of user-named children (`env`, `volumes`, …): the
    /// properties each child takes.
    pub item_props: &'static [&'static str],
    /// May it appear more than once in one block?
    pub repeat: bool,
    /// The blocks that may hold it (body nodes; children go with their
    /// parent). For a top-level node ([`super::SERVICE`], …): its own block.
    pub place: Place,
    /// Position in the settings reference (body nodes): the order of
    /// completions and of the list an unknown node's help gives.
    pub order: u8,
    /// The table of its own children.
    pub children: Option<&'static dyn Table>,
    /// Decode it into its parent's value.
    pub decode: fn(&KdlNode, &mut Diagnostics, &mut T),
    /// Report it in a block (named, and at `Place`) that may not hold it.
    pub elsewhere: fn(&KdlNode, &str, Place, &mut Diagnostics),
}

impl<T: 'static> Node<T> {
    /// A node decoded by `decode`, with no arguments, properties or
    /// children, allowed anywhere once; the table's entry fills in the rest.
    pub const fn new(decode: fn(&KdlNode, &mut Diagnostics, &mut T)) -> Self {
        Node {
            name: "",
            summary: "",
            doc: "",
            args: "",
            props: &[],
            item_props: &[],
            repeat: false,
            place: Place::ANY,
            order: 0,
            children: None,
            decode,
            elsewhere: not_here,
        }
    }

    pub fn info(&self) -> Info {
        Info {
            name: self.name,
            summary: self.summary,
            doc: self.doc,
            args: self.args,
            props: self.props,
            item_props: self.item_props,
            repeat: self.repeat,
            place: self.place,
            children: self.children,
        }
    }
}

/// A node as tools see it: a [`Node`] without its decode functions.
#[derive(Clone, Copy)]
pub struct Info {
    pub name: &'static str,
    pub summary: &'static str,
    pub doc: &'static str,
    pub args: &'static str,
    pub props: &'static [&'static str],
    pub item_props: &'static [&'static str],
    pub repeat: bool,
    pub place: Place,
    pub children: Option<&'static dyn Table>,
}

impl Info {
    /// The children, in table order (none for a leaf or a map).
    pub fn children(&self) -> Vec<Info> {
        self.children.map(|t| t.nodes()).unwrap_or_default()
    }
}

/// A table of nodes, whatever they decode into.
pub trait Table: Sync {
    fn nodes(&self) -> Vec<Info>;
}

impl<T: 'static> Table for &'static [Node<T>] {
    fn nodes(&self) -> Vec<Info> {
        self.iter().map(Node::info).collect()
    }
}

/// How a block treats a second occurrence of a node that does not repeat.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Twice {
    /// Reported before it is decoded: "`X` is set twice in `PARENT`".
    InParent,
    /// The same, without the parent: "`X` is set twice".
    Plain,
    /// Decoded like the first: the decode function compares what it
    /// decoded (an item's key, a kind), or the last one wins.
    Decode,
}

/// Where a block's children are read: its name, its place, and its rule
/// for a second occurrence.
#[derive(Clone, Copy)]
pub(crate) struct Block<'a> {
    pub name: &'a str,
    pub place: Place,
    pub twice: Twice,
}

/// The node named `name` in `tables`.
pub(crate) fn find<T>(tables: &[&'static [Node<T>]], name: &str) -> Option<&'static Node<T>> {
    tables.iter().flat_map(|t| t.iter()).find(|n| n.name == name)
}

/// Decode the children of a nested block (`probes { … }`, `pipeline { … }`,
/// …) into `out` with its `table`.
pub(crate) fn decode_children<T>(
    table: &'static [Node<T>],
    parent: &KdlNode,
    twice: Twice,
    out: &mut T,
    diags: &mut Diagnostics,
) {
    let block = Block { name: parent.name().value(), place: Place::ANY, twice };
    decode_each(&[table], children(parent), block, out, diags);
}

/// Decode `nodes`, the children of `block`, into `out` with `tables`.
pub(crate) fn decode_each<T>(
    tables: &[&'static [Node<T>]],
    nodes: &[KdlNode],
    block: Block,
    out: &mut T,
    diags: &mut Diagnostics,
) {
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    for node in nodes {
        let name = node.name().value();
        let Some(n) = find(tables, name) else {
            unknown_node(diags, node, block.name, &suggestions(tables, block.place));
            continue;
        };
        if !n.repeat && !first(&mut seen, node, block, diags) {
            continue;
        }
        if !n.place.has(block.place) {
            (n.elsewhere)(node, block.name, block.place, diags);
            continue;
        }
        (n.decode)(node, diags, out);
    }
}

/// Whether `node` is the first of its name in `block` (a second one is
/// reported as the block's [`Twice`] says).
fn first<'a>(seen: &mut IndexMap<&'a str, Span>, node: &'a KdlNode, block: Block, diags: &mut Diagnostics) -> bool {
    match block.twice {
        Twice::InParent => first_time(seen, node, block.name, diags),
        Twice::Plain => {
            let name = node.name().value();
            if let Some(first) = seen.get(name) {
                diags.push(
                    Diagnostic::error(Code::Duplicate, format!("`{name}` is set twice"))
                        .at(name_span(node), "set again here")
                        .also(*first, "first set here"),
                );
                return false;
            }
            seen.insert(name, name_span(node));
            true
        }
        Twice::Decode => true,
    }
}

/// The names an unknown node is compared with, in reference order: those an
/// environment may hold in an environment; every node in a service, a
/// preset or a defaults file (which mirror a service, and whose misplaced
/// nodes get their own explanation).
fn suggestions<T>(tables: &[&'static [Node<T>]], place: Place) -> Vec<&'static str> {
    let mut nodes: Vec<&Node<T>> =
        tables.iter().flat_map(|t| t.iter()).filter(|n| !place.narrow() || n.place.has(place)).collect();
    nodes.sort_by_key(|n| n.order);
    nodes.iter().map(|n| n.name).collect()
}

/// The default report of a node in a block that may not hold it.
fn not_here(node: &KdlNode, parent: &str, place: Place, diags: &mut Diagnostics) {
    let name = node.name().value();
    let mut d = Diagnostic::error(Code::UnknownNode, format!("`{name}` cannot appear in `{parent}`"))
        .at(name_span(node), format!("not allowed in `{parent}`"));
    if place == Place::CONTAINER {
        d = d.help(
            "a container's block holds its own settings (image, port, resources, probes, env, env-from, command, args, volumes); the pod's settings are the service's",
        );
    }
    diags.push(d);
}
