//! `prodcode link`, `blame --rev`, `stats` and `log --landed` through the real binary: one
//! scenario per way a commit reaches main, on real git repositories in temporary directories,
//! with AI edits captured by `prodcode hook claude` and a person's edits by the daemon.
//!
//! Assertions read commits by name: a commit is named after its message when a scenario makes
//! it, and by `Scene::name` when git makes it (a rebased copy, a merge, a revert).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{
    Claude, Editor, TextEdit, Workspace, ai_write, blame_rev_json, git_env, git_graph, git_try,
    human_edit, link, text_change,
};

/// The model Claude Code names in the `session_start.json` fixture.
const MODEL: &str = "claude-opus-4-5-20251101";

/// One scenario: a repository with its database, the person's editor, and names for commits.
struct Scene {
    ws: Workspace,
    editor: Editor,
    /// `(sha, name)`.
    names: Vec<(String, String)>,
    /// The ref `link` must report as the main branch.
    main_ref: String,
}

impl Scene {
    fn new() -> Scene {
        let ws = Workspace::new();
        let editor = Editor::new(&ws);
        let mut scene = Scene {
            ws,
            editor,
            names: Vec::new(),
            main_ref: "refs/heads/main".to_owned(),
        };
        scene.name("init", "HEAD");
        scene
    }

    fn path(&self, file: &str) -> PathBuf {
        self.ws.path(file)
    }

    fn git(&self, args: &[&str]) -> String {
        git_env(&self.ws.root, &[], args)
    }

    fn sha(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
            .trim()
            .to_owned()
    }

    /// Names the commit `rev` resolves to; returns its sha.
    fn name(&mut self, name: &str, rev: &str) -> String {
        let sha = self.sha(rev);
        self.names.retain(|(known, _)| *known != sha);
        self.names.push((sha.clone(), name.to_owned()));
        sha
    }

    /// A commit's name, else its subject marked `?` (a commit the scenario did not name).
    fn label(&self, sha: &str) -> String {
        if let Some((_, name)) = self.names.iter().find(|(known, _)| known == sha) {
            return name.clone();
        }
        match git_try(&self.ws.root, &["show", "-s", "--format=%s", sha]) {
            Ok(subject) => format!("{}?", subject.trim()),
            Err(_) => format!("{}?", &sha[..sha.len().min(10)]),
        }
    }

    /// Stages everything and commits it; the commit is named after `message`.
    fn commit(&mut self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.name(message, "HEAD")
    }

    /// As `commit`, with author and committer dates `offset` seconds from now (a clock ahead of or
    /// behind this one).
    fn commit_dated(&mut self, message: &str, offset: i64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let date = format!("@{} +0000", now + offset);
        let env = [
            ("GIT_AUTHOR_DATE", date.as_str()),
            ("GIT_COMMITTER_DATE", date.as_str()),
        ];
        self.git(&["add", "-A"]);
        git_env(&self.ws.root, &env, &["commit", "-q", "-m", message]);
        self.name(message, "HEAD")
    }

    fn ai(&self, claude: &mut Claude, file: &str, text: &str) {
        ai_write(claude, &self.path(file), text);
    }

    /// A person edits `file` in the editor until it reads `text`. The daemon links whatever is
    /// new when it opens a document: a scenario links first, so that there is nothing (checked).
    fn human(&mut self, file: &str, text: &str) {
        self.link(&[], &[]);
        let path = self.path(file);
        human_edit(&mut self.editor, &path, text);
    }

    /// As `human`, through `steps`, each one change from the previous text.
    fn human_steps(&mut self, file: &str, steps: &[&str]) {
        self.link(&[], &[]);
        let path = self.path(file);
        self.editor.edit_steps(&path, steps);
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap()
    }

    /// `git rebase -i <onto>` with `todo` as the edited list, and `message` for any squash.
    fn rebase_interactive(&self, onto: &str, todo: &str, message: &str) {
        self.rebase_git(&["rebase", "-q", "-i", onto], todo, message, 0);
    }

    /// Runs a rebase command (`rebase -i`, `rebase --continue`) with `todo` as the edited list
    /// and `message` for any squash, its commits and reflog entries dated `offset` seconds from
    /// now.
    fn rebase_git(&self, args: &[&str], todo: &str, message: &str, offset: i64) {
        let dir = self.ws.db.parent().unwrap();
        let todo_file = dir.join("rebase-todo");
        let message_file = dir.join("rebase-message");
        std::fs::write(&todo_file, todo).unwrap();
        std::fs::write(&message_file, format!("{message}\n")).unwrap();
        let sequence_editor = format!("cp {}", todo_file.display());
        let editor = format!("cp {}", message_file.display());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let date = format!("@{} +0000", now + offset);
        git_env(
            &self.ws.root,
            &[
                ("GIT_SEQUENCE_EDITOR", &sequence_editor),
                ("GIT_EDITOR", &editor),
                ("GIT_COMMITTER_DATE", &date),
            ],
            args,
        );
    }

    /// Runs `prodcode link` and checks the repository, the main branch, and what this run
    /// linked and found landed, as rows (see `linked_rows` and `landed_rows`; order does not
    /// matter).
    fn link(&self, linked: &[&str], landed: &[&str]) -> Value {
        let answer = self.link_quietly();
        let context = self.context(&answer);
        let mut expected: Vec<&str> = linked.to_vec();
        expected.sort_unstable();
        assert_eq!(self.linked_rows(&answer), expected, "linked{context}");
        let mut expected: Vec<&str> = landed.to_vec();
        expected.sort_unstable();
        assert_eq!(self.landed_rows(&answer), expected, "landed{context}");
        answer
    }

