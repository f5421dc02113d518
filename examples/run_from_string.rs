//! Runs a scenario written in the program and prints its headline.
//!
//! `cargo run --release --example run_from_string`

fn main() -> Result<(), nines::Error> {
    let text = r#"
        name = "two replicas"
        horizon = "1y"
        trials = 2000
        seed = 7
        [[service]]
        name = "api"
        topology = "active-active"
        replicas = 2
        failure = { mean = "1000h" }
        repair = { mean = "10h" }
    "#;
    let scenario = nines::scenario::parse("inline.toml", "inline", text, &[])?;
    let summary = nines::simulate(&scenario, &nines::RunOptions::default(), |_, _| Ok(()))?;
    let a = &summary.availability;
    println!(
        "{}: availability {:.6} (95 % {:.6} to {:.6}), {:.2} nines, median downtime {:.0} s a year",
        summary.scenario, a.mean, a.ci95[0], a.ci95[1], a.nines, a.downtime_per_year_s.p50
    );
    Ok(())
}
