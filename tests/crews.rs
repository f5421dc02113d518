//! Correlated failures and repair that waits (issue 19): zones and the
//! spread rule, common-cause groups, repair crews and spare pools. Each
//! time-based case is checked against a closed form computed here, apart
//! from the library's (a dense Markov solve, or conditioning on zones), and
//! that form must lie inside a tight reported interval.

use crate::util::{Dir, assert_covers, assert_excludes, simulate};

/// `P(Binomial(n, a) >= k)`.
fn at_least(k: u32, n: u32, a: f64) -> f64 {
    (k..=n)
        .map(|i| {
            let c: f64 = (0..i).map(|j| f64::from(n - j) / f64::from(j + 1)).product();
            c * a.powi(i as i32) * (1.0 - a).powi((n - i) as i32)
        })
        .sum()
}

/// Stationary law of the generator `q` (rows sum to zero) by Gaussian
/// elimination on `π Q = 0` with one equation replaced by `Σ π = 1`.
fn stationary(q: &[Vec<f64>]) -> Vec<f64> {
    let n = q.len();
    // Rows of the system: a[i][j] = q[j][i] (transpose), last row all ones.
    let mut a: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| q[j][i]).collect()).collect();
    let mut b = vec![0.0; n];
    a[n - 1] = vec![1.0; n];
    b[n - 1] = 1.0;
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .expect("a row");
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot = a[col].clone();
        let bc = b[col];
        for (row, (r, br)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
            if row != col {
                let f = r[col] / pivot[col];
                for (x, p) in r.iter_mut().zip(&pivot).skip(col) {
                    *x -= f * p;
                }
                *br -= f * bc;
            }
        }
    }
    (0..n).map(|i| b[i] / a[i][i]).collect()
}

/// k-of-n replicas failing at `l`, repaired at `m` by `crews` crews, and a
/// shock at rate `lc` failing every up replica: availability by a dense
/// solve of the chain on the number failed.
fn chain(n: usize, k: usize, l: f64, m: f64, crews: usize, lc: f64) -> f64 {
    let mut q = vec![vec![0.0; n + 1]; n + 1];
    for (i, row) in q.iter_mut().enumerate() {
        if i < n {
            row[i + 1] += (n - i) as f64 * l;
            row[n] += lc;
        }
        if i > 0 {
            row[i - 1] += i.min(crews) as f64 * m;
        }
        let out: f64 = row.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| x).sum();
        row[i] = -out;
    }
    let pi = stationary(&q);
    (0..=n - k).map(|i| pi[i]).sum()
}

const ZONES: &str = r#"
[[region]]
name = "eu"
[[region.zone]]
name = "eu-a"
failure = { mean = "500h" }
repair = { mean = "5h" }
[[region.zone]]
name = "eu-b"
failure = { mean = "500h" }
repair = { mean = "5h" }
[[region.zone]]
name = "eu-c"
failure = { mean = "500h" }
repair = { mean = "5h" }
"#;

