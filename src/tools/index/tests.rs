//! Tests of the syntactic index: symbols per language, positions in characters, references,
//! hover, refresh after edits, files left out, odd input, and the navigation fixtures README.

use super::*;
use std::fs;
use std::process::Command;

/// A temporary git repository (so `.gitignore` applies) isolated from the user's git config.
fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("git runs");
    assert!(status.success(), "git init failed");
    for (path, contents) in files {
        write(dir.path(), path, contents.as_bytes());
    }
    let ws = Workspace::new(dir.path()).expect("workspace");
    (dir, ws)
}

fn write(root: &Path, path: &str, contents: &[u8]) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

/// One line per symbol: `kind name line:column-end_column [in container]`.
fn render(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(|symbol| {
            let kind = serde_json::to_value(symbol.kind).expect("kind serializes");
            let mut line = format!(
                "{} {} {}:{}-{}",
                kind.as_str().unwrap_or("?"),
                symbol.name,
                symbol.location.line,
                symbol.location.column,
                symbol.location.end_column
            );
            if let Some(container) = &symbol.container {
                line.push_str(&format!(" in {container}"));
            }
            line + "\n"
        })
        .collect()
}

/// Indexes one file and compares its document symbols with `expected` (indentation ignored).
fn check_symbols(path: &str, source: &str, expected: &str) {
    let (_dir, ws) = repo(&[(path, source)]);
    let index = Index::build(&ws);
    let symbols = index.document_symbols(path).expect("the file is indexed");
    let expected: String = expected
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(render(&symbols), expected, "symbols of {path}");
}

fn at(line: u32, column: u32) -> Position {
    Position { line, column }
}

fn places(locations: &[Location]) -> Vec<String> {
    locations
        .iter()
        .map(|location| format!("{}:{}:{}", location.path, location.line, location.column))
        .collect()
}

const RUST: &str = r#"//! Crate docs.
use std::fmt;

/// A shape.
/// Second line.
#[derive(Debug)]
pub struct Circle<T> {
    pub radius: f64,
    name: T,
}

pub enum Kind { Round, Square(u32) }

pub trait Area {
    /// Area of it.
    fn area(&self) -> f64;
    type Out;
}

impl<T> Area for Circle<T> {
    type Out = f64;
    fn area(&self) -> f64 { self.radius * self.radius }
}

impl fmt::Display for &Circle<u8> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) }
}

pub const MAX: usize = 3;
static COUNT: u32 = 0;
type Alias = Vec<u8>;
macro_rules! square { ($x:expr) => { $x * $x }; }
mod inner {
    pub fn helper() -> u32 { square!(2) }
}
fn main() { let c = Circle { radius: 1.0, name: 1 }; c.area(); }
"#;

#[test]
fn rust_symbols() {
    check_symbols(
        "src/lib.rs",
        RUST,
        "struct Circle 7:12-18
         field radius 8:9-15 in Circle
         field name 9:5-9 in Circle
         enum Kind 12:10-14
         enum_member Round 12:17-22 in Kind
         enum_member Square 12:24-30 in Kind
         trait Area 14:11-15
         method area 16:8-12 in Area
         type_alias Out 17:10-13 in Area
         type_alias Out 21:10-13 in Circle
         method area 22:8-12 in Circle
         method fmt 26:8-11 in Circle
         constant MAX 29:11-14
         constant COUNT 30:8-13
         type_alias Alias 31:6-11
         macro square 32:14-20
         module inner 33:5-10
         function helper 34:12-18 in inner
         function main 36:4-8",
    );
}

#[test]
fn python_symbols() {
    check_symbols(
        "pkg/shapes.py",
        r#""""Module doc."""
import os

MAX_SIZE = 10
a, (b, c) = 1, (2, 3)
x = y = 5
obj.attr = 4

class Shape:
    """Base class."""
    sides = 0

    def __init__(self, name):
        self.name = name
        local = 3

    @property
    def area(self) -> float:
        def inner():
            pass
        return 0.0

def helper(s: Shape) -> float:
    return s.area

type Vec = list[float]

if __name__ == "__main__":
    result = helper(Shape("x"))
"#,
        "constant MAX_SIZE 4:1-9
         variable a 5:1-2
         variable b 5:5-6
         variable c 5:8-9
         variable x 6:1-2
         variable y 6:5-6
         class Shape 9:7-12
         field sides 11:5-10 in Shape
         method __init__ 13:9-17 in Shape
         method area 18:9-13 in Shape
         function inner 19:13-18 in area
         function helper 23:5-11
         type_alias Vec 26:6-9
         variable result 29:5-11",
    );
}

