--- A "screenshot" from a Neovim screen grid (kept by viewer.lua from the redraw events of
--- nvim_ui_attach): as plain text, and as an SVG that keeps the highlight colours.
---
--- screen = { rows = { { { text, fg, bg, bold, italic }, ... }, ... }, bg = rgb,
---            cursor = { row, col } (0-based), bar = true in insert mode }

local M = {}

local CELL_W, CELL_H, FONT = 8.4, 18, 14

local function hex(rgb)
  return ('#%06x'):format(rgb)
end

local function escape(text)
  return (text:gsub('&', '&amp;'):gsub('<', '&lt;'):gsub('>', '&gt;'))
end

--- The screen as text, one line per row, trailing blanks removed.
function M.text(screen)
  local lines = {}
  for _, cells in ipairs(screen.rows) do
    local line = {}
    for _, cell in ipairs(cells) do
      line[#line + 1] = cell.text
    end
    lines[#lines + 1] = (table.concat(line):gsub('%s+$', ''))
  end
  return table.concat(lines, '\n') .. '\n'
end

-- Runs of neighbouring cells that look alike, { col, width, cell }, and within them the words
-- (cells without blanks) as { col, text }: placing each word at its own cell keeps the
-- layout exact whatever the renderer does with spaces.
local function runs(cells)
  local out = {}
  for col, cell in ipairs(cells) do
    local last = out[#out]
    if not (last and last.cell.fg == cell.fg and last.cell.bg == cell.bg and last.cell.bold == cell.bold
      and last.cell.italic == cell.italic) then
      last = { col = col - 1, width = 0, cell = cell, words = {} }
      out[#out + 1] = last
    end
    last.width = last.width + 1
    local word = last.words[#last.words]
    if cell.text:match('^%s*$') and cell.text ~= '' then
      last.gap = true
    elseif word and not last.gap then
      word.text = word.text .. cell.text
    else
      last.words[#last.words + 1] = { col = col - 1, text = cell.text }
      last.gap = false
    end
  end
  return out
end

--- The screen as an SVG image (monospace text on coloured cells, a bar where the cursor is).
function M.svg(screen)
  local width, height = #screen.rows[1] * CELL_W, #screen.rows * CELL_H
  local out = {
    ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'):format(
      width, height, width, height),
    ('<rect width="100%%" height="100%%" fill="%s"/>'):format(hex(screen.bg)),
    ('<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%d">'):format(FONT),
  }
  for row, cells in ipairs(screen.rows) do
    local y = (row - 1) * CELL_H
    for _, run in ipairs(runs(cells)) do
      local x = run.col * CELL_W
      if run.cell.bg ~= screen.bg then
        out[#out + 1] = ('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>'):format(
          x, y, run.width * CELL_W, CELL_H, hex(run.cell.bg))
      end
      for _, word in ipairs(run.words) do
        out[#out + 1] = ('<text x="%.1f" y="%d" fill="%s"%s%s>%s</text>'):format(
          word.col * CELL_W, y + CELL_H - 5, hex(run.cell.fg), run.cell.bold and ' font-weight="bold"' or '',
          run.cell.italic and ' font-style="italic"' or '', escape(word.text))
      end
    end
  end
  local crow, ccol = screen.cursor[1], screen.cursor[2]
  out[#out + 1] = ('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#e0e2ea" opacity="0.8"/>'):format(
    ccol * CELL_W, crow * CELL_H, screen.bar and 2 or CELL_W, CELL_H)
  out[#out + 1] = '</g></svg>'
  return table.concat(out, '\n') .. '\n'
end

return M
