"""prodcode's pytest plugin, written to a run's temporary directory and loaded with
`-p prodcode_report` (that directory is put first on PYTHONPATH).

- Writes one JSON line per change of a test's state to the file named by $PRODCODE_REPORT,
  flushed at once, so that a run killed on timeout keeps the results of the tests that finished
  (see `json_lines.rs` for the format). Collection errors are reported per file.
- With $PRODCODE_SELECT (a file of JSON strings, one per line), keeps only the tests whose node
  id is listed, or that sit under a listed class, file or parametrized function.
- Neutralises a project's options that would change a verdict: it stops nothing early
  (`maxfail`, stepwise) and, with `-p no:rerunfailures` before it, accepts and ignores
  pytest-rerunfailures' options and its `flaky` marker.
"""

import json
import os

import pytest

_out = None
_state = {}

_RERUN_OPTIONS = (
    ("--reruns", {"type": int, "default": 0}),
    ("--reruns-delay", {"type": float, "default": 0}),
    ("--only-rerun", {"action": "append", "default": []}),
    ("--rerun-except", {"action": "append", "default": []}),
    ("--fail-on-flaky", {"action": "store_true", "default": False}),
)


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.is_blocked("rerunfailures"):
        return
    group = parser.getgroup("prodcode", "prodcode (ignored rerun options)")
    for flag, kwargs in _RERUN_OPTIONS:
        dest = "prodcode_ignored_" + flag.lstrip("-").replace("-", "_")
        try:
            group.addoption(flag, dest=dest, **kwargs)
        except ValueError:
            pass


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _out
    config.option.maxfail = 0
    for name in ("stepwise", "stepwise_skip"):
        if getattr(config.option, name, False):
            setattr(config.option, name, False)
    config.addinivalue_line("markers", "flaky: rerun marker, ignored in prodcode's runs")
    path = os.environ.get("PRODCODE_REPORT")
    # Under pytest-xdist the controller receives every worker's reports: only it writes.
    if path and _out is None and not hasattr(config, "workerinput"):
        _out = open(path, "a", encoding="utf-8")


def _wanted():
    path = os.environ.get("PRODCODE_SELECT")
    if not path:
        return None
    with open(path, encoding="utf-8") as lines:
        return {json.loads(line) for line in lines if line.strip()}


def _ancestors(nodeid):
    """The node id itself and every prefix that ends before `::`, `[` or `/`."""
    yield nodeid
    for index, char in enumerate(nodeid):
        if char in "[/":
            yield nodeid[:index]
        elif char == ":" and nodeid.startswith("::", index):
            yield nodeid[:index]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    wanted = _wanted()
    if wanted is None:
        return
    keep, drop = [], []
    for item in items:
        if any(prefix in wanted for prefix in _ancestors(item.nodeid)):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _name(nodeid):
    head, bracket, parameters = nodeid.partition("[")
    return head.rsplit("::", 1)[-1] + bracket + parameters


def _emit(nodeid, status, **fields):
    if _out is None:
        return
    record = {"id": nodeid, "name": _name(nodeid), "status": status}
    record.update({key: value for key, value in fields.items() if value is not None})
    _out.write(json.dumps(record) + "\n")
    _out.flush()


def _message(report):
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return crash.message
    lines = report.longreprtext.splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    if errors:
        return "\n".join(errors)
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1] if lines else None


def _output(report):
    parts = []
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        parts.append(report.longreprtext)
    for title, content in getattr(report, "sections", []):
        parts.append("----- " + title + " -----\n" + content)
    return "\n".join(parts) or None


def pytest_runtest_logreport(report):
    state = _state.setdefault(report.nodeid, {"status": None, "duration": 0.0})
    state["duration"] += report.duration or 0.0
    when, outcome = report.when, report.outcome
    xfail = getattr(report, "wasxfail", None)
    previous = state["status"]
    message = None
    if when == "setup":
        status = {"passed": "started", "skipped": "skipped"}.get(outcome, "error")
    elif when == "call":
        status = {"passed": "passed", "skipped": "skipped"}.get(outcome, "failed")
        if xfail is not None and outcome == "skipped":
            message = "expected failure" + (": " + xfail if xfail else "")
    elif outcome == "failed" and previous in ("started", "passed", "skipped"):
        status = "error"
    elif previous == "started":
        status = "passed"
    else:
        return
    if status == previous and outcome == "passed":
        return
    state["status"] = status
    if status not in ("started", "passed"):
        message = message or _message(report)
        output = _output(report)
    else:
        output = None
    _emit(
        report.nodeid,
        status,
        durationMs=round(state["duration"] * 1000, 3),
        message=message,
        output=output,
    )


def pytest_collectreport(report):
    if not report.nodeid:
        return
    if report.outcome == "failed":
        _emit(report.nodeid, "didNotCompile", message=_message(report), output=_output(report))
    elif report.outcome == "skipped":
        _emit(report.nodeid, "skipped", message=_message(report))
