//! `job NAME interval=… count=… { … }` in an analysis block: a gate that
//! runs a Job of the user's (Argo Rollouts' job provider) and passes when
//! it completes (docs/rollouts.md#job-gates). The job is read as a `job`
//! block's ([`crate::decode::jobs::read`]: its settings and container); its
//! settings an analysis cannot honour are reported in `check::jobs`.

use kdl::KdlNode;

use super::Gates;
use crate::decode::jobs;
use crate::decode::reader::name_span;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Spanned;

/// `job smoke-test interval="1m" count=3 failure-limit=1 { image …; command … }`.
pub(super) fn gate(node: &KdlNode, diags: &mut Diagnostics, gates: &mut Gates) {
    let mut g = Gate::new(GateKind::Job, Spanned::new(String::new(), name_span(node)));
    let (job, ()) = jobs::read(node, diags, false, |r, diags| {
        super::measurements(r, diags, &mut g);
        for key in ["success", "failure"] {
            if let Some(e) = r.refused(key) {
                diags.push(
                    Diagnostic::error(Code::AnalysisJobSetting, format!("a job gate has no `{key}` condition"))
                        .at(e.span().into(), "the Job's outcome is the measurement")
                        .help(format!("remove `{key}=`: the measurement passes when the Job completes, and fails when it fails (exit with a non-zero code to fail it)"))
                        .note("Argo Rollouts judges a job metric by the Job's status alone; it has no result for a condition to read"),
                );
            }
        }
    });
    // A gate without a valid name (reported) still counts as the block's
    // gate, so the block is not also reported empty.
    let Some(job) = job else { return };
    if let Some(prev) = gates.list.iter().find(|x| x.kind == GateKind::Job && x.name.value == job.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("job `{}` is set twice in `{}`", job.name.value, gates.parent))
                .at(job.name.span, "set again here")
                .also(prev.name.span, "first set here")
                .help("give each job of an analysis its own name: it is the AnalysisTemplate metric's name"),
        );
        return;
    }
    g.name = job.name.clone();
    g.job = Some(Box::new(job));
    gates.list.push(g);
}
