//! The `jobs` block: `job NAME { … }` and `cron-job NAME schedule="…"
//! { … }`. Each holds its own settings ([`SETTINGS`]) and the container
//! settings of a service's container (`image`, `command`, `env`, …), read
//! by the same tables (`Place::CONTAINER`).

use kdl::KdlNode;

use super::body::{self, Contents};
use super::node::{self, Block, Node, Place, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Hook, Job, Map};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "job",
        place: Place::ANY,
        order: 16,
        summary: "A Job run to completion with the service's image (a migration, a cache warmer), hardened like its pods",
        doc: "language.md#job-and-cron-job",
        args: "NAME",
        repeat: true,
        children: Some(&SETTINGS),
        ..Node::new(|n, d, c| job(n, d, false, &mut c.body.jobs))
    },
    Node {
        name: "cron-job",
        place: Place::ANY,
        order: 16,
        summary: "A CronJob: a Job run on a schedule (a nightly report)",
        doc: "language.md#job-and-cron-job",
        args: "NAME",
        props: &["schedule", "time-zone"],
        repeat: true,
        children: Some(&SETTINGS),
        ..Node::new(|n, d, c| job(n, d, true, &mut c.body.jobs))
    },
];

/// The settings of a job beside its container's.
pub const SETTINGS: &[Node<Job>] = &[
    Node {
        name: "hook",
        summary: "Run it as an Argo CD resource hook: `pre-sync` runs before the new version is applied",
        doc: "language.md#job-hooks",
        args: "PHASE",
        props: &["delete", "wave"],
        ..Node::new(hook)
    },
    Node {
        name: "container-name",
        summary: "The name of the job's container (default: the job's name)",
        doc: "language.md#job-settings",
        args: "NAME",
        ..Node::new(|n, d, j| {
            j.container_name = single(n, d, |d, e| reader::name(d, e, "container name", values::check_dns1123_label));
        })
    },
    Node {
        name: "backoff-limit",
        summary: "How many failed pods before the Job fails (Kubernetes default 6)",
        doc: "language.md#job-settings",
        args: "N",
        ..Node::new(|n, d, j| j.backoff_limit = single(n, d, |d, e| reader::u32_in(d, e, 0, 1000)))
    },
    Node {
        name: "deadline",
        summary: "How long the Job may run in all (`activeDeadlineSeconds`)",
        doc: "language.md#job-settings",
        args: "DURATION",
        ..Node::new(|n, d, j| j.deadline = single(n, d, positive_seconds))
    },
    Node {
        name: "ttl",
        summary: "Delete the finished Job after this long (`ttlSecondsAfterFinished`)",
        doc: "language.md#job-settings",
        args: "DURATION",
        ..Node::new(|n, d, j| j.ttl = single(n, d, reader::seconds))
    },
    Node {
        name: "restart",
        summary: "Restart a failed container in its pod (`on-failure`) or start a new pod (`never`, the default)",
        doc: "language.md#job-settings",
        args: "never|on-failure",
        ..Node::new(|n, d, j| j.restart = single(n, d, |d, e| reader::choice(d, e, &["never", "on-failure"])))
    },
    Node {
        name: "concurrency",
        summary: "What a CronJob does when a run is due and the last one still runs (default `forbid`)",
        doc: "language.md#cron-job-settings",
        args: "forbid|allow|replace",
        ..Node::new(|n, d, j| {
            j.concurrency = single(n, d, |d, e| reader::choice(d, e, &["forbid", "allow", "replace"]));
        })
    },
    Node {
        name: "history",
        summary: "How many finished Jobs a CronJob keeps (`succeeded=3 failed=1`)",
        doc: "language.md#cron-job-settings",
        props: &["succeeded", "failed"],
        ..Node::new(history)
    },
    Node {
        name: "suspend",
        summary: "Stop scheduling new runs (`suspend #true`)",
        doc: "language.md#cron-job-settings",
        args: "BOOL",
        ..Node::new(|n, d, j| j.suspend = single(n, d, reader::boolean))
    },
    Node {
        name: "network",
        summary: "What the job's pods reach beyond the service's egress (`egress` lines); `#false`: no NetworkPolicy for them",
        doc: "language.md#job-settings",
        args: "[#false]",
        children: Some(&super::network::JOB_NETWORK),
        ..Node::new(|n, d, j| j.network = Some(super::network::job_network(n, d)))
    },
    Node {
        name: "starting-deadline",
        summary: "Skip a run that could not start within this long of its time",
        doc: "language.md#cron-job-settings",
        args: "DURATION",
        ..Node::new(|n, d, j| j.starting_deadline = single(n, d, positive_seconds))
    },
];

/// The phases of an Argo CD resource hook a job can run in.
pub const HOOK_PHASES: &[&str] = &["pre-sync", "sync", "post-sync", "sync-fail"];
/// Argo CD's hook deletion policies.
pub const HOOK_DELETE: &[&str] = &["before-hook-creation", "hook-succeeded", "hook-failed"];

