//! Closed forms for the operations keys: the Markov model of one k-of-n
//! service with limited repair crews and common-cause shocks.
//!
//! With exponential failure, repair and shock times and only that service
//! failing in what the entry needs, the number of failed replicas is a
//! continuous-time Markov chain on `0..=n`: each up replica fails at rate
//! `λ`; each shock group `c` (rate `λ_c`) fails each up replica with
//! probability `p_c`, so from `i` failed it jumps to `i + j` at rate
//! `λ_c · C(n-i, j) p_c^j (1-p_c)^(n-i-j)`; and `min(i, crews) μ` repairs
//! finish per unit time. That covers the machine-repairman model (`crews`
//! limited, no shocks) and the beta-factor model (`p = 1`: a shock fails
//! every replica). Repairs move one step down, so the stationary law
//! follows from the balance of flow across each cut `{0..=i} | {i+1..=n}`:
//! `π_{i+1} r_{i+1} = Σ_{j<=i} π_j q(j → above i)`, a recursion of
//! positive terms that stays accurate far into the tail (no subtraction).
//! Zones need no chain: they condition like regions (in the parent).

use crate::scenario::{Scenario, Standby, Topology};

/// Most replicas the chain is built for.
const MAX_REPLICAS: u32 = 500;

/// The closed form when crews, shocks or spares touch what a service
/// needs (`needs`, its closure): `None` when none do (the parent's forms apply).
pub(super) fn closed_form(sc: &Scenario, needs: &[bool]) -> Option<Result<f64, String>> {
    let ops = &sc.infra;
    let failing: Vec<usize> = (0..sc.services.len())
        .filter(|&i| needs[i] && sc.services[i].failure.is_some())
        .collect();
    if let Some(&i) = failing.iter().find(|&&i| ops.spares[i].is_some()) {
        return Some(Err(format!(
            "service \"{}\" replaces replicas from a spare pool whose lead times it waits for",
            sc.services[i].name
        )));
    }
    let shocks: Vec<_> = ops
        .common_causes
        .iter()
        .filter(|c| c.services.iter().any(|&t| needs[t]))
        .collect();
    let pool_of = |i: usize| -> Option<u32> {
        let svc = &sc.services[i];
        if svc.regions.is_empty() {
            ops.crews.global
        } else {
            svc.regions
                .iter()
                .find_map(|&r| ops.crews.regions[r])
                .or(ops.crews.global)
        }
    };
    let crews_apply = failing.iter().any(|&i| pool_of(i).is_some());
    if shocks.is_empty() && !crews_apply {
        return None;
    }
    let (&one, rest) = failing.split_first()?;
    if !rest.is_empty() {
        return Some(Err(format!(
            "crews or common causes couple services \"{}\" and \"{}\" (the chain here is for one failing service)",
            sc.services[one].name, sc.services[rest[0]].name
        )));
    }
    Some(chain(sc, one, &shocks))
}

fn chain(sc: &Scenario, s: usize, shocks: &[&crate::scenario::infra::CommonCause]) -> Result<f64, String> {
    let ops = &sc.infra;
    let svc = &sc.services[s];
    if !svc.regions.is_empty() {
        return Err(format!(
            "service \"{}\" is placed in regions (the crew and shock chain here is for an unplaced service)",
            svc.name
        ));
    }
    // Crews shared with a service the entry does not need still couple.
    if ops.crews.global.is_some()
        && let Some(other) =
            sc.services.iter().enumerate().find(|(i, o)| {
                *i != s && o.failure.is_some() && o.regions.iter().all(|&r| ops.crews.regions[r].is_none())
            })
    {
        return Err(format!("its crews also repair service \"{}\"", other.1.name));
    }
    let (Some(failure), Some(repair)) = (&svc.failure, &svc.repair) else {
        return Err("nothing fails".into());
    };
    if !failure.is_exponential() || !repair.is_exponential() || shocks.iter().any(|c| !c.every.is_exponential()) {
        return Err(
            "crews and common causes have a closed form (a Markov chain) only with exponential failure, repair \
             and shock times"
                .into(),
        );
    }
    let (n, k) = match svc.topology {
        Topology::Single => (1, 1),
        Topology::ActiveActive => (svc.replicas, svc.min_healthy),
        Topology::ActivePassive if svc.standby == Standby::Hot => (svc.replicas, 1),
        Topology::ActivePassive => return Err(format!("service \"{}\" has cold standbys", svc.name)),
    };
    if n > MAX_REPLICAS {
        return Err(format!("more than {MAX_REPLICAS} replicas"));
    }
    let shock_list: Vec<(f64, f64)> = shocks
        .iter()
        .filter(|c| c.services.contains(&s))
        .map(|c| (1.0 / c.every.mean_secs(), c.probability))
        .collect();
    Ok(k_of_n(
        n,
        k,
        1.0 / failure.mean_secs(),
        1.0 / repair.mean_secs(),
        ops.crews.global,
        &shock_list,
    ))
}

