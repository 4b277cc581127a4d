-- prodcode for Neovim 0.7 and later: starts `prodcode lsp` for buffers in a git repository (one
-- daemon per repository), records prompts and accepted AI edits through the `prodcode/*`
-- extension (docs/lsp-extensions.md), and shows which lines an AI wrote. `:help prodcode` has the
-- user's guide; this file is the whole plugin.
--
-- Why it is written the way it is:
-- - Every keystroke is evidence of human typing, so changes are sent without debounce, and each
--   `prodcode/*` notification goes out after the `didChange` it refers to (Neovim's client flushes
--   pending changes before any other notification).
-- - Neovim's API counts columns in bytes; the daemon counts in the negotiated encoding (UTF-16
--   unless the client offers others, which Neovim 0.10+ does). Columns are converted here, in
--   one place (`to_units`, `to_bytes`), with the client's `offset_encoding`.
-- - The plugin must run on Neovim 0.7 (Debian's) and on current releases, so every API newer
--   than 0.7 is behind a `has()` check: `vim.lsp.start` (0.9 for its `bufnr` option),
--   `vim.lsp.get_clients` (0.10), method-call clients and the new `vim.str_utfindex` (0.11).
-- - A buffer number of 0 means the current buffer, as everywhere in Neovim's API.

local M = {}

local api = vim.api
local uv = vim.uv or vim.loop

local nvim_09 = vim.fn.has('nvim-0.9') == 1
local nvim_011 = vim.fn.has('nvim-0.11') == 1

local defaults = {
  -- The command that starts the daemon; by default `{ bin, 'lsp' }` plus `--db db` when set.
  cmd = nil,
  bin = 'prodcode',
  db = nil,
  -- The assistant `:ProdcodePrompt` records prompts for, e.g. { name = 'avante', model = '...' }.
  agent = nil,
  -- function(bufnr, root) -> boolean: return false to leave a buffer unrecorded.
  filter = nil,
  -- A fixed root (string) or function(path) -> root, instead of the file's git repository.
  root_dir = nil,
  timeout_ms = 3000,
  blame = {
    sign_text = 'AI',
    modified_sign_text = 'A~',
    sign_hl = 'ProdcodeAi',
    modified_sign_hl = 'ProdcodeAiModified',
    -- Also show the interaction's first prompt at the end of AI lines.
    virtual_text = false,
    -- Turn :ProdcodeBlame on for every attached buffer.
    auto = false,
  },
}

local config = vim.deepcopy(defaults)
local configured = false
local ns = api.nvim_create_namespace('prodcode')
-- bufnr -> { client = id, root = path }
local attached = {}
-- root -> client id, for Neovim 0.7 and 0.8 (later ones reuse clients in `vim.lsp.start`).
local clients_by_root = {}
-- The interaction of the last prompt: what `ai_edit(nil, ...)` and `checkpoint(nil, ...)` mean.
local current = nil
-- bufnr -> true while :ProdcodeBlame is on for it.
local blame_on = {}
local warned_missing = false

-- Clients became objects with methods in 0.11 (`client:notify`); before, they were closures.
local function call(client, method, ...)
  if nvim_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function notify(message, level)
  vim.notify('prodcode: ' .. message, level or vim.log.levels.WARN)
end

-- A Vim-script-style flag: `let g:prodcode_disable = 1` and `vim.g.prodcode_disable = true` both
-- count, 0 and false do not.
local function truthy(value)
  return value == true or (type(value) == 'number' and value ~= 0)
end

local function resolve(bufnr)
  if bufnr == nil or bufnr == 0 then
    return api.nvim_get_current_buf()
  end
  return bufnr
end

local function active_clients()
  local list = vim.lsp.get_clients and vim.lsp.get_clients({ name = 'prodcode' })
    or vim.lsp.get_active_clients()
  local found = {}
  for _, client in ipairs(list) do
    if client.name == 'prodcode' and not call(client, 'is_stopped') then
      table.insert(found, client)
    end
  end
  return found
end

--- A fresh, practically unique interaction id.
function M.new_interaction_id()
  return string.format('nvim-%d-%d-%x', os.time(), vim.fn.getpid(), uv.hrtime() % 0x100000000)
end

--- The interaction of the last prompt (`:ProdcodePrompt`, `prompt()`), or nil.
function M.interaction()
  return current
end

-- The root of the git repository around `path`: the nearest directory holding `.git` (a
-- directory, or a file in a worktree or submodule). Walked in Lua: no process per buffer.
local function git_root(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while dir ~= nil and dir ~= '' do
    if uv.fs_stat(dir .. '/.git') then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
  return nil
end

local function root_of(path)
  if type(config.root_dir) == 'function' then
    return config.root_dir(path)
  elseif type(config.root_dir) == 'string' then
    return config.root_dir
  end
  return git_root(path)
end

local function command()
  if config.cmd then
    return config.cmd
  end
  local cmd = { config.bin, 'lsp' }
  if config.db then
    table.insert(cmd, '--db')
    table.insert(cmd, config.db)
  end
  return cmd
end

--- The prodcode client attached to a buffer, or nil.
function M.client(bufnr)
  local entry = attached[resolve(bufnr)]
  if not entry then
    return nil
  end
  local client = vim.lsp.get_client_by_id(entry.client)
  if client == nil or call(client, 'is_stopped') then
    return nil
  end
  return client
end

-- The client a buffer-less message goes to: the current buffer's, else any running one. A
-- prompt goes to one daemon only: two would record it as two turns.
local function any_client()
  return M.client(0) or active_clients()[1]
end

--- Starts (or reuses) the daemon of the buffer's repository and attaches the buffer. Returns the
--- client id, or nil for a buffer that is not recorded (no file, not in a git repository,
--- `vim.b.prodcode_disable`, `vim.g.prodcode_disable`, or the `filter` said no).
function M.attach(bufnr)
  bufnr = resolve(bufnr)
  if not api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  if truthy(vim.g.prodcode_disable) or truthy(vim.fn.getbufvar(bufnr, 'prodcode_disable', false)) then
    return nil
  end
  local existing = M.client(bufnr)
  if existing then
    return existing.id
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  local root = root_of(name)
  if not root then
    return nil
  end
  if config.filter and not config.filter(bufnr, root) then
    return nil
  end
  local cmd = command()
  if vim.fn.executable(cmd[1]) ~= 1 then
    if not warned_missing then
      warned_missing = true
      notify(
        string.format(
          'cannot start `%s`: it is not an executable on PATH. Install prodcode '
            .. '(`cargo install --locked --path .` in a prodcode checkout) or give its path: '
            .. "require('prodcode').setup({ bin = '/path/to/prodcode' })",
          cmd[1]
        ),
        vim.log.levels.ERROR
      )
    end
    return nil
  end
  local lsp_config = {
    name = 'prodcode',
    cmd = cmd,
    root_dir = root,
    -- Every keystroke is evidence; do not batch changes away.
    flags = { debounce_text_changes = 0 },
  }
  local id
  if nvim_09 then
    id = vim.lsp.start(lsp_config, { bufnr = bufnr })
  else
    id = clients_by_root[root]
    local client = id and vim.lsp.get_client_by_id(id)
    if client == nil or call(client, 'is_stopped') then
      id = vim.lsp.start_client(lsp_config)
      clients_by_root[root] = id
    end
    if id then
      vim.lsp.buf_attach_client(bufnr, id)
    end
  end
  if id then
    attached[bufnr] = { client = id, root = root }
    if config.blame.auto then
      M.blame(bufnr, true)
    end
  end
  return id
end

-- Columns: Neovim's are bytes, the daemon's are in the client's offset encoding.

local function line_text(bufnr, row)
  return api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

local function to_units(line, byte, encoding)
  byte = math.max(0, math.min(byte, #line))
  if encoding == 'utf-8' then
    return byte
  end
  if nvim_011 then
    return vim.str_utfindex(line, encoding, byte, false)
  end
  local utf32, utf16 = vim.str_utfindex(line, byte)
  return encoding == 'utf-32' and utf32 or utf16
end

local function to_bytes(line, units, encoding)
  if encoding == 'utf-8' then
    return math.max(0, math.min(units, #line))
  end
  if nvim_011 then
    return vim.str_byteindex(line, encoding, units, false)
  end
  local ok, byte = pcall(vim.str_byteindex, line, units, encoding == 'utf-16')
  return ok and byte or #line
end

-- A range as the daemon wants it. `range` is either Neovim's `{ start_row, start_col, end_row,
-- end_col }` (0-based rows, byte columns, end exclusive, as `nvim_buf_set_text`) or an LSP range
-- `{ start = { line, character }, ['end'] = ... }` in `from_encoding` (UTF-16 by default: what
-- other language servers, such as an assistant's, send).
local function to_lsp_range(bufnr, range, encoding, from_encoding)
  local rows
  if range[1] ~= nil then
    rows = { range[1], range[2], range[3], range[4] }
  else
    from_encoding = from_encoding or 'utf-16'
    local s, e = range.start, range['end']
    rows = {
      s.line,
      to_bytes(line_text(bufnr, s.line), s.character, from_encoding),
      e.line,
      to_bytes(line_text(bufnr, e.line), e.character, from_encoding),
    }
  end
  return {
    start = { line = rows[1], character = to_units(line_text(bufnr, rows[1]), rows[2], encoding) },
    ['end'] = { line = rows[3], character = to_units(line_text(bufnr, rows[3]), rows[4], encoding) },
  }
end

local function buf_version(bufnr)
  -- The version Neovim's client last sent: on 0.7 not always the changedtick (didOpen is 0).
  -- Its deprecation in 0.11 nightlies was reverted (neovim#29217).
  local versions = vim.lsp.util.buf_versions
  return (versions and versions[bufnr]) or api.nvim_buf_get_changedtick(bufnr)
end

--- The document version the daemon last heard for a buffer (what `aiEditApplied` names).
function M.buf_version(bufnr)
  return buf_version(resolve(bufnr))
end

--- A prompt given to an assistant. `interaction_id` nil means a fresh one; the same id again is
--- a second turn. The prompt becomes the current interaction (`interaction()`). Returns the id,
--- or nil and why.
function M.prompt(interaction_id, text, agent, context_uris)
  if type(text) ~= 'string' or text == '' then
    return nil, 'the prompt is empty'
  end
  local client = any_client()
  if not client then
    return nil, 'prodcode is not running: open a file in a git repository (after setup())'
  end
  interaction_id = interaction_id or M.new_interaction_id()
  if context_uris == nil and M.client(0) then
    context_uris = { vim.uri_from_bufnr(api.nvim_get_current_buf()) }
  end
  local sent = call(client, 'notify', 'prodcode/promptSubmitted', {
    interactionId = interaction_id,
    prompt = text,
    agent = agent or config.agent,
    contextUris = context_uris,
    timestamp = os.date('!%Y-%m-%dT%H:%M:%SZ'),
  })
  if not sent then
    return nil, 'the daemon has stopped'
  end
  current = interaction_id
  return interaction_id
end

--- Text an assistant inserted into `bufnr` (0: the current buffer), reported after it is in the
--- buffer. `ranges` are Neovim ranges `{ start_row, start_col, end_row, end_col }` (0-based,
--- byte columns, end exclusive) or LSP ranges in `opts.encoding` (default 'utf-16').
--- `interaction_id` nil means the current interaction (the last prompt), else a fresh one.
--- Returns the interaction id, or nil and why.
function M.ai_edit(interaction_id, bufnr, ranges, opts)
  bufnr = resolve(bufnr)
  local client = M.client(bufnr)
  if not client then
    return nil, string.format('buffer %d is not recorded by prodcode', bufnr)
  end
  interaction_id = interaction_id or current or M.new_interaction_id()
  local encoding = client.offset_encoding or 'utf-16'
  local converted = {}
  for _, range in ipairs(ranges or {}) do
    table.insert(converted, to_lsp_range(bufnr, range, encoding, opts and opts.encoding))
  end
  local sent = call(client, 'notify', 'prodcode/aiEditApplied', {
    interactionId = interaction_id,
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = buf_version(bufnr) },
    ranges = converted,
  })
  if not sent then
    return nil, 'the daemon has stopped'
  end
  return interaction_id
end

--- Brackets an edit that cannot be described as ranges: call with 'before', apply the edit, call
--- with 'after'. `bufnrs` (0: the current buffer) limits it to those buffers; nil means every
--- recorded buffer. `interaction_id` nil means the current interaction, else a fresh one.
--- Returns the interaction id.
function M.checkpoint(interaction_id, phase, bufnrs)
  if phase ~= 'before' and phase ~= 'after' then
    error("prodcode.checkpoint: phase must be 'before' or 'after', not " .. tostring(phase), 2)
  end
  interaction_id = interaction_id or current or M.new_interaction_id()
  if bufnrs == nil then
    for _, client in ipairs(active_clients()) do
      call(client, 'notify', 'prodcode/checkpoint', { interactionId = interaction_id, phase = phase })
    end
    return interaction_id
  end
  local by_client = {}
  for _, bufnr in ipairs(bufnrs) do
    bufnr = resolve(bufnr)
    local client = M.client(bufnr)
    if client then
      by_client[client.id] = by_client[client.id] or { client = client, uris = {} }
      table.insert(by_client[client.id].uris, vim.uri_from_bufnr(bufnr))
    end
  end
  for _, entry in pairs(by_client) do
    call(entry.client, 'notify', 'prodcode/checkpoint', {
      interactionId = interaction_id,
      phase = phase,
      uris = entry.uris,
    })
  end
  return interaction_id
end

--- Wraps a function that applies an assistant's edit to the current buffer (a completion
--- plugin's accept) in a `before` and `after` checkpoint, for plugins that do not say where
--- their text went. `opts.interaction` is an id or a function returning one; by default each
--- call is a fresh interaction (an accepted completion answers no prompt). The `after`
--- checkpoint is sent once Neovim has applied the edit (`vim.schedule`), so it also covers
--- plugins that apply text asynchronously in the same tick.
function M.wrap(fn, opts)
  opts = opts or {}
  return function(...)
    local bufnr = api.nvim_get_current_buf()
    if not M.client(bufnr) then
      return fn(...)
    end
    local id = opts.interaction
    if type(id) == 'function' then
      id = id()
    end
    id = id or M.new_interaction_id()
    M.checkpoint(id, 'before', { bufnr })
    local results = { pcall(fn, ...) }
    vim.schedule(function()
      if api.nvim_buf_is_valid(bufnr) then
        M.checkpoint(id, 'after', { bufnr })
      end
    end)
    if not results[1] then
      error(results[2], 0)
    end
    return (table.unpack or unpack)(results, 2)
  end
end

local function request_sync(client, method, params, bufnr, timeout_ms)
  local response, err = call(client, 'request_sync', method, params, timeout_ms or config.timeout_ms, bufnr)
  if not response then
    return nil, string.format('no answer to %s: %s', method, tostring(err))
  end
  if response.err then
    return nil, string.format('%s failed: %s', method, response.err.message or vim.inspect(response.err))
  end
  return response.result
end

--- The provenance of a buffer, synchronously: `{ version, ranges = { { range, class,
--- interactionId } }, interactions = { [id] = { agent, model, prompts } } }`, or nil and why.
function M.provenance(bufnr, timeout_ms)
  bufnr = resolve(bufnr)
  local client = M.client(bufnr)
  if not client then
    return nil, string.format('buffer %d is not recorded by prodcode', bufnr)
  end
  return request_sync(client, 'prodcode/provenance', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  }, bufnr, timeout_ms)
end

-- The 0-based lines of a provenance range. Every range but the last ends at character 0 of the
-- line after its last line; the last ends at the end of the document.
local function range_lines(range)
  local first, last = range.start.line, range['end'].line
  if range['end'].character == 0 and last > first then
    last = last - 1
  end
  return first, last
end

--- `{ class, interactionId?, agent?, model?, prompts }` for a line (0-based; default the
--- cursor's) of a buffer, or nil and why.
function M.line_info(bufnr, row)
  bufnr = resolve(bufnr)
  if row == nil then
    row = api.nvim_win_get_cursor(0)[1] - 1
  end
  local result, err = M.provenance(bufnr)
  if not result then
    return nil, err
  end
  for _, range in ipairs(result.ranges) do
    local first, last = range_lines(range.range)
    if row >= first and row <= last then
      local info = { class = range.class, interactionId = range.interactionId, prompts = {} }
      local interaction = range.interactionId and result.interactions and result.interactions[range.interactionId]
      if interaction then
        info.agent, info.model, info.prompts = interaction.agent, interaction.model, interaction.prompts
      end
      return info
    end
  end
  return { class = 'untracked', prompts = {} }
end

local function first_line(text)
  local line = (text or ''):match('^[^\n]*') or ''
  if #line > 60 then
    line = line:sub(1, 57) .. '...'
  end
  return line
end

local function render(bufnr, result)
  api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local count = api.nvim_buf_line_count(bufnr)
  local ai_lines = 0
  for _, range in ipairs(result.ranges) do
    if range.class == 'ai' or range.class == 'ai_modified' then
      local modified = range.class == 'ai_modified'
      local virt_text = nil
      if config.blame.virtual_text then
        local interaction = result.interactions and result.interactions[range.interactionId]
        local label = interaction and interaction.prompts[1] and first_line(interaction.prompts[1])
          or range.interactionId
        virt_text = { { '  ' .. (modified and 'AI, edited: ' or 'AI: ') .. label, 'Comment' } }
      end
      local first, last = range_lines(range.range)
      for row = first, math.min(last, count - 1) do
        api.nvim_buf_set_extmark(bufnr, ns, row, 0, {
          sign_text = modified and config.blame.modified_sign_text or config.blame.sign_text,
          sign_hl_group = modified and config.blame.modified_sign_hl or config.blame.sign_hl,
          virt_text = virt_text,
          virt_text_pos = virt_text and 'eol' or nil,
        })
        ai_lines = ai_lines + 1
      end
    end
  end
  api.nvim_buf_set_var(bufnr, 'prodcode_blame', { version = result.version, ai_lines = ai_lines })
end

-- Asks for the buffer's provenance and draws it, unless the buffer changed meanwhile (then the
-- change's own refresh draws it).
local function refresh(bufnr)
  local client = M.client(bufnr)
  if not client or not blame_on[bufnr] then
    return
  end
  local version = buf_version(bufnr)
  call(client, 'request', 'prodcode/provenance', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  }, function(err, result)
    if err or not result or not blame_on[bufnr] or not api.nvim_buf_is_valid(bufnr) then
      return
    end
    if result.version == version and buf_version(bufnr) == version then
      render(bufnr, result)
    end
  end, bufnr)
end

local timers = {}

local function schedule_refresh(bufnr)
  if timers[bufnr] then
    timers[bufnr]:stop()
    timers[bufnr]:close()
  end
  local timer = uv.new_timer()
  timers[bufnr] = timer
  timer:start(150, 0, vim.schedule_wrap(function()
    if timers[bufnr] == timer then
      timers[bufnr] = nil
      timer:close()
    end
    refresh(bufnr)
  end))
end

--- Turns the AI-line signs of a buffer on (`enable` true), off (false) or toggles them (nil).
--- Returns whether they are on.
function M.blame(bufnr, enable)
  bufnr = resolve(bufnr)
  if enable == nil then
    enable = not blame_on[bufnr]
  end
  local group = api.nvim_create_augroup('prodcode_blame_' .. bufnr, { clear = true })
  if not enable then
    blame_on[bufnr] = nil
    api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
    pcall(api.nvim_buf_del_var, bufnr, 'prodcode_blame')
    return false
  end
  if not M.client(bufnr) then
    notify(string.format('buffer %d is not recorded (no file, not in a git repository, or setup() not called)', bufnr))
    return false
  end
  blame_on[bufnr] = true
  api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'BufWritePost' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      schedule_refresh(bufnr)
    end,
  })
  refresh(bufnr)
  return true
end

local function float(lines)
  return vim.lsp.util.open_floating_preview(lines, 'markdown', { border = 'rounded', focus_id = 'prodcode' })
end

--- Shows who wrote the cursor's line and, for an AI line, the prompt behind it.
function M.show_line(bufnr)
  local info, err = M.line_info(bufnr)
  if not info then
    notify(err)
    return
  end
  local lines
  if info.class == 'ai' or info.class == 'ai_modified' then
    lines = {
      string.format('**%s** line, interaction `%s`', info.class == 'ai' and 'AI' or 'AI (since edited)', info.interactionId),
    }
    if info.agent then
      table.insert(lines, 'agent: ' .. info.agent .. (info.model and (' (' .. info.model .. ')') or ''))
    end
    if #info.prompts == 0 then
      table.insert(lines, 'no prompt recorded for it')
    end
    for turn, prompt in ipairs(info.prompts) do
      table.insert(lines, '')
      table.insert(lines, #info.prompts > 1 and string.format('prompt, turn %d:', turn) or 'prompt:')
      for _, line in ipairs(vim.split(prompt, '\n', { plain = true })) do
        table.insert(lines, '> ' .. line)
      end
    end
  else
    lines = { string.format('**%s** line', info.class) }
  end
  return float(lines)
end

--- `prodcode/status` of the buffer's daemon (else any running one), or nil and why.
function M.status(bufnr)
  bufnr = resolve(bufnr)
  local client = M.client(bufnr) or active_clients()[1]
  if not client then
    return nil, 'prodcode is not running: open a file in a git repository (after setup())'
  end
  return request_sync(client, 'prodcode/status', vim.empty_dict(), bufnr)
end

function M.show_status()
  local status, err = M.status(0)
  if not status then
    notify(err)
    return
  end
  local counts = status.counts or {}
  local lines = {
    string.format('**prodcode %s**', status.version),
    'database: ' .. tostring(status.databasePath),
    'workspace: ' .. table.concat(status.workspaceRoots or {}, ', '),
    'position encoding: ' .. tostring(status.positionEncoding),
    string.format(
      'events: %d committed, %d spooled, %d pending; %d open documents, %d open checkpoints',
      counts.durableEvents or 0,
      counts.spooledEvents or 0,
      counts.pendingEvents or 0,
      counts.openDocuments or 0,
      counts.openCheckpoints or 0
    ),
  }
  if status.storeError then
    table.insert(lines, 'recording is degraded: ' .. status.storeError)
  end
  if current then
    table.insert(lines, 'current interaction: ' .. current)
  end
  return float(lines), status
end

--- Calls a daemon tool (`tools.md`) through `workspace/executeCommand`, synchronously, recorded
--- under `opts.interaction_id` (default the current interaction). Returns `{ isError, text,
--- structuredContent }`, or nil and why.
function M.tool(name, arguments, opts)
  opts = opts or {}
  local client = any_client()
  if not client then
    return nil, 'prodcode is not running: open a file in a git repository (after setup())'
  end
  local args = vim.deepcopy(arguments or {})
  args.interactionId = opts.interaction_id or current
  if next(args) == nil then
    args = vim.empty_dict()
  end
  return request_sync(client, 'workspace/executeCommand', {
    command = 'prodcode.' .. name,
    arguments = { args },
  }, api.nvim_get_current_buf(), opts.timeout_ms or 600000)
end

local function define_highlights()
  api.nvim_set_hl(0, 'ProdcodeAi', { default = true, link = 'DiagnosticHint' })
  api.nvim_set_hl(0, 'ProdcodeAiModified', { default = true, link = 'DiagnosticWarn' })
end

local commands_created = false

--- Defines :ProdcodePrompt, :ProdcodeBlame, :ProdcodeStatus and :ProdcodeTool (plugin/prodcode.lua
--- calls it; setup() too, for plugin managers that load lua/ only).
function M.create_commands()
  if commands_created then
    return
  end
  commands_created = true
  define_highlights()
  api.nvim_create_user_command('ProdcodePrompt', function(args)
    local function send(text)
      if not text or text == '' then
        return
      end
      local id, err = M.prompt(nil, text)
      if id then
        vim.notify('prodcode: prompt recorded as ' .. id, vim.log.levels.INFO)
      else
        notify(err)
      end
    end
    if args.args ~= '' then
      send(args.args)
    else
      vim.ui.input({ prompt = 'Prompt for the next AI edit: ' }, send)
    end
  end, { nargs = '*', desc = 'prodcode: record a prompt for the next AI edit' })
  api.nvim_create_user_command('ProdcodeBlame', function(args)
    local sub = args.args
    if sub == 'prompt' then
      M.show_line(0)
    elseif sub == 'on' or sub == 'off' or sub == '' or sub == 'toggle' then
      local enable = nil
      if sub == 'on' then
        enable = true
      elseif sub == 'off' then
        enable = false
      end
      M.blame(0, enable)
    else
      notify('usage: :ProdcodeBlame [on|off|toggle|prompt]')
    end
  end, {
    nargs = '?',
    complete = function()
      return { 'on', 'off', 'toggle', 'prompt' }
    end,
    desc = 'prodcode: signs on AI-written lines; `prompt` shows the prompt behind the cursor line',
  })
  api.nvim_create_user_command('ProdcodeStatus', function()
    M.show_status()
  end, { nargs = 0, desc = "prodcode: the daemon's state" })
  api.nvim_create_user_command('ProdcodeTool', function(args)
    local name = args.fargs[1]
    local json = table.concat(vim.list_slice(args.fargs, 2), ' ')
    local arguments = {}
    if json ~= '' then
      local ok, decoded = pcall(vim.fn.json_decode, json)
      if not ok or type(decoded) ~= 'table' then
        notify('the arguments must be a JSON object, e.g. :ProdcodeTool search {"pattern": "TODO"}')
        return
      end
      arguments = decoded
    end
    local result, err = M.tool(name, arguments)
    if not result then
      notify(err)
      return
    end
    float(vim.split(result.text or '', '\n', { plain = true }))
  end, { nargs = '+', desc = 'prodcode: run a daemon tool, e.g. :ProdcodeTool run_tests' })
end

--- Starts recording: buffers in a git repository get the daemon of their repository.
function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  configured = true
  M.create_commands()
  local group = api.nvim_create_augroup('prodcode', { clear = true })
  api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'FileType' }, {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  api.nvim_create_autocmd('BufWipeout', {
    group = group,
    callback = function(args)
      attached[args.buf] = nil
      blame_on[args.buf] = nil
    end,
  })
  -- Buffers opened before setup() ran (a lazily loaded plugin).
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

--- Whether setup() has run.
function M.configured()
  return configured
end

return M