    /// Runs `prodcode link` and checks only the repository and the main branch it reports.
    fn link_quietly(&self) -> Value {
        let answer = link(&self.ws);
        let context = self.context(&answer);
        assert_eq!(answer["repo"], self.ws.root.to_str().unwrap(), "{context}");
        assert_eq!(answer["main"], self.main_ref.as_str(), "{context}");
        assert_eq!(answer["mainTip"], self.sha(&self.main_ref), "{context}");
        for commit in answer["linked"].as_array().expect("linked") {
            let sha = commit["sha"].as_str().unwrap_or_default();
            let subject = self.git(&["show", "-s", "--format=%s", sha]);
            assert_eq!(commit["summary"], subject.trim(), "{context}");
        }
        answer
    }

    /// `name on|off main: ai=… ai_modified=… human=… untracked=… excluded=…`, sorted.
    fn linked_rows(&self, answer: &Value) -> Vec<String> {
        let mut rows: Vec<String> = answer["linked"]
            .as_array()
            .expect("linked")
            .iter()
            .map(|commit| {
                let lines = &commit["lines"];
                format!(
                    "{} {} main: ai={} ai_modified={} human={} untracked={} excluded={}",
                    self.label(commit["sha"].as_str().unwrap_or_default()),
                    if commit["onMain"] == true {
                        "on"
                    } else {
                        "off"
                    },
                    lines["ai"],
                    lines["ai_modified"],
                    lines["human"],
                    lines["untracked"],
                    commit["excluded"],
                )
            })
            .collect();
        rows.sort_unstable();
        rows
    }

    /// `commit -> main via how, lines n`, sorted.
    fn landed_rows(&self, answer: &Value) -> Vec<String> {
        let mut rows: Vec<String> = answer["landed"]
            .as_array()
            .expect("landed")
            .iter()
            .map(|landing| {
                format!(
                    "{} -> {} via {}, lines {}",
                    self.label(landing["commit"].as_str().unwrap_or_default()),
                    self.label(landing["main"].as_str().unwrap_or_default()),
                    landing["via"].as_str().unwrap_or("?"),
                    landing["lines"],
                )
            })
            .collect();
        rows.sort_unstable();
        rows
    }

    fn context(&self, answer: &Value) -> String {
        format!(
            "\nprodcode link --json:\n{}\ngit log:\n{}",
            serde_json::to_string_pretty(answer).unwrap(),
            git_graph(&self.ws.root)
        )
    }

    /// `prodcode blame <file> --rev <rev> --json` as `class [interaction] @commit` per line.
    fn blame(&self, rev: &str, file: &str, expected: &[&str]) {
        let answer = blame_rev_json(&self.ws, rev, file);
        let context = format!(
            "\nblame {file} --rev {rev}:\n{}\ngit log:\n{}",
            serde_json::to_string_pretty(&answer).unwrap(),
            git_graph(&self.ws.root)
        );
        let lines = answer["lines"].as_array().expect("lines");
        let rows: Vec<String> = lines
            .iter()
            .map(|line| {
                let mut row = line["class"].as_str().unwrap_or("?").to_owned();
                if let Some(id) = line["interactionId"].as_str() {
                    row = format!("{row} {id}");
                }
                match line["commit"].as_str() {
                    Some(sha) => format!("{row} @{}", self.label(sha)),
                    None => format!("{row} @none"),
                }
            })
            .collect();
        assert_eq!(rows, expected, "{context}");
        assert_eq!(answer["rev"], self.sha(rev), "{context}");
        let committed = self.git(&["show", &format!("{rev}:{file}")]);
        assert_eq!(lines.len(), committed.lines().count(), "{context}");
        for (index, line) in lines.iter().enumerate() {
            assert_eq!(line["line"], index + 1, "{context}");
        }
    }
}

#[test]
fn a_commit_on_main_is_attributed_line_by_line_and_lands_reachable() {
    let mut scene = Scene::new();
    // Lines committed before anything was captured are untracked.
    scene.link(
        &["init on main: ai=0 ai_modified=0 human=0 untracked=1 excluded=0"],
        &["init -> init via reachable, lines 1"],
    );
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "lib.rs", "fn a() {}\nfn b() {}\n");
    scene.human("lib.rs", "// by hand\nfn a() {}\nfn b() {}\n");
    scene.human("lib.rs", "// by hand\nfn a() {}\nfn b() { todo!() }\n");
    scene.commit("add lib");
    scene.link(
        &["add lib on main: ai=1 ai_modified=1 human=1 untracked=0 excluded=0"],
        &["add lib -> add lib via reachable, lines 3"],
    );
    scene.blame(
        "main",
        "lib.rs",
        &[
            "human @add lib",
            "ai claude:s1 @add lib",
            "ai_modified claude:s1 @add lib",
        ],
    );
    scene.blame("main", "README", &["untracked @init"]);
}

#[test]
fn an_amended_commit_lands_and_the_original_does_not() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "f.txt", "one\ntwo\n");
    scene.commit("draft");
    scene.link(
        &["draft off main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("f.txt", "one\ntwo\nthree by hand\n");
    scene.git(&["add", "-A"]);
    scene.git(&["commit", "-q", "--amend", "-m", "final"]);
    scene.name("final", "HEAD");
    scene.link(
        &["final off main: ai=2 ai_modified=0 human=1 untracked=0 excluded=0"],
        &[],
    );
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["merge", "-q", "--ff-only", "feature"]);
    // The draft's lines are all on main, inside `final`: it was replaced, not landed.
    scene.link(&[], &["final -> final via reachable, lines 3"]);
    scene.blame(
        "main",
        "f.txt",
        &["ai claude:s1 @final", "ai claude:s1 @final", "human @final"],
    );
}

