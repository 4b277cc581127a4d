-- prodcode for Neovim 0.7+: starts `prodcode lsp` for every file buffer and lets assistant
-- plugins report prompts and AI edits. See docs/lsp-extensions.md for the messages.
--
--   require('prodcode').setup({ cmd = { 'prodcode', 'lsp' } })
--   local prodcode = require('prodcode')
--   prodcode.prompt(id, text, { name = 'my-assistant', model = 'model-x' })
--   prodcode.checkpoint(id, 'before')  -- then apply the assistant's edits, then:
--   prodcode.checkpoint(id, 'after')
--   prodcode.ai_edit(id, bufnr, ranges)  -- after applying text whose ranges you know

local M = {}

local client_id = nil

local function client()
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { 'prodcode', 'lsp' }
  local group = vim.api.nvim_create_augroup('prodcode', { clear = true })
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(args)
      if vim.bo[args.buf].buftype ~= '' then
        return
      end
      if not client() then
        client_id = vim.lsp.start_client({
          name = 'prodcode',
          cmd = cmd,
          root_dir = opts.root_dir or vim.fn.getcwd(),
          -- Every keystroke is evidence; do not batch changes away.
          flags = { debounce_text_changes = 0 },
        })
      end
      if client_id and not vim.lsp.buf_is_attached(args.buf, client_id) then
        vim.lsp.buf_attach_client(args.buf, client_id)
      end
    end,
  })
end

--- A prompt given to an assistant; the same id again is a second turn.
function M.prompt(interaction_id, text, agent, context_uris)
  local c = client()
  if not c then
    return false
  end
  return c.notify('prodcode/promptSubmitted', {
    interactionId = interaction_id,
    prompt = text,
    agent = agent,
    contextUris = context_uris,
    timestamp = os.date('!%Y-%m-%dT%H:%M:%SZ'),
  })
end

--- Text the assistant inserted into `bufnr`, as LSP ranges in the buffer's current version.
function M.ai_edit(interaction_id, bufnr, ranges)
  local c = client()
  if not c then
    return false
  end
  return c.notify('prodcode/aiEditApplied', {
    interactionId = interaction_id,
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = vim.lsp.util.buf_versions[bufnr] },
    ranges = ranges,
  })
end

--- Brackets an edit that cannot be described as ranges: phase is 'before' or 'after'.
function M.checkpoint(interaction_id, phase, bufnrs)
  local c = client()
  if not c then
    return false
  end
  local uris = nil
  if bufnrs then
    uris = {}
    for _, bufnr in ipairs(bufnrs) do
      table.insert(uris, vim.uri_from_bufnr(bufnr))
    end
  end
  return c.notify('prodcode/checkpoint', { interactionId = interaction_id, phase = phase, uris = uris })
end

--- The provenance of a buffer, synchronously: { version, ranges = { { range, class, interactionId } } }.
function M.provenance(bufnr, timeout_ms)
  local c = client()
  if not c then
    return nil
  end
  local response = c.request_sync('prodcode/provenance',
    { textDocument = { uri = vim.uri_from_bufnr(bufnr or 0) } }, timeout_ms or 2000, bufnr or 0)
  return response and response.result or nil
end

return M
