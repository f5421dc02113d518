#!/usr/bin/env python3
"""A load-balanced service with timeouts and retries, written idiomatically
in SimPy, the peer of nines' request-level model.

Model (the same as the scenario benches/peers/compare_requests.sh gives
nines):
- requests arrive in a Poisson stream at --rate per second (default 200);
- a round-robin load balancer sends each attempt (retries included) to the
  next of REPLICAS = 3 replicas, whatever happened to the previous one;
- a replica serves CONCURRENCY = 2 attempts at once (a simpy.Resource of
  capacity 2) and queues the rest in FIFO order, without limit; a service
  takes an exponential time of mean 10 ms;
- the client waits at most --timeout (default 25 ms) for each attempt and
  retries a timed-out attempt at once, up to ATTEMPTS = 3 attempts in all;
  after the third timeout the request fails;
- a timed-out attempt is NOT cancelled: it keeps its place in the queue,
  is served, and its late answer is dropped (nines' default,
  cancel_on_timeout = false).

A trial starts empty and simulates --horizon seconds; requests still in
flight at the horizon are not counted (as in nines). Per trial: the success
ratio, attempts per request and the mean latency (arrival to success or to
the final timeout) of the requests that concluded. Estimates: the mean over
independent trials with a Student t 95 % interval across trials, as nines
computes them from its per-trial values. There is no closed form (the
retries feed back into the queues); the check is that nines and SimPy
agree within their intervals.

Output: one "key: value" line each for trials, horizon_s, requests,
attempts, seconds, requests_per_s, then success_ratio, attempts_per_request
and mean_latency_s each with _ci95_low and _ci95_high. "seconds" times the
trial loop only (not interpreter start-up or the simpy import).

Usage: python3 simpy_lb.py [--trials N] [--horizon SECONDS] [--seed S]
                           [--rate PER_SECOND] [--timeout SECONDS]
"""

import argparse
import itertools
import math
import random
import sys
import time

import simpy

REPLICAS = 3
CONCURRENCY = 2
MEAN_SERVICE_S = 0.010
ATTEMPTS = 3


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


def mean_ci(xs):
    """Mean of independent values and its Student t 95 % interval."""
    n = len(xs)
    mean = sum(xs) / n
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t975(n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half


class Stats:
    """What one trial measured (concluded requests only)."""

    def __init__(self):
        self.requests = 0
        self.successes = 0
        self.attempts = 0
        self.latency_sum = 0.0


def serve(env, replica, rng, answer):
    """A replica's work on one attempt: queue for a slot, serve, answer.

    Runs to the end even when the client has stopped waiting.
    """
    with replica.request() as slot:
        yield slot
        yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE_S))
    answer.succeed()


def request(env, balancer, rng, timeout, stats):
    """One request: up to ATTEMPTS attempts, each with its own timeout."""
    arrived = env.now
    for attempt in range(1, ATTEMPTS + 1):
        answer = env.event()
        env.process(serve(env, next(balancer), rng, answer))
        fired = yield answer | env.timeout(timeout)
        if answer in fired:
            stats.successes += 1
            break
    stats.requests += 1
    stats.attempts += attempt
    stats.latency_sum += env.now - arrived


def clients(env, balancer, rng, rate, timeout, stats):
    """The Poisson arrival stream."""
    while True:
        yield env.timeout(rng.expovariate(rate))
        env.process(request(env, balancer, rng, timeout, stats))


def trial(rng, horizon, rate, timeout):
    """One trial from empty; returns its Stats."""
    env = simpy.Environment()
    replicas = [simpy.Resource(env, capacity=CONCURRENCY) for _ in range(REPLICAS)]
    balancer = itertools.cycle(replicas)
    stats = Stats()
    env.process(clients(env, balancer, rng, rate, timeout, stats))
    env.run(until=horizon)
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="independent trials (at least 2)")
    parser.add_argument("--horizon", type=float, default=200.0, help="simulated seconds per trial")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random generator")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--timeout", type=float, default=0.025, help="per-attempt timeout, seconds")
    args = parser.parse_args()
    if args.trials < 2:
        parser.error("--trials must be at least 2 (the interval needs a variance)")

    rng = random.Random(args.seed)
    success, amplification, latency = [], [], []
    requests = attempts = 0
    start = time.perf_counter()
    for _ in range(args.trials):
        s = trial(rng, args.horizon, args.rate, args.timeout)
        requests += s.requests
        attempts += s.attempts
        success.append(s.successes / s.requests)
        amplification.append(s.attempts / s.requests)
        latency.append(s.latency_sum / s.requests)
    seconds = time.perf_counter() - start

    print(f"trials: {args.trials}")
    print(f"horizon_s: {args.horizon:g}")
    print(f"requests: {requests}")
    print(f"attempts: {attempts}")
    print(f"seconds: {seconds:.3f}")
    print(f"requests_per_s: {requests / seconds:.1f}")
    for name, xs in (("success_ratio", success), ("attempts_per_request", amplification), ("mean_latency_s", latency)):
        mean, lo, hi = mean_ci(xs)
        print(f"{name}: {mean:.6f}")
        print(f"{name}_ci95_low: {lo:.6f}")
        print(f"{name}_ci95_high: {hi:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
