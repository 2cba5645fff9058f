--- Batched writes: many declarative mutations in few requests, each with its own outcome.
--
--   local batch = require "twingate.batch"
--   local op = batch.op(tg.groups, "update", g.id, { addedUserIds = ids })
--   --> { field = "groupUpdate", args = { id = g.id, addedUserIds = ids },
--   --    types = { id = "ID!", addedUserIds = "[ID]" }, selection = "ok error entity { id }",
--   --    idempotent = true }
--   local outcomes = batch.apply(tg, { { op = op1 }, { op = op2 }, ... }, { batch_size = 10 })
--   outcomes[i].status  --> "applied" | "failed" | "unknown" | "planned" | "skipped"
--
-- An op is plain data: the mutation's root `field`, its `args` (values, sent
-- only as GraphQL variables), their schema `types`, the payload `selection`,
-- whether resending it is harmless (`idempotent`), and optionally
-- `verify(tg, ctx) -> payload|nil` (asks the server whether the change is
-- already there; `ctx.started` is when it was first sent), `delete = true`
-- (a "does not exist" answer to a resend counts as done) and `snapshot =
-- { fn =, coll =, input = }` (set by `op` for kinds whose create definition
-- has `snapshot(coll, inputs) -> set of ids`: `apply` calls it once per
-- request for the request's ops before their first send, and `verify` gets
-- the ids as `ctx.existing`, so that nothing that existed before is taken
-- for the new object).
--
-- `apply` puts up to `batch_size` ops in one mutation document as aliased
-- fields (`b0: groupUpdate(id: $id0, ...) { ok error entity { id } }`); each
-- field's `ok`/`error` is its own outcome, so one failed change never hides
-- or stops the others. When a whole request fails:
-- * not processed (429s or connection failures past the retries, a document
--   the server refused as a whole): a refused batch of several is split and
--   sent one by one to isolate the bad op; otherwise the ops fail with the error;
-- * may have been processed (lost response, 5xx on a write): each op is
--   re-checked: `verify` asks the server, again and again over a grace window
--   (`verify_grace`, backoff VERIFY_BACKOFF) because the server may still be
--   processing the request, and the op is resent only when still absent after
--   it; an `idempotent` op is resent, any other op is reported as `unknown`
--   and never resent blindly. An op whose earlier send may have been applied
--   and whose resend fails ends `unknown`, never `failed`.
-- With `tg.dry_run` nothing is sent: every op is `planned`, and each request
-- that would have been sent is logged and returned in `opts.would_send`.
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"

local M = {}

--- Error kinds after which nothing more is sent by default: the token was
-- refused, the settings are wrong, or the API is unreachable or still
-- throttling after the http layer's retries (every later request would fail
-- the same way).
M.DEFAULT_STOP_ON = { auth = true, config = true, transport = true, rate_limited = true }

--- Default number of mutations per request.
M.DEFAULT_BATCH_SIZE = 10
--- Largest accepted batch size.
M.MAX_BATCH_SIZE = 100
--- How often an op that may have been applied is sent in total before its
-- outcome is reported as unknown.
M.MAX_SENDS = 3

local DEFAULT_SELECTION = "ok error entity { id }"

--- Seconds between the checks of a change that may have been applied (the
-- last one repeats until the grace window has passed).
M.VERIFY_BACKOFF = { 0.5, 1, 2, 4 }
--- Shortest grace window (seconds) for those checks.
M.MIN_VERIFY_GRACE = 10

--- How long (seconds) to keep checking whether a non-idempotent change that
-- may have been applied shows up before it is sent again: `tg.verify_grace`
-- when set, else max(request timeout, MIN_VERIFY_GRACE). A request we gave up
-- on after `timeout` seconds may still be processed by the server; it will
-- usually not take much longer than we were willing to wait, and the 10 s
-- floor covers a short --timeout (a 1 s timeout against a server taking 3 s).
-- @param tg client
-- @return seconds
function M.verify_grace(tg)
  if type(tg) == "table" and type(tg.verify_grace) == "number" then return tg.verify_grace end
  local t = type(tg) == "table" and ((type(tg.api) == "table" and tg.api.timeout) or tg.timeout) or nil
  return math.max(type(t) == "number" and t or 35, M.MIN_VERIFY_GRACE)
end

