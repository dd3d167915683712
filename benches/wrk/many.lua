-- Cycles through the lines of the file LINES, each thread from its own offset: with
-- MODE=get each line is a path to GET; with MODE=verify each line is a code to POST to
-- /api/v1/verify. Counts answers other than 200 and prints them at the end.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(os.getenv("LINES")) do table.insert(lines, line) end
  mode = os.getenv("MODE") or "get"
  at = ((id - 1) * 7919) % #lines
  not_ok = 0
end

function request()
  at = at % #lines + 1
  if mode == "verify" then
    return wrk.format("POST", "/api/v1/verify", {["Content-Type"] = "application/json"},
      '{"code":"' .. lines[at] .. '"}')
  end
  return wrk.format("GET", lines[at])
end

function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("not_ok") end
  io.write(string.format("not_ok %d\n", total))
end
