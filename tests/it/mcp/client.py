"""A real MCP client for prodcode's end-to-end tests: the official MCP Python SDK.

Reads a plan (JSON) on stdin, runs it against one prodcode MCP server, prints the results (JSON)
on stdout; `tests/it/mcp.rs` writes the plans and asserts on the results.

    {
      "server": {"command": "...", "args": ["..."], "env": {"NAME": "value"}}   # stdio
             or {"url": "http://127.0.0.1:PORT/mcp"},                           # streamable HTTP
      "timeout_s": 300,
      "steps": [
        {"op": "list"},
        {"op": "call", "tool": "search", "arguments": {...}, "meta": {...}},
        {"op": "write", "path": "/absolute/file", "text": "..."}
      ]
    }

Output: {"sdkVersion", "initialize": InitializeResult, "results": [one per step]}. A call's result
is {"isError", "text", "structuredContent", "schemaErrors", "exception"}: `schemaErrors` lists
where a successful call's structuredContent breaks its tool's outputSchema (checked here with
jsonschema, besides the SDK's own check, which raises: that lands in `exception`).
"""

import importlib.metadata
import json
import os
import sys
import traceback

import anyio
import jsonschema
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import Implementation

CLIENT_INFO = Implementation(name="prodcode-tests", version="1")


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def schema_errors(schema, instance):
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = validator_class(schema)
    except jsonschema.SchemaError as error:
        return [f"invalid schema: {error.message}"]
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


async def run_steps(session, steps):
    results = []
    output_schemas = {}
    for step in steps:
        try:
            results.append(await run_step(session, step, output_schemas))
        except Exception as error:  # noqa: BLE001 - reported to the Rust test, which fails on it
            results.append(
                {
                    "exception": f"{type(error).__name__}: {error}",
                    "trace": traceback.format_exc(),
                }
            )
    return results


async def run_step(session, step, output_schemas):
    op = step["op"]
    if op == "list":
        listed = await session.list_tools()
        tools = [dump(tool) for tool in listed.tools]
        for tool in tools:
            output_schemas[tool["name"]] = tool.get("outputSchema")
        errors = []
        for tool in tools:
            for key in ("inputSchema", "outputSchema"):
                if key in tool:
                    errors += [
                        f"{tool['name']} {key}: {e}"
                        for e in schema_errors(tool[key], None)
                        if e.startswith("invalid schema")
                    ]
        return {"tools": tools, "schemaErrors": errors}
    if op == "call":
        if not output_schemas:
            for tool in (await session.list_tools()).tools:
                output_schemas[tool.name] = dump(tool).get("outputSchema")
        result = await session.call_tool(
            step["tool"], step.get("arguments"), meta=step.get("meta")
        )
        text = "\n".join(block.text for block in result.content if block.type == "text")
        errors = []
        schema = output_schemas.get(step["tool"])
        if not result.isError and schema is not None:
            errors = schema_errors(schema, result.structuredContent)
        return {
            "isError": bool(result.isError),
            "text": text,
            "structuredContent": result.structuredContent,
            "schemaErrors": errors,
        }
    if op == "write":
        await anyio.Path(step["path"]).write_text(step["text"], encoding="utf-8")
        return {}
    raise ValueError(f"unknown step {op!r}")


async def run_session(read, write, steps):
    async with ClientSession(read, write, client_info=CLIENT_INFO) as session:
        initialized = await session.initialize()
        results = await run_steps(session, steps)
        return {"initialize": dump(initialized), "results": results}


async def main(plan):
    server = plan["server"]
    with anyio.fail_after(plan.get("timeout_s", 300)):
        if "url" in server:
            from mcp.client.streamable_http import streamable_http_client

            async with streamable_http_client(server["url"]) as (
                read,
                write,
                _session_id,
            ):
                return await run_session(read, write, plan["steps"])
        env = dict(os.environ)
        env.update(server.get("env", {}))
        params = StdioServerParameters(
            command=server["command"], args=server.get("args", []), env=env
        )
        async with stdio_client(params) as (read, write):
            return await run_session(read, write, plan["steps"])


if __name__ == "__main__":
    answer = anyio.run(main, json.load(sys.stdin))
    answer["sdkVersion"] = importlib.metadata.version("mcp")
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
