//! Real servers on small projects in temporary directories. Each test starts its server once and
//! asks it everything, so the suite pays for one pyright and one typescript-language-server start.

use super::*;

const BUDGET: Duration = Duration::from_secs(60);

use crate::tools::exec::tool_available as installed;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    (dir, root)
}

fn at(line: u32, column: u32) -> Position {
    Position { line, column }
}

fn locations(answer: Result<NavAnswer, ToolError>) -> Vec<String> {
    match answer.expect("an answer") {
        NavAnswer::Locations(found) => found
            .iter()
            .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
            .collect(),
        other => panic!("not locations: {other:?}"),
    }
}

fn hover_text(answer: Result<NavAnswer, ToolError>) -> String {
    match answer.expect("an answer") {
        NavAnswer::Hover(Some(hover)) => hover.contents,
        other => panic!("no hover: {other:?}"),
    }
}

fn symbols(answer: Result<NavAnswer, ToolError>) -> Vec<String> {
    match answer.expect("an answer") {
        NavAnswer::Symbols(found) => found
            .iter()
            .map(|s| match &s.container {
                Some(container) => format!("{container}.{}@{}", s.name, s.location.line),
                None => format!("{}@{}", s.name, s.location.line),
            })
            .collect(),
        other => panic!("not symbols: {other:?}"),
    }
}

fn state(servers: &LangServers, language: &str) -> (String, Option<String>) {
    let status = servers
        .status()
        .into_iter()
        .find(|status| status.language == language)
        .expect("a status for the language");
    (status.state, status.message)
}

/// The pid in a running server's status message (`pid 123`).
fn pid(servers: &LangServers, language: &str) -> i32 {
    let (_, message) = state(servers, language);
    let message = message.expect("a message");
    message
        .trim_start_matches("pid ")
        .split(|ch: char| !ch.is_ascii_digit())
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {message:?}"))
}

/// Processes whose process group is `pgid` (zombies included: they were not reaped).
fn group_members(pgid: i32) -> Vec<String> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces, so split after the last `)`.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|pgrp| pgrp.parse::<i32>().ok()) == Some(pgid) {
            members.push(stat);
        }
    }
    members
}

fn assert_group_gone(pgid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !group_members(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(group_members(pgid), Vec::<String>::new(), "left behind");
}

const GEOMETRY: &str = r#"class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y

    def norm(self) -> float:
        return (self.x**2 + self.y**2) ** 0.5


def distance(a: Point, b: Point) -> float:
    """The Euclidean distance."""
    return Point(a.x - b.x, a.y - b.y).norm()
"#;

// Line 4: the crab is one character but two UTF-16 code units, so `distance` is at character 16
// (column 17) but UTF-16 unit 17.
const MAIN_PY: &str = r#"from geometry import Point, distance

origin = Point(0, 0)
crab = "🦀"; d = distance(origin, Point(3, 4))
print(d)
"#;

#[test]
fn pyright_answers_navigation_requests() {
    if !installed("pyright-langserver") {
        return;
    }
    let (_dir, root) = project(&[("geometry.py", GEOMETRY), ("main.py", MAIN_PY)]);
    let servers = LangServers::new(&root, &BTreeMap::new());
    let main = root.join("main.py");
    let geometry = root.join("geometry.py");
    assert_eq!(servers.language_for(&main).as_deref(), Some("python"));
    assert_eq!(state(&servers, "python").0, "not_started");

    let definition = servers.request(&main, &NavRequest::Definition(at(4, 17)), BUDGET);
    assert_eq!(locations(definition), ["geometry.py:10:5"]);
    assert_eq!(state(&servers, "python").0, "ready");

    // An edit on disk to a file the server has not opened.
    std::fs::write(&geometry, format!("import math\n{GEOMETRY}")).expect("edit");
    let definition = servers.request(&main, &NavRequest::Definition(at(4, 17)), BUDGET);
    assert_eq!(locations(definition), ["geometry.py:11:5"]);

    let mut references =
        locations(servers.request(&geometry, &NavRequest::References(at(11, 5)), BUDGET));
    references.sort();
    assert_eq!(
        references,
        ["geometry.py:11:5", "main.py:1:29", "main.py:4:17"]
    );

    let hover = hover_text(servers.request(&main, &NavRequest::Hover(at(4, 17)), BUDGET));
    // pyright breaks the signature over lines: `def distance(\n    a: Point,\n …) -> float`.
    let flat = hover.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("def distance( a: Point, b: Point ) -> float"),
        "{hover}"
    );
    assert!(hover.contains("The Euclidean distance."), "{hover}");

    let found = symbols(servers.request(&geometry, &NavRequest::DocumentSymbols, BUDGET));
    for expected in ["Point@2", "Point.norm@7", "Point.__init__@3", "distance@11"] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} in {found:?}"
        );
    }

    // An edit on disk to a file the server has open: it moves the definition once more.
    std::fs::write(&geometry, format!("import math\nimport os\n{GEOMETRY}")).expect("edit");
    let definition = servers.request(&main, &NavRequest::Definition(at(4, 17)), BUDGET);
    assert_eq!(locations(definition), ["geometry.py:12:5"]);

    let found = servers
        .workspace_symbols("distance", BUDGET)
        .expect("symbols");
    let shown: Vec<String> = found
        .iter()
        .map(|s| {
            format!(
                "{}:{}:{}",
                s.location.path, s.location.line, s.location.column
            )
        })
        .collect();
    assert!(shown.contains(&"geometry.py:12:5".to_owned()), "{shown:?}");

    let pgid = pid(&servers, "python");
    servers.shutdown();
    assert_eq!(state(&servers, "python").0, "not_started");
    assert_group_gone(pgid);
}