const TYPESCRIPT: &str = r#"import { x } from "./x";

/** Adds numbers. */
export function add(a: number, b: number): number { return a + b; }

export const PI = 3.14;
let counter = 0;
const arrow = (n: number) => { return n * 2; };

export interface Shape {
  area(): number;
  readonly name: string;
}

type Props = { size: number };

export default class Circle implements Shape {
  radius = 1;
  readonly name: string = "c";
  constructor(r: number) { this.radius = r; }
  area(): number { return PI * this.radius ** 2; }
}

enum Color { Red, Green = 2 }

namespace NS { export function f() {} }

function outer(opts: { deep: number }) { const inside = 1; function nested() {} }
"#;

const TYPESCRIPT_SYMBOLS: &str = "function add 4:17-20
    constant PI 6:14-16
    variable counter 7:5-12
    function arrow 8:7-12
    interface Shape 10:18-23
    method area 11:3-7 in Shape
    property name 12:12-16 in Shape
    type_alias Props 15:6-11
    property size 15:16-20 in Props
    class Circle 17:22-28
    field radius 18:3-9 in Circle
    field name 19:12-16 in Circle
    constructor constructor 20:3-14 in Circle
    method area 21:3-7 in Circle
    enum Color 24:6-11
    enum_member Red 24:14-17 in Color
    enum_member Green 24:19-24 in Color
    namespace NS 26:11-13
    function f 26:32-33 in NS
    function outer 28:10-15
    function nested 28:69-75 in outer";

#[test]
fn typescript_symbols() {
    check_symbols("web/app.ts", TYPESCRIPT, TYPESCRIPT_SYMBOLS);
}

#[test]
fn tsx_symbols() {
    let source =
        format!("{TYPESCRIPT}const App = () => <div className=\"x\">{{add(1, 2)}}</div>;\n");
    let expected = format!("{TYPESCRIPT_SYMBOLS}\nfunction App 29:7-10");
    check_symbols("web/app.tsx", &source, &expected);
}

#[test]
fn javascript_symbols() {
    check_symbols(
        "web/app.jsx",
        r#"// Adds.
function add(a, b) { return a + b; }
const obj = { m() {}, short };
class Foo { bar = 1; baz() { return this.bar; } }
export const handler = async (req) => { return req; };
var legacy = 1;
const App = () => <div className="x">{add(1, 2)}</div>;
for (let i = 0; i < 3; i++) {}
"#,
        "function add 2:10-13
         constant obj 3:7-10
         class Foo 4:7-10
         field bar 4:13-16 in Foo
         method baz 4:22-25 in Foo
         function handler 5:14-21
         variable legacy 6:5-11
         function App 7:7-10",
    );
}

