-- A real editor session against `prodcode lsp`, run by tests/it/neovim.rs in headless Neovim
-- (Debian's 0.7 in CI), through the plugin we ship in editors/neovim, set up as its README says.
-- Inputs come from the environment; what the session saw (or the error) goes to PRODCODE_OUT as
-- JSON, and the Rust test checks it against the store.

local bin = os.getenv('PRODCODE_BIN')
local db = os.getenv('PRODCODE_TEST_DB')
local file = os.getenv('PRODCODE_FILE')
local out = os.getenv('PRODCODE_OUT')
local plugin = os.getenv('PRODCODE_PLUGIN')

local function finish(value)
  local handle = io.open(out, 'w')
  handle:write(vim.fn.json_encode(value))
  handle:close()
  vim.cmd('qa!')
end

-- The text of every floating window, newest last.
local function floats()
  local texts = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      table.insert(texts, table.concat(lines, '\n'))
      vim.api.nvim_win_close(win, true)
    end
  end
  return texts
end

local ok, err = pcall(function()
  -- As a plugin manager would: the plugin directory on 'runtimepath', its plugin/ sourced.
  vim.opt.runtimepath:append(plugin)
  vim.cmd('runtime plugin/prodcode.lua')
  local prodcode = require('prodcode')
  prodcode.setup({ bin = bin, db = db })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.wait(20000, function()
    local client = prodcode.client(0)
    return client ~= nil and client.initialized
  end, 10), 'the daemon did not start for a file in a git repository')
  -- A buffer with no file is left alone.
  vim.cmd('new')
  local scratch = vim.api.nvim_get_current_buf()
  assert(prodcode.attach(0) == nil, 'a scratch buffer was attached')
  vim.cmd('close')
  vim.api.nvim_set_current_buf(buf)

  -- A person types a line above the code, with keystrokes.
  vim.cmd('normal! ggO// typed by a person: café')

  -- The person records the prompt they gave an assistant.
  vim.cmd('ProdcodePrompt add two helpers')
  local id = assert(prodcode.interaction(), ':ProdcodePrompt recorded no interaction')
  -- The assistant's edit lands, then its plugin says where (buffer 0: the current one).
  vim.api.nvim_buf_set_lines(buf, 2, 2, false, { 'fn helper() {}', 'fn hé😀() {}' })
  assert(prodcode.ai_edit(id, 0, { { 2, 0, 4, 0 } }))
  -- It appends to its second line, after non-ASCII text: byte columns in, UTF-16 out.
  local line = vim.api.nvim_buf_get_lines(buf, 3, 4, false)[1]
  vim.api.nvim_buf_set_text(buf, 3, #line, 3, #line, { ' // ✓' })
  assert(prodcode.ai_edit(id, 0, { { 3, #line, 3, #line + #' // ✓' } }))

  -- A completion plugin's accept, bracketed by the plugin's checkpoints.
  local accept = prodcode.wrap(function()
    vim.api.nvim_buf_set_lines(0, 4, 4, false, { 'fn completed() {}' })
  end)
  accept()
  vim.wait(200, function()
    return false
  end)
  vim.cmd('write')

  -- Signs on the AI lines.
  vim.cmd('ProdcodeBlame')
  assert(vim.wait(20000, function()
    local ok_var, state = pcall(vim.api.nvim_buf_get_var, buf, 'prodcode_blame')
    return ok_var and state.version == prodcode.buf_version(buf)
  end, 10), ':ProdcodeBlame drew nothing')
  -- What the person sees: the sign column, read off the screen (Neovim 0.7's extmark details do
  -- not include the sign).
  vim.cmd('redraw')
  local signs = {}
  for lnum = 1, vim.api.nvim_buf_line_count(buf) do
    local pos = vim.fn.screenpos(0, lnum, 1)
    local text = vim.fn.screenstring(pos.row, pos.col - 2) .. vim.fn.screenstring(pos.row, pos.col - 1)
    if vim.trim(text) ~= '' then
      table.insert(signs, { row = lnum - 1, text = text })
    end
  end
  local ns = vim.api.nvim_create_namespace('prodcode')

  -- The prompt behind the cursor's line.
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  vim.cmd('ProdcodeBlame prompt')
  local prompt_float = floats()
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('ProdcodeBlame prompt')
  local human_float = floats()

  vim.cmd('ProdcodeStatus')
  local status_float = floats()
  local status = assert(prodcode.status(0))

  -- A tool call through the daemon, recorded under the current interaction.
  local tool = assert(prodcode.tool('search', { pattern = 'fn helper' }))

  -- Toggled off: the signs go.
  vim.cmd('ProdcodeBlame')
  local signs_after_off = #vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {})

  local provenance = assert(prodcode.provenance(0))
  local client_id = prodcode.client(buf).id
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function()
    return vim.lsp.get_client_by_id(client_id) == nil
  end, 10)
  finish({
    ok = true,
    interaction = id,
    scratch = scratch,
    signs = signs,
    signs_after_off = signs_after_off,
    prompt_float = prompt_float,
    human_float = human_float,
    status_float = status_float,
    status = status,
    tool = tool,
    provenance = provenance,
  })
end)

if not ok then
  finish({ ok = false, error = tostring(err) })
end
