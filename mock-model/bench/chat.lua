-- wrk -t1 -c16 -d5s -s mock-model/bench/chat.lua http://127.0.0.1:18090/v1/chat/completions
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
