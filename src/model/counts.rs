//! The counters of one trial's requests, per edge and per service: what
//! the request component counts and the trace reads, below both.

/// A service's server-side defences at work, in one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DefenceCounts {
    /// Requests refused because the queue was full, or (low priority) long.
    pub shed: u64,
    /// Queued requests dropped because they waited past `shed.queue_wait`.
    pub shed_wait: u64,
    /// Requests refused by the rate limiter.
    pub rate_limited: u64,
    /// Replicas ejected by outlier detection.
    pub ejections: u64,
    /// Of `ejections`, those by the success-rate detector.
    #[serde(default)]
    pub ejected_success_rate: u64,
    /// Of `ejections`, those by the failure-percentage detector.
    #[serde(default)]
    pub ejected_failure_percentage: u64,
    /// Replicas restarted by a failed liveness probe.
    #[serde(default)]
    pub restarts: u64,
    /// Probes sent (readiness and liveness, as requests).
    #[serde(default)]
    pub probes: u64,
    /// Of `probes`, those that failed (refused, timed out, or a deep call failed).
    #[serde(default)]
    pub probes_failed: u64,
}

/// Per-edge counters of one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EdgeCounts {
    /// Original calls (not counting retries).
    pub calls: u64,
    /// Attempts sent to a replica.
    pub attempts: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Attempts answered with an error (including resets and refusals).
    pub errors: u64,
    /// Of `errors`, the attempts the callee did not serve: refused (a full
    /// queue, a rate limiter, a shed), reset (its replica crashed) or
    /// unreachable (no serving replica, a partition). The rest are errors
    /// the callee answered. (Absent in shards written before it was kept.)
    #[serde(default)]
    pub refused: u64,
    /// Attempts the breaker rejected.
    pub breaker_rejected: u64,
    /// Attempts the bulkhead rejected (full, or queue timeout).
    pub bulkhead_rejected: u64,
    /// Calls that ended in their fallback.
    pub fallbacks: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls that succeeded (including degraded).
    pub succeeded: u64,
    /// Time the breaker was open (seconds).
    pub breaker_open_s: f64,
    /// Most calls running at once in the bulkhead.
    pub bulkhead_peak: u32,
    /// Hedging, the retry budget by concurrency and the bulkhead's books
    /// (absent in shards written before they were kept).
    #[serde(default)]
    pub client: ClientCounts,
}

/// Per-edge counters of the second round of client policies, in one trial.
/// `configured` says which of them the edge has, so the summary shows
/// their figures only there.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClientCounts {
    /// Bits: [`ClientCounts::HEDGE`], [`ClientCounts::CONCURRENCY`],
    /// [`ClientCounts::BULKHEAD`].
    pub configured: u8,
    /// Hedges sent.
    pub hedges: u64,
    /// Hedges whose answer won the race.
    pub hedges_won: u64,
    /// Hedges the hedge budget refused.
    pub hedges_refused: u64,
    /// Losing copies cancelled.
    pub hedges_cancelled: u64,
    /// Retries the concurrency budget refused.
    pub retries_refused_concurrency: u64,
    /// Most retries in flight at once.
    pub retry_concurrency_peak: u64,
    /// Calls the bulkhead let run (at once or from its queue).
    pub bulkhead_accepted: u64,
    /// Calls that waited in the bulkhead's queue and were then let in.
    pub bulkhead_queued: u64,
    /// Most calls waiting at once.
    pub bulkhead_peak_waiting: u32,
    /// Total wait of the calls let in from the queue, seconds.
    pub bulkhead_wait_s: f64,
}

impl ClientCounts {
    /// The edge hedges.
    pub const HEDGE: u8 = 1;
    /// The edge has a retry budget by concurrency.
    pub const CONCURRENCY: u8 = 2;
    /// The edge has a bulkhead.
    pub const BULKHEAD: u8 = 4;

    /// Adds `b`'s counts (peaks: the larger).
    pub fn add(&mut self, b: &ClientCounts) {
        self.configured |= b.configured;
        self.hedges += b.hedges;
        self.hedges_won += b.hedges_won;
        self.hedges_refused += b.hedges_refused;
        self.hedges_cancelled += b.hedges_cancelled;
        self.retries_refused_concurrency += b.retries_refused_concurrency;
        self.retry_concurrency_peak = self.retry_concurrency_peak.max(b.retry_concurrency_peak);
        self.bulkhead_accepted += b.bulkhead_accepted;
        self.bulkhead_queued += b.bulkhead_queued;
        self.bulkhead_peak_waiting = self.bulkhead_peak_waiting.max(b.bulkhead_peak_waiting);
        self.bulkhead_wait_s += b.bulkhead_wait_s;
    }
}
