--- Every option of require('ghostwright').setup(), with its default, and the checks that
--- turn a bad value into a warning and the default (never an error).
--- editor-clients/nvim/README.md documents the same keys; keep the two in step.

local M = {}

M.defaults = {
  -- Master switch: ask for suggestions while typing (also :Ghostwright toggle).
  enabled = true,
  -- How to start the language server. Put an absolute path first if `ghostwright` is not
  -- on $PATH, e.g. { '~/ghostwright/.venv/bin/ghostwright', 'serve' }.
  cmd = { 'ghostwright', 'serve' },
  -- Extra environment for the server, e.g. { GHOSTWRIGHT_HOME = '/data/ghostwright' }.
  cmd_env = {},
  -- Filetypes to start the server for; { '*' } means every file buffer.
  filetypes = {
    'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
    'go', 'rust', 'java', 'c', 'cpp', 'lua',
  },
  -- Files or folders that mark a project root (the server indexes that folder).
  -- No marker found: the server runs without a workspace index.
  root_markers = { '.git', 'pyproject.toml', 'setup.py', 'package.json', 'Cargo.toml', 'go.mod' },
  -- Milliseconds to wait after the last keystroke before asking for a suggestion.
  debounce_ms = 75,
  -- Show suggestions as they are decoded (ghostwright/partialCompletion notifications).
  streaming = true,
  -- Tell the server when a suggestion was actually shown (for :Ghostwright stats).
  report_shown = true,
  -- Remember this many suggestions by a hash of (text before, text after) the cursor.
  cache_size = 64,
  -- 'auto': use Neovim's own vim.lsp.inline_completion when it exists (0.12+), else
  -- Ghostwright's ghost text; 'always' / 'never' force one or the other.
  native = 'auto',
  -- Highlight group of the ghost text (linked to Comment unless you define it).
  hl_group = 'GhostwrightSuggestion',
  -- Insert-mode keys; set one to false to leave that key alone. When no suggestion is
  -- shown the key does what it would do without Ghostwright.
  keymaps = {
    accept = '<Tab>', -- insert the whole suggestion
    accept_word = '<M-w>', -- insert its next word
    accept_line = '<M-l>', -- insert the rest of its current line
    next = '<M-]>', -- show the next suggestion (when the server sent several)
    prev = '<M-[>', -- show the previous one
    dismiss = '<C-]>', -- hide it until the next keystroke
    trigger = '<M-\\>', -- ask now, even where automatic suggestions would not
  },
  -- Server settings, sent as initializationOptions (camelCase on the wire) and again on
  -- every setup() call. The server checks them too and reports bad values.
  server = {
    model = '', -- a profile (default, smollm2, qwen2.5-coder-1.5b) or a model folder; '' = the server's default
    tier = 'auto', -- auto | full | mini
    device = 'auto', -- auto | cpu | cuda
    backend_url = '', -- a remote OpenAI-compatible backend (engine serve, vLLM, llama-server…); '' = local
    backend_api_key_env = '', -- the environment variable holding its API key
    backend_model = '', -- the served model's id; '' = the first it lists
    backend_fallback = false, -- run on the local model while the backend is down
    shared_engine = false, -- one engine daemon for all your editor windows
    max_tokens = 96, -- longest suggestion, in tokens
    prompt_tokens = 1024, -- prompt budget
    deadline_ms = 2000, -- give up on a suggestion after this long
    debounce_ms = 0, -- server-side wait; 0 because this client already debounces
    telemetry = true, -- count shown/accepted in the local stats file (never sent anywhere)
  },
}

local CHOICES = {
  native = { 'auto', 'always', 'never' },
  ['server.tier'] = { 'auto', 'full', 'mini' },
  ['server.device'] = { 'auto', 'cpu', 'cuda' },
}

local RANGES = {
  debounce_ms = { 0, 2000 },
  cache_size = { 0, 10000 },
  ['server.max_tokens'] = { 1, 1024 },
  ['server.prompt_tokens'] = { 64, 8192 },
  ['server.deadline_ms'] = { 100, 60000 },
  ['server.debounce_ms'] = { 0, 2000 },
}

-- Keys whose value is a map of arbitrary names, not a nested set of options.
local MAPS = { cmd_env = true }
-- Lists that must not be empty.
local NON_EMPTY = { cmd = true, filetypes = true }

local function is_list_of_strings(value)
  if type(value) ~= 'table' then
    return false
  end
  for i, v in pairs(value) do
    if type(i) ~= 'number' or type(v) ~= 'string' then
      return false
    end
  end
  return true
end

--- Why `value` is not a valid `path`, or nil when it is.
local function problem(path, default, value)
  if path:match('^keymaps%.') then
    if value ~= false and type(value) ~= 'string' then
      return 'expected a key like "<Tab>", or false'
    end
    return nil
  end
  if MAPS[path] then
    if type(value) ~= 'table' or not vim.iter(value):all(function(k, v)
      return type(k) == 'string' and type(v) == 'string'
    end) then
      return 'expected a table of strings'
    end
    return nil
  end
  if vim.islist(default) then
    if not is_list_of_strings(value) then
      return 'expected a list of strings'
    end
    return (NON_EMPTY[path] and #value == 0) and 'expected a non-empty list' or nil
  end
  if type(value) ~= type(default) then
    return ('expected a %s, got %s'):format(type(default), type(value))
  end
  local range = RANGES[path]
  if range and (value < range[1] or value > range[2] or value % 1 ~= 0) then
    return ('expected a whole number in %d..%d'):format(range[1], range[2])
  end
  local choices = CHOICES[path]
  if choices and not vim.tbl_contains(choices, value) then
    return 'expected one of ' .. table.concat(choices, ', ')
  end
end

--- Merge `user` over `defaults`, key by key; returns (options, warnings).
local function merge(defaults, user, prefix, warnings)
  local out = vim.deepcopy(defaults)
  for key, value in pairs(user) do
    local path = prefix .. tostring(key)
    local default = defaults[key]
    if default == nil then
      table.insert(warnings, ('unknown option %q ignored'):format(path))
    elseif type(default) == 'table' and not vim.islist(default) and not MAPS[path] then
      if type(value) == 'table' then
        out[key] = merge(default, value, path .. '.', warnings)
      else
        table.insert(warnings, ('option %q: expected a table; using the defaults'):format(path))
      end
    else
      local why = problem(path, default, value)
      if why then
        table.insert(warnings, ('option %q = %s: %s; using %s'):format(
          path, vim.inspect(value), why, vim.inspect(default)))
      else
        out[key] = vim.deepcopy(value)
      end
    end
  end
  return out
end

--- The options in force (defaults until setup() runs).
M.options = vim.deepcopy(M.defaults)

--- Validate `user` against the defaults; returns (options, warnings). Pure: no side effects.
function M.resolve(user)
  if user == nil then
    return vim.deepcopy(M.defaults), {}
  end
  if type(user) ~= 'table' then
    return vim.deepcopy(M.defaults), { ('setup() expects a table, got %s; using the defaults'):format(type(user)) }
  end
  local warnings = {}
  return merge(M.defaults, user, '', warnings), warnings
end

--- Server settings as initializationOptions (camelCase); an empty model is left to the
--- server. Neovim's own inline completion (`native`) neither streams nor reports shows.
function M.init_options(opts, native)
  local out = {
    enabled = opts.enabled,
    streaming = opts.streaming and not native,
    reportsShown = opts.report_shown and not native,
  }
  for key, value in pairs(opts.server) do
    if not (key == 'model' and value == '') then
      local camel = key:gsub('_(%l)', string.upper)
      out[camel] = value
    end
  end
  return out
end

return M
