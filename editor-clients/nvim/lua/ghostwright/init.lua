--- Ghostwright for Neovim: setup() and the actions keys and commands call.
---
---   require('ghostwright').setup({ ... })   -- options: see lua/ghostwright/config.lua
---
--- Suggestions come from Neovim's own inline completion on 0.12+ (native.lua) or from
--- Ghostwright's ghost text elsewhere (completion.lua); both sit behind the same actions.

local config = require('ghostwright.config')
local completion = require('ghostwright.completion')
local ghost_text = require('ghostwright.ghost_text')
local keymaps = require('ghostwright.keymaps')
local native = require('ghostwright.native')
local server = require('ghostwright.server')

local M = {}

local attached = {} -- bufnr -> true

--- Whether setup() has run.
M.configured = false
--- Whether suggestions come from vim.lsp.inline_completion (decided by setup()).
M.native = false

local function use_native(choice)
  if choice == 'never' then
    return false
  end
  if native.available() then
    return true
  end
  if choice == 'always' then
    vim.notify("Ghostwright: native = 'always' needs Neovim 0.12 (vim.lsp.inline_completion); "
      .. 'using ghost text instead', vim.log.levels.WARN)
  end
  return false
end

local function wanted(bufnr)
  local filetypes = config.options.filetypes
  if vim.bo[bufnr].buftype ~= '' or vim.bo[bufnr].filetype == '' then
    return false
  end
  return vim.tbl_contains(filetypes, '*') or vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

local function watch(bufnr)
  if not config.options.enabled then
    return
  end
  if M.native then
    native.attach(bufnr)
  else
    completion.attach(bufnr)
  end
end

local function unwatch(bufnr)
  if M.native then
    native.detach(bufnr)
  else
    completion.detach(bufnr)
  end
end

--- Start the server for `bufnr` if its filetype is enabled, and watch it for suggestions.
--- Returns the client id, or nil.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not wanted(bufnr) then
    return nil
  end
  local handlers = { [server.PARTIAL] = completion.on_partial }
  local client_id = server.start(bufnr, handlers, M.native)
  if client_id then
    attached[bufnr] = true
    watch(bufnr)
  end
  return client_id
end

-- action -> what its key runs: the keys of a <Cmd>, '' when done already, nil to fall through.
local function key_actions()
  if M.native then
    local function part(kind)
      return function()
        return native.accept(kind, completion.take) and '' or nil
      end
    end
    return {
      accept = part('all'),
      accept_word = part('word'),
      accept_line = part('line'),
      next = function() return keymaps.call('next') end,
      prev = function() return keymaps.call('prev') end,
      dismiss = function() return native.dismiss() and '' or nil end,
    }
  end
  local function when_visible(name)
    return function()
      return completion.visible() and keymaps.call(name) or nil
    end
  end
  return {
    accept = when_visible('accept'),
    accept_word = when_visible('accept_word'),
    accept_line = when_visible('accept_line'),
    next = when_visible('next'),
    prev = when_visible('prev'),
    dismiss = when_visible('dismiss'),
    trigger = function()
      return attached[vim.api.nvim_get_current_buf()] and keymaps.call('trigger') or nil
    end,
  }
end

--- Configure Ghostwright. Safe to call again: the new options replace the old ones and
--- running servers get the new server settings. Bad options warn and use their default.
function M.setup(opts)
  local options, warnings = config.resolve(opts)
  for _, warning in ipairs(warnings) do
    vim.notify('Ghostwright: ' .. warning, vim.log.levels.WARN)
  end
  config.options = options
  M.native = use_native(options.native)
  ghost_text.define_highlight()
  keymaps.apply(options.keymaps, key_actions())
  require('ghostwright.commands').create()

  local group = vim.api.nvim_create_augroup('ghostwright', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd('ColorScheme', { group = group, callback = ghost_text.define_highlight })
  require('ghostwright.progress').setup(group)
  vim.api.nvim_create_autocmd('BufUnload', {
    group = group,
    callback = function(args)
      attached[args.buf] = nil
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
  if M.configured then
    server.push_settings(M.native)
  end
  M.configured = true
end

--- Stop the servers and start them again for every loaded buffer of an enabled filetype:
--- after fixing what an error or :checkhealth ghostwright reported, or to load a new model.
--- `done(client_ids)` (optional) runs once the new servers are started.
function M.restart(done)
  server.stop_all(function()
    local ids = {}
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      local id = vim.api.nvim_buf_is_loaded(bufnr) and M.attach(bufnr)
      if id and not vim.tbl_contains(ids, id) then
        ids[#ids + 1] = id
      end
    end
    if done then
      done(ids)
    end
  end)
end

--- Whether a suggestion is shown (ghost-text mode; always false with native completion).
function M.visible()
  return not M.native and completion.visible()
end

local function act(ghost, native_action)
  return function()
    if M.native then
      return native_action()
    end
    return ghost()
  end
end

M.accept = act(function() return completion.accept('all') end,
  function() return native.accept('all', completion.take) end)
M.accept_word = act(function() return completion.accept('word') end,
  function() return native.accept('word', completion.take) end)
M.accept_line = act(function() return completion.accept('line') end,
  function() return native.accept('line', completion.take) end)
M.next = act(function() return completion.cycle(1) end, function() return native.cycle(1) end)
M.prev = act(function() return completion.cycle(-1) end, function() return native.cycle(-1) end)
M.dismiss = act(completion.dismiss, native.dismiss)
M.trigger = act(completion.trigger, function() return false end)

function M.is_enabled()
  return config.options.enabled
end

--- Turn suggestions on or off everywhere (`enabled` nil: flip). Returns the new state.
function M.toggle(enabled)
  if enabled == nil then
    enabled = not config.options.enabled
  end
  config.options.enabled = enabled
  for bufnr in pairs(attached) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      if enabled then
        watch(bufnr)
      else
        unwatch(bufnr)
      end
    end
  end
  server.push_settings(M.native)
  return enabled
end

return M
