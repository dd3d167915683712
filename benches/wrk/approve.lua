-- POST /api/v1/assessments/{id}/approve, each thread over its own range of submitted ids
-- (FIRST_ID .. FIRST_ID + COUNT - 1 from the environment), with the regulator's TOKEN.
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
  approved = 0
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  local this = next_id
  if next_id < last_id then next_id = next_id + 1 end
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
