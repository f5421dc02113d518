//! The trial's handler of autoscaler events: the request component
//! decides ([`crate::model::traffic::autoscale`]), and this carries its
//! decisions to the availability component, which holds provisioned and
//! parked replicas. Kept with the trial, not the request component, so
//! that the request component names no trial.

use super::Trial;
use crate::engine::Nanos;
use crate::model::event::AutoscaleEvent;

impl Trial<'_> {
    /// An autoscaler's event: the request component decides, then the
    /// replicas it provisioned or let go are taken off or put on hold in
    /// the availability component (a replica's failure clock runs only
    /// while it is provisioned).
    pub(in crate::model) fn on_autoscale(&mut self, event: AutoscaleEvent, now: Nanos) {
        self.requests().on_autoscale_event(event, now);
        let mut holds = std::mem::take(self.traffic.scale_holds());
        for &(r, park) in &holds {
            self.hold_replica(r, now, park, true);
            if park {
                self.availability.stop_clock(r);
            } else if self.availability.replicas[r].natural {
                let (availability, mut cx) = self.split(now);
                availability.restart_clock(&mut cx, r);
            }
        }
        holds.clear();
        *self.traffic.scale_holds() = holds;
    }
}
