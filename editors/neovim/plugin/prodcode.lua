-- Defines the :Prodcode* commands. Recording starts only with require('prodcode').setup().
if vim.g.loaded_prodcode then
  return
end
vim.g.loaded_prodcode = true

if vim.fn.has('nvim-0.7') ~= 1 then
  vim.notify('prodcode: the plugin needs Neovim 0.7 or later', vim.log.levels.WARN)
  return
end

require('prodcode').create_commands()
