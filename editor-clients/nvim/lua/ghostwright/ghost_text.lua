--- Drawing a suggestion as ghost text: one extmark at the cursor whose first line is
--- inline virtual text and whose other lines are virtual lines below it.
---
---     def is_prime(n):
---         if n < 2:|       <- cursor; "if n < 2:" is inline virt_text
---             return False <- virt_lines
---         ...

local M = {}

M.ns = vim.api.nvim_create_namespace('ghostwright.ghost_text')

local function hl_group()
  return require('ghostwright.config').options.hl_group
end

-- Virtual text shows a tab as one cell: expand tabs the way the buffer would.
local function expand_tabs(bufnr, line)
  if not line:find('\t', 1, true) then
    return line
  end
  local width = vim.bo[bufnr].tabstop
  return (line:gsub('\t', string.rep(' ', width)))
end

--- Show `text` at (row, col) (0-based, col in bytes), replacing what was shown before.
function M.show(bufnr, row, col, text)
  M.clear(bufnr)
  if text == '' then
    return
  end
  local group = hl_group()
  local lines = vim.split(text, '\n', { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { expand_tabs(bufnr, lines[i]), group } }
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, col, {
    virt_text = { { expand_tabs(bufnr, lines[1]), group } },
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
    right_gravity = true, -- the cursor is drawn before (not after) inline text at its column
  })
end

function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- The text shown in `bufnr` (lines joined with '\n'), or nil: for tests and statuslines.
function M.shown(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, M.ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local details = marks[1][4]
  local lines = { details.virt_text and details.virt_text[1][1] or '' }
  for _, chunks in ipairs(details.virt_lines or {}) do
    lines[#lines + 1] = chunks[1] and chunks[1][1] or ''
  end
  return table.concat(lines, '\n')
end

--- Link the highlight group to Comment unless the colorscheme defines it.
function M.define_highlight()
  vim.api.nvim_set_hl(0, hl_group(), { link = 'Comment', default = true })
end

return M
