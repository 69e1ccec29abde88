--- :checkhealth ghostwright: Neovim version, the server binary, a running server, and
--- what the server says of its model (ghostwright.status).

local M = {}

local health = vim.health

local function check_neovim()
  if vim.fn.has('nvim-0.10') == 0 then
    health.error('Neovim 0.10 or newer is needed (inline virtual text)')
    return
  end
  local v = vim.version()
  local how = require('ghostwright').native and "Neovim's inline completion (vim.lsp.inline_completion)"
    or 'ghost text (extmarks), with streaming'
  health.ok(('Neovim %d.%d.%d; suggestions shown by %s'):format(v.major, v.minor, v.patch, how))
end

local function check_binary(cmd)
  local path, why = require('ghostwright.server').find_binary(cmd)
  if path then
    health.ok(('server binary: %s (cmd: %s)'):format(path, table.concat(cmd, ' ')))
  else
    health.error(why)
  end
  return path ~= nil
end

local function check_status(client)
  local server = require('ghostwright.server')
  local response, err = nil, nil
  local done = false
  server.execute(client, 'ghostwright.status', {}, function(e, result)
    err, response, done = e, result, true
  end)
  vim.wait(5000, function()
    return done
  end, 20)
  if not done then
    health.warn('the server did not answer ghostwright.status within 5 s (busy loading the model?)')
    return
  end
  if err then
    health.error('ghostwright.status failed: ' .. tostring(err.message))
    return
  end
  local status = response or {}
  if status.error and status.error ~= vim.NIL then
    health.error(('model %s failed to load: %s'):format(tostring(status.model), tostring(status.error)),
      { 'run `ghostwright model pull`, or set server.model / --model-dir to an exported model' })
  elseif status.loaded then
    health.ok(('model: %s (loaded)'):format(tostring(status.model)))
  else
    health.info(('model: %s (still loading)'):format(tostring(status.model)))
  end
  health.info(('device: %s; tiers: %s'):format(tostring(status.device or '-'),
    (#(status.tiers or {}) > 0 and table.concat(status.tiers, ', ') or '-')))
end

function M.check()
  health.start('ghostwright')
  local config = require('ghostwright.config')
  check_neovim()
  if not require('ghostwright').configured then
    health.warn("setup() has not run: add require('ghostwright').setup({}) to your config")
  end
  check_binary(config.options.cmd)
  local client = require('ghostwright.server').client()
  if not client then
    health.warn('no Ghostwright server is running', {
      'open a file of an enabled filetype: ' .. table.concat(config.options.filetypes, ', '),
    })
    return
  end
  health.ok(('server running: client %d, root %s'):format(client.id, client.root_dir or 'none'))
  check_status(client)
end

return M
