//! Runtime presets: the commands and images of one language toolchain.
//! Node.js is the first; Go, Python and Rust add a `Runtime` variant, an
//! entry here and a Dockerfile template, and nothing else changes.

use super::workflow::{ServiceContainer, Step, actions};
use crate::model::Runtime as Kind;

/// What the workflow and the Dockerfile need from a toolchain.
pub struct Runtime {
    /// Steps that check out the code and install the toolchain and the
    /// dependencies (without a cache: see `NODE`).
    pub setup: fn(&str) -> Vec<Step>,
    /// (step name, command) of each quality gate.
    pub lint: (&'static str, &'static str),
    pub type_check: (&'static str, &'static str),
    pub audit: (&'static str, &'static str),
    pub unit: &'static str,
    pub unit_coverage: &'static str,
    pub coverage_file: &'static str,
    pub integration: &'static str,
    pub e2e: &'static str,
    /// The Dockerfile template (under `stdlib/templates/`).
    pub dockerfile: &'static str,
    /// The user and group the base image already has, as (id, name): the
    /// Dockerfile creates an `app` user and group only for the ids that are
    /// free (the image build fails on an id that is taken).
    pub image_user: (i64, &'static str),
    pub image_group: (i64, &'static str),
}

impl Runtime {
    pub fn setup(&self, version: &str) -> Vec<Step> {
        (self.setup)(version)
    }
}

const NODE: Runtime = Runtime {
    setup: |version| {
        vec![
            Step::checkout(),
            // No dependency cache: the workflow publishes an image and
            // deploys, and a cache another workflow run can write is a way
            // to poison both (setup-node caches on its own unless told not to).
            Step::uses("Set up Node.js", actions::SETUP_NODE)
                .with("node-version", version)
                .with("package-manager-cache", "false"),
            Step::run("Install dependencies", "npm ci"),
        ]
    },
    lint: ("Lint", "npm run lint"),
    type_check: ("Type-check", "npm run type-check"),
    audit: ("Audit dependencies", "npm audit --audit-level=high"),
    unit: "npm run test:unit",
    unit_coverage: "npm run test:unit -- --coverage",
    coverage_file: "./coverage/lcov.info",
    integration: "npm run test:integration",
    e2e: "npm run test:e2e",
    dockerfile: include_str!("../../../stdlib/templates/node/Dockerfile.hbs"),
    // The official node images have `node` as 1000:1000.
    image_user: (1000, "node"),
    image_group: (1000, "node"),
};

impl Runtime {
    /// The commands that give the runtime image a user `uid` in group
    /// `gid`: none for ids the base image already has.
    pub fn user_commands(&self, uid: i64, gid: i64) -> Vec<String> {
        let mut out = Vec::new();
        let group = if gid == self.image_group.0 {
            self.image_group.1
        } else {
            out.push(format!("addgroup -g {gid} -S app"));
            "app"
        };
        if uid != self.image_user.0 {
            out.push(format!("adduser -S -D -H -u {uid} -G {group} app"));
        }
        out
    }
}

pub fn preset(kind: Kind) -> &'static Runtime {
    match kind {
        Kind::Node => &NODE,
    }
}

/// A service container of the integration tests, and the variables that
/// tell the tests where to find it.
pub struct Container {
    pub service: ServiceContainer,
    pub client_env: Vec<(&'static str, &'static str)>,
}

fn health(cmd: &str) -> String {
    format!("--health-cmd {cmd} --health-interval 10s --health-timeout 5s --health-retries 5")
}

/// `name` is one of `decode::ci::INTEGRATION_SERVICES`.
pub fn container(name: &str, version: &str) -> Container {
    let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
    let (image, service_env, port, cmd, client_env) = match name {
        "postgres" => (
            "postgres",
            env(&[("POSTGRES_PASSWORD", "test"), ("POSTGRES_DB", "test")]),
            "5432",
            health("pg_isready"),
            vec![("DATABASE_URL", "postgresql://postgres:test@localhost:5432/test")],
        ),
        "mysql" => (
            "mysql",
            env(&[("MYSQL_ROOT_PASSWORD", "test"), ("MYSQL_DATABASE", "test")]),
            "3306",
            health("\"mysqladmin ping -h 127.0.0.1\""),
            vec![("MYSQL_URL", "mysql://root:test@localhost:3306/test")],
        ),
        "mongo" => (
            "mongo",
            Default::default(),
            "27017",
            health("\"mongosh --quiet --eval 'db.runCommand({ping: 1})'\""),
            vec![("MONGODB_URL", "mongodb://localhost:27017/test")],
        ),
        _ => (
            "redis",
            Default::default(),
            "6379",
            health("\"redis-cli ping\""),
            vec![("REDIS_URL", "redis://localhost:6379")],
        ),
    };
    Container {
        service: ServiceContainer {
            image: format!("{image}:{version}"),
            env: service_env,
            ports: vec![format!("{port}:{port}")],
            options: cmd,
        },
        client_env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// node images have `node` as 1000:1000: `adduser -u 1000` would fail
    /// the image build, so only free ids get a new user or group.
    #[test]
    fn ids_the_base_image_has_are_not_created_again() {
        let node = preset(Kind::Node);
        assert!(node.user_commands(1000, 1000).is_empty());
        assert_eq!(node.user_commands(1000, 2000), ["addgroup -g 2000 -S app"]);
        assert_eq!(node.user_commands(10001, 1000), ["adduser -S -D -H -u 10001 -G node app"]);
        assert_eq!(
            node.user_commands(10001, 10001),
            ["addgroup -g 10001 -S app", "adduser -S -D -H -u 10001 -G app app"]
        );
    }
}
