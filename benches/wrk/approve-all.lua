-- Approves every submission in FIRST_ID .. FIRST_ID + COUNT - 1 once; past the end of its range
-- a thread only asks /healthz until wrk's duration is over.
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
  local per = math.ceil(count / n)
  next_id = first + (id - 1) * per
  last_id = math.min(next_id + per - 1, first + count - 1)
  approved = 0
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  if next_id > last_id then
    return wrk.format("GET", "/healthz")
  end
  local this = next_id
  next_id = next_id + 1
  return wrk.format("POST", "/api/v1/assessments/" .. this .. "/approve")
end

function response(status, headers, body)
  if status == 201 then approved = approved + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("approved") end
  io.write(string.format("approved %d\n", total))
end
