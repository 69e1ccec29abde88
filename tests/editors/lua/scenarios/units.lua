--- The plugin's pure functions, called directly in a real Neovim (no server): what accept
--- word/line take, the suggestion cache, option checking, the server settings it sends,
--- how stats and progress are worded. Each check records its actual value for the test to compare.
local cache = require('ghostwright.cache')
local commands = require('ghostwright.commands')
local completion = require('ghostwright.completion')
local config = require('ghostwright.config')
local progress = require('ghostwright.progress')

return function(H)
  local r = H.result
  r.take = {}
  for _, case in ipairs(H.config.take) do
    table.insert(r.take, completion.take(case[1], case[2]))
  end

  cache.clear()
  cache.put('a', 1, 2)
  cache.put('b', 2, 2)
  cache.get('a') -- now b is the least recently used
  cache.put('c', 3, 2)
  r.cache = { a = cache.get('a'), b = cache.get('b') or vim.NIL, c = cache.get('c') }
  cache.put('d', 4, 0)
  r.cache_disabled = cache.get('d') == nil

  local options, warnings = config.resolve(H.config.resolve)
  r.resolved = { max_tokens = options.server.max_tokens, filetypes = options.filetypes, cmd = options.cmd,
    accept = options.keymaps.accept, dismiss = options.keymaps.dismiss }
  r.warnings = warnings
  local _, not_a_table = config.resolve('fast')
  r.not_a_table = not_a_table
  r.init_options = config.init_options(config.resolve({ server = { max_tokens = 40 } }), false)
  r.init_options_native = config.init_options(config.defaults, true)

  r.stats_line = commands.stats_line(H.config.stats)
  -- Keys: the defaults, then changed by a second setup() (old keys removed, false = unmapped).
  local function mapped(lhs)
    return vim.fn.maparg(lhs, 'i') ~= ''
  end
  r.default_keys = { tab = mapped('<Tab>'), word = mapped('<M-w>'), dismiss = mapped('<C-]>') }
  require('ghostwright').setup({ keymaps = { accept = '<C-l>', dismiss = false } })
  r.changed_keys = { tab = mapped('<Tab>'), ctrl_l = mapped('<C-l>'), word = mapped('<M-w>'), dismiss = mapped('<C-]>') }

  r.progress = {
    progress.line('Implement add', { kind = 'report', percentage = 50, message = 'so far\nlast line' }),
    progress.line('Ghostwright: ask', { kind = 'begin' }),
    progress.line('Implement add', { kind = 'end' }),
    progress.line('Implement add', { kind = 'end', message = 'done' }),
  }
end
