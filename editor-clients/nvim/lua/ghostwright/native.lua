--- The same actions as completion.lua, on Neovim's own inline completion
--- (vim.lsp.inline_completion, Neovim 0.12+). Neovim requests, draws and accepts (running
--- the item's ghostwright.accept command); here are only the extras: accept a word or a
--- line, and dismiss. It shows no streamed text: Neovim draws the final answer only.
--- Written to the 0.12 API (on_accept returns the item to insert); the tests here run
--- Neovim 0.11, where this module is not used.

local M = {}

--- Whether this Neovim has a built-in inline completion we can use.
function M.available()
  local ok, inline = pcall(require, 'vim.lsp.inline_completion')
  return ok and type(inline.get) == 'function' and type(inline.enable) == 'function'
    and type(inline.select) == 'function'
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

-- The text of an item: a plain string, or the text of a snippet StringValue.
local function text_of(item)
  return type(item.insert_text) == 'table' and item.insert_text.value or item.insert_text
end

--- Accept `kind` ('all' | 'word' | 'line'); `take` cuts the text. Neovim inserts the item
--- that on_accept returns and runs its command, so a partial accept returns the item cut
--- short (its ghostwright.accept command counting only what was taken). Returns false
--- when none is shown.
function M.accept(kind, take)
  if kind == 'all' then
    return inline().get()
  end
  return inline().get({
    on_accept = function(item)
      local chunk = take(text_of(item), kind)
      item.insert_text = chunk
      if item.command and type(item.command.arguments) == 'table' and type(item.command.arguments[1]) == 'table' then
        item.command = vim.deepcopy(item.command)
        item.command.arguments[1].chars = vim.fn.strchars(chunk)
      end
      return item
    end,
  })
end

function M.cycle(step)
  inline().select({ count = step })
  return true
end

--- Hide the shown suggestion: "accept" it with an on_accept that returns no item.
function M.dismiss()
  return inline().get({ on_accept = function() end })
end

return M
