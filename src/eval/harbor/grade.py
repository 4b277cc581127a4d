"""prodcode's verifier for one exported task, run by `tests/test.sh` (docs/eval.md, "Harbor").

It grades as `prodcode eval` does, in the task's container after the agent's turn:

1. Test infrastructure and test files go back to the base: every base file listed in
   `config.json` "restore" (its content is in `base/`) is rewritten when it differs or is
   missing, and every file that was not in the base and matches a pattern of "infraRegexes"
   (a planted `conftest.py`, `sitecustomize.py`, `*.pth`, pytest configuration, a new test file)
   is deleted. Files the test patch changes are put back too: the patch wins.
2. `test.patch` is applied with `git apply`.
3. Exactly the fail-to-pass and pass-to-pass tests run, selected as prodcode's runner selects
   them, so ids select exactly the tests curation checked: pytest and unittest through
   prodcode's own plugin and driver; cargo one test binary at a time (`--lib`, `--test NAME`,
   `--bin NAME`, then `-- --exact PATH...`, libtest's output read back), so a binary that does
   not compile fails its own tests only; Go one package at a time (`go test -json -count=1
   -run '^(?:Name)$' PACKAGE`).
4. `reward.txt` is 1 only if every one of them passed (a skipped, missing or uncompiled test
   fails), and `results.json` says how each test ended and what was put back.

Paths: the repository is $PRODCODE_APP_DIR (default /app), results go to $PRODCODE_VERIFIER_DIR
(default /logs/verifier); the interpreter is $PRODCODE_PYTHON, else the project's
`.venv/bin/python`, else the one running this script. Toolchain state the agent cannot have
touched: $PRODCODE_CARGO_HOME, $PRODCODE_CARGO_TARGET_DIR (else a fresh directory),
$PRODCODE_GOCACHE and $PRODCODE_GOMODCACHE become CARGO_HOME, CARGO_TARGET_DIR, GOCACHE and
GOMODCACHE of the test runs when they are set. Cargo runs `--offline` and Go with GOPROXY=off,
GOTOOLCHAIN=local and GOWORK=off: the grader never reaches the network.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.environ.get("PRODCODE_APP_DIR") or "/app"
LOGS = os.environ.get("PRODCODE_VERIFIER_DIR") or "/logs/verifier"
# Directories that are not the project's source: not searched for planted files.
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".tox", ".nox", ".pytest_cache"}


def write(name, text):
    path = os.path.join(LOGS, name)
    with open(path + ".partial", "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(path + ".partial", path)


def restore(config):
    """Puts the base's test files and test infrastructure back; the paths it changed."""
    changed = []
    for entry in config["restore"]:
        path = entry["path"]
        source = os.path.join(HERE, "base", path)
        target = os.path.join(APP, path)
        with open(source, "rb") as f:
            wanted = f.read()
        try:
            with open(target, "rb") as f:
                same = f.read() == wanted and not os.path.islink(target)
        except OSError:
            same = False
        if not same:
            if os.path.lexists(target) and (os.path.islink(target) or not os.path.isfile(target)):
                if os.path.isdir(target) and not os.path.islink(target):
                    shutil.rmtree(target)
                else:
                    os.remove(target)
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            with open(target, "wb") as f:
                f.write(wanted)
            changed.append(path)
        os.chmod(target, 0o755 if entry["executable"] else 0o644)
    base = set(config["baseFiles"])
    patterns = [re.compile(pattern) for pattern in config["infraRegexes"]]
    # cargo's build directory: the verifier builds elsewhere, and it can be huge.
    skip = SKIP_DIRS | ({"target"} if config["runner"].startswith("cargo") else set())
    for directory, dirs, files in os.walk(APP):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            full = os.path.join(directory, name)
            path = os.path.relpath(full, APP).replace(os.sep, "/")
            if path in base:
                continue
            if any(pattern.search(path) for pattern in patterns):
                os.remove(full)
                changed.append(path)
    return changed


def apply_patch():
    patch = os.path.join(HERE, "test.patch")
    if os.path.getsize(patch) == 0:
        return None
    run = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", patch],
        cwd=APP,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return "the test patch does not apply: " + (run.stderr or run.stdout).strip()
    return None


def python():
    explicit = os.environ.get("PRODCODE_PYTHON")
    if explicit:
        return explicit
    venv = os.path.join(APP, ".venv", "bin", "python")
    if os.access(venv, os.X_OK):
        return venv
    return sys.executable


