//! Verdicts over repeated runs: a test is fail-to-pass when it failed (or errored, did not
//! compile, or was missing) in every run before the solution and passed in every run after it;
//! pass-to-pass when it passed in all; anything that disagrees between runs of one state is
//! flaky. Only F2P and P2P tests make a task.

use std::collections::{BTreeMap, BTreeSet};

use crate::tools::runner::{TestRun, TestStatus};

/// One test's outcome in one run; `None`: the run did not report it.
pub type Outcome = Option<TestStatus>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    FailToPass,
    PassToPass,
    /// Runs of one state disagreed.
    Flaky,
    FailToFail,
    PassToFail,
    /// Skipped in some run: it checks nothing.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::FailToPass => "fail_to_pass",
            Verdict::PassToPass => "pass_to_pass",
            Verdict::Flaky => "flaky",
            Verdict::FailToFail => "fail_to_fail",
            Verdict::PassToFail => "pass_to_fail",
            Verdict::Skipped => "skipped",
        }
    }

    /// Why a test with this verdict is left out of a task (`None` for F2P and P2P).
    pub fn exclusion(self) -> Option<&'static str> {
        match self {
            Verdict::FailToPass | Verdict::PassToPass => None,
            Verdict::Flaky => Some("its result changed between runs of the same state"),
            Verdict::FailToFail => Some("it fails with and without the solution"),
            Verdict::PassToFail => Some("the solution breaks it"),
            Verdict::Skipped => Some("it was skipped"),
        }
    }
}

/// The outcomes of every test over the runs of both states, by test id.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Outcomes {
    pub before: Vec<BTreeMap<String, TestStatus>>,
    pub after: Vec<BTreeMap<String, TestStatus>>,
}

impl Outcomes {
    pub fn record(&mut self, after: bool, run: &TestRun) {
        let statuses = run
            .tests
            .iter()
            .map(|test| (test.id.clone(), test.status))
            .collect();
        if after {
            self.after.push(statuses);
        } else {
            self.before.push(statuses);
        }
    }

    /// Every test id seen in any run.
    pub fn ids(&self) -> BTreeSet<&str> {
        self.before
            .iter()
            .chain(&self.after)
            .flat_map(|run| run.keys().map(String::as_str))
            .collect()
    }

    /// The verdict of every test seen, by id.
    pub fn verdicts(&self) -> BTreeMap<String, Verdict> {
        self.ids()
            .into_iter()
            .map(|id| {
                let before: Vec<Outcome> =
                    self.before.iter().map(|run| run.get(id).copied()).collect();
                let after: Vec<Outcome> =
                    self.after.iter().map(|run| run.get(id).copied()).collect();
                (id.to_owned(), verdict(&before, &after))
            })
            .collect()
    }
}

/// The verdict of one test from its outcomes before and after (one entry per run).
pub fn verdict(before: &[Outcome], after: &[Outcome]) -> Verdict {
    let skipped = |outcome: &Outcome| *outcome == Some(TestStatus::Skipped);
    if before.iter().chain(after).any(skipped) {
        return Verdict::Skipped;
    }
    let passed = |outcome: &Outcome| *outcome == Some(TestStatus::Passed);
    let all = |runs: &[Outcome], wanted: bool| runs.iter().all(|o| passed(o) == wanted);
    let steady = |runs: &[Outcome]| all(runs, true) || all(runs, false);
    if !steady(before) || !steady(after) || before.is_empty() || after.is_empty() {
        return Verdict::Flaky;
    }
    match (all(before, true), all(after, true)) {
        (false, true) => Verdict::FailToPass,
        (true, true) => Verdict::PassToPass,
        (false, false) => Verdict::FailToFail,
        (true, false) => Verdict::PassToFail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TestStatus::{Error, Failed, Passed, Skipped};

    #[test]
    fn verdicts_need_agreement_within_each_state() {
        let p = Some(Passed);
        let f = Some(Failed);
        assert_eq!(
            verdict(&[f, Some(Error), None], &[p, p, p]),
            Verdict::FailToPass
        );
        assert_eq!(verdict(&[p, p], &[p, p]), Verdict::PassToPass);
        assert_eq!(verdict(&[f, p, f], &[p, p, p]), Verdict::Flaky);
        assert_eq!(verdict(&[f, f], &[p, f]), Verdict::Flaky);
        assert_eq!(verdict(&[f, f], &[f, None]), Verdict::FailToFail);
        assert_eq!(verdict(&[p, p], &[f, f]), Verdict::PassToFail);
        assert_eq!(verdict(&[Some(Skipped)], &[p]), Verdict::Skipped);
        // Missing after the solution is never a pass.
        assert_eq!(verdict(&[None], &[None]), Verdict::FailToFail);
        assert_eq!(verdict(&[], &[p]), Verdict::Flaky);
    }
}
