-- svcc for Neovim 0.8+ (built-in LSP client). Put this file on your
-- runtimepath (e.g. ~/.config/nvim/plugin/svcc.lua) or paste it into init.lua.
-- docs/editors.md explains each part.

-- svcc specs are KDL: start `svcc lsp` for every .kdl buffer, rooted at the
-- repository (the folder holding .git).
vim.api.nvim_create_autocmd("FileType", {
  pattern = "kdl",
  callback = function(args)
    local root = vim.fs.dirname(vim.fs.find(".git", { upward = true, path = vim.api.nvim_buf_get_name(args.buf) })[1])
    vim.lsp.start({ name = "svcc", cmd = { "svcc", "lsp" }, root_dir = root or vim.fn.getcwd() })
  end,
})
vim.filetype.add({ extension = { kdl = "kdl" } })

local function svcc_client()
  for _, c in ipairs(vim.lsp.get_active_clients({ name = "svcc" })) do
    return c
  end
end

-- `svcc:` documents (standard-library presets, code pages, generated YAML)
-- are read from the server, read-only.
vim.api.nvim_create_autocmd("BufReadCmd", {
  pattern = "svcc:*",
  callback = function(args)
    local client = svcc_client()
    if not client then return end
    local r = client.request_sync("svcc/virtualDocument", { uri = args.match }, 5000, args.buf)
    local text = r and r.result and r.result.text or ""
    vim.api.nvim_buf_set_lines(args.buf, 0, -1, false, vim.split(text, "\n", { plain = true }))
    vim.bo[args.buf].modifiable = false
    vim.bo[args.buf].buftype = "nofile"
    vim.bo[args.buf].filetype = args.match:match("%.yaml$") and "yaml" or (args.match:match("%.md$") and "markdown" or "kdl")
  end,
})

-- :SvccShowYaml — the YAML svcc generates for the environment under the cursor.
vim.api.nvim_create_user_command("SvccShowYaml", function()
  local client = svcc_client()
  if not client then return end
  local pos = vim.api.nvim_win_get_cursor(0)
  local params = {
    command = "svcc.showGeneratedYaml",
    arguments = { vim.uri_from_bufnr(0), { line = pos[1] - 1, character = pos[2] } },
  }
  local r = client.request_sync("workspace/executeCommand", params, 5000, 0)
  if r and r.result then
    vim.cmd("vsplit " .. vim.fn.fnameescape(r.result.uri))
  elseif r and r.err then
    vim.notify(r.err.message, vim.log.levels.WARN)
  end
end, {})
