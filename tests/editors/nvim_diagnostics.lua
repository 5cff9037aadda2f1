-- Opens a spec in headless Neovim with svcc's language server attached
-- through Neovim's built-in client, waits for the diagnostics, and writes
-- them to a JSON file. Works with Neovim 0.7 (Debian 12) and later.
--   SVCC_BIN=… SVCC_SPEC=… SVCC_OUT=… nvim --headless --clean -c "luafile nvim_diagnostics.lua"
local bin, spec, out = os.getenv("SVCC_BIN"), os.getenv("SVCC_SPEC"), os.getenv("SVCC_OUT")

local function finish(result)
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

vim.cmd("edit " .. vim.fn.fnameescape(spec))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "svcc",
  cmd = { bin, "lsp" },
  root_dir = vim.fn.fnamemodify(spec, ":p:h"),
})
if not id then
  finish({ error = "the client did not start" })
  return
end
vim.lsp.buf_attach_client(buf, id)
local got = vim.wait(20000, function()
  return #vim.diagnostic.get(buf) > 0
end, 20)

local items = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = d.user_data and d.user_data.lsp or {}
  table.insert(items, {
    lnum = d.lnum,
    col = d.col,
    end_lnum = d.end_lnum,
    end_col = d.end_col,
    severity = d.severity,
    source = d.source,
    code = d.code or lsp.code,
    message = d.message,
  })
end
local client = vim.lsp.get_client_by_id(id)
local name = client and client.name or ""
vim.lsp.stop_client(id)
vim.wait(5000, function()
  return vim.lsp.get_client_by_id(id) == nil
end, 20)
finish({ received = got, client = name, diagnostics = items })
