--- :Ghostwright {status|stats|toggle|restart|ask|actions|hover}: one user command, one function per
--- subcommand. Answers are shown with vim.notify; the server's ghostwright.status and
--- ghostwright.stats are formatted by pure functions (status_lines, stats_line).

local completion = require('ghostwright.completion')
local server = require('ghostwright.server')

local M = {}

local INFO, WARN, ERROR = vim.log.levels.INFO, vim.log.levels.WARN, vim.log.levels.ERROR

local function say(lines, level)
  vim.notify(type(lines) == 'table' and table.concat(lines, '\n') or lines, level or INFO, { title = 'Ghostwright' })
end

-- The Ghostwright client of the current buffer (or any), or nil after saying why.
local function client_or_say()
  local client = server.client()
  if not client then
    say('Ghostwright: no server is running for this buffer. Open a file of an enabled filetype, '
      .. 'or see :checkhealth ghostwright.', WARN)
  end
  return client
end

local function ms(value)
  return type(value) == 'number' and ('%.0f ms'):format(value) or '-'
end

-- A value of the answer as text; JSON null and missing values as '-'.
local function show(value)
  if value == nil or value == vim.NIL then
    return '-'
  end
  return tostring(value)
end

--- Lines describing a ghostwright.status answer.
function M.status_lines(status, client)
  local lines = { 'Ghostwright status' }
  if client then
    lines[#lines + 1] = ('  server: running (client %d, root %s)'):format(client.id, client.root_dir or 'none')
  end
  lines[#lines + 1] = ('  model: %s (%s)'):format(show(status.model), status.loaded and 'loaded' or 'not loaded')
  lines[#lines + 1] = ('  device: %s; tiers: %s; fill-in-the-middle: %s'):format(
    show(status.device), (#(status.tiers or {}) > 0 and table.concat(status.tiers, ', ') or '-'), show(status.fim))
  lines[#lines + 1] = ('  last latency: %s; model calls: %s; typed-ahead hits: %s; indexed files: %s'):format(
    ms(status.lastLatencyMs), show(status.modelCalls), show(status.typedAheadHits), show(status.indexedFiles))
  local c = completion.counters
  lines[#lines + 1] = ('  this editor: %s; requests %d, streamed chunks %d, shown %d, accepted %d, cache hits %d')
    :format(require('ghostwright').native and 'Neovim inline completion' or 'ghost text',
      c.requests, c.partials, c.shown, c.accepted, c.cache_hits)
  if status.error and status.error ~= vim.NIL then
    lines[#lines + 1] = '  error: ' .. tostring(status.error)
  end
  return lines
end

--- One line describing a ghostwright.stats answer.
function M.stats_line(stats)
  local parts = { ('shown %s, accepted %s'):format(show(stats.shown), show(stats.accepted)) }
  if type(stats.acceptance_rate) == 'number' then
    parts[1] = parts[1] .. (' (%.0f%%)'):format(stats.acceptance_rate * 100)
  end
  local keys = vim.tbl_keys(stats)
  table.sort(keys)
  for _, key in ipairs(keys) do
    local pct = key:match('^latency_(p%d+)_ms$')
    if pct then
      parts[#parts + 1] = ('latency %s %s'):format(pct, ms(stats[key]))
    end
  end
  return 'Ghostwright stats: ' .. table.concat(parts, ', ')
end

-- Run a server command and hand its answer to `show`, or say what went wrong.
local function query(command, show)
  local client = client_or_say()
  if not client then
    return
  end
  server.execute(client, command, {}, function(err, result)
    if err then
      say(('Ghostwright: %s failed: %s'):format(command, err.message), ERROR)
    else
      show(result or {}, client)
    end
  end)
end

local sub = {}

local function names()
  local out = vim.tbl_keys(sub)
  table.sort(out)
  return out
end

function sub.status()
  query('ghostwright.status', function(status, client)
    say(M.status_lines(status, client), status.error and status.error ~= vim.NIL and WARN or INFO)
  end)
end

function sub.stats()
  query('ghostwright.stats', function(stats)
    say(M.stats_line(stats))
  end)
end

function sub.toggle()
  local enabled = require('ghostwright').toggle()
  say('Ghostwright: suggestions ' .. (enabled and 'on' or 'off'))
end

function sub.restart()
  require('ghostwright').restart(function(ids)
    if #ids > 0 then
      say(('Ghostwright: server restarted (client %s)'):format(table.concat(ids, ', ')))
    else
      say('Ghostwright: no buffer needs a server (open a file of an enabled filetype)', WARN)
    end
  end)
end

-- Show an answer of ghostwright.ask in a scratch split.
local function show_answer(result)
  local text = type(result) == 'string' and result
    or type(result) == 'table' and (result.text or result.answer or result.markdown or result.value)
    or vim.inspect(result)
  vim.cmd('botright new')
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].buftype, vim.bo[bufnr].bufhidden, vim.bo[bufnr].filetype = 'nofile', 'wipe', 'markdown'
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(tostring(text), '\n', { plain = true }))
end

function sub.ask(args, line1, line2, range)
  local client = client_or_say()
  if not client then
    return
  end
  if not server.has_command(client, 'ghostwright.ask') then
    say('Ghostwright: this server has no `ghostwright.ask` command yet (it answers status and stats). '
      .. 'Update the ghostwright package to ask questions from the editor.', WARN)
    return
  end
  local function send(question)
    if not question or question == '' then
      return
    end
    local argument = { uri = vim.uri_from_bufnr(0), question = question,
      position = vim.lsp.util.make_position_params(0, client.offset_encoding).position }
    if range > 0 then
      argument.range = { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2, character = 0 } }
    end
    say('Ghostwright: asking; the answer opens in a split when it is written')
    server.execute(client, 'ghostwright.ask', { argument }, function(err, result)
      if err then
        say('Ghostwright: ask failed: ' .. err.message, ERROR)
      else
        show_answer(result)
      end
    end)
  end
  if #args > 0 then
    send(table.concat(args, ' '))
  else
    vim.ui.input({ prompt = 'Ask Ghostwright: ' }, send)
  end
end

-- Run a vim.lsp.buf function if the server offers `capability`, else say it does not.
local function lsp_feature(capability, what, run)
  return function()
    local client = client_or_say()
    if not client then
      return
    end
    if not client.server_capabilities[capability] then
      say(('Ghostwright: this server does not offer %s yet. Update the ghostwright package.'):format(what), WARN)
      return
    end
    run(client)
  end
end

sub.actions = lsp_feature('codeActionProvider', 'code actions', function(client)
  vim.lsp.buf.code_action({
    filter = function(_, client_id)
      return client_id == nil or client_id == client.id
    end,
  })
end)

sub.hover = lsp_feature('hoverProvider', 'hover', function()
  vim.lsp.buf.hover()
end)

--- Create :Ghostwright (idempotent).
function M.create()
  vim.api.nvim_create_user_command('Ghostwright', function(opts)
    local name = opts.fargs[1] or 'status'
    local run = sub[name]
    if not run then
      say(('Ghostwright: unknown subcommand %q; use one of: %s'):format(
        name, table.concat(names(), ', ')), ERROR)
      return
    end
    run(vim.list_slice(opts.fargs, 2), opts.line1, opts.line2, opts.range)
  end, {
    nargs = '*',
    range = true,
    desc = 'Ghostwright: status, stats, toggle, restart, ask, actions, hover',
    complete = function(arg_lead, line)
      if line:match('^%S*Ghostwright%s+%S*$') then
        return vim.tbl_filter(function(name)
          return vim.startswith(name, arg_lead)
        end, names())
      end
      return {}
    end,
  })
end

return M
