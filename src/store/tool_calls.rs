//! `tool_calls`: every call of a prodcode tool (over MCP, LSP or the CLI), each also an event in
//! the hash-chained log, and the counts reports read ("how often did the agent run the tests?").

use rusqlite::params;

use super::{NewEvent, Store, StoreError, Writer};

/// One finished tool call.
pub struct NewToolCall<'a> {
    pub tool: &'a str,
    /// The arguments as called, JSON.
    pub arguments: &'a str,
    pub duration_ms: u64,
    /// `ok` or the kind of failure (`invalid_argument`, `unavailable`, …).
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub interaction_id: Option<&'a str>,
    pub run_id: Option<i64>,
    /// `mcp`, `lsp` or `cli`.
    pub front: &'a str,
    pub client: Option<&'a str>,
    pub workspace: &'a str,
    /// When the call started (Unix ms).
    pub ts_ms: i64,
}

/// Calls of one tool with one outcome.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ToolCallCount {
    pub tool: String,
    pub outcome: String,
    pub calls: u64,
    pub total_ms: u64,
}

/// Which calls to count.
pub enum ToolCallScope<'a> {
    Interaction(&'a str),
    Run(i64),
    All,
}

impl Writer<'_> {
    /// Records a call: an event (`source` the front, `kind` `tool_call`) and its `tool_calls` row.
    /// A `run_id` that names no evaluation run is kept out of the foreign key (stored as NULL, the
    /// event payload still has it), so a stray environment variable cannot lose the call.
    pub fn record_tool_call(&mut self, call: &NewToolCall<'_>) -> Result<i64, StoreError> {
        let payload = serde_json::json!({
            "tool": call.tool,
            "arguments": serde_json::from_str::<serde_json::Value>(call.arguments)
                .unwrap_or_else(|_| serde_json::Value::String(call.arguments.to_owned())),
            "durationMs": call.duration_ms,
            "outcome": call.outcome,
            "error": call.error,
            "interactionId": call.interaction_id,
            "runId": call.run_id,
            "front": call.front,
            "client": call.client,
            "workspace": call.workspace,
        })
        .to_string();
        let event_id = self.append_event(&NewEvent {
            ts_ms: call.ts_ms,
            source: call.front,
            kind: "tool_call",
            payload: &payload,
        })?;
        let run_id: Option<i64> = match call.run_id {
            Some(id) => self
                .tx
                .prepare_cached("SELECT id FROM runs WHERE id = ?1")?
                .query_row([id], |row| row.get(0))
                .ok(),
            None => None,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO tool_calls (tool, arguments, duration_ms, outcome, interaction_id,
                     run_id, ts_ms, event_id, front, client, workspace, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                call.tool,
                call.arguments,
                call.duration_ms as i64,
                call.outcome,
                call.interaction_id,
                run_id,
                call.ts_ms,
                event_id,
                call.front,
                call.client,
                call.workspace,
                call.error,
            ])?;
        Ok(self.tx.last_insert_rowid())
    }
}

impl Store {
    /// Calls per tool and outcome in `scope`, by tool then outcome.
    pub fn tool_call_counts(
        &self,
        scope: ToolCallScope<'_>,
    ) -> Result<Vec<ToolCallCount>, StoreError> {
        let (filter, value): (&str, rusqlite::types::Value) = match scope {
            ToolCallScope::Interaction(id) => ("interaction_id = ?1", id.to_owned().into()),
            ToolCallScope::Run(id) => ("run_id = ?1", id.into()),
            ToolCallScope::All => ("?1 IS NULL", rusqlite::types::Value::Null),
        };
        let sql = format!(
            "SELECT tool, coalesce(outcome, 'unknown'), count(*), coalesce(sum(duration_ms), 0)
             FROM tool_calls WHERE {filter} GROUP BY 1, 2 ORDER BY 1, 2"
        );
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map([value], |row| {
            Ok(ToolCallCount {
                tool: row.get(0)?,
                outcome: row.get(1)?,
                calls: row.get::<_, i64>(2)? as u64,
                total_ms: row.get::<_, i64>(3)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