#[test]
fn rebased_and_reordered_commits_land_by_patch_id() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "a.txt", "a one\na two\n");
    let a = scene.commit("add a");
    scene.link(
        &["add a off main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("b.txt", "b by hand\n");
    let b = scene.commit("add b");
    scene.link(
        &["add b off main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0"],
        &[],
    );
    // Main moves on, then the branch is rebased onto it with its two commits swapped.
    scene.git(&["checkout", "-q", "main"]);
    let mut s2 = Claude::start(&scene.ws, "s2");
    scene.ai(&mut s2, "c.txt", "c one\n");
    scene.commit("add c");
    scene.git(&["checkout", "-q", "feature"]);
    scene.rebase_interactive("main", &format!("pick {b}\npick {a}\n"), "unused");
    scene.name("add b'", "HEAD~1");
    scene.name("add a'", "HEAD");
    assert_eq!(scene.sha("HEAD~2"), scene.sha("main"));
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["merge", "-q", "--ff-only", "feature"]);
    scene.link(
        &[
            "add a' on main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0",
            "add b' on main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0",
            "add c on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
        ],
        &[
            "add a -> add a' via patch_id, lines 2",
            "add a' -> add a' via reachable, lines 2",
            "add b -> add b' via patch_id, lines 1",
            "add b' -> add b' via reachable, lines 1",
            "add c -> add c via reachable, lines 1",
        ],
    );
    scene.blame("main", "a.txt", &["ai claude:s1 @add a'"; 2]);
    scene.blame("main", "b.txt", &["human @add b'"]);
    scene.blame("main", "c.txt", &["ai claude:s2 @add c"]);
}

#[test]
fn commits_squashed_by_an_interactive_rebase_land_by_squash() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "f.txt", "f one\nf two\nf three\n");
    let draft = scene.commit("f: draft");
    scene.link(
        &["f: draft off main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("f.txt", "f one\nf two, checked\nf three\n");
    let review = scene.commit("f: review");
    scene.link(
        &["f: review off main: ai=0 ai_modified=1 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("f.txt", "f one\nf two, checked\nf three\nf four by hand\n");
    let more = scene.commit("f: more");
    scene.link(
        &["f: more off main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0"],
        &[],
    );
    // Dated a few seconds on, so that the rebase's reflog entries (whole seconds) are newer
    // than everything the last link read, as on a busy machine (issue 18): the intermediate
    // commit of the squash sequence is in HEAD's reflog, and must not be linked. A `break`
    // stops the rebase half-way, with that intermediate commit at HEAD: a link then (a
    // post-commit hook, the daemon's ref watcher) defers until the rebase ends.
    scene.rebase_git(
        &["rebase", "-q", "-i", "main"],
        &format!("pick {draft}\nsquash {review}\nbreak\nsquash {more}\n"),
        "f: squashed",
        3,
    );
    assert!(scene.read("f.txt").contains("checked"));
    let answer = scene.link(&[], &[]);
    assert_eq!(answer["deferred"], "rebase");
    scene.rebase_git(&["rebase", "--continue"], "", "f: squashed", 4);
    scene.name("f: squashed", "HEAD");
    assert_eq!(scene.sha("HEAD~1"), scene.sha("main"));
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["merge", "-q", "--ff-only", "feature"]);
    scene.link(
        &["f: squashed on main: ai=2 ai_modified=1 human=1 untracked=0 excluded=0"],
        &[
            "f: draft -> f: squashed via squash, lines 2",
            "f: more -> f: squashed via squash, lines 1",
            "f: review -> f: squashed via squash, lines 1",
            "f: squashed -> f: squashed via reachable, lines 4",
        ],
    );
    scene.blame(
        "main",
        "f.txt",
        &[
            "ai claude:s1 @f: squashed",
            "ai_modified claude:s1 @f: squashed",
            "ai claude:s1 @f: squashed",
            "human @f: squashed",
        ],
    );
}

#[test]
fn a_cherry_picked_commit_lands_by_patch_id() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    scene.ai(&mut s1, "x.txt", "x one\n");
    scene.commit("add x");
    scene.ai(&mut s2, "y.txt", "y one\ny two\n");
    let y = scene.commit("add y");
    scene.link(
        &[
            "add x off main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
            "add y off main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0",
        ],
        &[],
    );
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["cherry-pick", &y]);
    scene.name("add y'", "HEAD");
    scene.link(
        &["add y' on main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[
            "add y -> add y' via patch_id, lines 2",
            "add y' -> add y' via reachable, lines 2",
        ],
    );
    scene.blame("main", "y.txt", &["ai claude:s2 @add y'"; 2]);
}

