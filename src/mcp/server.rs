//! The rmcp `ServerHandler`: `initialize` (server info, the tools capability, instructions),
//! `tools/list` from [`toolbox::specs`], and `tools/call` through [`Toolbox::call`] on the
//! blocking pool.
//!
//! A call's answer is always a `CallToolResult`: the toolbox's text as the one content block, its
//! typed result as `structuredContent`, its error flag as `isError`. Unknown tools, bad arguments,
//! failed tools and even a panicking tool are error results the agent reads, never JSON-RPC
//! errors, which clients tend to show as an opaque "internal error".

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use crate::tools::toolbox::{self, CallContext, ToolOutput, Toolbox};

/// The `_meta` key of a `tools/call` that names the interaction (agent session) the call belongs
/// to, as a string; it overrides `PRODCODE_INTERACTION_ID` for that call.
pub const INTERACTION_META: &str = "dev.prodcode/interactionId";
/// The `_meta` key of a `tools/call` that names the evaluation run (`runs.id`) the call belongs
/// to, as an integer; it overrides `PRODCODE_RUN_ID` for that call.
pub const RUN_META: &str = "dev.prodcode/runId";

const INSTRUCTIONS: &str = "prodcode checks and navigates this workspace with the project's own \
    tools: get_diagnostics (compiler and linter), run_tests, find_definition, find_references, \
    hover, document_symbols, workspace_symbols, format, search and lsp_status. Paths are relative \
    to the workspace root. Every line and column, in arguments and in results, is 1-based; \
    columns count characters (Unicode scalar values), not bytes or UTF-16 units. Failing tests and \
    diagnostics are normal answers; isError means the call itself failed, and its text says what \
    to do next.";

/// One MCP server over a shared toolbox; cloned once per HTTP session.
#[derive(Clone)]
pub(super) struct Server {
    toolbox: Arc<Toolbox>,
    /// The context from the environment; the client and `_meta` are added per call.
    context: CallContext,
    tools: Arc<[Tool]>,
}

impl Server {
    pub(super) fn new(toolbox: Arc<Toolbox>, context: CallContext) -> Server {
        let tools = toolbox::specs().into_iter().map(to_tool).collect();
        Server {
            toolbox,
            context,
            tools,
        }
    }

    /// Who is making this call: the environment's context, the client's `clientInfo`, and the
    /// call's `_meta` overrides.
    fn call_context(&self, request: &RequestContext<RoleServer>) -> CallContext {
        let mut context = self.context.clone();
        if let Some(info) = request.client_info() {
            context.client = Some(format!("{} {}", info.name, info.version));
        }
        let meta: &JsonObject = &request.meta;
        match meta.get(INTERACTION_META) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) => {
                if !id.is_empty() {
                    context.interaction_id = Some(id.clone());
                }
            }
            Some(other) => {
                tracing::warn!("ignoring _meta.{INTERACTION_META} {other}: it must be a string")
            }
        }
        match meta.get(RUN_META) {
            None | Some(Value::Null) => {}
            Some(value) => match value.as_i64() {
                Some(run) => context.run_id = Some(run),
                None => tracing::warn!("ignoring _meta.{RUN_META} {value}: it must be an integer"),
            },
        }
        context
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("prodcode", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let call_context = self.call_context(&context);
        let name = request.name.into_owned();
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        let toolbox = Arc::clone(&self.toolbox);
        let tool = name.clone();
        let joined =
            tokio::task::spawn_blocking(move || toolbox.call(&tool, &arguments, &call_context))
                .await;
        let output = joined.unwrap_or_else(|error| internal_error(&name, &error));
        Ok(to_result(output).into())
    }
}

/// A tool's MCP description.
fn to_tool(spec: toolbox::ToolSpec) -> Tool {
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.read_only)
        .destructive(false)
        .open_world(false);
    Tool::new(
        spec.name,
        spec.description,
        schema_object(spec.input_schema),
    )
    .with_title(spec.title)
    .with_raw_output_schema(schema_object(spec.output_schema))
    .with_annotations(annotations)
}

/// A schema as the JSON object MCP requires; the catalogue's schemas are all objects, so the
/// fallback (any object) is never seen.
fn schema_object(schema: Value) -> Arc<JsonObject> {
    match schema {
        Value::Object(object) => Arc::new(object),
        _ => {
            let mut object = JsonObject::new();
            object.insert("type".to_owned(), Value::String("object".to_owned()));
            Arc::new(object)
        }
    }
}

fn to_result(output: ToolOutput) -> CallToolResult {
    let mut result = if output.is_error {
        CallToolResult::error(vec![ContentBlock::text(output.text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(output.text)])
    };
    result.structured_content = Some(output.structured);
    result
}

/// The answer of a call whose tool panicked (or was cancelled with the runtime).
fn internal_error(tool: &str, error: &tokio::task::JoinError) -> ToolOutput {
    let cause = if error.is_panic() {
        "panicked"
    } else {
        "was cancelled"
    };
    let message = format!(
        "prodcode's `{tool}` {cause} (a bug in prodcode; its log on stderr has the details); \
         the other tools still work, and calling `{tool}` again may too"
    );
    tracing::error!("tool call {tool} {cause}: {error}");
    ToolOutput {
        text: message.clone(),
        structured: serde_json::json!({ "error": { "kind": "failed", "message": message } }),
        is_error: true,
    }
}
