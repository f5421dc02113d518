//! What the request path's second round reports beside its policies: the
//! replicas an autoscaler keeps serving, bucket by bucket, in
//! `timeline.csv` and the plots; the books of caches and cold starts; the
//! calls that gave up waiting in a bulkhead's queue. Each against a hand
//! computation or a closed form, merged from shards into the bytes of one
//! run.

use crate::util::Dir;

/// The `service.api.replicas` column of `timeline.csv` for `text`.
fn replicas_column(dir: &Dir, text: &str, extra: &[&str]) -> Vec<f64> {
    dir.write("ramp.toml", text);
    let mut args = vec!["run", "ramp.toml", "--out", "o", "--quiet"];
    args.extend(extra);
    dir.nines(&args).ok();
    let csv = dir.read("o/timeline.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header.last(), Some(&"service.api.replicas"), "the last column");
    let k = header.len() - 1;
    lines
        .map(|l| l.split(',').nth(k).expect("a cell").parse().expect("a number"))
        .collect()
}

/// The deterministic ramp of `tests/autoscale.rs` cut into 60 buckets of
/// 4 s: 2 replicas serve until the third starts at 75 s (bucket 18, [72,
/// 76): 3 s of 2 and 1 s of 3, 2.25), 3 until three more start at 135 s
/// (bucket 33, [132, 136): 3 s of 3 and 1 s of 6, 3.75), 6 until four
/// drain at 210 s (bucket 52, [208, 212): 2 s of 6 and 2 s of 2, 4; a
/// draining replica no longer serves), then 2. Both trials are the same.
#[test]
fn the_replica_series_follows_the_ramp_by_hand() {
    let dir = Dir::new();
    let got = replicas_column(&dir, crate::autoscale::RAMP, &[]);
    let expect: Vec<f64> = (0..60)
        .map(|b| match b {
            0..=17 => 2.0,
            18 => 2.25,
            19..=32 => 3.0,
            33 => 3.75,
            34..=51 => 6.0,
            52 => 4.0,
            _ => 2.0,
        })
        .collect();
    assert_eq!(got.len(), 60);
    for (b, (g, e)) in got.iter().zip(&expect).enumerate() {
        assert!((g - e).abs() < 1e-9, "bucket {b}: {g}, by hand {e}");
    }
    // The plot draws it.
    dir.nines(&["run", "ramp.toml", "--out", "p", "--plot", "--quiet"]).ok();
    assert!(dir.path_of("p/replicas_over_time.png").exists());
}

/// A scenario without autoscaling has no replica column and no replica
/// plot.
#[test]
fn no_autoscaler_no_replica_series() {
    let dir = Dir::new();
    let text = crate::autoscale::RAMP.split("[service.autoscale]").next().expect("the head");
    dir.write("flat.toml", text);
    dir.nines(&["run", "flat.toml", "--out", "o", "--plot", "--quiet"]).ok();
    assert!(!dir.read("o/timeline.csv").contains("replicas"));
    assert!(!dir.path_of("o/replicas_over_time.png").exists());
}

/// Shards of an autoscaled run with failures and a random provisioning
/// delay merge into the bytes of one run, the replica series included.
#[test]
fn autoscaled_shards_merge_into_one_run() {
    let dir = Dir::new();
    dir.write("burst.toml", include_str!("../scenarios/autoscale-burst.toml"));
    crate::shard::assert_shards_match(&dir, "burst.toml", "4", &[2, 3], &[]);
    assert!(dir.read("whole/timeline.csv").contains(".replicas"));
}
