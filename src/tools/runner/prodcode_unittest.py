"""prodcode's unittest driver: `python prodcode_unittest.py REPORT CONFIG`, run in the project root.

CONFIG is a JSON file: `{"ids": [...]}` loads each dotted id (`tests.test_math.TestAdd.test_zero`,
or a class or module) with `TestLoader.loadTestsFromName`; otherwise `{"patterns": [...],
"targets": [...]}` discovers like `python -m unittest discover` (start and top-level directory the
root, pattern `test*.py`; a `tests/` directory without `__init__.py` is discovered as its own
top level), keeping tests whose id contains a pattern (`unittest -k`). Targets are directories,
`.py` files or dotted names.

REPORT receives one JSON line per change of a test's state (see `json_lines.rs`), flushed at once.
Ids are `test.id()`, never the docstring's first line that `-v` prints. A failing subTest fails
its parent test; subTests get no ids of their own. A module that does not import is reported as
`didNotCompile` under its dotted name; a failing setUpClass or setUpModule as an `error` of its
class or module.
"""

import importlib
import json
import os
import sys
import time
import traceback
import unittest

_SubTest = getattr(unittest.case, "_SubTest", ())
_FailedTest = getattr(unittest.loader, "_FailedTest", ())
_ErrorHolder = getattr(unittest.suite, "_ErrorHolder", ())


class Report:
    def __init__(self, path):
        self.out = open(path, "a", encoding="utf-8")

    def emit(self, test_id, status, **fields):
        record = {"id": test_id, "name": test_id.rsplit(".", 1)[-1], "status": status}
        record.update({key: value for key, value in fields.items() if value is not None})
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()


def exception_line(err):
    lines = traceback.format_exception_only(err[0], err[1])
    return lines[-1].strip() if lines else None


class Result(unittest.TestResult):
    def __init__(self, report):
        super().__init__()
        self.buffer = True
        self.report = report
        self.current = {}

    def _tracked(self, test):
        return not isinstance(test, (_FailedTest, _ErrorHolder, _SubTest))

    def startTest(self, test):
        super().startTest(test)
        if self._tracked(test):
            self.current[test.id()] = {
                "started": time.monotonic(),
                "status": "passed",
                "message": None,
                "output": None,
            }
            self.report.emit(test.id(), "started")

    def _set(self, test, status, message=None, output=None):
        state = self.current.get(test.id())
        if state is None:
            return
        if state["status"] == "failed" and status != "failed":
            return
        state["status"] = status
        if message is not None:
            state["message"] = message if state["message"] is None else state["message"] + "\n" + message
        if output is not None:
            state["output"] = output if state["output"] is None else state["output"] + "\n" + output

    def addSuccess(self, test):
        super().addSuccess(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "failed", exception_line(err), self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        text = self.errors[-1][1]
        if isinstance(test, _FailedTest):
            # A module that did not import (or a load_tests that raised), found by discovery.
            name = getattr(test, "_testMethodName", None) or test.id()
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            message = lines[-1] if lines else exception_line(err)
            self.report.emit(name, "didNotCompile", message=message, output=text)
        elif isinstance(test, _ErrorHolder):
            # `setUpClass (tests.test_x.TestA)`: the class or module whose fixture failed.
            description = test.description
            name = description.split("(", 1)[-1].rstrip(")").strip() if "(" in description else description
            self.report.emit(name, "error", message=description + ": " + (exception_line(err) or ""), output=text)
        else:
            self._set(test, "failed", exception_line(err), text)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if isinstance(test, _SubTest):
            return
        self._set(test, "skipped", reason or "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._set(test, "skipped", "expected failure: " + (exception_line(err) or ""))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set(test, "failed", "unexpected success (the test is marked expectedFailure)")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            return
        if issubclass(err[0], test.failureException):
            text = self.failures[-1][1]
        else:
            text = self.errors[-1][1]
        description = subtest._subDescription() if hasattr(subtest, "_subDescription") else str(subtest)
        self._set(test, "failed", description + " " + (exception_line(err) or ""), text)

    def stopTest(self, test):
        state = self.current.pop(test.id(), None) if self._tracked(test) else None
        super().stopTest(test)
        if state is None:
            return
        duration = (time.monotonic() - state["started"]) * 1000
        self.report.emit(
            test.id(),
            state["status"],
            durationMs=round(duration, 3),
            message=state["message"],
            output=state["output"] if state["status"] != "passed" else None,
        )


def resolve(name):
    """None when `name` names something loadable; else (status, message, traceback text)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        module_name = ".".join(parts[:end])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if missing and (module_name == missing or module_name.startswith(missing + ".")):
                continue
            return ("didNotCompile", exception_line(sys.exc_info()), traceback.format_exc())
        except BaseException:
            return ("didNotCompile", exception_line(sys.exc_info()), traceback.format_exc())
        target = module
        for part in parts[end:]:
            if not hasattr(target, part):
                return ("notRun", "no test named " + name, None)
            target = getattr(target, part)
        return None
    return ("notRun", "no module for " + name, None)


def module_name(path, top):
    relative = os.path.relpath(path, top)
    return os.path.splitext(relative)[0].replace(os.sep, ".")


def main():
    report = Report(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as file:
        config = json.load(file)
    root = os.getcwd()
    tests_dir = os.path.join(root, "tests")
    flat_tests = os.path.isdir(tests_dir) and not os.path.isfile(os.path.join(tests_dir, "__init__.py"))
    sys.path.insert(0, root)
    if flat_tests:
        sys.path.insert(1, tests_dir)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    ids = config.get("ids")
    if ids is not None:
        for name in ids:
            problem = resolve(name)
            if problem is not None:
                status, message, output = problem
                report.emit(name, status, message=message, output=output)
                continue
            suite.addTest(loader.loadTestsFromName(name))
    else:
        patterns = config.get("patterns") or []
        if patterns:
            loader.testNamePatterns = ["*%s*" % pattern for pattern in patterns]
        targets = config.get("targets") or []
        if not targets:
            suite.addTest(loader.discover(root, "test*.py", root))
            if flat_tests:
                suite.addTest(loader.discover(tests_dir, "test*.py", tests_dir))
        for target in targets:
            path = os.path.abspath(os.path.join(root, target))
            in_flat = flat_tests and (path == tests_dir or path.startswith(tests_dir + os.sep))
            top = tests_dir if in_flat else root
            if os.path.isdir(path):
                suite.addTest(loader.discover(path, "test*.py", top))
            elif os.path.isfile(path) and path.endswith(".py"):
                suite.addTest(loader.loadTestsFromName(module_name(path, top)))
            else:
                suite.addTest(loader.loadTestsFromName(target))
    result = Result(report)
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
