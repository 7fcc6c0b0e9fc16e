//! The order of a pipeline's policies, with the semantics of Azure
//! core-rest-pipeline's `Pipeline` (`getOrderedPolicies`): phases run in the
//! order Serialize, (none), Deserialize, Retry, Sign; within a phase,
//! policies keep the order they were added in unless `before`/`after` name
//! other policies or `after_phase` waits for a whole phase. A name in
//! `before`/`after` that is not in the pipeline is ignored.
//!
//! Azure orders by walking the phases again and again, placing each policy
//! whose requirements are met; the exact walk decides ties, so it is
//! reproduced step for step (one pass over a phase per walk, the no-phase
//! policies walked early when an earlier phase waits on them and right
//! after a phase other policies wait for). Where Azure only says "cycle",
//! we name the policies of one cycle.

use std::collections::HashSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Serialize,
    None,
    Deserialize,
    Retry,
    Sign,
}

/// The phases in the order they run.
const PHASES: [Phase; 5] = [
    Phase::Serialize,
    Phase::None,
    Phase::Deserialize,
    Phase::Retry,
    Phase::Sign,
];

impl Phase {
    /// A phase by its Azure name; `None` for a name Azure does not know.
    /// The no-phase group has no name: it is where a policy without
    /// `phase` goes.
    pub fn parse(name: &str) -> Option<Phase> {
        match name {
            "Serialize" => Some(Phase::Serialize),
            "Deserialize" => Some(Phase::Deserialize),
            "Retry" => Some(Phase::Retry),
            "Sign" => Some(Phase::Sign),
            _ => None,
        }
    }

    fn index(self) -> usize {
        PHASES.iter().position(|p| *p == self).unwrap_or(1)
    }
}

/// One policy as added, with Azure's `AddPolicyOptions` (names already
/// read; see `Entry::from_options`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub phase: Phase,
    pub after_phase: Option<Phase>,
    /// Policies this one must come before (run outside of).
    pub before: Vec<String>,
    /// Policies this one must come after (run inside of).
    pub after: Vec<String>,
}

impl Entry {
    pub fn new(name: &str) -> Entry {
        Entry {
            name: name.to_string(),
            phase: Phase::None,
            after_phase: None,
            before: Vec::new(),
            after: Vec::new(),
        }
    }