const SHAPES: &str = r#"export class Circle {
  constructor(public radius: number) {}

  area(): number {
    return Math.PI * this.radius * this.radius;
  }
}

export function describe(c: Circle): string {
  return `circle of area ${c.area()}`;
}
"#;

// Line 4: `describe` is at character 27 (column 28), UTF-16 unit 28.
const MAIN_TS: &str = r#"import { Circle, describe } from "./shapes";

const c = new Circle(2);
const s = "🦀"; console.log(describe(c), s);
"#;

const TSCONFIG: &str = r#"{ "compilerOptions": { "strict": true, "target": "es2020", "module": "commonjs" }, "include": ["src"] }"#;

#[test]
fn typescript_language_server_answers_navigation_requests() {
    if !installed("typescript-language-server") {
        return;
    }
    let (_dir, root) = project(&[
        ("tsconfig.json", TSCONFIG),
        ("src/shapes.ts", SHAPES),
        ("src/main.ts", MAIN_TS),
    ]);
    let servers = LangServers::new(&root, &BTreeMap::new());
    let main = root.join("src/main.ts");
    let shapes = root.join("src/shapes.ts");
    assert_eq!(servers.language_for(&main).as_deref(), Some("typescript"));
    assert_eq!(
        servers.language_for(&root.join("x.mjs")).as_deref(),
        Some("typescript")
    );
    assert_eq!(state(&servers, "typescript").0, "not_started");
    // Nothing is running yet, so nothing is asked.
    assert_eq!(
        servers.workspace_symbols("describe", BUDGET),
        Ok(Vec::new())
    );

    let definition = servers.request(&main, &NavRequest::Definition(at(4, 28)), BUDGET);
    assert_eq!(locations(definition), ["src/shapes.ts:9:17"]);
    assert_eq!(state(&servers, "typescript").0, "ready");

    let found = servers
        .workspace_symbols("describe", BUDGET)
        .expect("symbols");
    let shown: Vec<String> = found
        .iter()
        .map(|s| format!("{}:{}", s.location.path, s.location.line))
        .collect();
    assert!(shown.contains(&"src/shapes.ts:9".to_owned()), "{shown:?}");

    let mut references =
        locations(servers.request(&shapes, &NavRequest::References(at(9, 17)), BUDGET));
    references.sort();
    assert_eq!(
        references,
        ["src/main.ts:1:18", "src/main.ts:4:28", "src/shapes.ts:9:17"]
    );

    let hover = hover_text(servers.request(&main, &NavRequest::Hover(at(4, 28)), BUDGET));
    assert!(hover.contains("describe(c: Circle): string"), "{hover}");

    let found = symbols(servers.request(&shapes, &NavRequest::DocumentSymbols, BUDGET));
    for expected in ["Circle@1", "Circle.area@4", "describe@9"] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} in {found:?}"
        );
    }

    std::fs::write(&shapes, format!("// a comment\n{SHAPES}")).expect("edit");
    let definition = servers.request(&main, &NavRequest::Definition(at(4, 28)), BUDGET);
    assert_eq!(locations(definition), ["src/shapes.ts:10:17"]);

    let error = servers
        .request(&main, &NavRequest::Definition(at(99, 1)), BUDGET)
        .expect_err("a line past the end");
    assert_eq!(error.kind, ToolErrorKind::InvalidArgument);
    assert!(
        error.message.contains("past the end of src/main.ts"),
        "{error}"
    );

    let pgid = pid(&servers, "typescript");
    drop(servers);
    assert_group_gone(pgid);
}

fn configured(language: &str, command: &[&str]) -> BTreeMap<String, ServerConfig> {
    let mut config = BTreeMap::new();
    config.insert(
        language.to_owned(),
        ServerConfig {
            command: Some(command.iter().map(|arg| (*arg).to_owned()).collect()),
            ..ServerConfig::default()
        },
    );
    config
}