def run(command, env, timeout):
    """Runs `command` in the repository in a process group of its own, killed after `timeout`
    seconds; its output (stderr merged) and exit code (None when it timed out)."""
    process = subprocess.Popen(
        command,
        cwd=APP,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=max(timeout, 1))
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output = (output or b"") + b"\nprodcode: the test run timed out\n"
        code = None
    return output.decode("utf-8", "replace"), code


def grouped(ids):
    """`binary path` / `package Test` ids by their first word, in order."""
    groups = {}
    for test_id in ids:
        head, _, test = test_id.partition(" ")
        if head and test:
            groups.setdefault(head, []).append(test)
    return groups


def cargo_selector(binary_id):
    """The cargo arguments that build a nextest binary id's tests (`calc` -> `-p calc --lib`,
    `calc::a` -> `-p calc --test a`, `calc::bin/x` -> `-p calc --bin x`), as prodcode's cargo
    runner selects them; None for an id of no known shape."""
    package, sep, rest = binary_id.partition("::")
    if not package:
        return None
    if not sep:
        return ["-p", package, "--lib"]
    kind, slash, name = rest.partition("/")
    if not slash:
        kind, name = "test", rest
    flags = {"test": "--test", "bin": "--bin", "bench": "--bench", "example": "--example"}
    if kind not in flags or not name:
        return None
    return ["-p", package, flags[kind], name]


SECTION = re.compile(r"^---- (.+) stdout ----$")
TEST_LINE = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)")


def libtest_statuses(output):
    """`test tests::adds ... ok` lines of libtest's human output, outside the captured output
    that `---- name stdout ----` sections of failures print."""
    found = {}
    in_section = False
    for line in output.splitlines():
        line = line.rstrip("\r")
        if SECTION.match(line):
            in_section = True
            continue
        if in_section:
            if line in ("failures:", "successes:") or line.startswith("test result: "):
                in_section = False
            continue
        match = TEST_LINE.match(line)
        if match:
            name = match.group(1)
            if name.endswith(" - should panic"):
                name = name[: -len(" - should panic")]
            found[name.strip()] = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}[match.group(2)]
    return found


def toolchain_env(env, work):
    """The verifier's own toolchain state (see the module's docs) and offline settings."""
    for ours, theirs in (("PRODCODE_CARGO_HOME", "CARGO_HOME"), ("PRODCODE_GOCACHE", "GOCACHE"),
                         ("PRODCODE_GOMODCACHE", "GOMODCACHE")):
        if os.environ.get(ours):
            env[theirs] = os.environ[ours]
    env["CARGO_TARGET_DIR"] = os.environ.get("PRODCODE_CARGO_TARGET_DIR") or os.path.join(work, "target")
    env["CARGO_TERM_COLOR"] = "never"
    env["GOPROXY"] = "off"
    env["GOTOOLCHAIN"] = "local"
    env["GOWORK"] = "off"
    env["GOFLAGS"] = ""


def run_cargo(config, work, ids, env):
    """One `cargo test` per test binary; each test's status and the runs' output."""
    found, outputs = {}, []
    deadline = time.monotonic() + config["testTimeoutS"]
    for binary, tests in grouped(ids).items():
        selector = cargo_selector(binary)
        if selector is None:
            continue
        command = ["cargo", "test", "--offline", "--no-fail-fast"] + selector + ["--", "--exact"] + tests
        output, code = run(command, env, deadline - time.monotonic())
        outputs.append("$ " + " ".join(command) + "\n" + output)
        statuses = libtest_statuses(output)
        # A binary that does not build runs none of its tests: they did not compile.
        unbuilt = code is not None and code != 0 and not statuses and "error" in output
        for test in tests:
            status = statuses.get(test, "didNotCompile" if unbuilt else None)
            if status:
                found[binary + " " + test] = status
    return found, "\n".join(outputs)


def go_pattern(tests):
    """`^(?:TestA|TestB)$`, one such element per `/`-separated subtest level, as prodcode's go
    runner writes it."""
    depth = max(len(test.split("/")) for test in tests)
    levels = []
    for level in range(depth):
        alternatives = []
        for test in tests:
            parts = test.split("/")
            if level < len(parts):
                escaped = re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", parts[level])
                if escaped not in alternatives:
                    alternatives.append(escaped)
        levels.append("^(?:" + "|".join(alternatives) + ")$")
    return "/".join(levels)


