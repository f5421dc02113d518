#!/usr/bin/env python3
"""The failure/repair Monte Carlo of nines, written idiomatically in SimPy.

Model (the same as the scenario that benches/peers/compare.sh gives nines):
three replicas of one service; each replica is up for an exponential time
with mean 1000 h (MTBF), then down for an exponential repair with mean 10 h
(MTTR), and so on. The service is available while at least one replica is
up. One trial simulates one year (8760 h, nines' "1y" = 365 days); its
availability is the fraction of that year with at least one replica up.
The estimate is the mean over independent trials, with a 95 % interval
from the normal approximation (mean +- 1.96 standard errors; with this many
trials the Student t quantile is the same to three digits).

Closed form for comparison: 1 - (MTTR / (MTBF + MTTR))^3 = 1 - (10/1010)^3.

Output: one "key: value" line each for trials, seconds, trials_per_s,
availability, ci95_low, ci95_high and closed_form. "seconds" times the
trial loop only (not interpreter start-up or the simpy import).

Usage: python3 simpy_failure_repair.py [--trials N | --seconds S] [--seed S]
(--seconds runs trials until the loop has lasted S seconds.)
"""

import argparse
import math
import random
import sys
import time

import simpy

REPLICAS = 3
MTBF_H = 1000.0
MTTR_H = 10.0
HORIZON_H = 365 * 24.0


class Service:
    """Counts the replicas that are up and integrates the time none is."""

    def __init__(self, env, replicas):
        self.env = env
        self.up = replicas
        self.down_since = None
        self.downtime = 0.0

    def replica_failed(self):
        self.up -= 1
        if self.up == 0:
            self.down_since = self.env.now

    def replica_repaired(self):
        if self.up == 0:
            self.downtime += self.env.now - self.down_since
            self.down_since = None
        self.up += 1

    def close(self, horizon):
        """Counts an outage still open at the horizon."""
        if self.down_since is not None:
            self.downtime += horizon - self.down_since
            self.down_since = None


def replica(env, service, rng):
    """One replica: up for Exp(MTBF), down for Exp(MTTR), forever."""
    while True:
        yield env.timeout(rng.expovariate(1.0 / MTBF_H))
        service.replica_failed()
        yield env.timeout(rng.expovariate(1.0 / MTTR_H))
        service.replica_repaired()


def trial(rng):
    """One simulated year; returns its unavailability (fraction of time down)."""
    env = simpy.Environment()
    service = Service(env, REPLICAS)
    for _ in range(REPLICAS):
        env.process(replica(env, service, rng))
    env.run(until=HORIZON_H)
    service.close(HORIZON_H)
    return service.downtime / HORIZON_H


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000, help="number of one-year trials")
    parser.add_argument("--seconds", type=float, help="instead of --trials: run until the loop has lasted this long")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random generator")
    args = parser.parse_args()
    if args.seconds is None and args.trials < 2:
        parser.error("--trials must be at least 2 (the interval needs a variance)")
    if args.seconds is not None and not args.seconds > 0:
        parser.error("--seconds must be positive")

    rng = random.Random(args.seed)
    # Welford's running mean and variance of the unavailability (values near
    # zero keep their precision; availabilities near one would not).
    n = 0
    mean_u = 0.0
    m2 = 0.0
    start = time.perf_counter()
    deadline = None if args.seconds is None else start + args.seconds
    while True:
        u = trial(rng)
        n += 1
        delta = u - mean_u
        mean_u += delta / n
        m2 += delta * (u - mean_u)
        if deadline is None:
            if n >= args.trials:
                break
        elif n >= 2 and n % 100 == 0 and time.perf_counter() >= deadline:
            break
    seconds = time.perf_counter() - start

    mean = 1.0 - mean_u
    half = 1.96 * math.sqrt(m2 / (n - 1) / n)
    closed = 1.0 - (MTTR_H / (MTBF_H + MTTR_H)) ** REPLICAS
    print(f"trials: {n}")
    print(f"seconds: {seconds:.3f}")
    print(f"trials_per_s: {n / seconds:.1f}")
    print(f"availability: {mean:.9f}")
    print(f"ci95_low: {mean - half:.9f}")
    print(f"ci95_high: {mean + half:.9f}")
    print(f"closed_form: {closed:.9f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
