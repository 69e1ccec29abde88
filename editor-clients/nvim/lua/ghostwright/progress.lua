--- Work-done progress of the server's long jobs (a code action decoding, an ask being
--- answered) on the command line: Neovim 0.11 keeps $/progress in vim.lsp.status() but
--- shows nothing by itself, and a code action that takes seconds must not look stuck.
--- One line, overwritten in place, kept out of :messages.

local M = {}

local server = require('ghostwright.server')

--- The line to show for a progress value (begin/report/end), or '' to clear it.
--- `title` is the title of the begin message (report and end do not repeat it).
function M.line(title, value)
  if not vim.startswith(title, 'Ghostwright') then -- the server's titles usually say it already
    title = 'Ghostwright: ' .. title
  end
  if value.kind == 'end' then
    return value.message and ('%s: %s'):format(title, value.message) or ''
  end
  local parts = { title }
  if type(value.percentage) == 'number' then
    parts[#parts + 1] = ('%d%%'):format(value.percentage)
  end
  if type(value.message) == 'string' and value.message ~= '' then
    local lines = vim.split(vim.trim(value.message), '\n', { plain = true })
    parts[#parts + 1] = lines[#lines] -- an answer so far: its last line
  end
  return table.concat(parts, ' ')
end

local titles = {} -- token -> title

local function show(line)
  local width = math.max(vim.v.echospace, 20)
  if vim.fn.strdisplaywidth(line) > width then
    line = vim.fn.strcharpart(line, 0, width - 1) .. '…'
  end
  vim.api.nvim_echo({ { line, 'ModeMsg' } }, false, {})
end

function M.setup(group)
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      local params = args.data.params or {}
      local value = params.value
      if not client or client.name ~= server.NAME or type(value) ~= 'table' then
        return
      end
      local token = tostring(params.token)
      if value.kind == 'begin' then
        titles[token] = value.title or 'working'
      end
      show(M.line(titles[token] or 'working', value))
      if value.kind == 'end' then
        titles[token] = nil
      end
    end,
  })
end

return M