def run_go(config, work, ids, env):
    """One `go test -json` per package; each test's status and the runs' output."""
    found, outputs = {}, []
    deadline = time.monotonic() + config["testTimeoutS"]
    for package, tests in grouped(ids).items():
        command = ["go", "test", "-json", "-count=1", "-run", go_pattern(tests), package]
        output, _ = run(command, env, deadline - time.monotonic())
        outputs.append("$ " + " ".join(command) + "\n" + output)
        statuses, unbuilt = {}, False
        for line in output.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                unbuilt = unbuilt or "[build failed]" in line or "[setup failed]" in line
                continue
            if not isinstance(event, dict):
                continue
            action, test = event.get("Action"), event.get("Test")
            text = event.get("Output") or ""
            if action == "build-fail" or event.get("FailedBuild") or "[build failed]" in text \
                    or "[setup failed]" in text:
                unbuilt = True
            if test and action in ("pass", "fail", "skip"):
                statuses[test] = {"pass": "passed", "fail": "failed", "skip": "skipped"}[action]
            elif test and action == "run":
                statuses.setdefault(test, "error")
        for test in tests:
            status = statuses.get(test, "didNotCompile" if unbuilt else None)
            if status:
                found[package + " " + test] = status
    return found, "\n".join(outputs)


def run_tests(config, work):
    """Runs exactly the task's tests; each test's status and the run's output."""
    ids = config["failToPass"] + config["passToPass"]
    if config["runner"] in ("cargo-test", "cargo-nextest", "go-test"):
        env = dict(os.environ)
        toolchain_env(env, work)
        if config["runner"] == "go-test":
            return run_go(config, work, ids, env)
        return run_cargo(config, work, ids, env)
    report = os.path.join(work, "results.jsonl")
    env = dict(os.environ)
    env["PY_COLORS"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The project imports from the work tree (its root, and src/), as `prodcode eval` runs it.
    imports = [APP] + ([os.path.join(APP, "src")] if os.path.isdir(os.path.join(APP, "src")) else [])
    if env.get("PYTHONPATH"):
        imports.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(imports)
    if config["runner"] == "pytest":
        shutil.copy(os.path.join(HERE, "prodcode_report.py"), work)
        select = os.path.join(work, "select.jsonl")
        with open(select, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(test_id) + "\n" for test_id in ids)
        files = []
        for test_id in ids:
            file = test_id.split("::", 1)[0]
            if file not in files and os.path.exists(os.path.join(APP, file)):
                files.append(file)
        if not files:
            return {}, "none of the tests' files exist"
        command = [python(), "-m", "pytest", "-p", "no:rerunfailures", "-p", "prodcode_report",
                   "--maxfail=0", "--continue-on-collection-errors",
                   "-o", "cache_dir=" + os.path.join(work, "pytest-cache"), "--"] + files
        env["PRODCODE_REPORT"] = report
        env["PRODCODE_SELECT"] = select
        env["PYTHONPATH"] = work + os.pathsep + env["PYTHONPATH"]
    else:
        driver = os.path.join(work, "prodcode_unittest.py")
        shutil.copy(os.path.join(HERE, "prodcode_unittest.py"), driver)
        selection = os.path.join(work, "unittest.json")
        with open(selection, "w", encoding="utf-8") as out:
            json.dump({"ids": ids}, out)
        command = [python(), driver, report, selection]
    output, _ = run(command, env, config["testTimeoutS"])
    return statuses(report), output


def statuses(report):
    """Each test's last status; a test that started and never ended is an error."""
    found = {}
    try:
        with open(report, encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("id") and record.get("status"):
                    status = record["status"]
                    found[record["id"]] = "error" if status == "started" else status
    except OSError:
        pass
    return found


def main():
    os.makedirs(LOGS, exist_ok=True)
    write("reward.txt", "0\n")
    with open(os.path.join(HERE, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    result = {"instanceId": config["instanceId"], "resolved": False, "restored": [],
              "problem": None, "failToPass": {}, "passToPass": {}}
    result["restored"] = restore(config)
    result["problem"] = apply_patch()
    if result["problem"] is None:
        work = tempfile.mkdtemp(prefix="prodcode-verifier-")
        found, output = run_tests(config, work)
        write("test-output.txt", output)
        result["failToPass"] = {i: found.get(i, "notRun") for i in config["failToPass"]}
        result["passToPass"] = {i: found.get(i, "notRun") for i in config["passToPass"]}
        every = list(result["failToPass"].values()) + list(result["passToPass"].values())
        result["resolved"] = bool(every) and all(status == "passed" for status in every)
        shutil.rmtree(work, ignore_errors=True)
    write("results.json", json.dumps(result, indent=2) + "\n")
    write("reward.txt", "1\n" if result["resolved"] else "0\n")
    print("prodcode verifier:", "resolved" if result["resolved"] else "unresolved",
          "(restored: %s)" % (", ".join(result["restored"]) or "nothing"),
          result["problem"] or "")


if __name__ == "__main__":
    main()
