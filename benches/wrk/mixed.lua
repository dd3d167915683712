-- A city's mix: verify (POST), scan pages (GET /c/...), previews (POST, regulator) and
-- approvals (POST, regulator). Counts 5xx answers and prints them at the end.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local first = tonumber(os.getenv("FIRST_ID"))
  local count = tonumber(os.getenv("COUNT"))
  local n = tonumber(os.getenv("THREADS"))
  local per = math.floor(count / n)
  next_id = first + (id - 1) * per
  last_id = next_id + per - 1
  code = os.getenv("CODE")
  token = os.getenv("TOKEN")
  preview = os.getenv("PREVIEW")
  n_req, errors, by_status = 0, 0, {}
end

function request()
  n_req = n_req + 1
  local k = n_req % 10
  if k < 4 then
    return wrk.format("POST", "/api/v1/verify", {["Content-Type"] = "application/json"}, '{"code":"' .. code .. '"}')
  elseif k < 7 then
    return wrk.format("GET", "/c/" .. string.sub(code, string.find(code, "/C/") + 3))
  elseif k < 9 then
    return wrk.format("POST", "/api/v1/assessments/preview",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, preview)
  else
    local this = next_id
    if next_id < last_id then next_id = next_id + 1 end
    return wrk.format("POST", "/api/v1/assessments/" .. this .. "/approve", {["Authorization"] = "Bearer " .. token})
  end
end

function response(status, headers, body)
  by_status[status] = (by_status[status] or 0) + 1
  if status >= 500 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local total, counts = 0, {}
  for _, t in ipairs(threads) do
    total = total + t:get("errors")
    for s, n in pairs(t:get("by_status")) do counts[s] = (counts[s] or 0) + n end
  end
  local line = ""
  for s, n in pairs(counts) do line = line .. s .. ":" .. n .. " " end
  io.write(string.format("statuses %s\nserver_errors %d\n", line, total))
end
