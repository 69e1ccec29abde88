--- textDocument/inlineCompletion on Neovim without a built-in inline completion: ask on
--- each pause in typing (debounced; the request in flight is cancelled by the next one),
--- draw the answer as ghost text, grow it as ghostwright/partialCompletion chunks
--- arrive, keep it while the user types what it predicted, and accept all of it, its
--- next word or its next line. An accepted suggestion runs its command
--- (ghostwright.accept) once, with the number of characters taken.

local cache = require('ghostwright.cache')
local config = require('ghostwright.config')
local ghost_text = require('ghostwright.ghost_text')
local server = require('ghostwright.server')

local M = {}

local METHOD = 'textDocument/inlineCompletion'
local AUTOMATIC, INVOKED = 2, 1 -- lsp.InlineCompletionTriggerKind
-- Errors that only mean "this request is stale": not worth telling the user.
local QUIET_ERRORS = { [-32800] = true, [-32801] = true, [-32602] = true }

--- What happened, for tests and :Ghostwright status.
M.counters = { requests = 0, partials = 0, shown = 0, cache_hits = 0, accepted = 0 }

---@class ghostwright.Item
---@field text string what is still to insert at the anchor
---@field command? table the item's accept command

---@class ghostwright.Suggestion
---@field items ghostwright.Item[]
---@field index integer the item shown
---@field row integer anchor: where the shown text starts (0-based)
---@field col integer anchor column, in bytes
---@field client_id integer
---@field request_id integer
---@field streaming boolean true while partial text is shown and the request is running
---@field accepted integer characters accepted so far
---@field reported boolean whether didShowCompletion was sent

---@type table<integer, { timer?: uv_timer_t, pending?: table, suggestion?: ghostwright.Suggestion, seen?: string }>
local states = {}

local function state(bufnr)
  states[bufnr] = states[bufnr] or {}
  return states[bufnr]
end

local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

-- Still where the request was made: same buffer text, same cursor, insert mode.
local function still_at(bufnr, req)
  if vim.api.nvim_get_current_buf() ~= bufnr or not in_insert_mode() then
    return false
  end
  local row, col = cursor()
  return row == req.row and col == req.col and vim.b[bufnr].changedtick == req.tick
end

local function cancel_pending(st)
  local req = st.pending
  st.pending = nil
  if req and req.id then
    local client = vim.lsp.get_client_by_id(req.client_id)
    if client then
      server.cancel(client, req.id)
    end
  end
end

local function stop_timer(st)
  if st.timer then
    st.timer:stop()
  end
end

local function render(bufnr, sugg)
  ghost_text.show(bufnr, sugg.row, sugg.col, sugg.items[sugg.index].text)
end

-- The accept command of the shown item, with `chars` characters taken.
local function accept_command(sugg)
  local item = sugg.items[sugg.index]
  local command = vim.deepcopy(item.command)
  if not command then -- a streamed suggestion: its request never answered
    command = { title = 'Accept suggestion', command = 'ghostwright.accept',
      arguments = { { id = tostring(sugg.request_id) } } }
  end
  if type(command.arguments) == 'table' and type(command.arguments[1]) == 'table' then
    command.arguments[1].chars = sugg.accepted
  end
  return command
end

--- Forget the suggestion of `bufnr`; if part of it was accepted, run its command.
local function finish(bufnr)
  local st = state(bufnr)
  local sugg = st.suggestion
  st.suggestion = nil
  ghost_text.clear(bufnr)
  if sugg and sugg.accepted > 0 then
    local client = vim.lsp.get_client_by_id(sugg.client_id)
    if client then
      local command = accept_command(sugg)
      server.execute(client, command.command, command.arguments, nil, bufnr)
    end
    M.counters.accepted = M.counters.accepted + 1
  end
end

local function present(bufnr, sugg, latency_ms)
  local st = state(bufnr)
  st.suggestion = sugg
  render(bufnr, sugg)
  if sugg.streaming then
    return
  end
  M.counters.shown = M.counters.shown + 1
  local client = vim.lsp.get_client_by_id(sugg.client_id)
  if client and config.options.report_shown and not sugg.reported then
    sugg.reported = true
    server.notify(client, server.SHOWN, { id = tostring(sugg.request_id), latencyMs = latency_ms })
  end
end