/// `job migrate { … }`, `cron-job report schedule="0 3 * * *" { … }`.
fn job(node: &KdlNode, diags: &mut Diagnostics, cron: bool, out: &mut Map<Job>) {
    let (j, (schedule, time_zone)) = read(node, diags, cron, |r, diags| {
        if !cron {
            return (None, None);
        }
        // Required once the layers are merged (an environment refines a
        // cron-job without repeating it): `check::jobs`.
        let schedule = r.prop("schedule").and_then(|e| reader::string(diags, e));
        let schedule = schedule.and_then(|s| checked(diags, s, check_cron, Code::InvalidCron));
        let tz = r.prop("time-zone").and_then(|e| reader::string(diags, e));
        (schedule, tz.and_then(|s| checked(diags, s, check_time_zone, Code::InvalidTimeZone)))
    });
    let Some(mut j) = j else { return };
    j.schedule = schedule;
    j.time_zone = time_zone;
    if let Some(prev) = out.get(&j.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("job `{}` is declared twice", j.name.value))
                .at(j.name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each job its own name"),
        );
        return;
    }
    out.insert(j.name.value.clone(), j);
}

/// A job node: its name, the properties `props` reads (a cron-job's
/// schedule, an analysis gate's measurements) before the rest are reported,
/// its own settings by [`SETTINGS`] and the rest as a container's body.
/// The job is `None` without a valid name (reported); its settings are read
/// and checked all the same.
pub(super) fn read<T>(
    node: &KdlNode,
    diags: &mut Diagnostics,
    cron: bool,
    props: impl FnOnce(&mut NodeReader, &mut Diagnostics) -> T,
) -> (Option<Job>, T) {
    let mut r = NodeReader::new(node);
    let what = node.name().value();
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "job name", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "a job name", format!("write `{what} NAME {{ command \"…\" }}`")));
            None
        }
    };
    let read = props(&mut r, diags);
    r.finish(diags);
    let (own, container): (Vec<&KdlNode>, Vec<&KdlNode>) =
        children(node).iter().partition(|c| SETTINGS.iter().any(|s| s.name == c.name().value()));
    let container: Vec<KdlNode> = container.into_iter().cloned().collect();
    let contents = body::decode_body(&container, what, Place::CONTAINER, diags);
    let named = name.is_some();
    let mut j = Job::new(name.unwrap_or_else(|| Spanned::new(String::new(), name_span(node))), name_span(node), cron);
    j.body = contents.body;
    let own: Vec<KdlNode> = own.into_iter().cloned().collect();
    node::decode_each(
        &[SETTINGS],
        &own,
        Block { name: what, place: Place::ANY, twice: Twice::InParent },
        &mut j,
        diags,
    );
    (named.then_some(j), read)
}

/// `s` when `check` accepts it, else `None` and the reason under `code`.
fn checked(
    diags: &mut Diagnostics,
    s: Spanned<String>,
    check: fn(&str) -> Result<(), String>,
    code: Code,
) -> Option<Spanned<String>> {
    match check(&s.value) {
        Ok(()) => Some(s),
        Err(why) => {
            let what = if code == Code::InvalidCron { "a cron schedule" } else { "a time zone" };
            let help = if code == Code::InvalidCron {
                "write five fields, minute hour day-of-month month day-of-week, such as \"30 2 * * 1-5\", or a macro such as \"@daily\""
            } else {
                "write an IANA time zone name such as \"Europe/Paris\" or \"Etc/UTC\""
            };
            diags.push(
                Diagnostic::error(code, format!("`{}` is not {what}", s.value.escape_debug()))
                    .at(s.span, why)
                    .help(help),
            );
            None
        }
    }
}

/// A node with one argument read by `read`.
fn single<T>(
    node: &KdlNode,
    diags: &mut Diagnostics,
    read: fn(&mut Diagnostics, &kdl::KdlEntry) -> Option<Spanned<T>>,
) -> Option<Spanned<T>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => read(diags, e),
        None => {
            diags.push(missing(r.name_span(), "a value", format!("write `{} VALUE`", node.name().value())));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// Whole seconds, at least one.
fn positive_seconds(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<crate::model::Duration>> {
    let d = reader::seconds(diags, e)?;
    if d.value.millis == 0 {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "a deadline of zero stops the job before it starts")
                .at(d.span, "must be at least \"1s\""),
        );
        return None;
    }
    Some(d)
}

