"""prodcode's verifier for one exported task, run by `tests/test.sh` (docs/eval.md, "Harbor").

It grades as `prodcode eval` does, in the task's container after the agent's turn:

1. Test infrastructure and test files go back to the base: every base file listed in
   `config.json` "restore" (its content is in `base/`) is rewritten when it differs or is
   missing, and every file that was not in the base and matches a pattern of "infraRegexes"
   (a planted `conftest.py`, `sitecustomize.py`, `*.pth`, pytest configuration, a new test file)
   is deleted. Files the test patch changes are put back too: the patch wins.
2. `test.patch` is applied with `git apply`.
3. Exactly the fail-to-pass and pass-to-pass tests run, with prodcode's own pytest plugin or
   unittest driver, so ids select exactly the tests curation checked.
4. `reward.txt` is 1 only if every one of them passed (a skipped or missing test fails), and
   `results.json` says how each test ended and what was put back.

Paths: the repository is $PRODCODE_APP_DIR (default /app), results go to $PRODCODE_VERIFIER_DIR
(default /logs/verifier); the interpreter is $PRODCODE_PYTHON, else the project's
`.venv/bin/python`, else the one running this script.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

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
    for directory, dirs, files in os.walk(APP):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
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


def run_tests(config, work):
    """Runs exactly the task's tests; the JSON-lines report's path and the run's output."""
    ids = config["failToPass"] + config["passToPass"]
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
            return report, "none of the tests' files exist"
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
        output, _ = process.communicate(timeout=config["testTimeoutS"])
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output = (output or b"") + b"\nprodcode: the test run timed out\n"
    return report, output.decode("utf-8", "replace")


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
        report, output = run_tests(config, work)
        write("test-output.txt", output)
        found = statuses(report)
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