-- The items of an answer that insert at the cursor (the range Ghostwright sends).
local function items_at(result, position)
  local items = {}
  for _, raw in ipairs(result and (result.items or result) or {}) do
    local text = type(raw.insertText) == 'table' and raw.insertText.value or raw.insertText
    local range = raw.range
    local here = not range or (vim.deep_equal(range.start, position) and vim.deep_equal(range['end'], position))
    if here and type(text) == 'string' and text ~= '' then
      items[#items + 1] = { text = text, command = raw.command }
    end
  end
  return items
end

local function on_response(bufnr, req, err, result)
  local st = state(bufnr)
  if st.pending ~= req then
    return -- cancelled or superseded
  end
  st.pending = nil
  if err then
    if not QUIET_ERRORS[err.code] then
      server.notify_once('Ghostwright: ' .. tostring(err.message)
        .. ' (see :checkhealth ghostwright)', vim.log.levels.ERROR)
    end
    return
  end
  local items = items_at(result, req.position)
  if #items > 0 then
    cache.put(req.key, { items = vim.deepcopy(items), client_id = req.client_id, request_id = req.id }, config.options.cache_size)
  end
  if not still_at(bufnr, req) then
    return
  end
  if #items == 0 then
    finish(bufnr)
    return
  end
  local latency = (vim.uv.hrtime() - req.started) / 1e6
  present(bufnr, { items = items, index = 1, row = req.row, col = req.col, client_id = req.client_id,
    request_id = req.id, streaming = false, accepted = 0, reported = false }, latency)
end

--- Ask the server for a suggestion at the cursor; `kind` is the LSP trigger kind.
local function request(bufnr, kind)
  local st = state(bufnr)
  cancel_pending(st)
  local client = server.client(bufnr)
  if not client or not client.server_capabilities.inlineCompletionProvider then
    return false
  end
  if vim.api.nvim_get_current_buf() ~= bufnr or not in_insert_mode() then
    return false
  end
  local row, col = cursor()
  local key = cache.key(bufnr, row, col)
  local cached = cache.get(key)
  if cached then
    M.counters.cache_hits = M.counters.cache_hits + 1
    present(bufnr, { items = vim.deepcopy(cached.items), index = 1, row = row, col = col,
      client_id = cached.client_id, request_id = cached.request_id, streaming = false, accepted = 0,
      reported = false }, 0)
    return true
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = kind }
  local req = { client_id = client.id, row = row, col = col, tick = vim.b[bufnr].changedtick,
    key = key, position = params.position, started = vim.uv.hrtime() }
  st.pending = req
  req.id = server.request(client, METHOD, params, function(err, result)
    on_response(bufnr, req, err, result)
  end, bufnr)
  if not req.id then
    st.pending = nil
    return false
  end
  M.counters.requests = M.counters.requests + 1
  return true
end

--- Handler of ghostwright/partialCompletion: show the text decoded so far.
function M.on_partial(_, params)
  if type(params) ~= 'table' or type(params.uri) ~= 'string' then
    return
  end
  local bufnr, req
  for b, st in pairs(states) do
    if st.pending and vim.uri_from_bufnr(b) == params.uri then
      bufnr, req = b, st.pending
    end
  end
  if not req or req.id ~= params.id or not still_at(bufnr, req) then
    return
  end
  M.counters.partials = M.counters.partials + 1
  present(bufnr, { items = { { text = params.text } }, index = 1, row = req.row, col = req.col,
    client_id = req.client_id, request_id = req.id, streaming = true, accepted = 0, reported = false })
end

-- If the text between the anchor and the cursor is the start of the suggestion, the
-- user is typing what it predicted: keep the rest. Returns true when kept.
local function keep_typed_ahead(bufnr, sugg)
  if sugg.streaming then
    return false
  end
  local row, col = cursor()
  if row < sugg.row or (row == sugg.row and col < sugg.col) then
    return false
  end
  local typed = table.concat(vim.api.nvim_buf_get_text(bufnr, sugg.row, sugg.col, row, col, {}), '\n')
  local item = sugg.items[sugg.index]
  if #typed >= #item.text or item.text:sub(1, #typed) ~= typed then
    return false
  end
  if typed ~= '' then
    item.text = item.text:sub(#typed + 1)
    sugg.items = { item } -- the other items no longer match what was typed
    sugg.index, sugg.row, sugg.col = 1, row, col
    render(bufnr, sugg)
  end
  return true
end

--- TextChangedI / CursorMovedI / InsertEnter: keep, or drop and ask again after a pause.
function M.on_edit(bufnr)
  local st = state(bufnr)
  local row, col = cursor()
  local seen = ('%d:%d:%d'):format(vim.b[bufnr].changedtick, row, col)
  if st.seen == seen then
    return -- TextChangedI and CursorMovedI for the same keystroke
  end
  st.seen = seen
  if st.suggestion and keep_typed_ahead(bufnr, st.suggestion) then
    return
  end
  finish(bufnr)
  cancel_pending(st)
  stop_timer(st)
  if not config.options.enabled then
    return
  end
  st.timer = st.timer or vim.uv.new_timer()
  st.timer:start(config.options.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) then
      request(bufnr, AUTOMATIC)
    end
  end))
