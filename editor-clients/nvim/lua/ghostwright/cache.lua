--- Suggestions remembered by a hash of (text before the cursor, text after it), so that
--- coming back to a place already asked about (undo, backspace) shows its suggestion at
--- once. Least recently used entries go first.

local M = {}

local entries = {} -- key -> value
local order = {} -- keys, least recently used first

local function touch(key)
  for i, k in ipairs(order) do
    if k == key then
      table.remove(order, i)
      break
    end
  end
  order[#order + 1] = key
end

--- The key of the text of `bufnr` around (row, col) (0-based, col in bytes).
function M.key(bufnr, row, col)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local line = lines[row + 1] or ''
  local before = table.concat(lines, '\n', 1, row) .. '\n' .. line:sub(1, col)
  local after = line:sub(col + 1) .. '\n' .. table.concat(lines, '\n', row + 2)
  -- The length of `before` keeps the split unambiguous (sha256() takes no NUL bytes).
  return vim.fn.sha256(('%s\n%d\n%s%s'):format(vim.bo[bufnr].filetype, #before, before, after))
end

function M.get(key)
  local value = entries[key]
  if value ~= nil then
    touch(key)
  end
  return value
end

function M.put(key, value, size)
  if size <= 0 then
    return
  end
  entries[key] = value
  touch(key)
  while #order > size do
    entries[table.remove(order, 1)] = nil
  end
end

function M.clear()
  entries, order = {}, {}
end

return M