/// The popped lines were never on disk as a whole file any capture saw (the file was committed
/// with another change meanwhile); their provenance comes from what was recorded before the
/// stash. The stash's own commits are nobody's work: they are not linked.
#[test]
fn stashed_and_popped_lines_keep_their_provenance() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    let base = "f 1\nf 2\nf 3\nf 4\nf 5\nf 6\n";
    scene.ai(&mut s1, "f.txt", base);
    scene.commit("base");
    scene.link(
        &["base on main: ai=6 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["base -> base via reachable, lines 6"],
    );
    scene.ai(
        &mut s1,
        "f.txt",
        "f 1\nf 1b by ai\nf 2\nf 3\nf 4\nf 5\nf 6\n",
    );
    scene.human(
        "f.txt",
        "f 1\nf 1b by ai\nf 1c by hand\nf 2\nf 3\nf 4\nf 5\nf 6\n",
    );
    scene.git(&["stash", "-q"]);
    assert_eq!(scene.read("f.txt"), base);
    scene.ai(&mut s2, "f.txt", &format!("{base}f 7 by ai\n"));
    scene.commit("during stash");
    scene.link(
        &["during stash on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["during stash -> during stash via reachable, lines 1"],
    );
    scene.git(&["stash", "pop", "-q"]);
    assert_eq!(
        scene.read("f.txt"),
        "f 1\nf 1b by ai\nf 1c by hand\nf 2\nf 3\nf 4\nf 5\nf 6\nf 7 by ai\n"
    );
    scene.commit("after stash");
    scene.link(
        &["after stash on main: ai=1 ai_modified=0 human=1 untracked=0 excluded=0"],
        &["after stash -> after stash via reachable, lines 2"],
    );
    let s1_base = "ai claude:s1 @base";
    scene.blame(
        "main",
        "f.txt",
        &[
            s1_base,
            "ai claude:s1 @after stash",
            "human @after stash",
            s1_base,
            s1_base,
            s1_base,
            s1_base,
            s1_base,
            "ai claude:s2 @during stash",
        ],
    );
}

#[test]
fn a_local_merge_squash_lands_its_branch_commits_by_squash() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "g.txt", "g one\ng two\n");
    scene.commit("g: ai");
    scene.link(
        &["g: ai off main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("g.txt", "g one (edited)\ng two\n");
    scene.human("g.txt", "g one (edited)\ng two\ng three by hand\n");
    scene.commit("g: review");
    scene.link(
        &["g: review off main: ai=0 ai_modified=1 human=1 untracked=0 excluded=0"],
        &[],
    );
    // Main moves on, so the squash is not a fast-forward.
    scene.git(&["checkout", "-q", "main"]);
    let mut s2 = Claude::start(&scene.ws, "s2");
    scene.ai(&mut s2, "other.txt", "other\n");
    scene.commit("other");
    scene.git(&["merge", "-q", "--squash", "feature"]);
    scene.git(&["commit", "-q", "-m", "g (squashed)"]);
    scene.name("g (squashed)", "HEAD");
    scene.link(
        &[
            "g (squashed) on main: ai=1 ai_modified=1 human=1 untracked=0 excluded=0",
            "other on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
        ],
        &[
            // `g one` was changed on the branch: of the first commit only `g two` landed.
            "g (squashed) -> g (squashed) via reachable, lines 3",
            "g: ai -> g (squashed) via squash, lines 1",
            "g: review -> g (squashed) via squash, lines 2",
            "other -> other via reachable, lines 1",
        ],
    );
    scene.blame(
        "main",
        "g.txt",
        &[
            "ai_modified claude:s1 @g (squashed)",
            "ai claude:s1 @g (squashed)",
            "human @g (squashed)",
        ],
    );
}

/// A pull request squashed by the server: the branch is pushed, the squash is made in another
/// clone and pushed to the remote's main, and this clone only fetches it.
#[test]
fn a_squash_merge_made_by_the_server_lands_after_a_fetch() {
    let mut scene = Scene::new();
    let base = scene.ws.db.parent().unwrap().to_owned();
    let remote = base.join("remote.git");
    let remote_path = remote.to_str().unwrap().to_owned();
    git_env(
        &base,
        &[],
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    scene.git(&["remote", "add", "origin", &remote_path]);
    scene.git(&["push", "-q", "origin", "main"]);
    scene.git(&["remote", "set-head", "origin", "main"]);
    // The default main branch is the remote's HEAD.
    scene.main_ref = "refs/remotes/origin/main".to_owned();
    scene.link_quietly();

    scene.git(&["checkout", "-q", "-b", "feature"]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "h.txt", "h one\nh two\nh three\n");
    scene.commit("h: ai");
    scene.link(
        &["h: ai off main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.human("h.txt", "h one\nh two (reviewed)\nh three\n");
    scene.human(
        "h.txt",
        "h one\nh two (reviewed)\nh three\nh four by hand\n",
    );
    scene.commit("h: review");
    scene.git(&["push", "-q", "origin", "feature"]);
    scene.link(
        &["h: review off main: ai=0 ai_modified=1 human=1 untracked=0 excluded=0"],
        &[],
    );

    let server = base.join("server");
    git_env(&base, &[], &["clone", "-q", &remote_path, "server"]);
    git_env(&server, &[], &["merge", "-q", "--squash", "origin/feature"]);
    git_env(&server, &[], &["commit", "-q", "-m", "h (#1)"]);
    git_env(&server, &[], &["push", "-q", "origin", "main"]);

    scene.git(&["fetch", "-q", "origin"]);
    scene.name("h (#1)", "origin/main");
    scene.link(
        &["h (#1) on main: ai=2 ai_modified=1 human=1 untracked=0 excluded=0"],
        &[
            "h (#1) -> h (#1) via reachable, lines 4",
            "h: ai -> h (#1) via squash, lines 2",
            "h: review -> h (#1) via squash, lines 2",
        ],
    );
    scene.blame(
        "origin/main",
        "h.txt",
        &[
            "ai claude:s1 @h (#1)",
            "ai_modified claude:s1 @h (#1)",
            "ai claude:s1 @h (#1)",
            "human @h (#1)",
        ],
    );
}

/// A revert brings back a line as the AI wrote it: it is the AI's line again.
#[test]
fn a_revert_restores_the_reverted_lines_provenance() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "r.txt", "r one\nr two\nr three\n");
    scene.commit("r: ai");
    scene.link(
        &["r: ai on main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["r: ai -> r: ai via reachable, lines 3"],
    );
    scene.human("r.txt", "r one\nr two (edited)\nr three\n");
    scene.human("r.txt", "r one\nr two (edited)\nr three\nr four by hand\n");
    scene.commit("r: edit");
    scene.link(
        &["r: edit on main: ai=0 ai_modified=1 human=1 untracked=0 excluded=0"],
        &["r: edit -> r: edit via reachable, lines 2"],
    );
    scene.git(&["revert", "--no-edit", "HEAD"]);
    scene.name("revert", "HEAD");
    assert_eq!(scene.read("r.txt"), "r one\nr two\nr three\n");
    scene.link(
        &["revert on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["revert -> revert via reachable, lines 1"],
    );
    scene.blame(
        "main",
        "r.txt",
        &[
            "ai claude:s1 @r: ai",
            "ai claude:s1 @revert",
            "ai claude:s1 @r: ai",
        ],
    );
}

/// A rename with small edits adds only the edited lines; the others keep their history.
#[test]
fn a_renamed_file_adds_only_its_edited_lines() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    let names = [
        "one", "two", "three", "four", "five", "six", "seven", "eight",
    ];
    let original: String = names.iter().map(|n| format!("fn {n}() {{}}\n")).collect();
    scene.ai(&mut s1, "old.rs", &original);
    scene.commit("old");
    scene.link(
        &["old on main: ai=8 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["old -> old via reachable, lines 8"],
    );
    scene.git(&["mv", "old.rs", "new.rs"]);
    scene.human("new.rs", &format!("// moved here\n{original}"));
    let edited =
        format!("// moved here\n{original}").replace("fn five() {}", "fn five() -> u8 { 5 }");
    scene.ai(&mut s2, "new.rs", &edited);
    scene.commit("rename");
    scene.link(
        &["rename on main: ai=1 ai_modified=0 human=1 untracked=0 excluded=0"],
        &["rename -> rename via reachable, lines 2"],
    );
    let kept = "ai claude:s1 @old";
    scene.blame(
        "main",
        "new.rs",
        &[
            "human @rename",
            kept,
            kept,
            kept,
            kept,
            "ai claude:s2 @rename",
            kept,
            kept,
            kept,
        ],
    );
}

/// A conflict resolved by hand in the editor: the lines of each side keep their commits, the
/// line typed during the resolution is human, and the merge commit adds only that line.
#[test]
fn a_conflict_resolved_by_hand_is_human_and_the_merge_adds_only_the_resolution() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    scene.ai(&mut s1, "m.txt", "m one\nm two\nm three\nm four\nm five\n");
    let base = scene.commit("m: base");
    scene.link(
        &["m: base on main: ai=5 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["m: base -> m: base via reachable, lines 5"],
    );
    scene.human("m.txt", "m one\nm two\nm three (main)\nm four\nm five\n");
    scene.commit("m: main");
    // Linked before the feature's edit, which a commit time in whole seconds could take for its
    // text (`a_commit_dated_ahead_is_attributed_from_the_text_it_was_made_from`).
    scene.link(
        &["m: main on main: ai=0 ai_modified=1 human=0 untracked=0 excluded=0"],
        &["m: main -> m: main via reachable, lines 1"],
    );
    scene.git(&["checkout", "-q", "-b", "feature", &base]);
    scene.ai(
        &mut s2,
        "m.txt",
        "m one\nm two\nm three (feature)\nm four\nm five\n",
    );
    scene.commit("m: feature");
    scene.link(
        &["m: feature off main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0"],
        &[],
    );
    scene.git(&["checkout", "-q", "main"]);
    let merge = git_try(&scene.ws.root, &["merge", "-q", "--no-edit", "feature"]);
    assert!(merge.is_err(), "the merge must conflict: {merge:?}");
    let conflicted = scene.read("m.txt");
    assert_eq!(
        conflicted,
        concat!(
            "m one\nm two\n",
            "<<<<<<< HEAD\nm three (main)\n",
            "=======\nm three (feature)\n",
            ">>>>>>> feature\nm four\nm five\n",
        )
    );
    // The person deletes the three markers one at a time, then types a line.
    let mut steps: Vec<String> = Vec::new();
    let mut text = conflicted.clone();
    for marker in ["<<<<<<< HEAD\n", "=======\n", ">>>>>>> feature\n"] {
        text = text.replacen(marker, "", 1);
        steps.push(text.clone());
    }
    steps.push(text.replace(
        "m three (feature)\n",
        "m three (feature)\nm three (merged by hand)\n",
    ));
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    scene.human_steps("m.txt", &steps);
    scene.git(&["add", "m.txt"]);
    scene.git(&["commit", "-q", "--no-edit"]);
    scene.name("merge", "HEAD");
    scene.link(
        &["merge on main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0"],
        &[
            "m: feature -> m: feature via reachable, lines 1",
            "merge -> merge via reachable, lines 1",
        ],
    );
    let base = "ai claude:s1 @m: base";
    scene.blame(
        "main",
        "m.txt",
        &[
            base,
            base,
            "ai_modified claude:s1 @m: main",
            "ai claude:s2 @m: feature",
            "human @merge",
            base,
            base,
        ],
    );
}

/// Regression: a commit's lines took the provenance of the snapshot saved "as of the commit
/// time", which is whole seconds; an agent rewriting a line in the second after the commit took
/// that line's provenance away (found by the conflict scenario). A commit dated ahead of this
/// clock (another machine's) shows the same deterministically: the snapshot saved after the
/// commit, yet before the date it claims, must not be the one its lines come from.
#[test]
fn a_commit_dated_ahead_is_attributed_from_the_text_it_was_made_from() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "d.txt", "d one\nd two\n");
    scene.human("d.txt", "d one\nd two (checked)\n");
    scene.commit_dated("ahead", 3600);
    scene.ai(&mut s1, "d.txt", "d one\nd two (rewritten)\n");
    scene.link(
        &["ahead on main: ai=1 ai_modified=1 human=0 untracked=0 excluded=0"],
        &["ahead -> ahead via reachable, lines 2"],
    );
    scene.blame(
        "main",
        "d.txt",
        &["ai claude:s1 @ahead", "ai_modified claude:s1 @ahead"],
    );
}

/// A commit dated behind the snapshots it was made from (a clock behind, `git rebase
/// --committer-date-is-author-date`, `git am`): the recorded text equal to what it commits is
/// still its evidence.
#[test]
fn a_commit_dated_behind_its_snapshots_is_still_attributed() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "d.txt", "d one\nd two\n");
    scene.human("d.txt", "d one\nd two (checked)\n");
    scene.commit_dated("behind", -3600);
    scene.link(
        &["behind on main: ai=1 ai_modified=1 human=0 untracked=0 excluded=0"],
        &["behind -> behind via reachable, lines 2"],
    );
    scene.blame(
        "main",
        "d.txt",
        &["ai claude:s1 @behind", "ai_modified claude:s1 @behind"],
    );
}

