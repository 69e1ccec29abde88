--- Beyond ghost text, through Neovim's own LSP paths: hover (vim.lsp.buf.hover) on a
--- function shows its explanation in a float (screenshot saved), and the code action
--- "Implement ... from its docstring" (vim.lsp.buf.code_action, resolved by the server)
--- applies an edit to the buffer. Then :Ghostwright ask answers in a split, citing the file.

local function float_text()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      return table.concat(lines, '\n'), win
    end
  end
end

local function find(pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    local col = line:find(pattern)
    if col then
      return i, col - 1
    end
  end
  error('not in the buffer: ' .. pattern)
end

return function(H)
  local r = H.result
  vim.o.number = true
  vim.cmd.cd(vim.fn.fnameescape(vim.fn.fnamemodify(H.config.file, ':h')))
  vim.cmd.edit(vim.fn.fnameescape(vim.fn.fnamemodify(H.config.file, ':t')))
  local client = H.wait('the server to attach', 10000, function()
    return require('ghostwright.server').client(0)
  end)
  H.wait('the model to load', 60000, function()
    local status = client:request_sync('workspace/executeCommand', { command = 'ghostwright.status' }, 5000, 0)
    return status and status.result and status.result.loaded
  end)
  r.capabilities = { hover = client.server_capabilities.hoverProvider and true or false,
    code_action = client.server_capabilities.codeActionProvider and true or false }

  -- Hover on the name of a function: K does vim.lsp.buf.hover().
  local row, col = find(H.config.hover_name)
  vim.api.nvim_win_set_cursor(0, { row, col + 1 })
  vim.lsp.buf.hover()
  r.hover = H.wait('the hover float', 60000, function()
    return float_text()
  end)
  local shot = H.screenshot(H.config.hover_screenshot)
  r.hover_screen = shot.text
  local _, win = float_text()
  vim.api.nvim_win_close(win, true)

  -- The code action on the stub: listed at once, its edit computed on resolve.
  row, col = find(H.config.stub_line)
  vim.api.nvim_win_set_cursor(0, { row, col })
  r.before_action = H.buffer_text()
  local tick = vim.b.changedtick
  -- While it decodes, its progress is on the command line: take a screenshot at the first report.
  local progress_group = vim.api.nvim_create_augroup('test.progress', { clear = true })
  vim.api.nvim_create_autocmd('LspProgress', {
    group = progress_group,
    callback = function(args)
      local value = args.data.params.value
      if value.kind == 'report' and not r.progress_screen then
        r.progress_screen = H.screenshot(H.config.progress_screenshot).text
      end
    end,
  })
  r.action_titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(r.action_titles, action.title)
      return action.title:match(H.config.action_title) ~= nil
    end,
  })
  H.wait('the code action to change the buffer', 90000, function()
    return vim.b.changedtick ~= tick
  end)
  H.sleep(200)
  r.after_action = H.buffer_text()
  vim.cmd('silent write')

  -- :Ghostwright ask, once the workspace is indexed: the answer opens in a markdown split.
  H.wait('the workspace index', 60000, function()
    local status = client:request_sync('workspace/executeCommand', { command = 'ghostwright.status' }, 5000, 0)
    return status and status.result and type(status.result.indexedFiles) == 'number' and status.result.indexedFiles > 0
  end)
  local source_buf = vim.api.nvim_get_current_buf()
  vim.cmd('Ghostwright ask ' .. H.config.question)
  r.answer = H.wait('the answer split', 90000, function()
    local buf = vim.api.nvim_get_current_buf()
    return buf ~= source_buf and vim.bo[buf].filetype == 'markdown' and H.buffer_text(buf)
  end)
end
