-- A real editor session against `prodcode lsp`, run by tests/it/neovim.rs in headless Neovim 0.7.
-- Inputs come from the environment; the provenance answer (or the error) goes to PRODCODE_OUT.

local bin = os.getenv('PRODCODE_BIN')
local db = os.getenv('PRODCODE_TEST_DB')
local file = os.getenv('PRODCODE_FILE')
local root = os.getenv('PRODCODE_ROOT')
local out = os.getenv('PRODCODE_OUT')

local function finish(value)
  local handle = io.open(out, 'w')
  handle:write(vim.fn.json_encode(value))
  handle:close()
  vim.cmd('qa!')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local ready = false
  local client_id = vim.lsp.start_client({
    name = 'prodcode',
    cmd = { bin, 'lsp', '--db', db },
    root_dir = root,
    flags = { debounce_text_changes = 0 },
    on_init = function() ready = true end,
  })
  assert(client_id, 'start_client failed')
  vim.lsp.buf_attach_client(buf, client_id)
  assert(vim.wait(20000, function() return ready end, 10), 'the daemon did not initialize')
  local client = vim.lsp.get_client_by_id(client_id)
  local uri = vim.uri_from_bufnr(buf)

  -- A person types a line above the code.
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { '// typed by a person' })

  client.notify('prodcode/promptSubmitted', {
    interactionId = 'nvim-1',
    prompt = 'add two helpers',
    agent = { name = 'nvim-test', model = 'scripted' },
  })
  -- The assistant's edit lands, then the plugin says where.
  vim.api.nvim_buf_set_lines(buf, 2, 2, false, { 'fn helper() {}', 'fn other() {}' })
  client.notify('prodcode/aiEditApplied', {
    interactionId = 'nvim-1',
    textDocument = { uri = uri, version = vim.lsp.util.buf_versions[buf] },
    ranges = { { start = { line = 2, character = 0 }, ['end'] = { line = 4, character = 0 } } },
  })
  -- The person changes one character of the assistant's second line.
  vim.api.nvim_buf_set_text(buf, 3, 3, 3, 8, { 'OTHER' })
  vim.cmd('write')

  local response = client.request_sync('prodcode/provenance', { textDocument = { uri = uri } }, 20000, buf)
  assert(response, 'no answer to prodcode/provenance')
  assert(not response.err, vim.inspect(response.err))
  client.stop()
  finish({ ok = true, uri = uri, result = response.result })
end)

if not ok then
  finish({ ok = false, error = tostring(err) })
end
