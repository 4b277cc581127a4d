-- A real editor session against `prodcode lsp`, run by tests/it/neovim.rs in headless Neovim 0.7,
-- through the plugin we ship in editors/neovim. Inputs come from the environment; the provenance
-- answer (or the error) goes to PRODCODE_OUT.

local bin = os.getenv('PRODCODE_BIN')
local db = os.getenv('PRODCODE_TEST_DB')
local file = os.getenv('PRODCODE_FILE')
local root = os.getenv('PRODCODE_ROOT')
local out = os.getenv('PRODCODE_OUT')
local plugin = os.getenv('PRODCODE_PLUGIN')

local function finish(value)
  local handle = io.open(out, 'w')
  handle:write(vim.fn.json_encode(value))
  handle:close()
  vim.cmd('qa!')
end

local ok, err = pcall(function()
  vim.opt.runtimepath:append(plugin)
  local prodcode = require('prodcode')
  prodcode.setup({ cmd = { bin, 'lsp', '--db', db }, root_dir = root })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client
  assert(vim.wait(20000, function()
    for _, c in pairs(vim.lsp.get_active_clients()) do
      if c.name == 'prodcode' and c.initialized then
        client = c
        return true
      end
    end
    return false
  end, 10), 'the daemon did not initialize')
  local uri = vim.uri_from_bufnr(buf)

  -- A person types a line above the code.
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { '// typed by a person' })

  assert(prodcode.prompt('nvim-1', 'add two helpers', { name = 'nvim-test', model = 'scripted' }))
  -- The assistant's edit lands, then the plugin says where.
  vim.api.nvim_buf_set_lines(buf, 2, 2, false, { 'fn helper() {}', 'fn other() {}' })
  assert(prodcode.ai_edit('nvim-1', buf,
    { { start = { line = 2, character = 0 }, ['end'] = { line = 4, character = 0 } } }))
  -- The person changes one character of the assistant's second line.
  vim.api.nvim_buf_set_text(buf, 3, 3, 3, 8, { 'OTHER' })
  vim.cmd('write')

  local result = prodcode.provenance(buf, 20000)
  assert(result, 'no answer to prodcode/provenance')
  -- An agent inside the editor calls a tool through the same connection.
  local tool = client.request_sync('workspace/executeCommand',
    { command = 'prodcode.search', arguments = { { pattern = 'fn helper' } } }, 20000, buf)
  assert(tool and tool.result, 'no answer to prodcode.search: ' .. vim.inspect(tool))
  client.stop()
  finish({ ok = true, uri = uri, result = result, tool = tool.result })
end)

if not ok then
  finish({ ok = false, error = tostring(err) })
end
