--- Type in a Python function, see the streamed ghost text, dismiss it, ask again (answered
--- from the cache), accept a word, a line, then the rest; check :Ghostwright status and
--- stats, and :checkhealth ghostwright. The screen with the ghost text on it is saved
--- (text and SVG) where the test says.
local ghost_text = require('ghostwright.ghost_text')
local completion = require('ghostwright.completion')

return function(H)
  local r = H.result
  vim.o.number = true
  vim.cmd.cd(vim.fn.fnameescape(vim.fn.fnamemodify(H.config.file, ':h'))) -- short names on screen
  vim.cmd.edit(vim.fn.fnameescape(vim.fn.fnamemodify(H.config.file, ':t')))
  H.wait('the server to attach', 10000, function()
    return require('ghostwright.server').client(0)
  end)

  -- `o` on the docstring line: a new, auto-indented line in the function body.
  vim.api.nvim_win_set_cursor(0, { H.config.line, 0 })
  H.input('o')
  H.wait('ghost text', 60000, function()
    return completion.counters.shown >= 1 and ghost_text.shown(0)
  end)
  local pos = vim.api.nvim_win_get_cursor(0)
  r.cursor = { pos[1] - 1, pos[2] }
  r.before = H.buffer_text()
  r.suggestion = ghost_text.shown(0)
  r.partials = completion.counters.partials
  r.requests = completion.counters.requests
  r.extmark = vim.api.nvim_buf_get_extmarks(0, ghost_text.ns, 0, -1, { details = true })[1]
  local shot = H.screenshot(H.config.screenshot)
  r.screen, r.screen_cursor = shot.text, shot.cursor

  H.input('<C-]>')
  H.wait('dismiss to hide the ghost text', 2000, function()
    return ghost_text.shown(0) == nil
  end)

  H.input('<M-\\>')
  H.wait('the manual trigger to show the cached suggestion', 5000, function()
    return ghost_text.shown(0) == r.suggestion
  end)
  r.cache_hits = completion.counters.cache_hits

  local line_before = vim.api.nvim_get_current_line()
  H.input('<M-w>')
  H.wait('accept word to insert text', 2000, function()
    return vim.api.nvim_get_current_line() ~= line_before
  end)
  r.after_word = vim.api.nvim_get_current_line()
  r.rest_after_word = ghost_text.shown(0)

  -- Typing what the suggestion predicts keeps the rest on screen, without a new request.
  local ahead = r.rest_after_word:sub(1, 2)
  if #ahead == 2 and not ahead:find('[\n<]') then
    H.input(ahead)
    H.wait('the rest of the suggestion after typing ahead', 2000, function()
      return vim.api.nvim_get_current_line() == r.after_word .. ahead
    end)
    H.sleep(200) -- longer than the debounce: a request would have gone out by now
    r.typed_ahead, r.rest_after_typing = ahead, ghost_text.shown(0)
    r.requests_after_typing = completion.counters.requests
  end

  local text_before = H.buffer_text()
  H.input('<M-l>')
  H.wait('accept line to insert text', 2000, function()
    return H.buffer_text() ~= text_before
  end)
  r.after_line = H.buffer_text()

  if completion.visible() then
    H.input('<Tab>')
    H.wait('<Tab> to accept the rest', 2000, function()
      return not completion.visible() or ghost_text.shown(0) ~= r.rest_after_word
    end)
  end
  H.sleep(50)
  r.after = H.buffer_text()
  H.input('<Esc>')
  H.wait('normal mode', 2000, function()
    return vim.api.nvim_get_mode().mode == 'n'
  end)
  vim.cmd('silent write')

  local function said(prefix)
    for _, n in ipairs(r.notifications) do
      if vim.startswith(n.message, prefix) then
        return n.message
      end
    end
  end
  vim.cmd('Ghostwright status')
  r.status = H.wait(':Ghostwright status to answer', 5000, function()
    return said('Ghostwright status')
  end)
  vim.cmd('Ghostwright stats')
  r.stats = H.wait(':Ghostwright stats to answer', 5000, function()
    return said('Ghostwright stats')
  end)

  vim.cmd('checkhealth ghostwright')
  r.health = H.buffer_text()
end
