--- Starting `ghostwright serve` with vim.lsp.start, finding its client for a buffer, and
--- the few requests the other modules send. Problems a user can fix (no binary, a server
--- that dies, a model that does not load) are shown once with vim.notify, never dropped.

local config = require('ghostwright.config')

local M = {}

M.NAME = 'ghostwright'
M.PARTIAL = 'ghostwright/partialCompletion'
M.SHOWN = 'ghostwright/didShowCompletion'

local HAS_011 = vim.fn.has('nvim-0.11') == 1
local notified = {} -- message -> true: each problem is shown once per session
local exiting = false
local stopping = {} -- client id -> true: stopped on purpose (restart), not worth an error

--- vim.notify at `level`, once per distinct message.
function M.notify_once(message, level)
  if notified[message] then
    return
  end
  notified[message] = true
  vim.schedule(function()
    vim.notify(message, level or vim.log.levels.ERROR, { title = 'Ghostwright' })
  end)
end

-- Client methods became `client:method()` in 0.11; 0.10 only has `client.method()`.
local function call(client, method, ...)
  if HAS_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

--- client:request(); returns the request id, or nil if it could not be sent.
function M.request(client, method, params, handler, bufnr)
  local ok, id = call(client, 'request', method, params, handler, bufnr)
  return ok and id or nil
end

function M.notify(client, method, params)
  return call(client, 'notify', method, params)
end

function M.cancel(client, id)
  return call(client, 'cancel_request', id)
end

--- The running Ghostwright client for `bufnr` (default: current buffer), or any one.
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr or 0 })
  if #clients == 0 and bufnr == nil then
    clients = vim.lsp.get_clients({ name = M.NAME })
  end
  return clients[1]
end

--- workspace/executeCommand `command` with `arguments`; `callback(err, result)`.
function M.execute(client, command, arguments, callback, bufnr)
  local params = { command = command, arguments = arguments }
  return M.request(client, 'workspace/executeCommand', params, function(err, result)
    if callback then
      callback(err, result)
    end
  end, bufnr)
end

--- Whether the server advertises the executeCommand `command`.
function M.has_command(client, command)
  local provider = client.server_capabilities.executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

--- The absolute path of the server binary, or nil with a message saying what to do.
function M.find_binary(cmd)
  local program = vim.fn.expand(cmd[1])
  local path = vim.fn.exepath(program)
  if path ~= '' then
    return path
  end
  return nil, ('Ghostwright: server %q not found on $PATH. Install it into a virtualenv on your '
    .. "PATH (`pip install -e <ghostwright checkout>`, or `bash scripts/demo.sh` there) or point "
    .. "setup({ cmd = { '/path/to/.venv/bin/ghostwright', 'serve' } }) at it. "
    .. 'Then :checkhealth ghostwright.'):format(program)
end

local ESCAPES = { n = '\n', t = '\t', r = '\r', ['"'] = '"', ['\\'] = '\\' }

local function log_size()
  local stat = vim.uv.fs_stat(vim.lsp.get_log_path())
  return stat and stat.size or 0
end

