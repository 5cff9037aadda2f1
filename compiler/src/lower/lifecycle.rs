//! `shutdown`: the container's pre-stop pause and the pod's grace period.

use k8s_openapi::api::core::v1::{Lifecycle, LifecycleHandler, SleepAction};

use crate::plan::Plan;

/// A pre-stop sleep, so endpoints stop sending traffic before the
/// process is told to stop; none when the spec sets it to zero.
pub(super) fn lifecycle(p: &Plan) -> Option<Lifecycle> {
    if p.pre_stop_seconds == 0 {
        return None;
    }
    Some(Lifecycle {
        pre_stop: Some(LifecycleHandler {
            sleep: Some(SleepAction { seconds: i64::try_from(p.pre_stop_seconds).unwrap_or(i64::MAX) }),
            ..LifecycleHandler::default()
        }),
        ..Lifecycle::default()
    })
}

/// The pod's `terminationGracePeriodSeconds`.
pub(super) fn grace_seconds(p: &Plan) -> i64 {
    i64::try_from(p.grace_seconds).unwrap_or(i64::MAX)
}
