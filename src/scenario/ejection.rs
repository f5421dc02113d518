//! `outlier_detection.max_ejection_time`: the opt-in for Envoy's ejection
//! time that grows with repeated ejections (the state machine is in
//! `model::traffic::ejection`). Checked here: it must be at least
//! `eject_for`, the base time it multiplies.

use super::checker::Checker;
use super::duration::Duration;
use super::raw::RawOutlier;
use crate::engine::Nanos;

/// The cap on the ejection time: `Some(None)` without the key (the fixed
/// `eject_for`), `Some(Some(max))` with it, `None` after an error.
pub(super) fn max_ejection_time(
    c: &mut Checker<'_>,
    r: &RawOutlier,
    key: &str,
    eject_for: Nanos,
) -> Option<Option<Nanos>> {
    let Some(m) = &r.max_ejection_time else {
        return Some(None);
    };
    let max = m.get_ref().0;
    if max < eject_for {
        c.err_help(
            &m.span(),
            format!("{key}.max_ejection_time"),
            format!(
                "is {}, shorter than eject_for ({}), the time it caps",
                Duration(max),
                Duration(eject_for)
            ),
            format!(
                "write max_ejection_time = \"{}\" or longer (Envoy's default is 300s), or drop it for a fixed ejection time",
                Duration(eject_for)
            ),
        );
        return None;
    }
    Some(Some(max))
}