--- The last lines `program` wrote to stderr, from Neovim's LSP log after byte `since` (it
--- logs them as `..."rpc"<TAB>"<program>"<TAB>"stderr"<TAB>"<text, escaped>"`), or nil.
function M.last_stderr(program, since, max_lines)
  local file = io.open(vim.lsp.get_log_path(), 'rb')
  if not file then
    return nil
  end
  local size = file:seek('end')
  file:seek('set', math.max(since, size - 16384))
  local tail = file:read('*a')
  file:close()
  local text = {}
  local marker = '\t' .. vim.inspect(program) .. '\t"stderr"\t"'
  for line in vim.gsplit(tail, '\n', { plain = true }) do
    local at = line:find(marker, 1, true)
    if at then
      local quoted = line:sub(at + #marker):gsub('"%s*$', '')
      quoted = quoted:gsub('\\(%d%d?%d?)', string.char):gsub('\\(.)', function(c)
        return ESCAPES[c] or c
      end)
      text[#text + 1] = quoted
    end
  end
  local lines = vim.tbl_filter(function(l)
    return vim.trim(l) ~= ''
  end, vim.split(table.concat(text), '\n', { plain = true }))
  if #lines == 0 then
    return nil
  end
  return table.concat(vim.list_slice(lines, math.max(1, #lines - (max_lines or 3) + 1)), '\n')
end

-- `cmd` as a shell command line, quoting only what needs it.
local function shell_line(cmd)
  return table.concat(vim.tbl_map(function(arg)
    return arg:match('^[%w%./_:=,+-]+$') and arg or vim.fn.shellescape(arg)
  end, cmd), ' ')
end

local function on_exit(code, signal, client_id, cmd, log_start)
  if exiting or stopping[client_id] or (code == 0 and signal == 0) then
    return
  end
  vim.schedule(function() -- after Neovim has logged the server's last words
    local said = M.last_stderr(cmd[1], log_start)
    M.notify_once(('Ghostwright: the server exited (code %d, signal %d)%s\nRun `%s` in a terminal to see '
      .. 'all it says (its messages are also in %s), then :checkhealth ghostwright.'):format(
      code, signal, said and (':\n' .. said) or '.',
      shell_line(cmd), vim.lsp.get_log_path()))
  end)
end

local LEVELS = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

-- window/showMessage through vim.notify (Neovim 0.11 echoes it with a trailing newline,
-- which stops the editor at a hit-enter prompt). The server's messages name Ghostwright.
local function show_message(_, params)
  if type(params) == 'table' and params.message then
    vim.notify(params.message, LEVELS[params.type] or vim.log.levels.INFO, { title = 'Ghostwright' })
  end
  return vim.NIL
end

--- Start (or reuse) the server for `bufnr`; returns the client id or nil.
--- `handlers` are extra LSP handlers (the partial-completion notification).
function M.start(bufnr, handlers, native)
  local opts = config.options
  local binary, why = M.find_binary(opts.cmd)
  if not binary then
    M.notify_once(why)
    return nil
  end
  local cmd = vim.list_extend({ binary }, vim.list_slice(opts.cmd, 2))
  local log_start = log_size()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  return vim.lsp.start({
    name = M.NAME,
    cmd = cmd,
    cmd_env = next(opts.cmd_env) and opts.cmd_env or nil,
    root_dir = vim.fs.root(bufnr, opts.root_markers),
    init_options = config.init_options(opts, native),
    capabilities = capabilities,
    handlers = vim.tbl_extend('force', { ['window/showMessage'] = show_message }, handlers or {}),
    on_exit = function(code, signal, client_id)
      on_exit(code, signal, client_id, cmd, log_start)
    end,
  }, { bufnr = bufnr })
end

--- Stop every Ghostwright server; `done()` runs once they have all exited (or after 5 s).
--- Problems already shown may be shown again afterwards.
function M.stop_all(done)
  local clients = vim.lsp.get_clients({ name = M.NAME })
  for _, client in ipairs(clients) do
    stopping[client.id] = true
    call(client, 'stop')
  end
  notified = {}
  local timer, waited = vim.uv.new_timer(), 0
  timer:start(0, 50, vim.schedule_wrap(function()
    waited = waited + 50
    local running = vim.tbl_filter(function(client) -- gone from the list once its exit is handled
      return vim.lsp.get_client_by_id(client.id) ~= nil
    end, clients)
    if #running == 0 or waited >= 5000 then
      timer:stop()
      timer:close()
      for _, client in ipairs(running) do
        call(client, 'stop', true) -- still there: kill it
      end
      done()
    end
  end))
end

--- Send the current settings to every running server (after setup() or toggle).
function M.push_settings(native)
  local settings = config.init_options(config.options, native)
  settings.reportsShown = nil -- read once, at initialize
  settings = { ghostwright = settings }
  for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    M.notify(client, 'workspace/didChangeConfiguration', { settings = settings })
  end
end

vim.api.nvim_create_autocmd('VimLeavePre', {
  group = vim.api.nvim_create_augroup('ghostwright.server', { clear = true }),
  callback = function()
    exiting = true
  end,
})

return M
