-- POST /api/v1/verify with one code (CODE from the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"code":"' .. os.getenv("CODE") .. '"}'
