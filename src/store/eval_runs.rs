//! Rows of `runs`: one per evaluation run, so the tool calls an agent makes through prodcode's
//! tools (`PRODCODE_RUN_ID`) name the run they served.

use rusqlite::params;

use super::{Store, StoreError, Writer};

/// A run as `prodcode eval` starts it.
pub struct NewEvalRun<'a> {
    pub task_id: &'a str,
    pub agent: &'a str,
    pub attempt: i64,
    pub started_ms: i64,
    /// JSON: the run id of the results directory, the harness and context-files setting.
    pub detail: &'a str,
}

impl Writer<'_> {
    /// Adds a `runs` row; its id.
    pub fn start_eval_run(&mut self, run: &NewEvalRun<'_>) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO runs (task_id, agent, attempt, started_ms, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                run.task_id,
                run.agent,
                run.attempt,
                run.started_ms,
                run.detail
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Records how run `id` ended.
    pub fn finish_eval_run(
        &mut self,
        id: i64,
        finished_ms: i64,
        resolved: Option<bool>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE runs SET finished_ms = ?2, resolved = ?3 WHERE id = ?1")?
            .execute(params![id, finished_ms, resolved])?;
        Ok(())
    }
}

impl Store {
    /// The tools called for run `id`, with how many calls each.
    pub fn eval_run_tool_calls(&self, id: i64) -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT tool, count(*) FROM tool_calls WHERE run_id = ?1 GROUP BY tool ORDER BY tool",
        )?;
        let rows = statement.query_map([id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
