--- Things that must be said out loud, not swallowed: bad options (setup() ran with them
--- in init.lua), a server binary that is not there, a server without its model (and
--- :Ghostwright restart), and a server that dies at start.
return function(H)
  local r = H.result
  local config = require('ghostwright.config')
  r.options = { debounce_ms = config.options.debounce_ms, keymaps_accept = config.options.keymaps.accept,
    tier = config.options.server.tier }
  r.setup_warnings = H.notified(vim.log.levels.WARN)

  -- Calling setup() again is safe and applies the new options.
  require('ghostwright').setup(vim.tbl_extend('force', H.config.setup, { debounce_ms = 30 }))
  r.second_setup_debounce = config.options.debounce_ms

  vim.cmd.edit(vim.fn.fnameescape(H.config.file))
  r.missing = H.wait('an error about the missing server', 5000, function()
    local said = H.notified(vim.log.levels.ERROR)
    return said ~= '' and said
  end)
  -- With nothing shown, the plugin's <Tab> is a plain <Tab>.
  H.input('ggO<Tab>x<Esc>')
  H.wait('normal mode after typing', 2000, function()
    return vim.api.nvim_get_mode().mode == 'n' and vim.api.nvim_get_current_line():match('x$')
  end)
  r.tab_line = vim.api.nvim_get_current_line()
  vim.cmd('checkhealth ghostwright')
  r.health = H.buffer_text()
  vim.cmd('tabclose')

  -- A server that runs but has no model: the first request says so.
  require('ghostwright').setup({ cmd = H.config.no_model_cmd })
  vim.cmd.edit(vim.fn.fnameescape(H.config.no_model_file))
  H.wait('the server to attach', 10000, function()
    return require('ghostwright.server').client(0)
  end)
  local before = #r.notifications
  H.input('o')
  r.no_model = H.wait('an error about the missing model', 30000, function()
    for i = before + 1, #r.notifications do
      if r.notifications[i].level >= vim.log.levels.ERROR then
        return r.notifications[i].message
      end
    end
  end)
  H.input('<Esc>')
  vim.cmd('checkhealth ghostwright')
  r.no_model_health = H.buffer_text()
  vim.cmd('tabclose')

  -- :Ghostwright restart: a new server for the buffer, and no error about the old one exiting.
  local old_id = require('ghostwright.server').client(0).id
  local count_before_restart = #r.notifications
  vim.cmd('Ghostwright restart')
  r.restart_message = H.wait('the restart message', 20000, function()
    for i = count_before_restart + 1, #r.notifications do
      if r.notifications[i].message:match('restarted') then
        return r.notifications[i].message
      end
    end
  end)
  local new = H.wait('a new server', 10000, function()
    local client = require('ghostwright.server').client(0)
    return client and client.id ~= old_id and client.initialized and client
  end)
  r.restart_ids = { old_id, new.id }
  r.restart_errors = {}
  for i = count_before_restart + 1, #r.notifications do
    if r.notifications[i].level >= vim.log.levels.WARN then
      table.insert(r.restart_errors, r.notifications[i].message)
    end
  end
  vim.lsp.stop_client(vim.lsp.get_clients({ name = 'ghostwright' }))

  -- A server that exits at once with an error.
  local count = #r.notifications
  require('ghostwright').setup({ cmd = H.config.broken_cmd })
  vim.cmd.edit(vim.fn.fnameescape(H.config.other_file))
  r.broken = H.wait('an error about the server that exited', 10000, function()
    for i = count + 1, #r.notifications do
      if r.notifications[i].level >= vim.log.levels.ERROR then
        return r.notifications[i].message
      end
    end
  end)
end