/// `hook pre-sync delete="hook-succeeded" wave=-1`.
fn hook(node: &KdlNode, diags: &mut Diagnostics, j: &mut Job) {
    let mut r = NodeReader::new(node);
    let phase = match r.arg(0) {
        Some(e) => reader::choice(diags, e, HOOK_PHASES),
        None => {
            diags.push(missing(r.name_span(), "a hook phase", "write `hook pre-sync`"));
            None
        }
    };
    let delete = r.prop("delete").and_then(|e| reader::choice(diags, e, HOOK_DELETE));
    let wave = r.prop("wave").and_then(|e| reader::int(diags, e, -1000, 1000)).map(|w| w.map(|v| v as i64));
    r.finish(diags);
    no_children(diags, node);
    if let Some(phase) = phase {
        j.hook = Some(Hook { node: name_span(node), phase, delete, wave });
    }
}

/// `history succeeded=3 failed=1`.
fn history(node: &KdlNode, diags: &mut Diagnostics, j: &mut Job) {
    let mut r = NodeReader::new(node);
    j.keep_succeeded = r.prop("succeeded").and_then(|e| reader::u32_in(diags, e, 0, 100));
    j.keep_failed = r.prop("failed").and_then(|e| reader::u32_in(diags, e, 0, 100));
    if j.keep_succeeded.is_none() && j.keep_failed.is_none() && !r.has_unknown_props() {
        diags.push(missing(r.name_span(), "`succeeded=` or `failed=`", "write `history succeeded=3 failed=1`"));
    }
    r.finish(diags);
    no_children(diags, node);
}

/// The cron macros Kubernetes accepts (robfig/cron's standard parser).
const MACROS: &[&str] = &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// A schedule Kubernetes accepts: a macro, or five fields (minute, hour,
/// day of month, month, day of week), each `*`, a number, a name (months,
/// days), a range, a step, or a list of those. No `TZ=` prefix: the time
/// zone is `time-zone=`.
pub fn check_cron(s: &str) -> Result<(), String> {
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("a time zone in the schedule is refused by Kubernetes: use `time-zone=`".into());
    }
    if s.starts_with('@') {
        return match MACROS.contains(&s) {
            true => Ok(()),
            false => Err(format!("unknown macro; the macros are {}", MACROS.join(", "))),
        };
    }
    let fields: Vec<&str> = s.split_ascii_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "{} fields; a schedule has five: minute hour day-of-month month day-of-week",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, MONTHS),
        ("day of week", 0, 6, DAYS),
    ];
    for (field, (what, min, max, names)) in fields.iter().zip(specs) {
        let optional = what.starts_with("day");
        for part in field.split(',') {
            cron_part(part, min, max, names, optional).map_err(|e| format!("{what} `{field}`: {e}"))?;
        }
    }
    Ok(())
}

/// One item of a cron field's list: `*`, `?` (days), `N`, `N-M`, each
/// with an optional `/STEP`.
fn cron_part(part: &str, min: u32, max: u32, names: &[&str], optional: bool) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(s) = step {
        match s.parse::<u32>() {
            Ok(n) if n >= 1 && n <= max.max(1) => {}
            _ => return Err(format!("step `{s}` must be a number from 1 to {max}")),
        }
    }
    let value = |v: &str| -> Result<u32, String> {
        let lower = v.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            return Ok(u32::try_from(i).unwrap_or(0) + min);
        }
        match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) && v.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ if v.is_empty() => Err("an empty value".into()),
            _ => Err(format!("`{v}` is not a value from {min} to {max}")),
        }
    };
    match range {
        "*" => Ok(()),
        "?" if optional => Ok(()),
        _ => match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b { Err(format!("range `{range}` runs backwards")) } else { Ok(()) }
            }
            None => value(range).map(|_| ()),
        },
    }
}

/// An IANA time zone name as Kubernetes accepts it (the API server looks
/// it up in its own tz database; `Local` is refused).
pub fn check_time_zone(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if s.eq_ignore_ascii_case("local") {
        return Err("`Local` depends on the node's clock and is refused by Kubernetes".into());
    }
    let part_ok = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    };
    if !s.split('/').all(part_ok) {
        return Err("not a name of the tz database: letters, digits, `_`, `-`, `+`, parts joined by `/`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        for ok in ["0 3 * * *", "*/15 * * * *", "30 2 * * 1-5", "0 0 1 jan,jul ?", "0 9-17/2 * * MON-FRI", "@daily"] {
            assert!(check_cron(ok).is_ok(), "{ok}: {:?}", check_cron(ok));
        }
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 7",
            "5-1 * * * *",
            "*/0 * * * *",
            "@every 5m",
            "TZ=UTC 0 0 * * *",
            "0 0 * * * *",
            "a * * * *",
            "? * * * *",
            "1,,2 * * * *",
            "0 0 * * $(reboot)",
        ] {
            assert!(check_cron(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        for ok in ["Europe/Paris", "Etc/UTC", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"] {
            assert!(check_time_zone(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Local", "../etc", "Europe//Paris", "Europe/Paris\n", "/UTC", "UTC "] {
            assert!(check_time_zone(bad).is_err(), "{bad:?}");
        }
    }
}
