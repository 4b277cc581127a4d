//! The built-in syntactic index (`tools::index`) on a generated 100,000-line repository of Rust,
//! Python, TypeScript and Go files (100 to 300 lines each, structs and classes with methods,
//! functions calling each other, doc comments), made afresh in a temporary directory from a fixed
//! seed, so every run measures the same tree.
//!
//! Measured: a full `Index::build`; `refresh` with nothing changed and after one file changed;
//! `workspace_symbols` warm over exact, prefix and fuzzy queries; `references` of a common name;
//! `definitions`, `hover` and `identifier_at`. Baselines on the same tree in the same run: `rg` (or
//! `git grep` when `rg` is not installed) for the references, `ctags -R` for the symbols.
//!
//! Run: `cargo bench --bench index`. A plain bench binary (no criterion): the figures that matter
//! are medians of whole operations. Targets: build under 2 s, warm `workspace_symbols` under 10 ms.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodcode::tools::index::Index;
use prodcode::tools::nav::Position;
use prodcode::tools::workspace::Workspace;

/// Lines the generated repository has, at least.
const TOTAL_LINES: usize = 100_000;

/// A small deterministic generator (64-bit LCG), so the tree is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

const VERBS: &[&str] = &[
    "parse", "load", "compute", "render", "update", "validate", "build", "fetch", "merge", "split",
    "encode", "decode", "resolve", "apply", "collect", "flush", "index", "scan", "emit", "check",
];
const NOUNS: &[&str] = &[
    "config", "user", "order", "token", "buffer", "session", "record", "widget", "route", "cache",
    "invoice", "payload", "schema", "cursor", "ledger", "metric", "batch", "query", "span",
    "frame",
];