#[test]
fn a_missing_server_is_not_installed() {
    let (_dir, root) = project(&[("main.py", "x = 1\n")]);
    let servers = LangServers::new(&root, &configured("python", &["prodcode-no-such-server"]));
    assert_eq!(servers.language_for(&root.join("main.py")), None);
    let (state, message) = state(&servers, "python");
    assert_eq!(state, "not_installed");
    let message = message.expect("a message");
    assert!(
        message.contains("`prodcode-no-such-server` is not installed"),
        "{message}"
    );
    assert!(message.contains("[tools.servers.python]"), "{message}");
    let error = servers
        .request(&root.join("main.py"), &NavRequest::DocumentSymbols, BUDGET)
        .expect_err("not installed");
    assert_eq!(error.kind, ToolErrorKind::Unavailable);
}

#[test]
fn a_server_that_exits_at_once_fails_without_hanging() {
    let (_dir, root) = project(&[("main.py", "x = 1\n")]);
    let servers = LangServers::new(
        &root,
        &configured("python", &["sh", "-c", "echo broken >&2; exit 3"]),
    );
    let main = root.join("main.py");
    assert_eq!(servers.language_for(&main).as_deref(), Some("python"));
    let started = Instant::now();
    let error = servers
        .request(&main, &NavRequest::Hover(at(1, 1)), BUDGET)
        .expect_err("the server exits");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind, ToolErrorKind::Failed);
    assert!(error.message.contains("exited with status 3"), "{error}");
    let (state, message) = state(&servers, "python");
    assert_eq!(state, "failed");
    let message = message.expect("a message");
    assert!(
        message.contains("before answering `initialize`"),
        "{message}"
    );
    assert!(message.contains("broken"), "{message}");
    // Within the back-off the tools fall back to the syntactic index.
    assert_eq!(servers.language_for(&main), None);
    let error = servers
        .request(&main, &NavRequest::Hover(at(1, 1)), BUDGET)
        .expect_err("no restart yet");
    assert_eq!(error.kind, ToolErrorKind::Unavailable);
    assert!(error.message.contains("starts it again in"), "{error}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (_dir, root) = project(&[("main.py", "x = 1\n")]);
    let servers = LangServers::new(&root, &configured("python", &["sleep", "60"]));
    let main = root.join("main.py");
    let started = Instant::now();
    let error = servers
        .request(
            &main,
            &NavRequest::Hover(at(1, 1)),
            Duration::from_millis(500),
        )
        .expect_err("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind, ToolErrorKind::TimedOut);
    assert!(error.message.contains("still starting"), "{error}");
    assert_eq!(state(&servers, "python").0, "starting");
    let pgid = pid(&servers, "python");
    servers.shutdown();
    assert_group_gone(pgid);
}

#[test]
fn configuration_is_read_from_toml() {
    let config: BTreeMap<String, ServerConfig> = toml::from_str(
        r#"
        [python]
        command = ["basedpyright-langserver", "--stdio"]
        initialization_options = { python = { pythonPath = ".venv/bin/python" } }

        [go]
        enabled = false

        [ruby]
        command = ["solargraph", "stdio"]
        extensions = [".rb"]
        "#,
    )
    .expect("valid configuration");
    assert_eq!(
        config["python"].initialization_options,
        Some(json!({ "python": { "pythonPath": ".venv/bin/python" } }))
    );
    let (_dir, root) = project(&[]);
    let servers = LangServers::new(&root, &config);
    assert_eq!(servers.language_for(&root.join("main.go")), None);
    let languages: Vec<(String, String)> = servers
        .status()
        .into_iter()
        .map(|status| (status.language, status.command.join(" ")))
        .collect();
    assert_eq!(
        languages,
        [
            ("go".to_owned(), "gopls".to_owned()),
            (
                "python".to_owned(),
                "basedpyright-langserver --stdio".to_owned()
            ),
            ("rust".to_owned(), languages[2].1.clone()),
            ("typescript".to_owned(), languages[3].1.clone()),
            ("ruby".to_owned(), "solargraph stdio".to_owned()),
        ]
    );
    assert_eq!(
        state(&servers, "go"),
        (
            "not_installed".to_owned(),
            Some("disabled by `enabled = false` in [tools.servers.go]".to_owned())
        )
    );
    assert_eq!(
        servers
            .entry_for(Path::new("a.rb"))
            .map(|e| e.language.as_str()),
        Some("ruby")
    );
    assert_eq!(
        policy_for(&["/x/pyright-langserver".to_owned()]),
        Policy::Pyright
    );
    assert_eq!(
        policy_for(&["typescript-language-server".to_owned()]),
        Policy::TypeScript
    );
    assert_eq!(policy_for(&["gopls".to_owned()]), Policy::Generic);
}

#[test]
fn a_server_is_restarted_at_most_once_per_backoff() {
    let t0 = Instant::now();
    let mut slot = Slot::default();
    assert!(slot.may_start(t0));
    slot.last_start = Some(t0);
    assert!(!slot.may_start(t0 + RESTART_BACKOFF - Duration::from_millis(1)));
    assert!(slot.may_start(t0 + RESTART_BACKOFF));
}