fn zoned(spread: &str) -> String {
    format!(
        r#"horizon = "5y"
{ZONES}
[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 2
regions = ["eu"]
{spread}
failure = {{ mean = "1000h" }}
repair = {{ dist = "gamma", shape = 2.0, mean = "10h" }}
"#
    )
}

/// Spread over three zones, each replica is up while it and its zone are
/// (independently): 2 of 3 with `a · a_zone`. Packed into one zone, the
/// service is up while that zone is and 2 of 3 replicas are. The packed
/// truth lies far outside the spread interval: the cost of the violation.
#[test]
fn zone_spread_k_of_n_matches_its_closed_form_and_packing_costs() {
    let (a, az) = (1000.0 / 1010.0, 500.0 / 505.0);
    let spread_truth = at_least(2, 3, a * az);
    let packed_truth = az * at_least(2, 3, a);
    let (s, _) = simulate(&zoned("spread = \"zone\""), 300, 11);
    let analytic = s.availability.analytic.expect("a closed form");
    assert!((analytic - spread_truth).abs() < 1e-12, "{analytic} vs {spread_truth}");
    assert_covers(
        "zone spread 2 of 3",
        spread_truth,
        s.availability.ci95,
        0.05 * (1.0 - spread_truth),
    );
    assert_excludes("packed into one zone", packed_truth, s.availability.ci95);
    let (p, _) = simulate(&zoned(""), 300, 11);
    let analytic = p.availability.analytic.expect("a closed form");
    assert!((analytic - packed_truth).abs() < 1e-12, "{analytic} vs {packed_truth}");
    assert_covers(
        "packed 2 of 3",
        packed_truth,
        p.availability.ci95,
        0.05 * (1.0 - packed_truth),
    );
}

/// The packed placement warns, and `check` prints what spreading would
/// give beside what packing gives.
#[test]
fn packing_warns_and_check_prints_the_cost() {
    let d = Dir::new();
    let path = d.write("packed.toml", &zoned(""));
    let run = d.nines(&["check", path.to_str().unwrap()]);
    let out = run.ok();
    assert!(run.stderr().contains("all sit in its first zone"), "{}", run.stderr());
    assert!(out.contains("eu-a: 3 replica(s)"), "{out}");
    assert!(out.contains("spread = \"zone\" would give"), "{out}");
}

fn beta(every: &str) -> String {
    format!(
        r#"horizon = "5y"
[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 2
failure = {{ mean = "1000h" }}
repair = {{ mean = "10h" }}
[[common_cause]]
name = "bad-push"
every = {{ mean = "{every}" }}
targets = ["api"]
"#
    )
}

/// The beta-factor model: a shock every 4000 h fails all three replicas
/// (β = λc / (λ + λc) = 0.2). Truth by a dense solve of the chain; the
/// independent 2-of-3 (no shock) lies outside the interval.
#[test]
fn beta_factor_k_of_n_matches_the_markov_chain() {
    let (l, m, lc) = (1.0 / 1000.0, 1.0 / 10.0, 1.0 / 4000.0);
    let truth = chain(3, 2, l, m, 3, lc);
    let (s, _) = simulate(&beta("4000h"), 300, 5);
    let analytic = s.availability.analytic.expect("a closed form");
    assert!((analytic - truth).abs() < 1e-12, "{analytic} vs {truth}");
    assert_covers("beta-factor 2 of 3", truth, s.availability.ci95, 0.05 * (1.0 - truth));
    assert_excludes("independent 2 of 3", at_least(2, 3, m / (l + m)), s.availability.ci95);
}

/// A shock that fails each replica with probability 1/2 (the binomial
/// failure-rate form) against the library's chain.
#[test]
fn a_partial_shock_matches_the_binomial_failure_rate_chain() {
    let text = beta("2000h").replace("targets = [\"api\"]", "targets = [\"api\"]\nprobability = 0.5");
    let truth = nines::model::analytic::k_of_n(3, 2, 1.0 / 1000.0, 1.0 / 10.0, None, &[(1.0 / 2000.0, 0.5)]);
    let (s, _) = simulate(&text, 300, 6);
    assert_covers("shock p = 0.5", truth, s.availability.ci95, 0.05 * (1.0 - truth));
}

fn repairman(crews: &str) -> String {
    format!(
        r#"horizon = "2y"
{crews}
[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 2
failure = {{ mean = "100h" }}
repair = {{ mean = "20h" }}
"#
    )
}

/// Machine repairman: 2 of 3 replicas, failing every 100 h, repaired in
/// 20 h by one crew or by two. Each covers its chain; one crew's interval
/// excludes the answer with a crew per failure.
#[test]
fn machine_repairman_with_one_and_two_crews() {
    let (l, m) = (1.0 / 100.0, 1.0 / 20.0);
    for crews in [1usize, 2] {
        let truth = chain(3, 2, l, m, crews, 0.0);
        let (s, _) = simulate(&repairman(&format!("[repair]\ncrews = {crews}")), 200, 9);
        let analytic = s.availability.analytic.expect("a closed form");
        assert!((analytic - truth).abs() < 1e-12, "{crews} crews: {analytic} vs {truth}");
        assert_covers(
            &format!("{crews} crew(s)"),
            truth,
            s.availability.ci95,
            0.03 * (1.0 - truth),
        );
        if crews == 1 {
            assert_excludes("a crew per failure", chain(3, 2, l, m, 3, 0.0), s.availability.ci95);
        }
    }
}

/// Crews that never run out change nothing: the repair is drawn from the
/// same stream at the same point, so every trial is the same.
#[test]
fn crews_that_never_run_out_change_no_trial() {
    let (_, free) = simulate(&repairman(""), 20, 3);
    let (_, ample) = simulate(&repairman("[repair]\ncrews = 3"), 20, 3);
    for (a, b) in free.iter().zip(&ample) {
        assert_eq!(a.availability.to_bits(), b.availability.to_bits());
        assert_eq!(a.events, b.events);
    }
}

/// Three single-replica services share one crew; the one with the higher
/// priority jumps the queue (a queue forms only with two waiting, so two
/// others are needed) and so serves more of the time than an equal peer.
#[test]
fn priority_order_repairs_the_higher_priority_first() {
    let svc = |name: &str, prio: u32| {
        format!(
            "[[service]]\nname = \"{name}\"\nreplicas = 1\nrepair_priority = {prio}\nfailure = {{ mean = \"50h\" }}\nrepair = {{ mean = \"25h\" }}\n"
        )
    };
    let text = format!(
        "horizon = \"2y\"\nentry = \"high\"\n[repair]\ncrews = 1\norder = \"priority\"\n{}{}{}",
        svc("high", 5),
        svc("low", 0),
        svc("other", 0)
    );
    let (s, _) = simulate(&text, 100, 4);
    let high = &s.services["high"].availability;
    let low = &s.services["low"].availability;
    assert!(high.ci95[0] > low.ci95[1], "high {:?} low {:?}", high.ci95, low.ci95);
    // A crew of its own would give 50/75; sharing one cannot beat that.
    assert!(high.mean < 50.0 / 75.0, "high {}", high.mean);
    // First come, first served: the two are peers.
    let fifo = text
        .replace("order = \"priority\"", "")
        .replace("repair_priority = 5", "")
        .replace("repair_priority = 0", "");
    let (f, _) = simulate(&fifo, 100, 4);
    let (h, l) = (&f.services["high"].availability, &f.services["low"].availability);
    assert!(
        h.ci95[0] < l.ci95[1] && l.ci95[0] < h.ci95[1],
        "fifo high {:?} low {:?}",
        h.ci95,
        l.ci95
    );
}

/// No spares on hand and a fixed 100 h lead time: every failure waits
/// 100 h for its part, then 10 h of repair. A single replica is then a
/// renewal process with MTTR 110 h.
#[test]
fn an_empty_spare_pool_adds_the_lead_time() {
    let text = r#"horizon = "5y"
[[service]]
name = "api"
replicas = 1
failure = { mean = "1000h" }
repair = { mean = "10h" }
spares = { count = 0, lead_time = "100h" }
"#;
    let truth = 1000.0 / 1110.0;
    let (s, _) = simulate(text, 200, 8);
    assert_covers("spares on order", truth, s.availability.ci95, 0.05 * (1.0 - truth));
    // With spares on hand the wait is gone (the lead time only refills the
    // pool).
    let (s, _) = simulate(&text.replace("count = 0", "count = 3"), 200, 8);
    assert_covers(
        "spares on hand",
        1000.0 / 1010.0,
        s.availability.ci95,
        0.05 * (10.0 / 1010.0),
    );
}

/// The request level sees the replicas a zone holds down: a zone that is
/// out from 10 h to 11 h of a 15 h run takes both packed replicas, and
/// about 1/15 of the requests fail; spread over two zones, none do.
#[test]
fn the_request_level_sees_a_zone_outage() {
    let text = |spread: &str| {
        format!(
            r#"horizon = "15h"
trials = 1
[[region]]
name = "eu"
[[region.zone]]
name = "eu-a"
failure = {{ dist = "fixed", mean = "10h" }}
repair = {{ dist = "fixed", mean = "1h" }}
[[region.zone]]
name = "eu-b"
[[workload]]
name = "clients"
to = "api"
rate = 2
timeout = "1s"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
regions = ["eu"]
{spread}
service_time = {{ dist = "fixed", mean = "10ms" }}
"#
        )
    };
    let (packed, _) = simulate(&text(""), 1, 1);
    let r = packed.requests.as_ref().expect("request figures");
    let failed = r.failed_ratio.mean;
    assert!((failed - 1.0 / 15.0).abs() < 0.01, "packed: {failed} failed");
    let (spread, _) = simulate(&text("spread = \"zone\""), 1, 1);
    let r = spread.requests.as_ref().expect("request figures");
    assert!(r.failed_ratio.mean < 0.001, "spread: {}", r.failed_ratio.mean);
}

const ALL: &str = r#"horizon = "1y"
[[region]]
name = "eu"
crews = 1
[[region.zone]]
name = "eu-a"
failure = { mean = "700h" }
repair = { mean = "3h" }
[[region.zone]]
name = "eu-b"
failure = { mean = "700h" }
repair = { mean = "3h" }
[repair]
crews = 1
order = "priority"
[[service]]
name = "web"
topology = "active-active"
replicas = 3
regions = ["eu"]
spread = "zone"
failure = { mean = "300h" }
repair = { mean = "8h" }
repair_priority = 2
spares = { count = 1, lead_time = { mean = "48h" } }
[[service.call]]
to = "dns"
[[service]]
name = "dns"
topology = "active-active"
replicas = 2
failure = { mean = "500h" }
repair = { mean = "5h" }
[[common_cause]]
name = "dns-push"
every = { mean = "2000h" }
targets = ["dns", "web"]
probability = 0.7
"#;

/// Every key together: the same output on one thread as on two.
#[test]
fn all_keys_give_the_same_output_on_any_thread_count() {
    let d = Dir::new();
    let p = d.write("all.toml", ALL);
    let p = p.to_str().unwrap();
    let run = |threads: &str| {
        d.nines(&[
            "run",
            p,
            "--trials",
            "40",
            "--seed",
            "3",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ])
        .ok()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert!(one.contains("\"availability\""), "{one}");
}

/// Splitting cannot weigh common causes: asked for, it refuses with the
/// reason; `auto` stays crude.
#[test]
fn splitting_refuses_common_causes_and_auto_stays_crude() {
    let d = Dir::new();
    let p = d.write("beta.toml", &beta("4000h"));
    let p = p.to_str().unwrap();
    let err = d
        .nines(&["run", p, "--estimator", "splitting", "--trials", "20", "--no-write"])
        .bad_input();
    assert!(err.contains("common-cause"), "{err}");
    let out = d
        .nines(&[
            "run",
            p,
            "--trials",
            "20",
            "--format",
            "json",
            "--no-write",
            "--estimator",
            "auto",
        ])
        .ok();
    assert!(out.contains("\"estimator\": \"crude\""), "{out}");
}

/// Runs `check` on `text`; returns stderr (exit code 2 asserted).
fn bad(text: &str) -> String {
    let d = Dir::new();
    d.write("bad.toml", text);
    d.nines(&["check", "bad.toml"]).bad_input()
}

#[test]
fn spreading_over_a_region_without_zones_is_rejected() {
    let err = bad(&zoned("spread = \"zone\"").replace("[[region.zone]]", "[[region.zonez]]"));
    assert!(err.contains("zonez"), "{err}");
    let text = "[[region]]\nname = \"eu\"\n[[service]]\nname = \"api\"\nregions = [\"eu\"]\nspread = \"zone\"\n";
    let err = bad(text);
    assert!(err.contains("bad.toml:6:10: key `service.api.spread`"), "{err}");
    assert!(err.contains("region \"eu\" has no zones"), "{err}");
    assert!(err.contains("[[region.zone]]"), "{err}");
}

#[test]
fn a_misspelt_spread_suggests_the_word() {
    let err = bad(&zoned("spread = \"zones\""));
    assert!(err.contains("key `service.api.spread`"), "{err}");
    assert!(err.contains("did you mean \"zone\"?"), "{err}");
}

#[test]
fn spreading_a_service_in_no_region_is_rejected() {
    let err = bad("[[service]]\nname = \"api\"\nspread = \"zone\"\n");
    assert!(err.contains("in no region"), "{err}");
}

#[test]
fn a_common_cause_on_an_unknown_or_never_failing_service_is_rejected() {
    let err = bad(&beta("4000h").replace("targets = [\"api\"]", "targets = [\"apii\"]"));
    assert!(err.contains("key `common_cause.bad-push.targets`"), "{err}");
    assert!(err.contains("did you mean \"api\"?"), "{err}");
    let text =
        "[[service]]\nname = \"api\"\n[[common_cause]]\nname = \"x\"\nevery = { mean = \"1h\" }\ntargets = [\"api\"]\n";
    let err = bad(text);
    assert!(err.contains("no repair process"), "{err}");
}

#[test]
fn a_shock_that_fails_nothing_is_rejected() {
    let err = bad(&beta("4000h").replace("targets = [\"api\"]", "targets = [\"api\"]\nprobability = 0.0"));
    assert!(err.contains("key `common_cause.bad-push.probability`"), "{err}");
    let err = bad(&beta("4000h").replace("targets = [\"api\"]", "targets = []"));
    assert!(err.contains("key `common_cause.bad-push.targets`: is empty"), "{err}");
}

#[test]
fn bad_crews_and_orders_are_rejected() {
    let err = bad(&repairman("[repair]\ncrews = 0"));
    assert!(err.contains("key `repair.crews`: must be between 1"), "{err}");
    let err = bad(&repairman("[repair]\ncrews = 1\norder = \"lifo\""));
    assert!(err.contains("key `repair.order`"), "{err}");
    let err = bad(&repairman("").replace("min_healthy = 2", "min_healthy = 2\nrepair_priority = 3"));
    assert!(err.contains("key `service.api.repair_priority`"), "{err}");
    assert!(
        err.contains("order = \\\"priority\\\"") || err.contains("order = \"priority\""),
        "{err}"
    );
}

#[test]
fn spares_on_a_service_that_never_fails_are_rejected() {
    let err = bad("[[service]]\nname = \"api\"\nspares = { count = 1, lead_time = \"1d\" }\n");
    assert!(err.contains("key `service.api.spares`"), "{err}");
    assert!(err.contains("never fails"), "{err}");
}

/// `--set` (and so `sweep --vary`) reaches a common-cause group and an
/// alert rule by name, and names the defined ones when the name is wrong.
#[test]
fn set_reaches_common_causes_and_alerts_by_name() {
    let d = Dir::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let dns = format!("{root}/scenarios/shared-dns.toml");
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&d.nines(args).ok()).unwrap() };
    let base = [
        "run",
        &dns,
        "--trials",
        "20",
        "--seed",
        "3",
        "--format",
        "json",
        "--no-write",
        "--quiet",
    ];
    let with = |set: &str| {
        let mut a = base.to_vec();
        a.extend(["--set", set]);
        json(&a)
    };
    let whole = with("common_cause.dns-config-push.probability=1");
    let rare = with("common_cause.dns-config-push.every.mean=\"200000h\"");
    let mean = |v: &serde_json::Value| v["availability"]["mean"].as_f64().unwrap();
    assert!(
        mean(&rare) > mean(&whole),
        "a shock 100 times rarer must raise the availability: {} vs {}",
        mean(&rare),
        mean(&whole)
    );
    let mut a = base.to_vec();
    a.extend(["--set", "common_cause.dns.probability=0.5"]);
    let err = d.nines(&a).bad_input();
    assert!(err.contains("no common_cause is named \"dns\""), "{err}");
    assert!(err.contains("dns-config-push"), "{err}");
    let alerts = format!("{root}/scenarios/slo-alerts.toml");
    d.nines(&["check", &alerts, "--set", "alert.fast-burn.burn_rate=10"])
        .ok();
    let err = d
        .nines(&["check", &alerts, "--set", "alert.fast-burn.burnrate=10"])
        .bad_input();
    assert!(err.contains("burn_rate"), "{err}");
}
