//! Composition: presets, org defaults and many services at once.

mod common;

use std::collections::BTreeMap;

use common::Rng;
use svcc::diagnostic::Code;
use svcc::{Compiled, Input, LoadError, Loader, Options, Request, Unit};

/// Preset files held in memory.
struct Mem(BTreeMap<String, String>);

impl Loader for Mem {
    fn locate(&self, req: &Request<'_>) -> Result<String, LoadError> {
        let name = req.path.trim_start_matches("./").to_string();
        if self.0.contains_key(&name) {
            Ok(name)
        } else {
            Err(LoadError { code: Code::PresetFile, label: format!("no file `{name}`"), help: String::new() })
        }
    }

    fn read(&self, _req: &Request<'_>, name: &str) -> Result<Vec<u8>, LoadError> {
        Ok(self.0[name].as_bytes().to_vec())
    }
}

fn opts() -> Options {
    Options { image_tag: Some("1.0.0".into()), require_tag: true, ..Options::default() }
}

fn build(spec: &str, files: &[(&str, &str)], defaults: &[&str]) -> Compiled {
    let loader = Mem(files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect());
    let defaults: Vec<Input> = defaults
        .iter()
        .enumerate()
        .map(|(i, t)| Input { name: format!("d{i}/_defaults.kdl"), bytes: t.as_bytes().to_vec() })
        .collect();
    svcc::compile_with(&Input { name: "svc.kdl".into(), bytes: spec.as_bytes().to_vec() }, &defaults, &loader, &opts())
}

fn ok(c: &Compiled) -> &Compiled {
    assert!(!c.has_errors(), "{}", common::render(c, svcc::diagnostic::render::Format::Human));
    c
}

/// Settings a random service is made of: each is one node.
fn random_settings(rng: &mut Rng) -> Vec<String> {
    let mut s = vec![format!("port http {}", 3000 + rng.below(5000))];
    let pool = [
        format!("replicas {}", 2 + rng.below(5)),
        format!(
            "resources {{ requests cpu=\"{}m\" memory=\"{}Mi\" }}",
            50 * (1 + rng.below(8)),
            64 * (1 + rng.below(8))
        ),
        "probes { readiness \"/ready\"; liveness \"/healthz\" period=\"15s\" }".into(),
        format!("env {{ LOG_LEVEL \"{}\"; WORKERS {} }}", ["info", "debug", "warn"][rng.below(3)], 1 + rng.below(8)),
        format!("labels {{ team \"t{}\"; tier \"backend\" }}", rng.below(10)),
        "annotations { \"example.com/owner\" \"someone@example.com\" }".into(),
        "volumes { tmp \"/tmp\"; cache \"/var/cache\" size-limit=\"128Mi\" }".into(),
        format!("autoscale min=2 max={} {{ cpu {} }}", 4 + rng.below(20), 50 + rng.below(40)),
        "security { run-as-user 1001 }".into(),
        "node-selector { \"kubernetes.io/arch\" \"amd64\" }".into(),
        format!("shutdown pre-stop=\"{}s\" grace=\"60s\"", 1 + rng.below(10)),
        "metrics path=\"/metrics\"".into(),
        "port admin 9901".into(),
        "patch Deployment { set \"/spec/minReadySeconds\" 5 }".into(),
    ];
    for p in pool {
        if rng.below(3) > 0 {
            s.push(p);
        }
    }
    s
}

/// Any valid spec gives the same objects whether a part of its settings is
/// written inline or comes from a preset (or from org defaults).
#[test]
fn a_preset_is_equivalent_to_writing_its_settings_inline() {
    let mut rng = Rng(0x00c0_ffee_1234_5678);
    for case in 0..60 {
        let settings = random_settings(&mut rng);
        let (mut preset, mut own) = (Vec::new(), Vec::new());
        for s in settings {
            if rng.below(2) == 0 { preset.push(s) } else { own.push(s) }
        }
        let image = "    image \"ghcr.io/acme/svc\"\n";
        let envs = "    environment staging { replicas 1; autoscale #false }\n    environment production\n";
        let inline_body: String = preset.iter().chain(&own).map(|s| format!("    {s}\n")).collect();
        let own_body: String = own.iter().map(|s| format!("    {s}\n")).collect();
        let preset_body: String = preset.iter().map(|s| format!("    {s}\n")).collect();
        let inline = build(&format!("service svc {{\n{image}{inline_body}{envs}}}\n"), &[], &[]);
        let preset_file = format!("preset p {{\n{preset_body}}}\n");
        let with_preset = build(
            &format!("service svc {{\n    use \"./p.kdl\"\n{image}{own_body}{envs}}}\n"),
            &[("p.kdl", &preset_file)],
            &[],
        );
        let defaults_file = format!("defaults {{\n{preset_body}}}\n");
        let with_defaults =
            build(&format!("service svc {{\n{image}{own_body}{envs}}}\n"), &[], &[defaults_file.as_str()]);
        assert_eq!(ok(&inline).artifacts, ok(&with_preset).artifacts, "case {case}: preset\n{preset_file}");
        assert_eq!(inline.artifacts, ok(&with_defaults).artifacts, "case {case}: defaults\n{defaults_file}");
    }
}