fn camel(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Names of one generated unit (a type with methods and a free function).
struct Unit {
    ty: String,
    field: String,
    method: String,
    function: String,
    /// A function of another unit, called from this one.
    callee: String,
}

fn unit(rng: &mut Rng, file: usize, n: usize) -> Unit {
    let (verb, noun, other) = (rng.pick(VERBS), rng.pick(NOUNS), rng.pick(NOUNS));
    Unit {
        ty: format!("{}{}{file}x{n}", camel(noun), camel(other)),
        field: format!("{other}_count"),
        method: format!("{verb}_{noun}"),
        function: format!("{verb}_{noun}_{other}_{file}_{n}"),
        callee: format!(
            "{}_{}_{}_{}_{}",
            rng.pick(VERBS),
            rng.pick(NOUNS),
            rng.pick(NOUNS),
            rng.below(file + 1),
            rng.below(8)
        ),
    }
}

fn rust_unit(u: &Unit) -> String {
    format!(
        r#"/// A {ty} as the service keeps it.
#[derive(Debug, Clone, Default)]
pub struct {ty} {{
    pub {field}: u64,
    pub label: String,
    values: Vec<u64>,
}}

impl {ty} {{
    /// Creates an empty {ty}.
    pub fn new({field}: u64) -> Self {{
        Self {{ {field}, label: String::new(), values: Vec::new() }}
    }}

    /// Folds the values into one number.
    pub fn {method}(&self, value: u64) -> u64 {{
        let mut total = self.{field};
        for item in &self.values {{
            total = total.wrapping_add(item * value);
        }}
        total
    }}
}}

/// Doubles and sums `input`.
pub fn {function}(input: &[u64]) -> u64 {{
    let value = input.iter().map(|x| x * 2).sum::<u64>();
    {callee}(&[value])
}}

"#,
        ty = u.ty,
        field = u.field,
        method = u.method,
        function = u.function,
        callee = u.callee,
    )
}

fn python_unit(u: &Unit) -> String {
    format!(
        r#"class {ty}:
    """A {ty} as the service keeps it."""

    def __init__(self, {field}: int) -> None:
        self.{field} = {field}
        self.values: list[int] = []

    def {method}(self, value: int) -> int:
        """Folds the values into one number."""
        total = self.{field}
        for item in self.values:
            total += item * value
        return total


def {function}(data: list[int]) -> int:
    """Doubles and sums `data`."""
    value = sum(x * 2 for x in data)
    return {callee}([value])


"#,
        ty = u.ty,
        field = u.field,
        method = u.method,
        function = u.function,
        callee = u.callee,
    )
}

fn typescript_unit(u: &Unit) -> String {
    format!(
        r#"/** A {ty} as the service keeps it. */
export interface {ty}Shape {{
  {field}: number;
  label?: string;
}}

export class {ty} implements {ty}Shape {{
  {field}: number;
  private values: number[] = [];

  constructor({field}: number) {{
    this.{field} = {field};
  }}

  /** Folds the values into one number. */
  {method}(value: number): number {{
    let total = this.{field};
    for (const item of this.values) {{
      total += item * value;
    }}
    return total;
  }}
}}

/** Doubles and sums `input`. */
export function {function}(input: number[]): number {{
  const value = input.reduce((sum, x) => sum + x * 2, 0);
  return {callee}([value]);
}}

"#,
        ty = u.ty,
        field = u.field,
        method = u.method,
        function = u.function,
        callee = u.callee,
    )
}

fn go_unit(u: &Unit) -> String {
    format!(
        r#"// {ty} is a record as the service keeps it.
type {ty} struct {{
	{field_go} uint64
	Label    string
	values   []uint64
}}

// New{ty} creates an empty {ty}.
func New{ty}({field} uint64) *{ty} {{
	return &{ty}{{ {field_go}: {field} }}
}}

// {method_go} folds the values into one number.
func (r *{ty}) {method_go}(value uint64) uint64 {{
	total := r.{field_go}
	for _, item := range r.values {{
		total += item * value
	}}
	return total
}}

// {function} doubles and sums input.
func {function}(input []uint64) uint64 {{
	var value uint64
	for _, x := range input {{
		value += x * 2
	}}
	return {callee}([]uint64{{value}})
}}

"#,
        ty = u.ty,
        field = u.field,
        field_go = camel(&u.field),
        method_go = camel(&u.method),
        function = u.function,
        callee = u.callee,
    )
}

/// Writes the repository; returns its files' relative paths and its lines.
fn generate(root: &Path) -> (Vec<String>, usize) {
    let mut rng = Rng(0x5eed_1dea);
    let mut paths = Vec::new();
    let (mut files, mut lines) = (0, 0);
    while lines < TOTAL_LINES {
        let file = files;
        let target = 100 + rng.below(201);
        let (dir, extension, header): (&str, &str, String) = match rng.below(20) {
            0..7 => (
                "crates/core/src",
                "rs",
                "//! Generated module.\n\nuse std::fmt::Debug;\n\n".to_owned(),
            ),
            7..12 => (
                "service",
                "py",
                "\"\"\"Generated module.\"\"\"\nimport os\n\n\n".to_owned(),
            ),
            12..17 => (
                "web/src",
                "ts",
                "import { helper } from \"./helper\";\n\n".to_owned(),
            ),
            _ => (
                "pkg/store",
                "go",
                "package store\n\nimport \"fmt\"\n\n".to_owned(),
            ),
        };
        let mut text = header;
        let mut n = 0;
        while text.lines().count() < target {
            let u = unit(&mut rng, file, n);
            text.push_str(&match extension {
                "rs" => rust_unit(&u),
                "py" => python_unit(&u),
                "ts" => typescript_unit(&u),
                _ => go_unit(&u),
            });
            n += 1;
        }
        let relative = format!("{dir}/module_{file:04}.{extension}");
        let path = root.join(&relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        lines += text.lines().count();
        std::fs::write(path, text).unwrap();
        paths.push(relative);
        files += 1;
    }
    std::fs::write(root.join(".gitignore"), "target/\nnode_modules/\n").unwrap();
    (paths, lines)
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=b", "-c", "user.email=b@example.invalid"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// Whether `program --version` runs.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs a command to completion with its output discarded.
fn run(dir: &Path, program: &str, args: &[&str]) {
    let _ = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let value = f();
    (started.elapsed(), value)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The resident set size of this process, in MiB (Linux), when known.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct Table(String);

impl Table {
    fn row(&mut self, what: &str, figure: String, note: &str) {
        let _ = writeln!(self.0, "{what:<48} {figure:>14}   {note}");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    let (paths, lines) = generate(&root);
    let files = paths.len();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "."]);
    let ws = Workspace::new(&root).unwrap();
    let mut table = Table(String::new());
    table.row(
        "generated repository",
        format!("{files} files"),
        &format!("{lines} lines of Rust, Python, TypeScript and Go"),
    );

    // Full builds; the first one also measures memory.
    let rss_before = rss_mib();
    let mut builds = Vec::new();
    let mut index = None;
    for _ in 0..5 {
        let (took, built) = timed(|| Index::build(&ws));
        builds.push(took);
        if index.is_none() {
            let rss_after = rss_mib();
            if let (Some(before), Some(after)) = (rss_before, rss_after) {
                table.row(
                    "memory: RSS growth of the first build",
                    format!("{:.1} MiB", after - before),
                    "",
                );
            }
            index = Some(built);
        }
    }
    let mut index = index.unwrap();
    let (indexed, symbols) = index.stats();
    table.row(
        "Index::build (median of 5)",
        format!("{:.1} ms", ms(median(&mut builds))),
        &format!("target < 2000 ms; {indexed} files, {symbols} symbols"),
    );

    let mut unchanged: Vec<Duration> = (0..50).map(|_| timed(|| index.refresh(&ws)).0).collect();
    table.row(
        "refresh, nothing changed (median of 50)",
        format!("{:.2} ms", ms(median(&mut unchanged))),
        "target well under 10 ms: a stat-only walk",
    );

    let first_rust = paths
        .iter()
        .find(|path| path.ends_with(".rs"))
        .cloned()
        .unwrap();
    let touched = root.join(&first_rust);
    let original = std::fs::read_to_string(&touched).unwrap_or_default();
    let mut after_edit = Vec::new();
    for n in 0..20 {
        std::fs::write(&touched, format!("{original}\npub fn touched_{n}() {{}}\n")).unwrap();
        after_edit.push(timed(|| index.refresh(&ws)).0);
    }
    assert_eq!(
        index.definitions("touched_19").len(),
        1,
        "the edit was seen"
    );
    table.row(
        "refresh, one file changed (median of 20)",
        format!("{:.2} ms", ms(median(&mut after_edit))),
        "",
    );

    // Warm workspace symbols over exact, prefix and fuzzy queries, from names the files declare.
    let mut rng = Rng(7);
    let mut queries: Vec<String> = Vec::new();
    while queries.len() < 300 {
        let path = &paths[rng.below(paths.len())];
        let symbols = index.document_symbols(path).unwrap_or_default();
        if symbols.is_empty() {
            continue;
        }
        let name = symbols[rng.below(symbols.len())].name.clone();
        queries.push(name.chars().take(6).collect());
        queries.push(name.chars().step_by(3).collect::<String>().to_lowercase());
        queries.push(name);
    }
    let mut query_times = Vec::new();
    let mut answered = 0;
    for query in &queries {
        let (took, found) = timed(|| index.workspace_symbols(query, 50));
        answered += found.len();
        query_times.push(took);
    }
    let worst = query_times.iter().max().copied().unwrap_or_default();
    table.row(
        "workspace_symbols warm, limit 50 (median)",
        format!("{:.2} ms", ms(median(&mut query_times))),
        &format!(
            "target < 10 ms; {} queries (exact, prefix, fuzzy), max {:.2} ms, {answered} symbols",
            queries.len(),
            ms(worst)
        ),
    );
    let mut with_refresh: Vec<Duration> = queries
        .iter()
        .take(60)
        .map(|query| {
            timed(|| {
                index.refresh(&ws);
                index.workspace_symbols(query, 50)
            })
            .0
        })
        .collect();
    table.row(
        "refresh + workspace_symbols (median)",
        format!("{:.2} ms", ms(median(&mut with_refresh))),
        "what a tool call costs",
    );

    // References of a common name: every `value` identifier.
    let mut reference_times = Vec::new();
    let mut count = 0;
    for _ in 0..10 {
        let (took, found) = timed(|| index.references("value", usize::MAX));
        count = found.len();
        reference_times.push(took);
    }
    table.row(
        "references of `value`, all (median of 10)",
        format!("{:.2} ms", ms(median(&mut reference_times))),
        &format!("{count} occurrences, each with its line"),
    );
    let mut first_hundred: Vec<Duration> = (0..20)
        .map(|_| timed(|| index.references("value", 100)).0)
        .collect();
    table.row(
        "references of `value`, first 100 (median)",
        format!("{:.2} ms", ms(median(&mut first_hundred))),
        "",
    );

    let mut definition_times: Vec<Duration> = (0..20)
        .map(|_| timed(|| index.definitions("new")).0)
        .collect();
    table.row(
        "definitions of `new` (median)",
        format!("{:.2} ms", ms(median(&mut definition_times))),
        &format!("{} definitions", index.definitions("new").len()),
    );
    let mut hover_times: Vec<Duration> = queries
        .iter()
        .skip(2)
        .step_by(3)
        .take(20)
        .map(|query| {
            let (took, hover) = timed(|| index.hover(query));
            assert!(hover.is_some(), "a hover for {query}");
            took
        })
        .collect();
    table.row(
        "hover (median)",
        format!("{:.2} ms", ms(median(&mut hover_times))),
        "parses the defining file",
    );
    let mut identifier_times: Vec<Duration> = index
        .document_symbols(&first_rust)
        .unwrap_or_default()
        .iter()
        .take(20)
        .map(|symbol| {
            let position = Position {
                line: symbol.location.line,
                column: symbol.location.column,
            };
            let (took, name) = timed(|| index.identifier_at(&first_rust, position));
            assert_eq!(name.as_deref(), Some(symbol.name.as_str()));
            took
        })
        .collect();
    table.row(
        "identifier_at (median)",
        format!("{:.2} ms", ms(median(&mut identifier_times))),
        "re-parses the file",
    );

    // Baselines on the same tree.
    if installed("rg") {
        let mut rg: Vec<Duration> = (0..5)
            .map(|_| timed(|| run(&root, "rg", &["-n", "-w", "value"])).0)
            .collect();
        table.row(
            "baseline: rg -n -w value",
            format!("{:.2} ms", ms(median(&mut rg))),
            "",
        );
    } else {
        table.row("baseline: rg", "not installed".to_owned(), "");
        let mut grep: Vec<Duration> = (0..5)
            .map(|_| timed(|| run(&root, "git", &["grep", "-n", "-w", "value"])).0)
            .collect();
        table.row(
            "baseline: git grep -n -w value",
            format!("{:.2} ms", ms(median(&mut grep))),
            "",
        );
    }
    if installed("ctags") {
        let tags = dir.path().join("tags");
        let tags = tags.to_string_lossy();
        let mut ctags: Vec<Duration> = (0..3)
            .map(|_| timed(|| run(&root, "ctags", &["-R", "-f", &tags, "."])).0)
            .collect();
        table.row(
            "baseline: ctags -R (median of 3)",
            format!("{:.1} ms", ms(median(&mut ctags))),
            "",
        );
    } else {
        table.row("baseline: ctags -R", "not installed".to_owned(), "");
    }
    print!("{}", table.0);
}
