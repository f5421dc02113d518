#!/usr/bin/env python3
"""An M/M/1 queue written idiomatically in SimPy, the peer of nines' model.

Model (the same as the scenario benches/peers/compare_requests.sh gives
nines): customers arrive in a Poisson stream at LAMBDA = 80 per second and
wait in one FIFO queue for a single server (a simpy.Resource of capacity
1); each is served for an exponential time of mean 1/MU = 10 ms. A trial
starts empty and simulates HORIZON seconds; customers still in the system
at the horizon are not counted (as in nines). The trial's figure is the
mean sojourn (arrival to departure) of the customers that left.

Estimate: the mean over independent trials of the per-trial mean sojourn,
with a Student t 95 % interval across trials (what nines does with its
per-trial values). Theory: W = 1/(MU - LAMBDA) = 50 ms.

Output: one "key: value" line each for trials, horizon_s, customers,
seconds, customers_per_s, mean_sojourn_s, ci95_low, ci95_high and theory_s.
"seconds" times the trial loop only (not interpreter start-up or the simpy
import).

Usage: python3 simpy_mm1.py [--trials N] [--horizon SECONDS] [--seed S]
"""

import argparse
import math
import random
import sys
import time

import simpy

LAMBDA = 80.0  # arrivals per second
MU = 100.0  # services per second (mean service time 10 ms)


def t975(df):
    """The 0.975 quantile of Student's t with df degrees of freedom.

    Cornish-Fisher expansion around the normal quantile (Abramowitz and
    Stegun 26.7.5); within 0.02 % of the exact value for df >= 5.
    """
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 779 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


class Stats:
    """What one trial measured."""

    def __init__(self):
        self.departed = 0
        self.sojourn_sum = 0.0


def customer(env, server, rng, stats):
    """One customer: queue for the server, be served, leave."""
    arrived = env.now
    with server.request() as turn:
        yield turn
        yield env.timeout(rng.expovariate(MU))
    stats.departed += 1
    stats.sojourn_sum += env.now - arrived


def source(env, server, rng, stats):
    """The Poisson arrival stream."""
    while True:
        yield env.timeout(rng.expovariate(LAMBDA))
        env.process(customer(env, server, rng, stats))


def trial(rng, horizon):
    """One trial from empty; returns (customers departed, their sojourn sum)."""
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    stats = Stats()
    env.process(source(env, server, rng, stats))
    env.run(until=horizon)
    return stats.departed, stats.sojourn_sum


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="independent trials (at least 2)")
    parser.add_argument("--horizon", type=float, default=500.0, help="simulated seconds per trial")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random generator")
    args = parser.parse_args()
    if args.trials < 2:
        parser.error("--trials must be at least 2 (the interval needs a variance)")

    rng = random.Random(args.seed)
    means = []
    customers = 0
    start = time.perf_counter()
    for _ in range(args.trials):
        departed, total = trial(rng, args.horizon)
        customers += departed
        means.append(total / departed)
    seconds = time.perf_counter() - start

    n = len(means)
    mean = sum(means) / n
    var = sum((m - mean) ** 2 for m in means) / (n - 1)
    half = t975(n - 1) * math.sqrt(var / n)
    print(f"trials: {n}")
    print(f"horizon_s: {args.horizon:g}")
    print(f"customers: {customers}")
    print(f"seconds: {seconds:.3f}")
    print(f"customers_per_s: {customers / seconds:.1f}")
    print(f"mean_sojourn_s: {mean:.6f}")
    print(f"ci95_low: {mean - half:.6f}")
    print(f"ci95_high: {mean + half:.6f}")
    print(f"theory_s: {1.0 / (MU - LAMBDA):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
