-- The whole user config of a test Neovim: the plugin from this checkout, setup() with the
-- test's options, then the test's scenario.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
package.path = here .. '/?.lua;' .. package.path

local H = require('harness')
vim.opt.runtimepath:prepend(H.config.plugin)
vim.o.swapfile = false
require('ghostwright').setup(H.config.setup)
H.run(dofile(here .. '/scenarios/' .. H.config.scenario .. '.lua'))
