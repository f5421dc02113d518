//! The order in which a call's retry, circuit breaker, bulkhead and
//! timeout wrap it (`order = ["retry", "breaker", "bulkhead", "timeout"]`,
//! outermost first), as resilience4j decorators and Polly pipelines let
//! their users choose.
//!
//! The default is the order the request path has always run: the retry
//! outermost, then the breaker and the bulkhead once per attempt, and the
//! timeout innermost (its timer starts once the bulkhead lets the attempt
//! run). A layer listed before `retry` wraps the whole retried call (once
//! per call); one listed after it wraps each attempt.
//!
//! Invariant: a [`PolicyOrder`] is a permutation of the four [`Layer`]s
//! (its only constructor, [`PolicyOrder::parse`], checks it).

/// One of the four policies that wrap a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The retry loop.
    Retry,
    /// The circuit breaker.
    Breaker,
    /// The bulkhead.
    Bulkhead,
    /// The timeout.
    Timeout,
}

impl Layer {
    /// The four layers, in the default order.
    pub const ALL: [Layer; 4] = [Layer::Retry, Layer::Breaker, Layer::Bulkhead, Layer::Timeout];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Retry => "retry",
            Layer::Breaker => "breaker",
            Layer::Bulkhead => "bulkhead",
            Layer::Timeout => "timeout",
        }
    }

    /// The layer of a name used in scenario files.
    pub fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// Why a list of names is not an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// A name that is none of the four.
    #[error("`{0}` is not a policy (the policies are retry, breaker, bulkhead and timeout)")]
    Unknown(String),
    /// A name listed twice.
    #[error("`{0}` is listed twice (each policy appears exactly once)")]
    Repeated(&'static str),
    /// Names left out.
    #[error("leaves out {0} (list all four policies: retry, breaker, bulkhead and timeout)")]
    Missing(String),
}

/// The order of the four layers, outermost first; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyOrder([Layer; 4]);

impl Default for PolicyOrder {
    fn default() -> Self {
        PolicyOrder(Layer::ALL)
    }
}

