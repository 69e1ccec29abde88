local json = require("json")

-- Read a JSON config file into a table.
local function load_config(path)
  local file = io.open(path, "r")
  if not file then
    <|cursor|>
  end
  local text = file:read("*a")
  file:close()
  return json.decode(text)
end

return { load_config = load_config }