#[test]
fn stdlib_preset_equals_its_text_inline() {
    for (name, text) in svcc::compose::STDLIB {
        let body: String = text
            .lines()
            .skip_while(|l| !l.starts_with("preset"))
            .skip(1)
            .take_while(|l| *l != "}")
            .map(|l| format!("{l}\n"))
            .collect();
        let image = "    image \"ghcr.io/acme/svc\"\n";
        let inline = build(&format!("service svc {{\n{image}{body}}}\n"), &[], &[]);
        let used = build(&format!("service svc {{\n    use \"{name}\"\n{image}}}\n"), &[], &[]);
        assert_eq!(ok(&inline).artifacts, ok(&used).artifacts, "{name}");
        // The same diagnostics either way: none, or the warnings that only the
        // org can silence (e.g. SVC0404, its Prometheus selector labels).
        let codes = |c: &svcc::Compiled| c.diagnostics.iter().map(|d| (d.code, d.severity)).collect::<Vec<_>>();
        assert_eq!(codes(&inline), codes(&used), "{name}");
        assert!(used.diagnostics.iter().all(|d| !d.is_error()), "{name}: {:?}", used.diagnostics);
    }
}

#[test]
fn precedence_is_defaults_then_preset_then_service_then_environment() {
    let outer = "defaults { replicas 2; labels { level \"outer\"; org \"acme\" } }";
    let inner = "defaults { replicas 3; labels { level \"inner\" } }";
    let preset = "preset p { replicas 4; port http 8080; probes { readiness \"/r\" } }";
    let c = build(
        "service svc {\n    use \"./p.kdl\"\n    image \"ghcr.io/acme/svc\"\n    replicas 5\n    environment prod { replicas 6 }\n    environment dev\n}\n",
        &[("p.kdl", preset)],
        &[outer, inner],
    );
    let dep = |env: &str| {
        ok(&c).artifacts.iter().find(|a| a.path == format!("svc/{env}/deployment-svc.yaml")).unwrap().contents.clone()
    };
    assert!(dep("prod").contains("replicas: 6"), "{}", dep("prod"));
    assert!(dep("dev").contains("replicas: 5"));
    assert!(dep("dev").contains("level: inner") && dep("dev").contains("org: acme"));
}

/// Services compile in parallel, results in input order, and one
/// service's errors do not hide another's.
#[test]
fn many_services_keep_their_order_and_their_own_errors() {
    let mut units = Vec::new();
    for i in 0..40 {
        let text = if i % 13 == 5 {
            format!("service s{i} {{ image \"ghcr.io/acme/s{i}\"; prot http 80 }}\n")
        } else {
            format!("service s{i} {{ use \"node-http-api\"; image \"ghcr.io/acme/s{i}\" }}\n")
        };
        units.push(Unit { input: Input { name: format!("s{i}.kdl"), bytes: text.into_bytes() }, defaults: vec![] });
    }
    let results = svcc::compile_units(&units, &svcc::NoFiles, &opts());
    let serial: Vec<Compiled> =
        units.iter().map(|u| svcc::compile_with(&u.input, &[], &svcc::NoFiles, &opts())).collect();
    assert_eq!(results.len(), 40);
    for (i, (r, s)) in results.iter().zip(&serial).enumerate() {
        assert_eq!(r.file.name, format!("s{i}.kdl"));
        assert_eq!(r.artifacts, s.artifacts);
        assert_eq!(r.has_errors(), i % 13 == 5, "s{i}");
    }
}
