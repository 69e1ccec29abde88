--- The same actions as completion.lua, on Neovim's own inline completion
--- (vim.lsp.inline_completion, Neovim 0.12+). Neovim requests, draws and accepts (running
--- the item's ghostwright.accept command); here are only the extras: accept a word or a
--- line, and dismiss. It shows no streamed text: Neovim draws the final answer only.

local server = require('ghostwright.server')

local M = {}

--- Whether this Neovim has a built-in inline completion we can use.
function M.available()
  local ok, inline = pcall(require, 'vim.lsp.inline_completion')
  return ok and type(inline.get) == 'function' and type(inline.enable) == 'function'
end

local function inline()
  return require('vim.lsp.inline_completion')
end

function M.attach(bufnr)
  inline().enable(true, { bufnr = bufnr })
end

function M.detach(bufnr)
  inline().enable(false, { bufnr = bufnr })
end

local function text_of(item)
  return type(item.insert_text) == 'table' and item.insert_text.value or item.insert_text
end

-- Insert the start of `item` that `take` picks, then run its command with that many characters.
local function accept_part(item, take)
  local text = text_of(item)
  local chunk = take(text)
  local range = item.range
  local row, col
  if range then
    row, col = range.start.row, range.start.col
  else
    local pos = vim.api.nvim_win_get_cursor(0)
    row, col = pos[1] - 1, pos[2]
  end
  local lines = vim.split(chunk, '\n', { plain = true })
  local end_row, end_col = row, col
  if range then
    end_row, end_col = range.end_.row, range.end_.col
  end
  vim.api.nvim_buf_set_text(0, row, col, end_row, end_col, lines)
  vim.api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  local client = vim.lsp.get_client_by_id(item.client_id)
  if item.command and client then
    local command = vim.deepcopy(item.command)
    if type(command.arguments) == 'table' and type(command.arguments[1]) == 'table' then
      command.arguments[1].chars = vim.fn.strchars(chunk)
    end
    server.execute(client, command.command, command.arguments)
  end
end

--- Accept `kind` ('all' | 'word' | 'line'); `take` cuts the text. Neovim applies it on
--- the next tick, so this works from an <expr> mapping. Returns false when none is shown.
function M.accept(kind, take)
  if kind == 'all' then
    return inline().get()
  end
  return inline().get({
    on_accept = function(item)
      accept_part(item, function(text)
        return take(text, kind)
      end)
    end,
  })
end

function M.cycle(step)
  inline().select({ count = step })
  return true
end

--- Hide the shown suggestion: "accept" it with a handler that inserts nothing.
function M.dismiss()
  return inline().get({ on_accept = function() end })
end

return M
