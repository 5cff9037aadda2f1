//! The fidelity report: per object, how many fields are native, patched,
//! changed by design or not carried over, and why (`--report json`).

use std::fmt::Write as _;

use serde::Serialize;

use super::ledger::{Item, ObjectReport};

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub fields: usize,
    pub native: usize,
    pub patched: usize,
    pub changed: usize,
    pub not_carried_over: usize,
}

impl Totals {
    fn add(&mut self, o: &ObjectReport) {
        self.fields += o.fields;
        self.native += o.native;
        self.patched += o.patched;
        self.changed += o.changed;
        self.not_carried_over += o.not_carried_over;
    }

    fn sum(&mut self, t: &Totals) {
        self.fields += t.fields;
        self.native += t.native;
        self.patched += t.patched;
        self.changed += t.changed;
        self.not_carried_over += t.not_carried_over;
    }

    /// Native fields as a share of all fields (1.0 for none).
    pub fn native_share(&self) -> f64 {
        if self.fields == 0 { 1.0 } else { self.native as f64 / self.fields as f64 }
    }
}

/// Fields a generated object has that its input did not (labels,
/// hardening, defaults): svcc's changes by design.
#[derive(Clone, Debug, Serialize)]
pub struct Added {
    pub object: String,
    pub environment: String,
    pub fields: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    pub service: String,
    pub native_share: f64,
    pub totals: Totals,
    pub objects: Vec<ObjectReport>,
    pub added_by_svcc: Vec<Added>,
}

impl ServiceReport {
    pub fn new(service: &str, objects: Vec<ObjectReport>, added: Vec<(String, String, usize)>) -> Self {
        let mut totals = Totals::default();
        for o in &objects {
            totals.add(o);
        }
        ServiceReport {
            service: service.into(),
            native_share: totals.native_share(),
            totals,
            objects,
            added_by_svcc: added
                .into_iter()
                .map(|(object, environment, fields)| Added { object, environment, fields })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The format version of this report.
    pub version: u32,
    pub harden: bool,
    pub totals: Totals,
    pub services: Vec<ServiceReport>,
    /// Objects in no spec: kinds svcc does not generate, objects of no workload.
    pub not_imported: Vec<ObjectReport>,
}

impl Report {
    pub fn new(services: Vec<ServiceReport>, not_imported: Vec<ObjectReport>, harden: bool) -> Self {
        let mut totals = Totals::default();
        for s in &services {
            totals.sum(&s.totals);
        }
        for o in &not_imported {
            totals.add(o);
        }
        Report { version: 1, harden, totals, services, not_imported }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The report for a person.
    pub fn human(&self) -> String {
        let mut out = String::new();
        for s in &self.services {
            let t = &s.totals;
            let _ = writeln!(
                out,
                "{}: {:.1}% native ({} of {} fields; {} patched, {} changed by design, {} not carried over)",
                s.service,
                100.0 * s.native_share,
                t.native,
                t.fields,
                t.patched,
                t.changed,
                t.not_carried_over
            );
            for o in &s.objects {
                object(&mut out, o);
            }
            let added: usize = s.added_by_svcc.iter().map(|a| a.fields).sum();
            if added > 0 {
                let _ =
                    writeln!(out, "  svcc adds {added} fields by design (labels, hardening, defaults; docs/import.md)");
            }
        }
        if !self.not_imported.is_empty() {
            let _ = writeln!(out, "not imported:");
            for o in &self.not_imported {
                object(&mut out, o);
            }
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "total: {:.1}% native ({} of {} fields; {} patched, {} changed by design, {} not carried over)",
            100.0 * t.native_share(),
            t.native,
            t.fields,
            t.patched,
            t.changed,
            t.not_carried_over
        );
        // Reasons and pointers hold the input's keys and values: no escape
        // sequence of theirs reaches the terminal.
        crate::diagnostic::render::visible(&out)
    }
}

fn object(out: &mut String, o: &ObjectReport) {
    let env = if o.environment == super::DEFAULT_ENV { String::new() } else { format!(" [{}]", o.environment) };
    let _ = writeln!(
        out,
        "  {}/{}{env} ({}): {} native, {} patched, {} changed, {} not carried over",
        o.kind.escape_debug(),
        o.name.escape_debug(),
        o.source.escape_debug(),
        o.native,
        o.patched,
        o.changed,
        o.not_carried_over
    );
    reasons(out, "changed", &o.changes);
    reasons(out, "not carried over", &o.dropped);
}

/// Items grouped by reason, a few pointers each.
fn reasons(out: &mut String, what: &str, items: &[Item]) {
    let mut by: Vec<(&str, Vec<&str>)> = Vec::new();
    for i in items {
        match by.iter_mut().find(|(r, _)| *r == i.reason) {
            Some((_, ps)) => ps.push(&i.pointer),
            None => by.push((&i.reason, vec![&i.pointer])),
        }
    }
    for (reason, ps) in by {
        // Keys come from the input: shown escaped, one line each.
        let shown: Vec<String> = ps.iter().take(4).map(|p| p.escape_debug().to_string()).collect();
        let more = if ps.len() > 4 { format!(" and {} more", ps.len() - 4) } else { String::new() };
        let _ = writeln!(out, "    {what}: {}{more}: {}", shown.join(", "), reason.escape_debug());
    }
}
