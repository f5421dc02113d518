//! What windowed request sampling (`super::super::windowed`) reads and sets
//! of the health checks: a window or a stationary sample starts from a
//! state whose configuration has held for longer than any health check
//! needs to see it, so the balancer's verdicts already agree with what
//! serves; and a window has settled only once they agree again.

use super::Requests;

impl Requests<'_> {
    /// Sets every replica's health-check verdict to what its reachability
    /// has said for long enough: unreachable replicas marked unhealthy
    /// (as after `unhealthy` failed checks), reachable ones healthy.
    pub(in crate::model) fn preset_health(&mut self) {
        for r in 0..self.world.replicas.len() {
            let ok = self.reachable(r);
            let hc = self.world.services[self.world.replicas[r].service].serve.health_check;
            let h = &mut self.traffic.health[r];
            h.probe_ok = ok;
            h.fails = if ok { 0 } else { hc.unhealthy };
            h.oks = if ok { hc.healthy } else { 0 };
            self.set_eligible(r);
        }
    }

    /// Whether every replica's health-check verdict agrees with its
    /// reachability (the checks have seen the last change). An
    /// autoscaler's slot out of service is not checked, so its verdict is
    /// not asked to agree.
    pub(in crate::model) fn health_agrees(&self) -> bool {
        (0..self.world.replicas.len())
            .all(|r| self.traffic.health[r].out || self.traffic.health[r].probe_ok == self.reachable(r))
    }
}
