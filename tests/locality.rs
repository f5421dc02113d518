//! Regions at request level: callers stay in their own region while it
//! serves, and pay the crossing latency when they must leave it.

use crate::util::{mean_latency, simulate};

/// Clients in "eu" stay in "eu" while it serves (10 ms + 10 ms, no
/// crossing). With the api's "eu" replicas crashed, they cross to "us"
/// (+50 ms) and the api there calls its local database; with only the
/// database's "eu" replica crashed, the api in "eu" crosses for it.
#[test]
fn callers_stay_in_their_region_and_pay_to_cross() {
    let text = r#"horizon = "60s"
[global]
mode = "active-active"
latency = "50ms"
[[region]]
name = "eu"
[[region]]
name = "us"
[[workload]]
name = "users"
to = "api"
rate = 100
region = "eu"
[[service]]
name = "api"
regions = ["eu", "us"]
service_time = { dist = "fixed", mean = "10ms" }
[[service.call]]
to = "db"
[[service]]
name = "db"
regions = ["eu", "us"]
service_time = { dist = "fixed", mean = "10ms" }
FAULT
"#;
    let crash =
        |target: &str| format!("[[fault]]\nat = \"0s\"\nduration = \"1h\"\nkind = \"crash\"\ntarget = \"{target}\"\n");
    for (fault, latency) in [(String::new(), 0.02), (crash("api[0]"), 0.07), (crash("db[0]"), 0.07)] {
        let (s, rows) = simulate(&text.replace("FAULT", &fault), 2, 1);
        assert_eq!(s.requests.as_ref().unwrap().success_ratio.mean, 1.0, "{fault}");
        for m in mean_latency(&rows) {
            assert!(
                (m - latency).abs() < 1e-9,
                "{fault}: mean latency {m}, expected {latency}"
            );
        }
    }
}