/// Long-run availability of `k`-of-`n` replicas that each fail at rate
/// `lambda`, repaired at rate `mu` by `crews` crews (`None`: one per
/// failure), under shock groups `(rate, probability)` (see the module doc).
pub fn k_of_n(n: u32, k: u32, lambda: f64, mu: f64, crews: Option<u32>, shocks: &[(f64, f64)]) -> f64 {
    let n = n as usize;
    // q[j][m]: rate from j failed to m > j failed.
    let up_rate = |j: usize, m: usize| -> f64 {
        let up = n - j;
        let mut q = if m == j + 1 { up as f64 * lambda } else { 0.0 };
        for &(rate, p) in shocks {
            q += rate * binom_pmf(up, m - j, p);
        }
        q
    };
    let mut pi = vec![0.0f64; n + 1];
    pi[0] = 1.0;
    for i in 0..n {
        let mut flow = 0.0;
        for (j, &pj) in pi.iter().enumerate().take(i + 1) {
            if pj == 0.0 {
                continue;
            }
            let above: f64 = (i + 1..=n).map(|m| up_rate(j, m)).sum();
            flow += pj * above;
        }
        let busy = crews.map_or(i + 1, |c| (i + 1).min(c as usize));
        pi[i + 1] = flow / (busy as f64 * mu);
    }
    let total: f64 = pi.iter().sum();
    let down: f64 = pi[n - k as usize + 1..].iter().sum();
    1.0 - down / total
}

/// `P(Binomial(n, p) = j)`.
fn binom_pmf(n: usize, j: usize, p: f64) -> f64 {
    if j > n {
        return 0.0;
    }
    let mut c = 1.0f64;
    for i in 0..j {
        c *= (n - i) as f64 / (i + 1) as f64;
    }
    c * p.powi(j as i32) * (1.0 - p).powi((n - j) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without shocks and with a crew per failure, replicas are
    /// independent: the binomial k-of-n.
    #[test]
    fn unlimited_crews_give_the_binomial() {
        let (lambda, mu) = (1.0 / 1000.0, 1.0 / 10.0);
        let a = mu / (lambda + mu);
        let chain = k_of_n(3, 2, lambda, mu, None, &[]);
        assert!((chain - super::super::at_least(2, 3, a)).abs() < 1e-14);
    }

    /// One machine, one crew: `μ / (λ + μ)`; two machines, one crew, both
    /// needed: the textbook machine-repairman law.
    #[test]
    fn machine_repairman_by_hand() {
        let (l, m) = (0.01, 1.0);
        assert!((k_of_n(1, 1, l, m, Some(1), &[]) - m / (l + m)).abs() < 1e-15);
        // π1 = 2l/m π0, π2 = l/m π1.
        let (p0, p1, p2) = (1.0, 2.0 * l / m, 2.0 * l * l / (m * m));
        let want = 1.0 - (p1 + p2) / (p0 + p1 + p2);
        assert!((k_of_n(2, 2, l, m, Some(1), &[]) - want).abs() < 1e-15);
    }

    /// A 1-of-1 with a shock of probability 1 is a component failing at
    /// `λ + λ_c`.
    #[test]
    fn a_certain_shock_adds_to_the_failure_rate() {
        let got = k_of_n(1, 1, 0.01, 1.0, None, &[(0.02, 1.0)]);
        assert!((got - 1.0 / 1.03).abs() < 1e-15);
    }
}
