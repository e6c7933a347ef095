-- wrk script: each request opens a ticket as the customer whose token is in $TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"subject":"Benchmark ticket","body":"Opened by the load test","priority":"P3"}'