/// Nothing linked while these commits were made (no daemon, no hook, so no person's edits
/// either: the daemon links whatever is new when it opens a document); one `link` catches up on
/// all of them, including one only HEAD's reflog still knows (its branch was deleted).
#[test]
fn commits_made_while_nothing_was_linking_are_caught_up() {
    let mut scene = Scene::new();
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    scene.ai(&mut s1, "k.txt", "k one\nk two\n");
    scene.commit("k1");
    scene.ai(&mut s2, "k.txt", "k one\nk two\nk three\n");
    scene.commit("k2");
    scene.git(&["checkout", "-q", "-b", "tmp"]);
    scene.ai(&mut s1, "t.txt", "t one\n");
    scene.commit("temp");
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["branch", "-q", "-D", "tmp"]);
    scene.link(
        &[
            "init on main: ai=0 ai_modified=0 human=0 untracked=1 excluded=0",
            "k1 on main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0",
            "k2 on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
            "temp off main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
        ],
        &[
            "init -> init via reachable, lines 1",
            "k1 -> k1 via reachable, lines 2",
            "k2 -> k2 via reachable, lines 1",
        ],
    );
    scene.link(&[], &[]);
    scene.blame(
        "main",
        "k.txt",
        &["ai claude:s1 @k1", "ai claude:s1 @k1", "ai claude:s2 @k2"],
    );
}

