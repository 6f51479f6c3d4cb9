//! How a verifier judges time and freshness, and what an update did.

/// Default allowance for clocks that disagree: a door controller's clock may drift.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;
/// Default time a list may still be used after its next update was due.
pub const DEFAULT_STATUS_GRACE_SECS: u64 = 3600;

/// What to do when the status list is stale (past next update plus grace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StalePolicy {
    /// Deny every card as [`crate::Denial::StatusStale`]. The default.
    #[default]
    FailClosed,
    /// Keep using the stale list: revocations it knows still deny, everything else is
    /// admitted. Leaves a window in which a card revoked since the last list opens
    /// doors; choose it only where a locked door is the greater danger (a fire exit).
    FailOpenUnsafe,
}

/// How a verifier judges time and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Seconds by which `now` may lie outside a validity window and still pass. A
    /// credential with `not_after = t` passes at `t + skew` and is denied at `t + skew + 1`.
    pub clock_skew_secs: u64,
    /// Seconds past a list's next update during which it is still used.
    pub status_grace_secs: u64,
    /// What happens after that.
    pub stale_policy: StalePolicy,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            status_grace_secs: DEFAULT_STATUS_GRACE_SECS,
            stale_policy: StalePolicy::FailClosed,
        }
    }
}

impl VerifyOptions {
    /// With the given skew allowance.
    #[must_use]
    pub fn with_clock_skew(mut self, secs: u64) -> Self {
        self.clock_skew_secs = secs;
        self
    }

    /// With the given grace after a list's next update.
    #[must_use]
    pub fn with_status_grace(mut self, secs: u64) -> Self {
        self.status_grace_secs = secs;
        self
    }

    /// With the given stale-list policy.
    #[must_use]
    pub fn with_stale_policy(mut self, policy: StalePolicy) -> Self {
        self.stale_policy = policy;
        self
    }
}

/// What installing a list, applying a delta or applying a key set did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListUpdate {
    /// The first list for this issuer.
    Installed {
        /// Its sequence.
        sequence: u64,
    },
    /// A newer list or a delta replaced the one held.
    Advanced {
        /// Sequence held before.
        from: u64,
        /// Sequence held now.
        to: u64,
    },
    /// The same list was offered again.
    Unchanged {
        /// Its sequence.
        sequence: u64,
    },
}