#[test]
fn go_symbols() {
    check_symbols(
        "shapes/shapes.go",
        r#"package shapes

import "math"

// Pi is pi.
const Pi = 3.14

const (
	A = iota
	B
)

var Count, Other int

type Shape interface {
	Area() float64
}

type Circle struct {
	Radius, Diameter float64
	Shape
}

type ID = int
type Num int

func (c *Circle) Area() float64 {
	var local = 1
	return math.Pi * c.Radius * c.Radius
}

func New[T any](r T) Circle { return Circle{} }
"#,
        "constant Pi 6:7-9
         constant A 9:2-3
         constant B 10:2-3
         variable Count 13:5-10
         variable Other 13:12-17
         interface Shape 15:6-11
         method Area 16:2-6 in Shape
         struct Circle 19:6-12
         field Radius 20:2-8 in Circle
         field Diameter 20:10-18 in Circle
         type_alias ID 24:6-8
         type_alias Num 25:6-9
         method Area 27:18-22 in Circle
         function New 32:6-9",
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let source = "/* é中 */ fn größe() -> u8 { 0 }\nconst 名前: u8 = größe();\n";
    check_symbols(
        "src/lib.rs",
        source,
        "function größe 1:13-18
         constant 名前 2:7-9",
    );
    let (_dir, ws) = repo(&[("src/lib.rs", source)]);
    let index = Index::build(&ws);
    assert_eq!(
        places(&index.references("größe", 10)),
        ["src/lib.rs:1:13", "src/lib.rs:2:16"]
    );
    assert_eq!(
        index.identifier_at("src/lib.rs", at(2, 17)).as_deref(),
        Some("größe")
    );
    assert_eq!(
        index.identifier_at("src/lib.rs", at(2, 7)).as_deref(),
        Some("名前")
    );
}

#[test]
fn identifier_at_reads_the_file_as_it_is_now() {
    let (dir, ws) = repo(&[
        ("src/lib.rs", "fn alpha() { beta(); }\nfn beta() {}\n"),
        ("notes.txt", "see gamma_delta here\n"),
    ]);
    let index = Index::build(&ws);
    let id = |path: &str, line, column| index.identifier_at(path, at(line, column));
    assert_eq!(id("src/lib.rs", 1, 4).as_deref(), Some("alpha"));
    assert_eq!(
        id("src/lib.rs", 1, 8).as_deref(),
        Some("alpha"),
        "the last character"
    );
    assert_eq!(
        id("src/lib.rs", 1, 9).as_deref(),
        Some("alpha"),
        "right after the name"
    );
    assert_eq!(id("src/lib.rs", 1, 14).as_deref(), Some("beta"));
    assert_eq!(id("src/lib.rs", 1, 1), None, "a keyword");
    assert_eq!(id("src/lib.rs", 1, 99), None, "past the line's end");
    assert_eq!(id("src/lib.rs", 9, 1), None, "past the file's end");
    assert_eq!(id("src/lib.rs", 0, 0), None);
    assert_eq!(id("missing.rs", 1, 1), None);
    assert_eq!(id("../outside.rs", 1, 1), None);
    assert_eq!(
        id("notes.txt", 1, 8).as_deref(),
        Some("gamma_delta"),
        "a file no grammar reads gives the word"
    );
    // An edit the index has not seen yet.
    write(dir.path(), "src/lib.rs", b"fn renamed() {}\n");
    assert_eq!(id("src/lib.rs", 1, 4).as_deref(), Some("renamed"));
}

#[test]
fn references_are_identifier_tokens_ordered_by_path() {
    let (_dir, ws) = repo(&[
        (
            "src/b.rs",
            "use crate::a::area;\n// area in a comment\nfn f() -> f64 { area(2.0) + \"area\".len() as f64 }\n",
        ),
        ("src/a.rs", "pub fn area(x: f64) -> f64 {\n    x * x\n}\n"),
        (
            "py/m.py",
            "from a import area\nprint(area(1))\nself.area = 2\n",
        ),
    ]);
    let index = Index::build(&ws);
    let found = index.references("area", 100);
    assert_eq!(
        places(&found),
        [
            "py/m.py:1:15",
            "py/m.py:2:7",
            "py/m.py:3:6",
            "src/a.rs:1:8",
            "src/b.rs:1:15",
            "src/b.rs:3:17",
        ]
    );
    assert_eq!(
        found[3].text.as_deref(),
        Some("pub fn area(x: f64) -> f64 {")
    );
    assert_eq!(found[3].end_column, 12);
    assert_eq!(
        places(&index.references("area", 2)),
        ["py/m.py:1:15", "py/m.py:2:7"]
    );
    assert!(index.references("nothing_like_it", 10).is_empty());
    let definitions = index.definitions("area");
    assert_eq!(definitions.len(), 1);
    assert_eq!(
        definitions[0].location.text.as_deref(),
        Some("pub fn area(x: f64) -> f64 {")
    );
}

#[test]
fn hover_shows_the_signature_and_the_docs_above() {
    let (_dir, ws) = repo(&[
        ("src/lib.rs", RUST),
        (
            "py/shapes.py",
            "# Not about Shape.\n\n# A shape.\nclass Shape:\n    def area(self) -> float:\n        \"\"\"The area.\n\n        In square units.\n        \"\"\"\n        return 0.0\n",
        ),
        (
            "web/add.ts",
            "/**\n * Adds numbers.\n * @param a first\n */\nexport function plus(a: number, b: number): number {\n  return a + b;\n}\n",
        ),
        (
            "go/pi.go",
            "package pi\n\n// Compute returns pi.\n// Roughly.\nfunc Compute() float64 {\n\treturn 3.14\n}\n",
        ),
        (
            "web/old.js",
            "// Subtracts.\nconst minus = (a, b) => {\n  return a - b;\n};\n",
        ),
    ]);
    let index = Index::build(&ws);
    let hover = |name: &str| index.hover(name).expect("a hover").contents;
    assert_eq!(
        hover("Circle"),
        "```rust\npub struct Circle<T>\n```\n\nA shape.\nSecond line."
    );
    assert_eq!(hover("MAX"), "```rust\npub const MAX: usize = 3;\n```");
    assert_eq!(
        hover("Shape"),
        "```python\nclass Shape:\n```\n\nA shape.",
        "a blank line ends the comments above"
    );
    assert_eq!(
        index
            .hover_from("area", Some("py/shapes.py"))
            .expect("a hover")
            .contents,
        "```python\ndef area(self) -> float:\n```\n\nThe area.\n\nIn square units."
    );
    assert_eq!(
        index
            .hover_from("area", Some("src/lib.rs"))
            .expect("a hover")
            .contents,
        "```rust\nfn area(&self) -> f64;\n```\n\nArea of it."
    );
    assert_eq!(
        hover("plus"),
        "```typescript\nexport function plus(a: number, b: number): number\n```\n\nAdds numbers.\n@param a first"
    );
    assert_eq!(
        hover("Compute"),
        "```go\nfunc Compute() float64\n```\n\nCompute returns pi.\nRoughly."
    );
    assert_eq!(
        hover("minus"),
        "```javascript\nconst minus = (a, b) =>\n```\n\nSubtracts."
    );
    let location = index.hover("plus").and_then(|hover| hover.location);
    assert_eq!(
        location.map(|location| (location.path, location.line, location.column)),
        Some(("web/add.ts".to_owned(), 5, 17))
    );
    assert_eq!(index.hover("no_such_name"), None);
}

#[test]
fn workspace_symbols_rank_exact_prefix_substring_then_fuzzy() {
    let (_dir, ws) = repo(&[
        (
            "src/a.rs",
            "fn parse_config() {}\nfn parse() {}\nstruct Parser;\nfn reparse() {}\nfn p_a_r_s_e() {}\n",
        ),
        ("src/b.rs", "fn parse() {}\nfn unrelated() {}\n"),
    ]);
    let index = Index::build(&ws);
    let names = |query: &str, limit| -> Vec<String> {
        index
            .workspace_symbols(query, limit)
            .into_iter()
            .map(|symbol| format!("{}@{}", symbol.name, symbol.location.path))
            .collect()
    };
    assert_eq!(
        names("PARSE", 10),
        [
            "parse@src/a.rs",
            "parse@src/b.rs",
            "Parser@src/a.rs",
            "parse_config@src/a.rs",
            "reparse@src/a.rs",
            "p_a_r_s_e@src/a.rs",
        ]
    );
    assert_eq!(names("parse", 2), ["parse@src/a.rs", "parse@src/b.rs"]);
    assert_eq!(names("pcfg", 10), ["parse_config@src/a.rs"]);
    assert!(names("zzz", 10).is_empty());
    assert!(names("parse", 0).is_empty());
    assert_eq!(index.stats(), (2, 7));
}

#[test]
fn refresh_sees_edits_additions_and_deletions() {
    let (dir, ws) = repo(&[
        ("src/a.rs", "fn first() {}\n"),
        ("src/b.rs", "fn second() {}\n"),
    ]);
    let mut index = Index::build(&ws);
    assert_eq!(index.stats(), (2, 2));

    write(
        dir.path(),
        "src/a.rs",
        b"fn first_renamed() {}\nfn more() {}\n",
    );
    write(dir.path(), "src/c.py", b"def third():\n    pass\n");
    fs::remove_file(dir.path().join("src/b.rs")).expect("remove");
    index.refresh(&ws);

    assert_eq!(index.stats(), (2, 3));
    assert!(index.definitions("first").is_empty());
    assert_eq!(index.definitions("first_renamed").len(), 1);
    assert_eq!(index.definitions("third").len(), 1);
    assert!(index.definitions("second").is_empty());
    assert_eq!(index.document_symbols("src/b.rs"), None);
    assert_eq!(places(&index.references("more", 10)), ["src/a.rs:2:4"]);

    // Same size, new contents: the modification time tells.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(dir.path(), "src/c.py", b"def fourth():\n    pass\n");
    index.refresh(&ws);
    assert_eq!(index.definitions("fourth").len(), 1);
    assert!(index.definitions("third").is_empty());
}

#[test]
fn ignored_hidden_binary_and_huge_files_are_not_indexed() {
    let (dir, ws) = repo(&[
        (".gitignore", "target/\n*.gen.rs\n"),
        ("src/lib.rs", "fn kept() {}\n"),
        ("target/debug/build.rs", "fn ignored_target() {}\n"),
        ("src/out.gen.rs", "fn ignored_generated() {}\n"),
        (".hidden/x.rs", "fn ignored_hidden() {}\n"),
        ("README.md", "fn not_source() {}\n"),
    ]);
    write(
        dir.path(),
        "src/blob.rs",
        b"fn ignored_binary() {}\0\x01\x02\n",
    );
    let mut huge = b"fn ignored_huge() {}\n".to_vec();
    huge.resize(MAX_FILE_BYTES as usize + 1, b'\n');
    write(dir.path(), "src/huge.rs", &huge);
    let index = Index::build(&ws);
    let all: Vec<String> = index
        .workspace_symbols("", 100)
        .into_iter()
        .map(|symbol| symbol.name)
        .collect();
    assert_eq!(all, ["kept"]);
    assert_eq!(index.document_symbols("target/debug/build.rs"), None);
}

#[test]
fn odd_input_gives_fewer_symbols_not_a_panic() {
    let mut invalid = b"fn before() {}\nfn bad_\xff\xfe() {}\nfn after() {}\n".to_vec();
    invalid.extend_from_slice("// ünïcödé \u{1F600}\n".as_bytes());
    let (dir, ws) = repo(&[
        (
            "src/broken.rs",
            "fn ok() {}\nfn broken( {\nstruct S { a: }\nfn also_ok() {}\n",
        ),
        ("src/empty.py", ""),
        ("src/weird.ts", "export class { ; }\n}}}{{{\nfunction g("),
        ("src/crlf.go", "package p\r\n\r\nfunc CrLf() {}\r\n"),
    ]);
    write(dir.path(), "src/invalid.rs", &invalid);
    let index = Index::build(&ws);
    assert!(!index.definitions("ok").is_empty());
    assert!(!index.definitions("before").is_empty());
    assert!(!index.definitions("after").is_empty());
    assert_eq!(
        places(
            &index
                .definitions("CrLf")
                .into_iter()
                .map(|s| s.location)
                .collect::<Vec<_>>()
        ),
        ["src/crlf.go:3:6"]
    );
    assert_eq!(
        index.identifier_at("src/crlf.go", at(3, 7)).as_deref(),
        Some("CrLf")
    );
    assert!(
        index
            .document_symbols("src/empty.py")
            .is_some_and(|s| s.is_empty())
    );
    for path in [
        "src/broken.rs",
        "src/weird.ts",
        "src/invalid.rs",
        "src/empty.py",
    ] {
        for line in 0..6 {
            for column in 0..20 {
                let _ = index.identifier_at(path, at(line, column));
            }
        }
    }
    for name in ["ok", "broken", "S", "g", "before", "after"] {
        let _ = index.hover(name);
    }
}

/// One row of the table in `tests/data/tools/nav/README.md`.
struct Row {
    fixture: String,
    request: String,
    at: String,
    name: String,
    expect: String,
}

fn readme_rows(readme: &str) -> Vec<Row> {
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split(" | ")
                .map(str::trim)
                .collect();
            let [fixture, request, at, name, expect] = cells[..] else {
                return None;
            };
            matches!(fixture, "rust" | "python").then(|| Row {
                fixture: fixture.to_owned(),
                request: request.to_owned(),
                at: at.to_owned(),
                name: name.to_owned(),
                expect: expect.to_owned(),
            })
        })
        .collect()
}