/// Lockfiles (at any depth), `.gitattributes` generated and vendored files, and the
/// `[link] ignore` globs of `prodcode.toml` are counted in `excluded`, not in the classes.
#[test]
fn lockfiles_generated_vendored_and_ignored_files_are_excluded() {
    let mut scene = Scene::new();
    scene.link_quietly();
    scene.ws.write(
        ".gitattributes",
        "gen/** linguist-generated\nvendor/** linguist-vendored\n",
    );
    scene
        .ws
        .write("prodcode.toml", "[link]\nignore = [\"snapshots/**\"]\n");
    scene.commit("config");
    let mut s1 = Claude::start(&scene.ws, "s1");
    for (file, text) in [
        ("Cargo.lock", "# lock\n[[package]]\nname = \"a\"\n"),
        ("web/package-lock.json", "{\n}\n"),
        ("yarn.lock", "# yarn\n"),
        ("gen/schema.rs", "// generated\npub struct S;\n"),
        ("vendor/lib.js", "var vendored;\n"),
        ("snapshots/a.snap", "snap one\nsnap two\n"),
        ("src/main.rs", "fn main() {\n}\n"),
    ] {
        scene.ai(&mut s1, file, text);
    }
    scene.commit("with generated");
    scene.link(
        &[
            "config on main: ai=0 ai_modified=0 human=0 untracked=4 excluded=0",
            "with generated on main: ai=2 ai_modified=0 human=0 untracked=0 excluded=11",
        ],
        &[
            "config -> config via reachable, lines 4",
            "with generated -> with generated via reachable, lines 2",
        ],
    );
    scene.blame("main", "src/main.rs", &["ai claude:s1 @with generated"; 2]);
}

#[test]
fn a_second_link_finds_nothing_new() {
    let mut scene = Scene::new();
    scene.link(
        &["init on main: ai=0 ai_modified=0 human=0 untracked=1 excluded=0"],
        &["init -> init via reachable, lines 1"],
    );
    scene.link(&[], &[]);
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "a.txt", "a one\n");
    scene.commit("a");
    scene.git(&["checkout", "-q", "-b", "side"]);
    scene.link(
        &["a on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["a -> a via reachable, lines 1"],
    );
    scene.human("b.txt", "b by hand\n");
    scene.commit("b");
    scene.git(&["checkout", "-q", "main"]);
    scene.link(
        &["b off main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0"],
        &[],
    );
    scene.link(&[], &[]);
    // Moving HEAD and packing refs make no new commit.
    scene.git(&["checkout", "-q", "side"]);
    scene.git(&["pack-refs", "--all"]);
    scene.link(&[], &[]);
    scene.git(&["checkout", "-q", "main"]);
    scene.git(&["merge", "-q", "--ff-only", "side"]);
    scene.link(&[], &["b -> b via reachable, lines 1"]);
    scene.link(&[], &[]);
}

/// Main gets one commit with two sessions' lines and a person's; a side branch that never lands
/// has a third session's.
fn reports_scene() -> (Scene, String, String) {
    let mut scene = Scene::new();
    scene.link(
        &["init on main: ai=0 ai_modified=0 human=0 untracked=1 excluded=0"],
        &["init -> init via reachable, lines 1"],
    );
    let mut s1 = Claude::start(&scene.ws, "s1");
    let mut s2 = Claude::start(&scene.ws, "s2");
    let mut s3 = Claude::start(&scene.ws, "s3");
    scene.ai(&mut s1, "a.txt", "a1\na2\na3\n");
    scene.ai(&mut s2, "b.txt", "b1\nb2\n");
    scene.human("a.txt", "a1\na2 tweaked\na3\n");
    scene.human("b.txt", "b1\nb2\nh1\n");
    let c1 = scene.commit("c1");
    scene.git(&["checkout", "-q", "-b", "side"]);
    scene.ai(&mut s3, "c.txt", "c1\n");
    let side = scene.commit("side");
    scene.git(&["checkout", "-q", "main"]);
    scene.link(
        &[
            "c1 on main: ai=4 ai_modified=1 human=1 untracked=0 excluded=0",
            "side off main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0",
        ],
        &["c1 -> c1 via reachable, lines 6"],
    );
    (scene, c1, side)
}

