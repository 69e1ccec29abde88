--- A minimal Neovim UI, run as `nvim --headless -l viewer.lua NVIM INIT COLUMNS ROWS TIMEOUT_MS`:
--- it starts `NVIM --embed --clean -u INIT` (the test Neovim), attaches to it with
--- nvim_ui_attach (ext_linegrid, rgb) and keeps the screen grid from its redraw events,
--- exactly as a terminal or GUI front end would. When the test Neovim asks for
--- `ghostwright_screenshot` (an RPC request naming a file base) the grid is written as
--- text and SVG (screenshot.lua) and the request is answered with { text, cursor }.
--- Exits with the test Neovim's exit code.

local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
package.path = here .. '/?.lua;' .. package.path
local screenshot = require('screenshot')

local nvim, init = arg[1], arg[2]
local columns, rows, timeout_ms = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])

local ui = { grid = {}, hl = { [0] = {} }, fg = 0xe0e2ea, bg = 0x14161b, cursor = { 0, 0 }, mode = 'normal' }

local function blank_row(width)
  local row = {}
  for i = 1, width do
    row[i] = { ' ', 0 }
  end
  return row
end

-- The redraw events this viewer understands (`:help ui-linegrid`); others are ignored.
local events = {}

function events.grid_resize(_, width, height)
  ui.width, ui.height, ui.grid = width, height, {}
  for r = 1, height do
    ui.grid[r] = blank_row(width)
  end
end

function events.grid_clear()
  for r = 1, ui.height do
    ui.grid[r] = blank_row(ui.width)
  end
end

function events.grid_line(_, row, col, cells)
  local line, hl_id = ui.grid[row + 1], 0
  for _, cell in ipairs(cells) do
    if cell[2] ~= nil then
      hl_id = cell[2]
    end
    for _ = 1, cell[3] or 1 do
      line[col + 1] = { cell[1], hl_id }
      col = col + 1
    end
  end
end

function events.grid_scroll(_, top, bot, left, right, count)
  local from, to, step = top, bot - count - 1, 1
  if count < 0 then
    from, to, step = bot - 1, top - count, -1
  end
  for r = from, to, step do
    for c = left, right - 1 do
      ui.grid[r + 1][c + 1] = ui.grid[r + count + 1][c + 1]
    end
  end
end

function events.grid_cursor_goto(_, row, col)
  ui.cursor = { row, col }
end

function events.default_colors_set(fg, bg)
  ui.fg = fg >= 0 and fg or ui.fg
  ui.bg = bg >= 0 and bg or ui.bg
end

function events.hl_attr_define(id, rgb)
  ui.hl[id] = rgb
end

function events.mode_change(mode)
  ui.mode = mode
end

-- The grid as screenshot.lua's screen: rows of { text, fg, bg, bold, italic } cells.
local function screen()
  local out = { rows = {}, bg = ui.bg, cursor = ui.cursor, bar = ui.mode:match('^insert') ~= nil }
  for r, line in ipairs(ui.grid) do
    out.rows[r] = {}
    for c, cell in ipairs(line) do
      local attrs = ui.hl[cell[2]] or {}
      local fg, bg = attrs.foreground or ui.fg, attrs.background or ui.bg
      if attrs.reverse then
        fg, bg = bg, fg
      end
      out.rows[r][c] = { text = cell[1], fg = fg, bg = bg, bold = attrs.bold, italic = attrs.italic }
    end
  end
  return out
end

local stdin, stdout, stderr = vim.uv.new_pipe(), vim.uv.new_pipe(), vim.uv.new_pipe()
local exit_code
local handle = vim.uv.spawn(nvim, { args = { '--embed', '--clean', '-u', init }, stdio = { stdin, stdout, stderr } },
  function(code)
    exit_code = code
  end)
assert(handle, 'could not start ' .. nvim)

local function send(message)
  stdin:write(vim.mpack.encode(message))
end

local function handle_message(message)
  local kind = message[1]
  if kind == 2 and message[2] == 'redraw' then
    for _, batch in ipairs(message[3]) do
      local event = events[batch[1]]
      if event then
        for i = 2, #batch do
          event(unpack(batch[i]))
        end
      end
    end
  elseif kind == 0 and message[3] == 'ghostwright_screenshot' then
    local shot = screen()
    local base = message[4][1]
    vim.fn.mkdir(vim.fn.fnamemodify(base, ':h'), 'p')
    local text = screenshot.text(shot)
    vim.fn.writefile(vim.split(text, '\n', { plain = true }), base .. '.txt', 'b')
    vim.fn.writefile(vim.split(screenshot.svg(shot), '\n', { plain = true }), base .. '.svg', 'b')
    send({ 1, message[2], vim.NIL, { text = text, cursor = shot.cursor } })
  elseif kind == 0 then
    send({ 1, message[2], { 0, 'viewer: unknown request ' .. tostring(message[3]) }, vim.NIL })
  elseif kind == 1 and message[3] ~= vim.NIL then
    io.stderr:write('viewer: the test Neovim answered with an error: ' .. vim.inspect(message[3]) .. '\n')
  end
end

local unpacker = vim.mpack.Unpacker()
stdout:read_start(function(_, data)
  if not data then
    return
  end
  local pos = 1
  while pos <= #data do
    local message
    message, pos = unpacker(data, pos)
    if message ~= nil then
      vim.schedule(function() -- out of the libuv callback, in order
        local ok, err = pcall(handle_message, message)
        if not ok then
          io.stderr:write('viewer: ' .. tostring(err) .. '\n')
        end
      end)
    end
  end
end)
stderr:read_start(function(_, data)
  if data then
    io.stderr:write(data)
  end
end)

send({ 0, 1, 'nvim_ui_attach', { columns, rows, { ext_linegrid = true, rgb = true } } })
if not vim.wait(timeout_ms, function()
  return exit_code ~= nil
end, 20) then
  handle:kill('sigkill')
  io.stderr:write(('viewer: the test Neovim did not exit within %d ms\n'):format(timeout_ms))
  os.exit(124)
end
os.exit(exit_code)
