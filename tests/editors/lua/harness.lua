--- Drives a real Neovim from inside: a scenario runs as a coroutine that yields while it
--- waits, so Neovim's main loop keeps handling typed keys, autocommands, timers and LSP
--- messages. The outcome goes to the JSON file named by the test's config; a failure
--- records its message and traceback there too.

local H = {}

H.config = vim.json.decode(table.concat(vim.fn.readfile(os.getenv('GW_TEST_CONFIG')), '\n'))
H.result = { ok = false, notifications = {} }

-- Record what the plugin (and through it the server) tells the user.
vim.notify = function(message, level)
  table.insert(H.result.notifications, { message = tostring(message), level = level or vim.log.levels.INFO })
end

local finished = false

local function write_result()
  vim.fn.writefile({ vim.json.encode(H.result) }, H.config.result)
end

--- Save the result and quit.
function H.finish(ok, message)
  if finished then
    return
  end
  finished = true
  H.result.ok = ok
  H.result.error = message
  write_result()
  vim.cmd('qall!')
end

local function resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    H.finish(false, debug.traceback(co, tostring(err)))
  elseif coroutine.status(co) == 'dead' then
    H.finish(true)
  end
end

--- Let Neovim run for `ms` milliseconds.
function H.sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function()
    resume(co)
  end, ms)
  coroutine.yield()
end

--- Wait until `condition()` returns a truthy value (returned), or fail naming `what`.
function H.wait(what, timeout_ms, condition)
  local deadline = vim.uv.now() + timeout_ms
  while true do
    local ok, value = pcall(condition)
    if ok and value then
      return value
    end
    if vim.uv.now() > deadline then
      error(('timed out after %d ms waiting for %s'):format(timeout_ms, what), 2)
    end
    H.sleep(20)
  end
end

function H.check(condition, message)
  if not condition then
    error(message, 2)
  end
end

--- Type `keys` (as a user would: queued, then handled by Neovim's main loop).
function H.input(keys)
  vim.api.nvim_input(keys)
end

--- Messages notified at `level` or above, joined.
function H.notified(level)
  local out = {}
  for _, n in ipairs(H.result.notifications) do
    if n.level >= level then
      out[#out + 1] = n.message
    end
  end
  return table.concat(out, '\n')
end

--- Ask the UI (viewer.lua) to save the screen as `<base>.txt` and `<base>.svg`;
--- returns { text = the screen as text, cursor = { row, col } on screen, 0-based }.
function H.screenshot(base)
  local ui = vim.api.nvim_list_uis()[1]
  H.check(ui and ui.chan, 'no UI is attached: run this scenario with ui=True')
  vim.cmd('redraw')
  return vim.rpcrequest(ui.chan, 'ghostwright_screenshot', base)
end

function H.buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), '\n')
end

--- Run `scenario(H)` once Neovim has started; give up after the test's time limit.
function H.run(scenario)
  vim.api.nvim_create_autocmd('VimEnter', {
    once = true,
    callback = function()
      vim.defer_fn(function()
        H.finish(false, 'scenario did not finish in ' .. H.config.timeout_ms .. ' ms')
      end, H.config.timeout_ms)
      -- Scheduled: inside this autocommand, :edit would fire no (nested) FileType event.
      vim.schedule(function()
        resume(coroutine.create(function()
          scenario(H)
        end))
      end)
    end,
  })
end

return H