/// `stats --json` with only the contract's keys of each interaction (the shape may grow).
fn stats(scene: &Scene, range: Option<&str>) -> Value {
    let root = scene.ws.root.to_str().unwrap();
    let mut args = vec!["stats"];
    args.extend(range);
    args.extend(["--repo", root, "--json"]);
    let mut answer = scene.ws.prodcode_json(&args);
    assert_eq!(answer["repo"], root, "{answer:#}");
    let mut interactions: Vec<Value> = answer["interactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no interactions: {answer:#}"))
        .iter()
        .map(|interaction| {
            json!({
                "interactionId": interaction["interactionId"],
                "agent": interaction["agent"],
                "model": interaction["model"],
                "ai": interaction["ai"],
                "ai_modified": interaction["ai_modified"],
                "commits": interaction["commits"],
            })
        })
        .collect();
    interactions.sort_by_key(|interaction| interaction["interactionId"].to_string());
    answer["interactions"] = Value::Array(interactions);
    answer
}

#[test]
fn stats_totals_by_class_agent_and_interaction() {
    let (scene, c1, side) = reports_scene();
    // Default: every linked commit on main (init and c1).
    let all = stats(&scene, None);
    assert_eq!(all["commits"], 2, "{all:#}");
    assert_eq!(
        all["lines"],
        json!({
            "added": 7, "excluded": 0,
            "ai": 4, "ai_modified": 1, "human": 1, "untracked": 1,
        }),
        "{all:#}"
    );
    assert_eq!(
        all["agents"],
        json!([{ "agent": "claude-code", "model": MODEL, "ai": 4, "ai_modified": 1 }]),
        "{all:#}"
    );
    assert_eq!(
        all["interactions"],
        json!([
            { "interactionId": "claude:s1", "agent": "claude-code", "model": MODEL,
              "ai": 2, "ai_modified": 1, "commits": [c1] },
            { "interactionId": "claude:s2", "agent": "claude-code", "model": MODEL,
              "ai": 2, "ai_modified": 0, "commits": [c1] },
        ]),
        "{all:#}"
    );

    // One commit, and a range holding the same commit.
    for range in [c1.as_str(), "main~1..main"] {
        let one = stats(&scene, Some(range));
        assert_eq!(one["commits"], 1, "{range}: {one:#}");
        assert_eq!(
            one["lines"],
            json!({
                "added": 6, "excluded": 0,
                "ai": 4, "ai_modified": 1, "human": 1, "untracked": 0,
            }),
            "{range}: {one:#}"
        );
        assert_eq!(one["interactions"], all["interactions"], "{range}: {one:#}");
    }

    // A commit that never landed can be asked about by name.
    let side_stats = stats(&scene, Some("side"));
    assert_eq!(side_stats["commits"], 1, "{side_stats:#}");
    assert_eq!(
        side_stats["interactions"],
        json!([{ "interactionId": "claude:s3", "agent": "claude-code", "model": MODEL,
                 "ai": 1, "ai_modified": 0, "commits": [side] }]),
        "{side_stats:#}"
    );
}

#[test]
fn log_landed_lists_the_interactions_whose_lines_landed() {
    let (scene, c1, _side) = reports_scene();
    let log = scene.ws.prodcode_json(&["log", "--landed", "--json"]);
    let mut interactions: Vec<&Value> = log["interactions"]
        .as_array()
        .unwrap_or_else(|| panic!("{log:#}"))
        .iter()
        .collect();
    interactions.sort_by_key(|interaction| interaction["id"].to_string());
    let ids: Vec<&str> = interactions
        .iter()
        .map(|interaction| interaction["id"].as_str().unwrap_or_default())
        .collect();
    // s3's lines are only on a branch that never landed.
    assert_eq!(ids, ["claude:s1", "claude:s2"], "{log:#}");
    assert_eq!(
        interactions[0]["landed"],
        json!([{ "commit": c1, "via": "reachable", "lines": { "ai": 2, "ai_modified": 1 } }]),
        "{log:#}"
    );
    assert_eq!(
        interactions[1]["landed"],
        json!([{ "commit": c1, "via": "reachable", "lines": { "ai": 2, "ai_modified": 0 } }]),
        "{log:#}"
    );
    // Each is the interaction as `prodcode log --json` shows it.
    assert_eq!(interactions[0]["prompts"][0]["text"], "a task for s1");
    assert_eq!(interactions[0]["agent"], "claude-code");
    assert_eq!(interactions[0]["model"], MODEL);
}

/// The harness's editor sends what an editor would: whole lines typed or deleted, or the edit
/// inside one line, with UTF-16 columns.
#[test]
fn the_editor_harness_sends_one_change_per_edit() {
    let edit = |start, end, text: &str| {
        Some(TextEdit {
            start,
            end,
            text: text.to_owned(),
        })
    };
    assert_eq!(text_change("a\n", "a\n"), None);
    assert_eq!(text_change("", "x\n"), edit((0, 0), (0, 0), "x\n"));
    assert_eq!(
        text_change("x 1\nx 2\n", "x 1\nx 3\nx 2\n"),
        edit((1, 0), (1, 0), "x 3\n")
    );
    assert_eq!(text_change("a\nb\nc\n", "a\nc\n"), edit((1, 0), (2, 0), ""));
    assert_eq!(
        text_change("a\n😀 b\nc\n", "a\n😀 b ~h1\nc\n"),
        edit((1, 4), (1, 4), " ~h1")
    );
    assert_eq!(
        text_change("a\n<<<\nb\n===\nc\n", "a\nb\nc\n"),
        edit((1, 0), (4, 0), "b\n")
    );
}

