//! The blocks of a `service`, an `environment` and a preset: every node
//! they may hold comes from the tables of the block modules listed in
//! [`BLOCKS`].

use kdl::KdlNode;

use super::node::{self, Block, Info, Node, Place, Table, Twice};
use super::{
    ci, command, compose, config, containers, env, environment, gitops, image, jobs, lifecycle, metadata, monitoring,
    network, patch, ports, probes, resources, rollout, route, scaling, scheduling, security, volumes,
};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Ci, Environment};
use crate::source::Spanned;

/// What a block decodes into: the settings a service, an environment and a
/// preset share, and the nodes only a service (or a preset) holds.
#[derive(Default)]
pub struct Contents {
    pub body: Body,
    pub uses: Vec<Spanned<String>>,
    pub environments: Vec<Environment>,
    pub ci: Option<Ci>,
}

/// The tables of the body nodes, one per block of the language.
pub const BLOCKS: &[&[Node<Contents>]] = &[
    image::NODES,
    metadata::NODES,
    ports::NODES,
    scaling::NODES,
    resources::NODES,
    probes::NODES,
    env::NODES,
    command::NODES,
    containers::NODES,
    jobs::NODES,
    config::NODES,
    volumes::NODES,
    security::NODES,
    lifecycle::NODES,
    scheduling::NODES,
    monitoring::NODES,
    network::NODES,
    rollout::NODES,
    patch::NODES,
    compose::NODES,
    environment::NODES,
    ci::NODES,
    gitops::NODES,
    route::NODES,
];

/// The body node called `name`.
pub fn find(name: &str) -> Option<&'static Node<Contents>> {
    node::find(BLOCKS, name)
}

/// The body nodes as one table, in reference order.
pub struct Nodes;

impl Table for Nodes {
    fn nodes(&self) -> Vec<Info> {
        let mut all: Vec<&Node<Contents>> = BLOCKS.iter().flat_map(|t| t.iter()).collect();
        all.sort_by_key(|n| n.order);
        all.iter().map(|n| n.info()).collect()
    }
}

/// Decode the children of a `service` (`place` [`Place::SERVICE`]), an
/// `environment` or a preset or defaults file, `parent` naming the block.
pub fn decode_body(nodes: &[KdlNode], parent: &str, place: Place, diags: &mut Diagnostics) -> Contents {
    let mut c = Contents::default();
    node::decode_each(BLOCKS, nodes, Block { name: parent, place, twice: Twice::InParent }, &mut c, diags);
    let b = &c.body;
    if let (Some(bg), Some(canary)) = (&b.blue_green, &b.canary)
        && bg.enabled.as_ref().is_none_or(|e| e.value)
        && canary.enabled.as_ref().is_none_or(|e| e.value)
    {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{parent}` declares both `blue-green` and `canary`"))
                .at(canary.node, "second update strategy")
                .also(bg.node, "first update strategy")
                .help("a Rollout has one strategy: keep one of them (an environment can switch with `canary #false`)"),
        );
    }
    c
}