end

--- InsertLeave / BufLeave / :Ghostwright toggle: drop everything for `bufnr`.
function M.reset(bufnr)
  local st = state(bufnr)
  stop_timer(st)
  cancel_pending(st)
  finish(bufnr)
  st.seen = nil
end

--- Stop watching `bufnr`.
function M.detach(bufnr)
  local st = states[bufnr]
  if st then
    M.reset(bufnr)
    if st.timer then
      st.timer:close()
    end
    states[bufnr] = nil
  end
  pcall(vim.api.nvim_del_augroup_by_name, 'ghostwright.completion.' .. bufnr)
end

local function current()
  local bufnr = vim.api.nvim_get_current_buf()
  local st = states[bufnr]
  return bufnr, st, st and st.suggestion
end

--- Whether a suggestion is shown in the current buffer.
function M.visible()
  local _, _, sugg = current()
  return sugg ~= nil
end

--- The part of `text` that accepting `kind` takes: 'word' (leading blanks and the next
--- word or run of punctuation), 'line' (up to the next line break) or 'all'.
function M.take(text, kind)
  if kind == 'word' then
    local stop = text:match('^%s*[%w_]+()') or text:match('^%s*[^%w_%s]+()') or (#text + 1)
    return text:sub(1, stop - 1)
  elseif kind == 'line' then
    local stop = text:find('\n', text:sub(1, 1) == '\n' and 2 or 1, true)
    return stop and text:sub(1, stop - 1) or text
  end
  return text
end

--- Insert all (`kind` 'all'), the next word ('word') or the next line ('line') of the
--- shown suggestion. Returns false when none is shown.
function M.accept(kind)
  local bufnr, st, sugg = current()
  if not sugg then
    return false
  end
  if sugg.streaming then -- take what is shown; the rest will not come
    cancel_pending(st)
    sugg.streaming = false
  end
  local item = sugg.items[sugg.index]
  local chunk = M.take(item.text, kind or 'all')
  local lines = vim.split(chunk, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, sugg.row, sugg.col, sugg.row, sugg.col, lines)
  local row = sugg.row + #lines - 1
  local col = (#lines == 1 and sugg.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  sugg.accepted = sugg.accepted + vim.fn.strchars(chunk)
  item.text = item.text:sub(#chunk + 1)
  if item.text == '' then
    finish(bufnr)
  else
    sugg.items, sugg.index, sugg.row, sugg.col = { item }, 1, row, col
    render(bufnr, sugg)
  end
  return true
end

--- Show the next (`step` 1) or previous (-1) item. Returns false when there is only one.
function M.cycle(step)
  local bufnr, _, sugg = current()
  if not sugg or #sugg.items < 2 then
    return false
  end
  sugg.index = (sugg.index - 1 + step) % #sugg.items + 1
  render(bufnr, sugg)
  return true
end

--- Hide the suggestion until the next keystroke. Returns false when none is shown.
function M.dismiss()
  local bufnr, st = current()
  if not st or not (st.suggestion or st.pending) then
    return false
  end
  stop_timer(st)
  cancel_pending(st)
  finish(bufnr)
  return true
end

--- Ask now, as an explicit request (the server answers where it would stay quiet while typing).
function M.trigger()
  local bufnr = vim.api.nvim_get_current_buf()
  if not states[bufnr] then
    return false
  end
  finish(bufnr)
  stop_timer(state(bufnr))
  return request(bufnr, INVOKED)
end

--- Watch `bufnr` (the server is attached to it).
function M.attach(bufnr)
  if states[bufnr] then
    return
  end
  state(bufnr)
  local group = vim.api.nvim_create_augroup('ghostwright.completion.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'InsertEnter', 'TextChangedI', 'CursorMovedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_edit(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.reset(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'LspDetach' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.event == 'LspDetach' and args.data and args.data.client_id then
        local client = vim.lsp.get_client_by_id(args.data.client_id)
        if client and client.name ~= server.NAME then
          return
        end
      end
      M.detach(bufnr)
    end,
  })
end

return M
