//! Sweeps the replica count in code: the same scenario with
//! `service.api.replicas` set to 1, 2 and 3 (as `--set` would), on the same
//! seed, and prints nines for each.
//!
//! `cargo run --release --example sweep_in_code`

use nines::scenario::Override;

const SCENARIO: &str = r#"
horizon = "1y"
trials = 1000
[[service]]
name = "api"
topology = "active-active"
replicas = 1
failure = { mean = "500h" }
repair = { mean = "8h" }
"#;

fn main() -> Result<(), nines::Error> {
    for replicas in 1..=3 {
        let set: Override = format!("service.api.replicas={replicas}")
            .parse()
            .map_err(nines::Error::Usage)?;
        let scenario = nines::scenario::parse("sweep.toml", "sweep", SCENARIO, &[set])?;
        let options = nines::RunOptions {
            seed: Some(1),
            ..Default::default()
        };
        let s = nines::simulate(&scenario, &options, |_, _| Ok(()))?;
        let [lo, hi] = s.availability.nines_ci95;
        let hi = hi.map_or("unbounded".to_string(), |h| format!("{h:.2}"));
        let lo = lo.map_or("-".to_string(), |l| format!("{l:.2}"));
        println!(
            "replicas {replicas}: {:.2} nines (95 % {lo} to {hi})",
            s.availability.nines
        );
    }
    Ok(())
}
