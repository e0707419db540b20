-- wrk script for the `http` workload (bench/http_server.py): each connection cycles through
-- four requests, so routing, query strings, path parameters and JSON in both directions are
-- all exercised: a paged, filtered list; one item by id; one item through two path
-- parameters; a POST of a JSON object (which the server validates and stores).
local n = 0
local tags = { "red", "green", "blue", "small", "large", "sale" }
local owners = { "ada", "brian", "chen", "dora" }
local json_headers = { ["Content-Type"] = "application/json" }

request = function()
  n = n + 1
  local k = n % 4
  if k == 0 then
    local body = string.format(
      '{"name": "widget %d", "owner": "%s", "price": %d.25, "stock": %d, "tags": ["%s", "%s"]}',
      n, owners[n % 4 + 1], n % 500, n % 40, tags[n % 6 + 1], tags[(n + 3) % 6 + 1])
    return wrk.format("POST", "/api/items", json_headers, body)
  elseif k == 1 then
    return wrk.format("GET", string.format("/api/items?limit=5&offset=%d&tag=%s&fields=id,name,price",
      n % 20, tags[n % 6 + 1]))
  elseif k == 2 then
    -- ids 101-120 are POSTed ones: each 404s until the first POSTs have come in
    return wrk.format("GET", string.format("/api/items/%d", n % 120 + 1))
  else
    -- owner i % 4 owns item i + 1 of the first hundred
    local id = n % 100 + 1
    return wrk.format("GET", string.format("/api/users/%s/items/%d?verbose=1", owners[(id - 1) % 4 + 1], id))
  end
end