    /// An entry from `addPolicy`'s options as given: a phase name that
    /// Azure does not know, or both `phase` and `afterPhase`, is refused
    /// (as Azure's `addPolicy` refuses them).
    pub fn from_options(
        name: &str,
        phase: Option<&str>,
        after_phase: Option<&str>,
        before: Vec<String>,
        after: Vec<String>,
    ) -> Result<Entry, OrderError> {
        if phase.is_some() && after_phase.is_some() {
            return Err(OrderError::PhaseAndAfterPhase(name.to_string()));
        }
        let read = |phase: Option<&str>| match phase {
            None => Ok(None),
            Some(text) => Phase::parse(text)
                .map(Some)
                .ok_or_else(|| OrderError::UnknownPhase(text.to_string())),
        };
        Ok(Entry {
            name: name.to_string(),
            phase: read(phase)?.unwrap_or(Phase::None),
            after_phase: read(after_phase)?,
            before,
            after,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    DuplicateName(String),
    /// The names of the policies in one cycle of requirements, each waiting
    /// for the next and the last for the first.
    Cycle(Vec<String>),
    PhaseAndAfterPhase(String),
    UnknownPhase(String),
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::DuplicateName(name) => write!(
                f,
                "Duplicate policy names not allowed in pipeline: \"{name}\" was added twice"
            ),
            OrderError::Cycle(names) => write!(
                f,
                "Cannot satisfy policy dependencies due to requirements cycle: {}",
                names
                    .iter()
                    .chain(names.first())
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
            OrderError::PhaseAndAfterPhase(name) => write!(
                f,
                "Policies inside a phase cannot specify afterPhase (policy \"{name}\")"
            ),
            OrderError::UnknownPhase(phase) => write!(
                f,
                "Invalid phase name: \"{phase}\" (expected Serialize, Deserialize, Retry or Sign)"
            ),
        }
    }
}

impl std::error::Error for OrderError {}

/// The indices of `entries`, outermost first.
pub fn order(entries: &[Entry]) -> Result<Vec<usize>, OrderError> {
    let mut seen = HashSet::new();
    for entry in entries {
        if entry.phase != Phase::None && entry.after_phase.is_some() {
            return Err(OrderError::PhaseAndAfterPhase(entry.name.clone()));
        }
        if !seen.insert(entry.name.as_str()) {
            return Err(OrderError::DuplicateName(entry.name.clone()));
        }
    }
    let mut walk = Walk::new(entries);
    let mut rounds = 0;
    while walk.placed.len() < entries.len() {
        rounds += 1;
        let before = walk.placed.len();
        walk.walk_phases();
        // The first round may place nothing when every phase waits on a
        // later one; from the second on, no progress means a cycle.
        if walk.placed.len() == before && rounds > 1 {
            return Err(OrderError::Cycle(walk.cycle()));
        }
    }
    Ok(walk.placed)
}

/// The state of Azure's walk.
struct Walk<'e> {
    entries: &'e [Entry],
    /// Per entry, the entries it still waits for (`after`, and those naming
    /// it in `before`).
    waits_for: Vec<HashSet<usize>>,
    /// Per phase, its unplaced entries in the order they were added.
    unplaced: [Vec<usize>; 5],
    has_run: [bool; 5],
    /// Whether some policy waits for the phase (`after_phase`).
    awaited: [bool; 5],
    placed: Vec<usize>,
}

impl<'e> Walk<'e> {
    fn new(entries: &'e [Entry]) -> Walk<'e> {
        let index_of = |name: &str| entries.iter().position(|e| e.name == name);
        let mut waits_for = vec![HashSet::new(); entries.len()];
        let mut unplaced: [Vec<usize>; 5] = Default::default();
        let mut awaited = [false; 5];
        for (i, entry) in entries.iter().enumerate() {
            unplaced[entry.phase.index()].push(i);
            if let Some(phase) = entry.after_phase {
                awaited[phase.index()] = true;
            }
            for name in &entry.after {
                if let Some(other) = index_of(name) {
                    waits_for[i].insert(other);
                }
            }
            for name in &entry.before {
                if let Some(other) = index_of(name) {
                    waits_for[other].insert(i);
                }
            }
        }
        Walk {
            entries,
            waits_for,
            unplaced,
            has_run: [false; 5],
            awaited,
            placed: Vec::new(),
        }
    }

    fn phase_done(&self, phase: Phase) -> bool {
        self.has_run[phase.index()] && self.unplaced[phase.index()].is_empty()
    }

    /// One pass over a phase, in the order its policies were added; a
    /// policy placed in this pass frees those later in the same pass.
    fn walk_phase(&mut self, phase: Phase) {
        let p = phase.index();
        self.has_run[p] = true;
        for i in self.unplaced[p].clone() {
            let entry = &self.entries[i];
            if entry
                .after_phase
                .is_some_and(|after| !self.phase_done(after))
            {
                continue;
            }
            if self.waits_for[i].is_empty() {
                self.placed.push(i);
                for waiting in self.waits_for.iter_mut() {
                    waiting.remove(&i);
                }
                self.unplaced[p].retain(|&j| j != i);
            }
        }
    }

    /// The phases in order, stopping at the first one not finished (the
    /// no-phase group never stops the walk).
    fn walk_phases(&mut self) {
        for phase in PHASES {
            self.walk_phase(phase);
            if phase != Phase::None && !self.unplaced[phase.index()].is_empty() {
                // A phase before the no-phase group may wait on one of its
                // policies: give them a chance before the next round.
                if !self.has_run[Phase::None.index()] {
                    self.walk_phase(Phase::None);
                }
                return;
            }
            if self.awaited[phase.index()] {
                // Place right away what waited for this phase.
                self.walk_phase(Phase::None);
            }
        }
    }

    /// The names in one cycle among the unplaced policies. What a policy
    /// waits for: the policies it must come after; with `after_phase`, the
    /// policies of that phase; in a phase, the policies of the phases
    /// before (the walk never passes an unfinished phase). A wait on a
    /// phase with nothing left in it shows as a wait on the last unfinished
    /// phase before it.
    fn cycle(&self) -> Vec<String> {
        let unplaced: Vec<usize> = self.unplaced.iter().flatten().copied().collect();
        let blocking_phase_members = |phase: Phase| -> Vec<usize> {
            // The policies of `phase`, or if none are left, of the nearest
            // earlier phase (other than the no-phase group) that has some.
            PHASES[..=phase.index()]
                .iter()
                .rev()
                .filter(|p| **p != Phase::None)
                .map(|p| self.unplaced[p.index()].clone())
                .find(|members| !members.is_empty())
                .unwrap_or_default()
        };
        let waits = |i: usize| -> Vec<usize> {
            let entry = &self.entries[i];
            let mut on: Vec<usize> = self.waits_for[i].iter().copied().collect();
            on.sort_unstable();
            if let Some(phase) = entry.after_phase {
                on.extend(blocking_phase_members(phase));
            }
            if entry.phase != Phase::None && entry.phase.index() > 0 {
                let earlier = PHASES[entry.phase.index() - 1];
                on.extend(blocking_phase_members(earlier));
            }
            on.retain(|&j| j != i && unplaced.contains(&j));
            on
        };
        // Follow waits from any unplaced policy: every unplaced policy waits
        // on another unplaced one, so the path must come back to itself.
        let Some(&start) = unplaced.first() else {
            return Vec::new();
        };
        let mut path = vec![start];
        let mut current = start;
        while let Some(&next) = waits(current).first() {
            if let Some(at) = path.iter().position(|&p| p == next) {
                return path[at..]
                    .iter()
                    .map(|&i| self.entries[i].name.clone())
                    .collect();
            }
            path.push(next);
            current = next;
        }
        // Not reached when the walk is stuck; name them all rather than none.
        unplaced
            .iter()
            .map(|&i| self.entries[i].name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn names(entries: &[Entry]) -> Result<Vec<&str>, OrderError> {
        Ok(order(entries)?
            .into_iter()
            .map(|i| entries[i].name.as_str())
            .collect())
    }

    fn in_phase(name: &str, phase: Phase) -> Entry {
        Entry {
            phase,
            ..Entry::new(name)
        }
    }

    fn after(name: &str, others: &[&str]) -> Entry {
        Entry {
            after: others.iter().map(|s| s.to_string()).collect(),
            ..Entry::new(name)
        }
    }

    fn before(name: &str, others: &[&str]) -> Entry {
        Entry {
            before: others.iter().map(|s| s.to_string()).collect(),
            ..Entry::new(name)
        }
    }

    #[test]
    fn without_constraints_the_order_is_the_order_added() -> TestResult {
        let entries = [Entry::new("a"), Entry::new("b"), Entry::new("c")];
        assert_eq!(names(&entries)?, ["a", "b", "c"]);
        Ok(())
    }

    #[test]
    fn phases_run_serialize_none_deserialize_retry_sign() -> TestResult {
        let entries = [
            in_phase("sign", Phase::Sign),
            in_phase("retry", Phase::Retry),
            Entry::new("plain"),
            in_phase("deserialize", Phase::Deserialize),
            in_phase("serialize", Phase::Serialize),
        ];
        assert_eq!(
            names(&entries)?,
            ["serialize", "plain", "deserialize", "retry", "sign"]
        );
        Ok(())
    }

    #[test]
    fn before_and_after_reorder_within_a_phase() -> TestResult {
        let entries = [after("a", &["b"]), Entry::new("b"), before("c", &["b"])];
        assert_eq!(names(&entries)?, ["c", "b", "a"]);
        Ok(())
    }

    #[test]
    fn a_constraint_naming_an_absent_policy_is_ignored() -> TestResult {
        let entries = [after("a", &["nowhere"]), before("b", &["missing"])];
        assert_eq!(names(&entries)?, ["a", "b"]);
        Ok(())
    }

    #[test]
    fn after_phase_places_a_policy_right_after_that_phase() -> TestResult {
        let entries = [
            Entry {
                after_phase: Some(Phase::Retry),
                ..Entry::new("afterRetry")
            },
            in_phase("retry", Phase::Retry),
            in_phase("sign", Phase::Sign),
            Entry::new("plain"),
        ];
        assert_eq!(names(&entries)?, ["plain", "retry", "afterRetry", "sign"]);
        Ok(())
    }

    #[test]
    fn after_phase_waits_for_an_empty_phase_to_be_reached() -> TestResult {
        let entries = [
            Entry {
                after_phase: Some(Phase::Deserialize),
                ..Entry::new("late")
            },
            Entry::new("plain"),
            in_phase("sign", Phase::Sign),
        ];
        assert_eq!(names(&entries)?, ["plain", "late", "sign"]);
        Ok(())
    }

    #[test]
    fn a_serialize_policy_may_wait_for_a_no_phase_one() -> TestResult {
        // The walk gives the no-phase group a turn before it comes back to
        // the unfinished Serialize phase.
        let entries = [
            Entry {
                phase: Phase::Serialize,
                ..after("s", &["plain"])
            },
            Entry::new("plain"),
        ];
        assert_eq!(names(&entries)?, ["plain", "s"]);
        Ok(())
    }

    #[test]
    fn a_no_phase_policy_may_follow_a_later_phase() -> TestResult {
        let entries = [after("plain", &["sign"]), in_phase("sign", Phase::Sign)];
        assert_eq!(names(&entries)?, ["sign", "plain"]);
        Ok(())
    }

    #[test]
    fn duplicate_names_are_refused() {
        let entries = [Entry::new("a"), Entry::new("a")];
        let error = order(&entries).err();
        assert_eq!(error, Some(OrderError::DuplicateName("a".into())));
        assert_eq!(
            error.map(|e| e.to_string()),
            Some("Duplicate policy names not allowed in pipeline: \"a\" was added twice".into())
        );
    }

    #[test]
    fn a_cycle_of_constraints_names_its_policies() {
        let entries = [
            Entry::new("free"),
            after("a", &["b"]),
            after("b", &["c"]),
            after("c", &["a"]),
        ];
        let error = order(&entries).err();
        assert_eq!(
            error,
            Some(OrderError::Cycle(vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(
            error.map(|e| e.to_string()),
            Some(
                "Cannot satisfy policy dependencies due to requirements cycle: \
                 \"a\" -> \"b\" -> \"c\" -> \"a\""
                    .into()
            )
        );
    }

    #[test]
    fn a_policy_after_itself_is_a_cycle() {
        let entries = [after("self", &["self"])];
        assert_eq!(
            order(&entries).err(),
            Some(OrderError::Cycle(vec!["self".into()]))
        );
    }

    #[test]
    fn a_cycle_through_the_phase_order_is_named() {
        // A Serialize policy that must run after a Sign policy can never be
        // placed: Sign is only reached once Serialize is done.
        let entries = [
            in_phase("sign", Phase::Sign),
            Entry {
                phase: Phase::Serialize,
                ..after("early", &["sign"])
            },
        ];
        assert_eq!(
            order(&entries).err(),
            Some(OrderError::Cycle(vec!["early".into(), "sign".into()]))
        );
    }

    #[test]
    fn a_cycle_through_after_phase_is_named() {
        let entries = [
            Entry {
                after_phase: Some(Phase::Retry),
                ..Entry::new("afterRetry")
            },
            Entry {
                phase: Phase::Retry,
                ..after("retry", &["afterRetry"])
            },
        ];
        assert_eq!(
            order(&entries).err(),
            Some(OrderError::Cycle(vec!["afterRetry".into(), "retry".into()]))
        );
    }

    #[test]
    fn phase_with_after_phase_and_unknown_phases_are_refused() {
        assert_eq!(
            Entry::from_options("p", Some("Retry"), Some("Sign"), vec![], vec![]).err(),
            Some(OrderError::PhaseAndAfterPhase("p".into()))
        );
        let unknown = Entry::from_options("p", Some("Later"), None, vec![], vec![]).err();
        assert_eq!(unknown, Some(OrderError::UnknownPhase("Later".into())));
        assert_eq!(
            unknown.map(|e| e.to_string()),
            Some(
                "Invalid phase name: \"Later\" (expected Serialize, Deserialize, Retry or Sign)"
                    .into()
            )
        );
        assert!(Entry::from_options("p", None, Some("None"), vec![], vec![]).is_err());
        let both = [Entry {
            phase: Phase::Sign,
            after_phase: Some(Phase::Retry),
            ..Entry::new("p")
        }];
        assert_eq!(
            order(&both).err(),
            Some(OrderError::PhaseAndAfterPhase("p".into()))
        );
    }

    #[test]
    fn entry_from_options_reads_phases() -> TestResult {
        let entry = Entry::from_options("p", None, Some("Deserialize"), vec!["x".into()], vec![])?;
        assert_eq!(entry.phase, Phase::None);
        assert_eq!(entry.after_phase, Some(Phase::Deserialize));
        assert_eq!(entry.before, ["x"]);
        Ok(())
    }
}