/// Issue 10, first reproduction: a person with no session open appends a function whose blank
/// line and `return` repeat lines an agent wrote in the commit before. Equal text is not
/// evidence: none of the person's lines is the agent's.
#[test]
fn a_later_human_commit_repeating_ai_lines_is_not_credited_to_the_ai() {
    let mut scene = Scene::new();
    std::fs::write(scene.path("f.py"), "def f():\n    return 1\n").unwrap();
    scene.commit("f");
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    let with_g = "def f():\n    return 1\n\ndef g():\n    return compute_total(items)\n";
    scene.ai(&mut s1, "f.py", with_g);
    scene.commit("g");
    scene.link(
        &["g on main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["g -> g via reachable, lines 3"],
    );
    // Typed outside any editor prodcode watches, and committed with no session.
    let with_h = format!("{with_g}\ndef h():\n    log(\"h\")\n    return compute_total(items)\n");
    std::fs::write(scene.path("f.py"), with_h).unwrap();
    scene.commit("h");
    scene.link(
        &["h on main: ai=0 ai_modified=0 human=0 untracked=4 excluded=0"],
        &["h -> h via reachable, lines 4"],
    );
    let head = stats(&scene, Some("HEAD"));
    assert_eq!(
        head["lines"],
        json!({ "added": 4, "excluded": 0, "ai": 0, "ai_modified": 0, "human": 0, "untracked": 4 }),
        "{head:#}"
    );
    let log = scene.ws.prodcode_json(&["log", "--landed", "--json"]);
    let landed = &log["interactions"][0]["landed"];
    assert_eq!(
        landed,
        &json!([{ "commit": scene.sha("HEAD~1"), "via": "reachable",
                  "lines": { "ai": 3, "ai_modified": 0 } }]),
        "{log:#}"
    );
    scene.blame(
        "main",
        "f.py",
        &[
            "untracked @f",
            "untracked @f",
            "ai claude:s1 @g",
            "ai claude:s1 @g",
            "ai claude:s1 @g",
            "untracked @h",
            "untracked @h",
            "untracked @h",
            "untracked @h",
        ],
    );
}

/// Issue 10, second reproduction: every line of an agent's change is the agent's, the blank
/// line after the old last line and a closing brace next to an equal one included.
#[test]
fn an_ai_change_is_attributed_whole_among_equal_lines() {
    let mut scene = Scene::new();
    std::fs::write(scene.path("a.txt"), "a\n").unwrap();
    let arms = "match x {\n    A => {\n        a();\n    }\n}\n";
    std::fs::write(scene.path("m.rs"), arms).unwrap();
    scene.commit("base");
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "a.txt", "a\n\nb\n");
    scene.commit("blank");
    scene.link(
        &["blank on main: ai=2 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["blank -> blank via reachable, lines 2"],
    );
    let arm_b = "match x {\n    A => {\n        a();\n    }\n    B => {\n        b();\n    }\n}\n";
    scene.ai(&mut s1, "m.rs", arm_b);
    scene.commit("arm");
    scene.link(
        &["arm on main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["arm -> arm via reachable, lines 3"],
    );
    scene.blame(
        "main",
        "m.rs",
        &[
            "untracked @base",
            "untracked @base",
            "untracked @base",
            "untracked @base",
            "ai claude:s1 @arm",
            "ai claude:s1 @arm",
            "ai claude:s1 @arm",
            "untracked @base",
        ],
    );
}

/// Issue 10: a teammate's commit, fetched, whose lines align with what an agent wrote here
/// (a blank line, a `return 0`) is nobody's we know of: what was recorded of this work tree is
/// evidence only for commits made in it.
#[test]
fn a_fetched_commit_takes_nothing_from_this_work_trees_recordings() {
    let mut scene = Scene::new();
    std::fs::write(scene.path("f.py"), "import os\n").unwrap();
    scene.commit("base");
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "f.py", "import os\n\ndef mine():\n    return 0\n");
    let teammate = scene.ws.root.parent().unwrap().join("teammate");
    let root = scene.ws.root.to_str().unwrap().to_owned();
    git_env(
        scene.ws.root.parent().unwrap(),
        &[],
        &["clone", "-q", &root, "teammate"],
    );
    std::fs::write(
        teammate.join("f.py"),
        "import os\n\ndef theirs():\n    return 0\n",
    )
    .unwrap();
    git_env(&teammate, &[], &["commit", "-q", "-am", "theirs"]);
    let theirs = git_env(&teammate, &[], &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    scene.git(&[
        "fetch",
        "-q",
        teammate.to_str().unwrap(),
        "main:refs/remotes/origin/main",
    ]);
    scene.names.push((theirs, "theirs".to_owned()));
    scene.link(
        &["theirs off main: ai=0 ai_modified=0 human=0 untracked=3 excluded=0"],
        &[],
    );
    // The agent's own commit, made here, is still the agent's.
    scene.commit("mine");
    scene.link(
        &["mine on main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["mine -> mine via reachable, lines 3"],
    );
}

/// Issue 10: which of two equal adjacent lines a commit added is the line diff's choice. A
/// person's `}` next to an agent's `}`, and an agent's `)` next to a person's, are credited to
/// whoever really wrote the new one, wherever the diff places it.
#[test]
fn a_line_typed_next_to_an_equal_line_is_credited_to_its_writer() {
    let mut scene = Scene::new();
    scene.link_quietly();
    let mut s1 = Claude::start(&scene.ws, "s1");
    scene.ai(&mut s1, "a.rs", "fn a() {\n    x();\n}\n");
    scene.commit("agent");
    scene.link(
        &["agent on main: ai=3 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["agent -> agent via reachable, lines 3"],
    );
    // Typed above the agent's `}` (a line, then its text), where the diff will not look.
    scene.human_steps(
        "a.rs",
        &["fn a() {\n    x();\nfn\n}\n", "fn a() {\n    x();\n}\n}\n"],
    );
    scene.commit("person");
    scene.link(
        &["person on main: ai=0 ai_modified=0 human=1 untracked=0 excluded=0"],
        &["person -> person via reachable, lines 1"],
    );
    scene.human("b.rs", "call(\n    1,\n)\n");
    scene.commit("call");
    scene.link(
        &["call on main: ai=0 ai_modified=0 human=3 untracked=0 excluded=0"],
        &["call -> call via reachable, lines 3"],
    );
    scene.ai(&mut s1, "b.rs", "call(\n    1,\n)\n)\n");
    scene.commit("paren");
    scene.link(
        &["paren on main: ai=1 ai_modified=0 human=0 untracked=0 excluded=0"],
        &["paren -> paren via reachable, lines 1"],
    );
}
