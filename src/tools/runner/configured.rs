//! A command from `[tools.tests]` in `prodcode.toml`, for projects whose tests no detector knows
//! (a Makefile, a script, a runner in a container).
//!
//! Without `shell` the command is split on whitespace and run directly; targets and names follow
//! as arguments. Its results come from the configured [`ReportFormat`].

use super::exec::{CommandSpec, Execution};
use super::junit::{self, IdStyle};
use super::{
    Counts, Invocation, ReportFormat, Runner, RunnerConfig, RunnerError, RunnerKind, TestCase,
    TestStatus, go_json, jest_json, libtest, output_tail,
};

pub(super) fn runner(config: &RunnerConfig) -> Option<Runner> {
    let mut words: Vec<String> = super::exec::command_words(&config.command, config.shell);
    if words.is_empty() || words[0].trim().is_empty() {
        return None;
    }
    let program = words.remove(0);
    Some(Runner {
        kind: RunnerKind::Configured {
            shell: config.shell,
            format: config.format,
            report: config.report.clone(),
        },
        program,
        args: words,
        env: config.env.clone(),
    })
}

pub(super) fn command(invocation: &Invocation) -> Result<CommandSpec, RunnerError> {
    let RunnerKind::Configured { shell, format, .. } = &invocation.runner.kind else {
        return Err(RunnerError::EmptyCommand);
    };
    if invocation.runner.program.trim().is_empty() {
        return Err(RunnerError::EmptyCommand);
    }
    let mut extra: Vec<String> = invocation.targets.to_vec();
    extra.extend(invocation.names.iter().cloned());
    let mut spec = invocation.spec(extra);
    spec.shell = *shell;
    spec.merge_stderr = *format == ReportFormat::Libtest;
    Ok(spec)
}

pub(super) fn parse(
    invocation: &Invocation,
    execution: &Execution,
    stdout: &str,
    stderr: &str,
) -> (Vec<TestCase>, Option<Counts>) {
    let RunnerKind::Configured { format, report, .. } = &invocation.runner.kind else {
        return (Vec::new(), None);
    };
    let read_report = || {
        report
            .as_deref()
            .and_then(|report| std::fs::read_to_string(invocation.root.join(report)).ok())
            .unwrap_or_default()
    };
    match format {
        ReportFormat::Libtest => {
            let parsed = libtest::parse(stdout);
            (parsed.tests, parsed.summary)
        }
        ReportFormat::GoJson => (go_json::parse(stdout), None),
        ReportFormat::Junit => (junit::parse(&read_report(), IdStyle::Pytest), None),
        ReportFormat::JestJson => (jest_json::parse(&read_report(), invocation.root), None),
        ReportFormat::ExitCode => (vec![whole_command(execution, stdout, stderr)], None),
    }
}

/// One result for a command that reports only its exit code.
fn whole_command(execution: &Execution, stdout: &str, stderr: &str) -> TestCase {
    let status = if execution.success() {
        TestStatus::Passed
    } else {
        TestStatus::Failed
    };
    let output = format!("{}\n{}", stdout.trim_end(), stderr.trim_end());
    let output = output.trim();
    let lines: Vec<&str> = output.lines().collect();
    let last_lines = lines[lines.len().saturating_sub(5)..].join("\n");
    TestCase {
        // Not the root's path: the same tests run in other worktrees.
        id: "tests".to_owned(),
        name: "tests".to_owned(),
        status,
        duration_ms: u64::try_from(execution.duration.as_millis()).ok(),
        message: (status != TestStatus::Passed).then(|| match execution.status {
            Some(code) => format!("the test command exited with code {code}: {last_lines}"),
            None => format!("the test command was killed: {last_lines}"),
        }),
        output_tail: (status != TestStatus::Passed && !output.is_empty())
            .then(|| output_tail(output)),
    }
}