--- Call `check()` now and then after each backoff step (VERIFY_BACKOFF) until
-- it returns true or `grace` seconds have passed (measured with `now`, and
-- at least the sum of the sleeps, so a fake clock cannot loop forever).
-- @param check function() -> true when done
-- @param grace seconds
-- @param now function() -> seconds
-- @param sleep function(seconds)
-- @return true when check succeeded, false when the window passed
function M.poll(check, grace, now, sleep)
  if check() then return true end
  local start, slept, k = now(), 0, 0
  while true do
    local elapsed = math.max(now() - start, slept)
    if elapsed >= grace then return false end
    k = k + 1
    local d = math.min(M.VERIFY_BACKOFF[math.min(k, #M.VERIFY_BACKOFF)], grace - elapsed)
    sleep(d)
    slept = slept + d
    if check() then return true end
  end
end

-- The clock and sleep of a client (injectable in specs), else the program's.
function M.clock(tg)
  local now, sleep = type(tg) == "table" and tg.now or nil, type(tg) == "table" and tg.sleep or nil
  if not now or not sleep then
    local dnow, dsleep = require("twingate.ratelimit").default_clock()
    now, sleep = now or dnow, sleep or dsleep
  end
  return now, sleep
end

local sorted_keys = graphql.sorted_keys

local function bad(msg, level)
  errors.raise("invalid_argument", msg, nil, level or 3)
end

-- Lists travel as JSON arrays, also when empty.
local function value_for(t, v, field, k)
  if graphql.is_list(t) and v ~= json.null then
    local ok, res = pcall(graphql.list_value, v, k)
    if not ok then bad("batch op " .. field .. ": " .. (errors.is(res) and res.message or tostring(res)), 4) end
    return res
  end
  return v
end

--- Check an op and normalise its list values; returns the op.
-- @param op table (see the module comment)
-- @return op
-- @raise invalid_argument when malformed
function M.check(op)
  if type(op) ~= "table" then bad("batch op must be a table") end
  if type(op.field) ~= "string" or not op.field:match("^[_%a][_%w]*$") then
    bad("batch op: field must be a GraphQL field name")
  end
  op.args = op.args or {}
  op.types = op.types or {}
  if type(op.args) ~= "table" or type(op.types) ~= "table" then bad("batch op: args and types must be tables") end
  for k, v in pairs(op.args) do
    local t = op.types[k]
    if type(k) ~= "string" or not k:match("^[_%a][_%w]*$") then bad("batch op " .. op.field .. ": bad argument name") end
    if type(t) ~= "string" then bad("batch op " .. op.field .. ": no type for argument '" .. k .. "'") end
    op.args[k] = value_for(t, v, op.field, k)
  end
  op.selection = op.selection or (op.delete and "ok error" or DEFAULT_SELECTION)
  if op.verify ~= nil and type(op.verify) ~= "function" then bad("batch op: verify must be a function") end
  return op
end

--- Build an op from a collection's definition (collections.lua): the mutation
-- field, argument types and resend safety are the collection's.
-- @param coll a collection (`tg.groups`) or its class/definition table
-- @param action "create", "update" or "delete"
-- @param id the object's id (update, delete; nil for create)
-- @param input the mutation's arguments by API name (create, update)
-- @param opts `{ selection = "ok error entity { id name }" }`
-- @return op
-- @raise invalid_argument on an unknown action or argument, or a missing required one
function M.op(coll, action, id, input, opts)
  opts = opts or {}
  local def = type(coll) == "table" and (coll.def or coll.definition or coll) or nil
  if type(def) ~= "table" or not def.list_field then bad("batch.op: expects a collection (e.g. tg.groups)", 2) end
  local spec = def[action]
  if action ~= "create" and action ~= "update" and action ~= "delete" then
    bad("batch.op: action must be \"create\", \"update\" or \"delete\"", 2)
  end
  if type(spec) ~= "table" or not spec.field then
    bad("batch.op: " .. def.list_field .. " cannot " .. action .. " through the API", 2)
  end
  local where = def.list_field .. " " .. action
  local args, types = {}, {}
  if action ~= "create" then
    if type(id) ~= "string" or id == "" then bad("batch.op: " .. where .. " needs an id string", 2) end
    args.id, types.id = id, "ID!"
  end
  if action ~= "delete" then
    if input ~= nil and type(input) ~= "table" then bad("batch.op: " .. where .. ": input must be a table", 2) end
    local known = spec.args or {}
    for k, v in pairs(input or {}) do
      if type(k) ~= "string" or not known[k] then
        bad("batch.op: " .. where .. ": unknown field '" .. tostring(k) .. "' (valid: "
          .. table.concat(sorted_keys(known), ", ") .. ")", 2)
      end
      if v == json.null and known[k]:sub(-1) == "!" then bad("batch.op: " .. where .. ": '" .. k .. "' cannot be null", 2) end
      args[k], types[k] = v, known[k]
    end
    for k, t in pairs(known) do
      if t:sub(-1) == "!" and args[k] == nil then bad("batch.op: " .. where .. ": '" .. k .. "' is required", 2) end
    end
  end
  local op = {
    field = spec.field, args = args, types = types, action = action, kind = def.name,
    selection = opts.selection or (action == "delete" and "ok error" or DEFAULT_SELECTION),
  }
  if action == "update" then
    op.idempotent = spec.idempotent ~= false
  elseif action == "delete" then
    op.idempotent, op.delete = true, true
  else
    op.idempotent = spec.idempotent and true or false
    if spec.verify and type(coll.client) == "table" then
      local sel = (op.selection:match("entity%s*{(.*)}%s*$") or "id")
      if spec.snapshot then
        -- what exists before the first send (taken by apply, one read for a
        -- whole request's ops): verify never takes it for the new object
        op.snapshot = { fn = spec.snapshot, coll = coll, input = input }
      end
      op.verify = function(_, ctx)
        local node = spec.verify(coll, input, (ctx and ctx.started) or os.time(), sel,
          { existing = op.snapshot and op.snapshot.ids or nil })
        if node then return { ok = true, entity = node, verified = true } end
        return nil
      end
    end
  end
  return M.check(op)
end

--- The text of an op's field with variables named after its arguments (for
-- `graphql.batch`): `groupUpdate(addedUserIds: $addedUserIds, id: $id) { ok error entity { id } }`.
local function template(op)
  local call = {}
  for _, k in ipairs(sorted_keys(op.args)) do call[#call + 1] = k .. ": $" .. k end
  local t = op.field
  if #call > 0 then t = t .. "(" .. table.concat(call, ", ") .. ")" end
  return t .. " { " .. op.selection .. " }"
end

-- Types of the arguments actually sent.
local function sent_types(op)
  local t = {}
  for k in pairs(op.args) do t[k] = op.types[k] end
  return t
end

--- Build the document of one request for a list of ops.
-- @param ops array of ops
-- @return doc, variables, aliases (alias of ops[i] at aliases[i]), operation name
function M.document(ops)
  local items, same = {}, ops[1] and ops[1].field
  for i, op in ipairs(ops) do
    items[i] = { template = template(op), types = sent_types(op), values = op.args }
    if op.field ~= same then same = nil end
  end
  local name = same and (same:sub(1, 1):upper() .. same:sub(2) .. "Batch") or "Batch"
  local doc, vars, aliases = graphql.batch{ type = "mutation", name = name, items = items, prefix = "b" }
  return doc, vars, aliases, name
end

local function does_not_exist(text)
  return type(text) == "string" and text:lower():find("does not exist", 1, true) ~= nil
end

-- The GraphQL error message that belongs to one alias, if any.
local function error_for(err, alias)
  for _, e in ipairs(type(err.errors) == "table" and err.errors or {}) do
    if type(e) == "table" and type(e.path) == "table" and e.path[1] == alias then
      return errors.new("graphql", tostring(e.message), { operation = err.operation })
    end
  end
  return err
end

--- Apply ops in batched requests.
-- @param tg client (uses `tg:mutate` and `tg.dry_run`)
-- @param items array of `{ op = op, ... }` (other fields are kept, e.g. the change)
-- @param opts table: `batch_size` (default 10), `on_send(items)` (before each
--   request, with the items in it: write the journal here), `on_result(item,
--   outcome)` (once per item, when its outcome is final), `stop_on` (set of
--   error kinds after which nothing more is sent; default DEFAULT_STOP_ON),
--   `would_send` (array filled with `{ operation =, document =, variables = }`
--   in a dry run), `started` (per-item `ctx.started` for verify: function(item)),
--   `interrupted` (function: truthy when the run was interrupted; checked
--   before each request: the rest are then skipped, "not attempted: interrupted")
-- @return array of outcomes parallel to items: `{ status = "applied"|"failed"|
--   "unknown"|"planned"|"skipped", result = payload, error = err, verified =
--   bool, sends = n, reason = text }`; and the number of requests sent
function M.apply(tg, items, opts)
  opts = opts or {}
  local size = opts.batch_size or M.DEFAULT_BATCH_SIZE
  if math.type(size) ~= "integer" or size < 1 or size > M.MAX_BATCH_SIZE then
    bad("batch size must be an integer from 1 to " .. M.MAX_BATCH_SIZE, 2)
  end
  local stop_on = opts.stop_on or M.DEFAULT_STOP_ON
  local outcomes, requests = {}, 0
  local state = {}   -- per index: { sends = n, ctx = {}, solo = bool }
  for i, it in ipairs(items) do
    M.check(it.op)
    state[i] = { sends = 0, ctx = { started = opts.started and opts.started(it) or nil } }
  end

  local function finish(i, outcome)
    outcome.sends = state[i].sends
    outcomes[i] = outcome
    if opts.on_result then opts.on_result(items[i], outcome) end
  end

  if tg.dry_run then
    local list = {}
    for i = 1, #items do list[#list + 1] = i end
    for a = 1, #list, size do
      local ops = {}
      for b = a, math.min(a + size - 1, #list) do ops[#ops + 1] = items[list[b]].op end
      local doc, vars, _, name = M.document(ops)
      -- one short line per request at info; the variables (large) only at debug (-v)
      local msg = "dry-run: " .. name .. " with " .. #ops .. " mutation" .. (#ops == 1 and "" or "s") .. " not sent"
      if log.enabled("debug") then
        local ok, text = pcall(json.encode, vars)
        log.debug(msg, { operation = name, variables = errors.redact(ok and text or "?") })
      else
        log.info(msg, { operation = name })
      end
      if opts.would_send then
        opts.would_send[#opts.would_send + 1] = { operation = name, document = doc, variables = vars }
      end
    end
    for i = 1, #items do finish(i, { status = "planned" }) end
    return outcomes, 0
  end

  -- Work queue of item indexes; a chunk is taken from the front.
  local queue = {}
  for i = 1, #items do queue[#queue + 1] = i end
  local stopped

  local function payload_outcome(i, p)
    local op = items[i].op
    if type(p) ~= "table" then
      return { status = "failed", error = errors.new("mutation", op.field .. ": no result in the response") }
    end
    if p.ok == false then
      if op.delete and state[i].sends > 1 and does_not_exist(p.error) then
        return { status = "applied", result = p, already_done = true }
      end
      return { status = "failed", error = errors.new("mutation", op.field .. " failed: "
        .. tostring(p.error or "no reason given"), { field = op.field, payload_error = p.error }) }
    end
    return { status = "applied", result = p }
  end

  -- The request may have been processed: decide per item. Ops with verify
  -- are checked over a grace window (the server may still be working on the
  -- request) and resent only when still absent after it.
  local function recheck(chunk, err, front)
    local pending = {}
    for _, i in ipairs(chunk) do
      local op, st = items[i].op, state[i]
      st.maybe = true
      if op.verify then
        pending[#pending + 1] = i
      elseif op.idempotent then
        if st.sends < M.MAX_SENDS then
          front[#front + 1] = i
        else
          finish(i, { status = "unknown", error = err,
            reason = "the request may have been applied; no answer after " .. st.sends .. " sends" })
        end
      else
        finish(i, { status = "unknown", error = err,
          reason = "the request may have been applied; not resent (not safe to repeat, no way to check)" })
      end
    end
    if #pending == 0 then return end
    local function check()
      local left = {}
      for _, i in ipairs(pending) do
        local op = items[i].op
        local ok, res = pcall(op.verify, tg, state[i].ctx)
        if not ok then
          local kind = errors.is(res) and res.kind or nil
          if kind and stop_on[kind] then stopped = stopped or res end
          finish(i, { status = "unknown", error = errors.is(res) and res or err,
            reason = "the request may have been applied and checking failed: " .. tostring(res) })
        elseif res ~= nil then
          log.info("the change was applied although the request failed", { field = op.field })
          finish(i, { status = "applied", result = res, verified = true })
        else
          left[#left + 1] = i
        end
      end
      pending = left
      return #pending == 0
    end
    local grace = M.verify_grace(tg)
    local now, sleep = M.clock(tg)
    if M.poll(check, grace, now, sleep) then return end
    for _, i in ipairs(pending) do
      local st = state[i]
      if st.sends < M.MAX_SENDS then
        log.warn(string.format("resending %s: the request may have been applied but the change was "
          .. "still not there after checking for %g s", items[i].op.field, grace),
          { field = items[i].op.field, error = err.message, send = st.sends + 1 })
        front[#front + 1] = i
      else
        finish(i, { status = "unknown", error = err, reason = "the request may have been applied; "
          .. "not found after " .. st.sends .. " sends and checks" })
      end
    end
  end

  -- A request (or the read before it) failed without reaching the API's
  -- mutations: each op failed, or is unknown when an earlier send may have
  -- been applied; stop_on kinds stop the run.
  local function fail_chunk(chunk, err)
    local kind = errors.is(err) and err.kind or nil
    for _, i in ipairs(chunk) do
      if state[i].maybe then
        -- an earlier send may have been applied; this one was not
        finish(i, { status = "unknown", error = err, reason = "an earlier send may have been applied; "
          .. "the resend failed: " .. tostring(err) })
      else
        finish(i, { status = "failed", error = err })
      end
    end
    if kind and stop_on[kind] then stopped = err end
  end

  -- Before the first send of ops with a `snapshot` (creates whose check after
  -- a lost response must not take an existing object for the new one): one
  -- call per snapshot function for the whole chunk. Returns the error of a
  -- failed read, if any.
  local function take_snapshots(chunk)
    local groups, order = {}, {}
    for _, i in ipairs(chunk) do
      local sn = items[i].op.snapshot
      if type(sn) == "table" and sn.ids == nil then
        local g = groups[sn.fn]
        if not g then g = { coll = sn.coll, inputs = {}, snaps = {} }; groups[sn.fn] = g; order[#order + 1] = sn.fn end
        g.inputs[#g.inputs + 1] = sn.input
        g.snaps[#g.snaps + 1] = sn
      end
    end
    for _, fn in ipairs(order) do
      local g = groups[fn]
      local ok, ids = pcall(fn, g.coll, g.inputs)
      if not ok then return ids end
      for _, sn in ipairs(g.snaps) do sn.ids = ids end
    end
    return nil
  end

  local function send_chunk(chunk)
    local ops, chunk_items = {}, {}
    for k, i in ipairs(chunk) do
      ops[k] = items[i].op
      chunk_items[k] = items[i]
      state[i].sends = state[i].sends + 1
      state[i].ctx.started = state[i].ctx.started or os.time()
    end
    if opts.on_send then opts.on_send(chunk_items) end
    local doc, vars, aliases, name = M.document(ops)
    requests = requests + 1
    local ok, res = pcall(tg.mutate, tg, doc, vars, { raise = false, operation = name })
    if ok then
      for k, i in ipairs(chunk) do finish(i, payload_outcome(i, res[aliases[k]])) end
    else
      local err = res
      local kind = errors.is(err) and err.kind or nil
      if kind == "graphql" and type(err.data) == "table" then
        -- executed, with errors on some fields: their payloads are null
        for k, i in ipairs(chunk) do
          local p = err.data[aliases[k]]
          if type(p) == "table" then
            finish(i, payload_outcome(i, p))
          else
            finish(i, { status = "failed", error = error_for(err, aliases[k]) })
          end
        end
      elseif kind == "graphql" and #chunk > 1 then
        -- refused as a whole before running: find the bad op by sending one by one
        log.warn("a batch was refused as a whole; sending its changes one by one",
          { operation = name, error = err.message })
        for k = #chunk, 1, -1 do
          local i = chunk[k]
          state[i].solo = true
          state[i].sends = state[i].sends - 1
          table.insert(queue, 1, i)
        end
      elseif errors.is(err) and err.maybe_applied then
        local front = {}
        recheck(chunk, err, front)
        for k = #front, 1, -1 do table.insert(queue, 1, front[k]) end
      else
        fail_chunk(chunk, err)
      end
    end
  end

  while #queue > 0 do
    if not stopped and opts.interrupted and opts.interrupted() then
      -- SIGINT/SIGTERM: send nothing more; what was sent is settled already
      for _, i in ipairs(queue) do
        if state[i].maybe then
          finish(i, { status = "unknown", reason = "an earlier send may have been applied; "
            .. "not checked or resent: interrupted" })
        else
          finish(i, { status = "skipped", reason = "not attempted: interrupted" })
        end
      end
      break
    end
    if stopped then
      for _, i in ipairs(queue) do
        if state[i].maybe then
          finish(i, { status = "unknown", error = stopped, reason = "an earlier send may have been applied; "
            .. "not checked or resent after an earlier " .. stopped.kind .. " error" })
        else
          finish(i, { status = "skipped", reason = "not attempted after an earlier " .. stopped.kind .. " error" })
        end
      end
      break
    end
    local chunk = {}
    local n = (state[queue[1]].solo) and 1 or size
    while #chunk < n and #queue > 0 and not (#chunk > 0 and state[queue[1]].solo) do
      chunk[#chunk + 1] = table.remove(queue, 1)
    end
    local serr = take_snapshots(chunk)
    if serr then
      fail_chunk(chunk, serr)
    else
      send_chunk(chunk)
    end
  end
  return outcomes, requests
end

return M
