//! Where a request goes: the region (global routing), the replica (the load
//! balancer, which sees only what health checks told it) and the probes.

use rand::RngExt as _;

use super::Requests;
use crate::engine::Nanos;
use crate::model::availability::Failover;
use crate::model::event::Event;
use crate::scenario::{GlobalMode, LoadBalancer, Topology};

/// The cursor's position among `n` replicas, then one step on. The cursor
/// is kept below `n` (a division only when `n` shrank since the last step),
/// so a steady rotation costs no division.
#[inline]
pub(super) fn next_cursor(cursor: &mut u32, n: usize) -> usize {
    let mut k = *cursor as usize;
    if k >= n {
        k = if k == n { 0 } else { k % n };
    }
    *cursor = (k + 1) as u32;
    k
}

impl Requests<'_> {
    /// Whether replica `r` accepts connections.
    #[inline(always)]
    pub(super) fn reachable(&self, r: usize) -> bool {
        self.availability.reachable(self.world, r) && !self.traffic.probe.restarting(r)
    }

    /// The region replica `r` is placed in.
    pub(super) fn region_of(&self, r: usize) -> Option<usize> {
        self.world.groups[self.world.replicas[r].group].region
    }

    /// Whether replica `r` is hung: it accepts connections (it and its
    /// region are otherwise up) and never answers.
    pub(super) fn hangs(&self, r: usize) -> bool {
        self.faults.overlay().hung[r] > 0
            && self.availability.replicas[r].natural
            && self.region_of(r).is_none_or(|reg| self.availability.region_up[reg])
    }

    /// The replica a request to service `s` from `from` (the caller's
    /// region) goes to. Between regions, a caller in a region stays in it
    /// while its group there takes traffic (locality first, as global load
    /// balancers do); other callers spread over the routed regions.
    #[inline]
    pub(super) fn route(&mut self, s: usize, from: Option<usize>) -> Option<usize> {
        let spec = &self.world.services[s];
        if !spec.multi_region {
            return self.pick(s, spec.groups.start);
        }
        self.route_regions(s, from)
    }

    /// [`Requests::route`] for a service placed in several regions: kept
    /// out of line so that the one-region path inlines into every send.
    #[inline(never)]
    fn route_regions(&mut self, s: usize, from: Option<usize>) -> Option<usize> {
        let spec = &self.world.services[s];
        let group = {
            match spec.mode {
                GlobalMode::ActiveActive => {
                    if let Some(local) = from.and_then(|r| {
                        spec.groups
                            .clone()
                            .find(|&g| self.world.groups[g].region == Some(r) && self.availability.groups[g].routed)
                    }) {
                        return self.pick(s, local);
                    }
                    let routed = spec
                        .groups
                        .clone()
                        .filter(|&g| self.availability.groups[g].routed)
                        .count();
                    if routed == 0 {
                        return None;
                    }
                    let k = self.traffic.route_rng[s].random_range(0..routed);
                    spec.groups
                        .clone()
                        .filter(|&g| self.availability.groups[g].routed)
                        .nth(k)?
                }
                GlobalMode::ActivePassive => self.availability.services[s].current? as usize,
            }
        };
        self.pick(s, group)
    }

    /// The replica of `group` (of service `s`) a request goes to.
    #[inline(always)]
    fn pick(&mut self, s: usize, group: usize) -> Option<usize> {
        let g = &self.world.groups[group];
        // The common case inline: round robin over an active-active group
        // with every replica healthy ([`Requests::balance`]'s first branch);
        // the rest stays out of line so that every send inlines only this.
        if g.topology != Topology::ActivePassive
            && self.traffic.unhealthy[group] == 0
            && matches!(self.world.services[s].serve.load_balancer, LoadBalancer::RoundRobin)
        {
            let k = next_cursor(&mut self.traffic.cursor[group], g.replicas.len());
            return Some(g.replicas.start + k);
        }
        self.pick_other(s, group)
    }

    /// [`Requests::pick`] past its common case.
    #[inline(never)]
    fn pick_other(&mut self, s: usize, group: usize) -> Option<usize> {
        let g = &self.world.groups[group];
        if g.topology == Topology::ActivePassive {
            if self.availability.groups[group].ap != Failover::Serving {
                return None;
            }
            return g.replicas.clone().find(|&r| self.availability.replicas[r].active);
        }
        self.balance(s, group)
    }

    pub(super) fn balance(&mut self, s: usize, group: usize) -> Option<usize> {
        let replicas = self.world.groups[group].replicas.clone();
        let t = &mut self.traffic;
        let n_all = replicas.len();
        // The common case, every replica healthy, needs no scan.
        let (healthy, every) = if t.unhealthy[group] == 0 {
            (n_all, true)
        } else {
            if self.world.groups[group].parked > 0 {
                // An autoscaled group with slots out of service.
                return self.balance_in_service(s, group);
            }
            let healthy = replicas.clone().filter(|&r| t.health[r].healthy).count();
            // Panic routing: below the threshold (by default, with nothing
            // healthy) spread over everything.
            let every = match self.world.services[s].serve.defence.probes.panic_threshold {
                None => healthy == 0,
                Some(p) => (healthy as f64) < p * n_all as f64,
            };
            if !every && healthy == 0 {
                return None;
            }
            (healthy, every)
        };
        let eligible = |r: usize| every || t.health[r].healthy;
        let n = if every { n_all } else { healthy };
        let nth = |k: usize| {
            if every {
                Some(replicas.start + k)
            } else {
                replicas.clone().filter(|&r| eligible(r)).nth(k)
            }
        };
        let load = |r: usize| t.servers[r].busy + t.servers[r].waiting;
        match self.world.services[s].serve.load_balancer {
            LoadBalancer::RoundRobin => {
                let k = next_cursor(&mut t.cursor[group], n);
                nth(k)
            }
            LoadBalancer::Random => {
                let k = t.route_rng[s].random_range(0..n);
                nth(k)
            }
            LoadBalancer::LeastOutstanding => {
                // Ties go round-robin so equal replicas share the load.
                let start = next_cursor(&mut t.cursor[group], n_all);
                (0..n_all)
                    .map(|i| replicas.start + (start + i) % n_all)
                    .filter(|&r| eligible(r))
                    .min_by_key(|&r| load(r))
            }
            LoadBalancer::PowerOfTwo => {
                let a = t.route_rng[s].random_range(0..n);
                let b = t.route_rng[s].random_range(0..n);
                let (ra, rb) = (nth(a)?, nth(b)?);
                Some(if load(rb) < load(ra) { rb } else { ra })
            }
        }
    }

    pub(in crate::model) fn on_health_check(&mut self, group: usize, now: Nanos) {
        let spec = &self.world.groups[group];
        let serve = &self.world.services[spec.service].serve;
        let hc = serve.health_check;
        if let Some(probe) = serve.defence.probes.readiness {
            self.send_readiness(group, probe, now);
        } else {
            for r in spec.replicas.clone() {
                if self.traffic.health[r].out {
                    // An autoscaler's slot out of service is not checked.
                    continue;
                }
                let ok = self.reachable(r);
                self.readiness_verdict(r, ok, now);
            }
        }
        self.queue.schedule(now + hc.interval, Event::HealthCheck(group as u32));
    }

    /// One readiness probe's verdict on replica `r`.
    pub(super) fn readiness_verdict(&mut self, r: usize, ok: bool, now: Nanos) {
        let hc = self.world.services[self.world.replicas[r].service].serve.health_check;
        let h = &mut self.traffic.health[r];
        if ok {
            h.oks += 1;
            h.fails = 0;
            if h.oks >= hc.healthy && !h.probe_ok {
                h.probe_ok = true;
                self.set_eligible(r);
                self.trace_health(r, now, true);
            }
        } else {
            h.fails += 1;
            h.oks = 0;
            if h.fails >= hc.unhealthy && h.probe_ok {
                h.probe_ok = false;
                self.set_eligible(r);
                self.faults.signal(now);
                self.trace_health(r, now, false);
            }
        }
    }
}