/// `path:line:column` as a path and a position.
fn split_place(place: &str) -> (String, Position) {
    let mut parts = place.rsplitn(3, ':');
    let column = parts.next().and_then(|n| n.parse().ok()).expect("a column");
    let line = parts.next().and_then(|n| n.parse().ok()).expect("a line");
    let path = parts.next().expect("a path").to_owned();
    (path, at(line, column))
}

#[test]
fn fixture_positions_in_the_readme_hold() {
    let nav = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tools/nav");
    let readme = fs::read_to_string(nav.join("README.md")).expect("the README");
    let rows = readme_rows(&readme);
    assert!(rows.len() >= 20, "the table has its rows: {}", rows.len());
    for fixture in ["rust", "python"] {
        let ws = Workspace::new(nav.join(fixture)).expect("the fixture");
        let index = Index::build(&ws);
        for row in rows.iter().filter(|row| row.fixture == fixture) {
            let context = format!("{fixture} {} {} {}", row.request, row.at, row.name);
            let expected: Vec<String> = row.expect.split(", ").map(str::to_owned).collect();
            if row.request == "workspace_symbols" {
                let first = index.workspace_symbols(&row.at, 1);
                let first = first.first().expect(&context);
                assert_eq!(first.name, row.name, "{context}");
                assert_eq!(
                    places(std::slice::from_ref(&first.location)),
                    expected,
                    "{context}"
                );
                continue;
            }
            let (path, position) = split_place(&row.at);
            let name = index.identifier_at(&path, position);
            assert_eq!(name.as_deref(), Some(row.name.as_str()), "{context}");
            match row.request.as_str() {
                "definition" | "definition (syntactic)" => {
                    let found: Vec<Location> = index
                        .definitions(&row.name)
                        .into_iter()
                        .map(|symbol| symbol.location)
                        .collect();
                    assert_eq!(places(&found), expected, "{context}");
                }
                "references" => {
                    assert_eq!(
                        places(&index.references(&row.name, 100)),
                        expected,
                        "{context}"
                    );
                }
                "hover" => {
                    let hover = index.hover_from(&row.name, Some(&path)).expect(&context);
                    for text in row.expect.split(" and ") {
                        let text = text.trim().trim_matches('"');
                        assert!(
                            hover.contents.contains(text),
                            "{context}: {text:?} in {:?}",
                            hover.contents
                        );
                    }
                }
                other => panic!("unknown request {other} in the README"),
            }
        }
    }
}

#[test]
fn fixture_document_symbols_match_the_readme() {
    let nav = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tools/nav");
    let readme = fs::read_to_string(nav.join("README.md")).expect("the README");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for (fixture, path) in [("rust", "src/shapes.rs"), ("python", "geometry/shapes.py")] {
        let ws = Workspace::new(nav.join(fixture)).expect("the fixture");
        let index = Index::build(&ws);
        let listed: Vec<String> = index
            .document_symbols(path)
            .expect("indexed")
            .iter()
            .map(|symbol| {
                let kind = serde_json::to_value(symbol.kind).expect("kind");
                let mut text = format!(
                    "{} `{}` {}:{}",
                    kind.as_str().unwrap_or("?"),
                    symbol.name,
                    symbol.location.line,
                    symbol.location.column
                );
                if let Some(container) = &symbol.container {
                    text.push_str(&format!(" in `{container}`"));
                }
                text
            })
            .collect();
        let sentence = format!("{}.", listed.join("; "));
        assert!(
            flat.contains(&sentence),
            "the README lists {fixture}/{path} as: {sentence}"
        );
    }
}
