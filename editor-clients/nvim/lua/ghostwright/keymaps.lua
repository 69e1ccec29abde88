--- Insert-mode keys for the actions. Each is an <expr> mapping: when its action applies it
--- runs it, otherwise it returns its own key, so <Tab> still indents when nothing is shown.
--- setup() called again removes the keys it set before.

local M = {}

local set = {} -- lhs of the keys set by the last apply()

--- Map `keymaps` (config.keymaps: action -> lhs or false) to `actions` (action -> a
--- function returning the keys to run instead, or nil to fall through to the key itself).
function M.apply(keymaps, actions)
  M.remove()
  for action, lhs in pairs(keymaps) do
    if lhs and actions[action] then
      vim.keymap.set('i', lhs, function()
        return actions[action]() or lhs
      end, { expr = true, silent = true, desc = 'Ghostwright: ' .. action:gsub('_', ' ') })
      set[#set + 1] = lhs
    end
  end
end

function M.remove()
  for _, lhs in ipairs(set) do
    pcall(vim.keymap.del, 'i', lhs)
  end
  set = {}
end

--- The keys that run `require('ghostwright').<name>()` (for <expr> mappings of your own).
function M.call(name)
  return ('<Cmd>lua require("ghostwright").%s()<CR>'):format(name)
end

return M
