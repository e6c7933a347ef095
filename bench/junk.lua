-- Junk requests for scripts/bench_junk.sh: random long path segments, odd methods, some page paths.
local methods = { "GET", "GET", "GET", "POST", "BREW", "PROPFIND", "M-SEARCH" }
local charset = "abcdefghijklmnopqrstuvwxyz0123456789"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

local function segment(n)
  local t = {}
  for i = 1, n do
    local k = math.random(1, #charset)
    t[i] = charset:sub(k, k)
  end
  return table.concat(t)
end

request = function()
  local method = methods[math.random(1, #methods)]
  local path
  if math.random() < 0.1 then
    path = "/" .. segment(40) .. "/" .. math.random(1, 1e9)
  else
    path = "/api/v1/" .. segment(150) .. "/" .. math.random(1, 1e9)
  end
  return wrk.format(method, path)
end