impl PolicyOrder {
    /// The order a list of names gives.
    ///
    /// # Errors
    /// [`OrderError`] unless the names are a permutation of the four
    /// layers' names. The first name in error is reported (its index is in
    /// the `usize`), or the list's length for a missing one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<PolicyOrder, (usize, OrderError)> {
        let mut layers = Vec::with_capacity(4);
        for (i, n) in names.iter().enumerate() {
            let Some(l) = Layer::from_name(n.as_ref()) else {
                return Err((i, OrderError::Unknown(n.as_ref().to_string())));
            };
            if layers.contains(&l) {
                return Err((i, OrderError::Repeated(l.name())));
            }
            layers.push(l);
        }
        let missing: Vec<&str> = Layer::ALL
            .iter()
            .filter(|l| !layers.contains(l))
            .map(|l| l.name())
            .collect();
        if !missing.is_empty() {
            return Err((names.len(), OrderError::Missing(missing.join(" and "))));
        }
        Ok(PolicyOrder([layers[0], layers[1], layers[2], layers[3]]))
    }

    /// The layers, outermost first.
    pub fn layers(&self) -> [Layer; 4] {
        self.0
    }

    /// Where `layer` is: 0 is outermost.
    pub fn index(&self, layer: Layer) -> usize {
        self.0
            .iter()
            .position(|&l| l == layer)
            .expect("an order holds every layer")
    }

    /// Whether `layer` wraps the whole retried call (it comes before the
    /// retry), rather than each attempt.
    pub fn per_call(&self, layer: Layer) -> bool {
        self.index(layer) < self.index(Layer::Retry)
    }

    /// Whether `outer` wraps `inner`.
    pub fn wraps(&self, outer: Layer, inner: Layer) -> bool {
        self.index(outer) < self.index(inner)
    }

    /// The order and what it means for the layers `configured` says the
    /// edge has, in words (for `check`).
    pub fn describe(&self, configured: impl Fn(Layer) -> bool) -> String {
        let names: Vec<&str> = self.0.iter().map(|l| l.name()).collect();
        let mut s = format!("order {} (outermost first)", names.join(" > "));
        let mut said = Vec::new();
        let retry = configured(Layer::Retry);
        if !retry {
            said.push("no retry: every call is one attempt");
        }
        if retry && configured(Layer::Breaker) {
            said.push(if self.per_call(Layer::Breaker) {
                "the breaker sees one outcome per call and its rejections are not retried"
            } else {
                "the breaker counts every attempt and the retry retries its rejections"
            });
        }
        if retry && configured(Layer::Bulkhead) {
            said.push(if self.per_call(Layer::Bulkhead) {
                "a call holds one bulkhead slot across its attempts"
            } else {
                "each attempt takes its own bulkhead slot"
            });
        }
        if retry && configured(Layer::Timeout) {
            said.push(if self.per_call(Layer::Timeout) {
                "the timeout bounds the whole retried call"
            } else {
                "the timeout bounds each attempt"
            });
        }
        if configured(Layer::Timeout) && configured(Layer::Bulkhead) && self.wraps(Layer::Timeout, Layer::Bulkhead) {
            said.push("the bulkhead wait counts toward the timeout");
        }
        if configured(Layer::Timeout) && configured(Layer::Breaker) && self.wraps(Layer::Timeout, Layer::Breaker) {
            said.push("a timeout is not a breaker failure");
        }
        if !said.is_empty() {
            s.push_str(": ");
            s.push_str(&said.join(", "));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permutation_parses_and_round_trips() {
        let names = ["retry", "breaker", "bulkhead", "timeout"];
        let mut count = 0;
        for a in 0..4 {
            for b in 0..4 {
                for c in 0..4 {
                    for d in 0..4 {
                        let ix = [a, b, c, d];
                        let list: Vec<&str> = ix.iter().map(|&i| names[i]).collect();
                        let distinct = (0..4).all(|i| ix.contains(&i));
                        match PolicyOrder::parse(&list) {
                            Ok(o) => {
                                assert!(distinct, "{list:?}");
                                count += 1;
                                let back: Vec<&str> = o.layers().iter().map(|l| l.name()).collect();
                                assert_eq!(back, list);
                                for (i, l) in o.layers().into_iter().enumerate() {
                                    assert_eq!(o.index(l), i);
                                }
                            }
                            Err((_, e)) => {
                                assert!(!distinct, "{list:?}");
                                assert!(matches!(e, OrderError::Repeated(_)), "{e}");
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(count, 24);
    }

    #[test]
    fn the_default_is_todays_order() {
        let o = PolicyOrder::default();
        assert_eq!(
            o,
            PolicyOrder::parse(&["retry", "breaker", "bulkhead", "timeout"]).unwrap()
        );
        assert!(!o.per_call(Layer::Breaker) && !o.per_call(Layer::Bulkhead) && !o.per_call(Layer::Timeout));
        assert!(o.wraps(Layer::Breaker, Layer::Bulkhead) && o.wraps(Layer::Bulkhead, Layer::Timeout));
    }

    #[test]
    fn mistakes_name_the_offending_entry() {
        assert_eq!(
            PolicyOrder::parse(&["retry", "breaker", "bulkhed", "timeout"]),
            Err((2, OrderError::Unknown("bulkhed".into())))
        );
        assert_eq!(
            PolicyOrder::parse(&["retry", "breaker", "retry", "timeout"]),
            Err((2, OrderError::Repeated("retry")))
        );
        assert_eq!(
            PolicyOrder::parse(&["retry", "breaker"]),
            Err((2, OrderError::Missing("bulkhead and timeout".into())))
        );
        let none: [&str; 0] = [];
        assert!(matches!(PolicyOrder::parse(&none), Err((0, OrderError::Missing(_)))));
    }

    #[test]
    fn the_words_say_which_side_of_the_retry_each_policy_is() {
        let o = PolicyOrder::parse(&["timeout", "breaker", "retry", "bulkhead"]).unwrap();
        let s = o.describe(|_| true);
        assert!(s.starts_with("order timeout > breaker > retry > bulkhead"), "{s}");
        assert!(s.contains("one outcome per call"), "{s}");
        assert!(s.contains("each attempt takes its own bulkhead slot"), "{s}");
        assert!(s.contains("bounds the whole retried call"), "{s}");
        assert!(s.contains("wait counts toward the timeout"), "{s}");
        assert!(s.contains("not a breaker failure"), "{s}");
        // Only what the edge has is described.
        let s = o.describe(|l| l == Layer::Retry || l == Layer::Breaker);
        assert_eq!(
            s,
            "order timeout > breaker > retry > bulkhead (outermost first): the breaker sees one outcome per call \
             and its rejections are not retried"
        );
        let s = o.describe(|l| l != Layer::Retry);
        assert!(s.contains("no retry") && !s.contains("per call"), "{s}");
    }
}
