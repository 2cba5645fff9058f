/*
 * transport.c: the libcurl binding, module "twingate.transport".
 *
 *   local h = transport.new{ user_agent = ..., connect_timeout = 10, timeout = 35,
 *                            max_redirects = 0, max_body = 256 * 1024 * 1024 }
 *   local res, code, msg, sent = h:request{ url = ..., method = "POST",
 *                                           headers = { [name] = value }, body = "...",
 *                                           timeout = 35, max_body = N }
 *   h:close()
 *   transport.version
 *
 * One easy handle per object, reused so connections are kept alive. Request
 * table in; status, headers (lower-cased names) and body out. No JSON, retries
 * or status logic here: that policy lives in Lua (http.lua).
 *
 * Curl callbacks only append to C buffers owned by the handle; no Lua runs
 * inside curl_easy_perform, so no longjmp can cross libcurl. Buffers and the
 * header list live in the userdata, so an error raised anywhere leaks nothing:
 * they are released on the next request, on close or by __gc.
 *
 * Failures return nil, curl code, message, sent. `sent` is false only when no
 * byte of the request can have reached a server (resolve/connect/TLS failed,
 * or a timeout before the transfer started), so a write can be retried safely.
 * Header values are never returned or logged (the X-API-KEY is one of them);
 * CURLOPT_VERBOSE is never set.
 *
 * Redirects are not followed unless max_redirects > 0: libcurl would send every
 * custom header (the X-API-KEY) to whatever host a Location names. http.lua
 * follows redirects itself, with a policy on hosts and schemes.
 *
 * A response body larger than max_body bytes (after decompression) aborts the
 * transfer: nil, CURLE_WRITE_ERROR, "response larger than N bytes", true.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "embed.h"

#define TG_TRANSPORT_MT "twingate.transport"

/* A growable byte buffer filled from curl callbacks (malloc, never Lua). */
typedef struct {
    char *data;
    size_t len, cap;
    size_t max;                 /* refuse to grow past this many bytes (0 = no limit) */
    int failed;                 /* out of memory while appending */
    int too_large;              /* would have grown past max */
} tg_buf;

#define TG_DEFAULT_MAX_BODY ((lua_Integer)256 * 1024 * 1024)
#define TG_MAX_HEADERS_BYTES ((size_t)1024 * 1024)

typedef struct {
    CURL *curl;                 /* NULL once closed */
    struct curl_slist *req_headers;
    tg_buf body;
    tg_buf headers;             /* raw header lines of the last response */
    long timeout_ms;            /* default total timeout */
    size_t max_body;            /* default maximum response body, bytes */
    char errbuf[CURL_ERROR_SIZE];
} tg_transport;

static void buf_reset(tg_buf *b)
{
    b->len = 0;
    b->failed = 0;
    b->too_large = 0;
}

static void buf_free(tg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int buf_append(tg_buf *b, const char *p, size_t n)
{
    if (b->max > 0 && (n > b->max || b->len > b->max - n)) {
        b->too_large = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (b->max > 0 && cap > b->max + 1)
            cap = b->max + 1;       /* never reserve more than the limit allows */
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 1;
}

/* CURLOPT_WRITEFUNCTION: append body bytes; returning less aborts the transfer. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    tg_buf *b = ud;
    return buf_append(b, p, size * n) ? size * n : 0;
}

/*
 * CURLOPT_HEADERFUNCTION: collect header lines. A status line starts a new
 * response (redirects, 100 Continue), so only the final response's headers
 * are kept.
 */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    tg_buf *b = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        buf_reset(b);
    return buf_append(b, p, len) ? len : 0;
}

/* Release everything curl-side; safe to call twice. */
static void transport_free(tg_transport *t)
{
    if (t->curl != NULL) {
        curl_easy_cleanup(t->curl);
        t->curl = NULL;
    }
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    buf_free(&t->body);
    buf_free(&t->headers);
}

/* The userdata at `idx`, raising on a wrong type (liolib tolstream). */
static tg_transport *check_transport(lua_State *L, int idx)
{
    return (tg_transport *)luaL_checkudata(L, idx, TG_TRANSPORT_MT);
}

/* The userdata at `idx`, raising when it was closed (liolib tofile). */
static tg_transport *check_open(lua_State *L, int idx)
{
    tg_transport *t = check_transport(L, idx);
    if (t->curl == NULL)
        luaL_error(L, "attempt to use a closed transport handle");
    return t;
}

/* Optional number field `key` of the table at `idx`, in seconds, as milliseconds. */
static long opt_ms(lua_State *L, int idx, const char *key, long def)
{
    long ms = def;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        int ok;
        lua_Number s = lua_tonumberx(L, -1, &ok);
        /* Written so that NaN fails too (every comparison with NaN is false). */
        if (!ok || !isfinite(s) || !(s > 0 && s <= 86400))
            luaL_argerror(L, idx, lua_pushfstring(L,
                "'%s' must be a number of seconds between 0 and 86400", key));
        ms = (long)(s * 1000.0 + 0.5);
        if (ms < 1)
            ms = 1;
    }
    lua_pop(L, 1);
    return ms;
}

/* Optional string field `key` of the table at `idx` (left on the stack while used). */
static const char *opt_field_string(lua_State *L, int idx, const char *key)
{
    int type = lua_getfield(L, idx, key);
    if (type == LUA_TNIL)
        return NULL;
    if (type != LUA_TSTRING)
        luaL_error(L, "'%s' must be a string", key);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (memchr(s, '\0', len) != NULL)
        luaL_argerror(L, idx, lua_pushfstring(L, "'%s' must not contain a NUL byte", key));
    return s;
}

/* Optional integer field `key` of the table at `idx`, within [lo, hi]. */
static lua_Integer opt_int(lua_State *L, int idx, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = def;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < lo || v > hi)
            luaL_argerror(L, idx, lua_pushfstring(L, "'%s' must be an integer between %I and %I",
                                                  key, lo, hi));
    }
    lua_pop(L, 1);
    return v;
}

/* A method is an HTTP token (RFC 9110 5.6.2): no space, CR, LF, NUL or separators. */
static int valid_method(const char *m, size_t len)
{
    if (len == 0 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)m[i];
        if (!(isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL) || ch == '\0')
            return 0;
    }
    return 1;
}

/*
 * transport.new([opts]) -> handle. Options: user_agent, connect_timeout (10),
 * timeout (35), max_redirects (0: redirects are returned, not followed),
 * max_body (256 MiB). The handle keeps its connection alive between requests.
 */
static int l_new(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);

    long connect_ms = opt_ms(L, 1, "connect_timeout", 10000);
    long timeout_ms = opt_ms(L, 1, "timeout", 35000);
    long max_redirects = (long)opt_int(L, 1, "max_redirects", 0, 0, 50);
    lua_Integer max_body = opt_int(L, 1, "max_body", TG_DEFAULT_MAX_BODY, 1,
                                   (lua_Integer)1 << 40);
    const char *ua = opt_field_string(L, 1, "user_agent");
    if (ua == NULL)
        ua = "twingate-lua/" TG_VERSION;

    tg_transport *t = lua_newuserdatauv(L, sizeof *t, 0);   /* opts [ua] t */
    memset(t, 0, sizeof *t);
    luaL_setmetatable(L, TG_TRANSPORT_MT);
    t->timeout_ms = timeout_ms;
    t->max_body = (size_t)max_body;
    t->body.max = t->max_body;
    t->headers.max = TG_MAX_HEADERS_BYTES;
    t->curl = curl_easy_init();
    if (t->curl == NULL)
        return luaL_error(L, "curl_easy_init failed");

    CURL *c = t->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, max_redirects);
    curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t->headers);
    return 1;
}

/* Build the request header list from the table at `idx` into t->req_headers. */
static void set_headers(lua_State *L, tg_transport *t, int idx)
{
    int has_expect = 0;
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    if (!lua_isnil(L, idx)) {
        luaL_argcheck(L, lua_istable(L, idx), 1, "'headers' must be a table");
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {               /* key value */
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "header names and values must be strings");
            size_t nlen, vlen;
            const char *name = lua_tolstring(L, -2, &nlen);
            const char *value = lua_tolstring(L, -1, &vlen);
            /* A CR or LF would let a value smuggle extra headers. */
            if (nlen == 0 || strpbrk(name, "\r\n:") != NULL || strlen(name) != nlen
                || strpbrk(value, "\r\n") != NULL || strlen(value) != vlen)
                luaL_error(L, "invalid header name or value for '%s'", name);
            if (strcasecmp(name, "Expect") == 0)
                has_expect = 1;
            /* "Name;" sends an empty header; "Name: value" a normal one. */
            const char *line = vlen == 0 ? lua_pushfstring(L, "%s;", name)
                                         : lua_pushfstring(L, "%s: %s", name, value);
            struct curl_slist *l = curl_slist_append(t->req_headers, line);
            if (l == NULL)
                luaL_error(L, "out of memory");
            t->req_headers = l;
            lua_pop(L, 2);                             /* key */
        }
    }
    if (!has_expect) {
        /* No "Expect: 100-continue" round trip on bodies over 1 KiB. */
        struct curl_slist *l = curl_slist_append(t->req_headers, "Expect:");
        if (l == NULL)
            luaL_error(L, "out of memory");
        t->req_headers = l;
    }
}

/* Push the collected response headers as a table with lower-cased names. */
static void push_headers(lua_State *L, const tg_buf *b)
{
    lua_newtable(L);
    if (b->data == NULL)
        return;
    const char *p = b->data, *end = b->data + b->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        if (eol == NULL)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL && colon > p && !(eol - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            luaL_Buffer name;
            luaL_buffinit(L, &name);
            for (const char *q = p; q < colon; q++)
                luaL_addchar(&name, (char)tolower((unsigned char)*q));
            luaL_pushresult(&name);                    /* h name */
            const char *v = colon + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) == LUA_TSTRING) {     /* h name old */
                /* Repeated header: join as HTTP allows (RFC 9110 5.3). */
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(ve - v));
                lua_concat(L, 3);
            } else {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(ve - v));
            }
            lua_rawset(L, -3);                         /* h */
        }
        p = next;
    }
}

/* Whether a failed transfer provably sent nothing (safe to retry a write). */
static int provably_unsent(CURL *c, CURLcode rc)
{
    long redirects = 0;
    curl_off_t request_size = 0, pretransfer = 0;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_COUNT, &redirects);
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
    curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    if (redirects > 0 || request_size > 0)
        return 0;
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return 1;
    case CURLE_OPERATION_TIMEDOUT:
        /* Timed out while connecting: the request never started. */
        return pretransfer == 0;
    default:
        return 0;
    }
}

/*
 * h:request{ url, method, headers, body, timeout, fresh_connect } ->
 *   { status, headers, body, url, time } | nil, code, message, sent
 */
static int l_request(lua_State *L)
{
    tg_transport *t = check_open(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    CURL *c = t->curl;

    lua_getfield(L, 2, "url");                          /* 3 */
    size_t url_len;
    const char *url = luaL_checklstring(L, 3, &url_len);
    if (memchr(url, '\0', url_len) != NULL)
        return luaL_argerror(L, 2, "'url' must not contain a NUL byte");
    size_t body_len = 0;
    const char *body = NULL;
    if (lua_getfield(L, 2, "body") != LUA_TNIL) {       /* 4: kept alive during perform */
        if (lua_type(L, 4) != LUA_TSTRING)
            return luaL_error(L, "'body' must be a string");
        body = lua_tolstring(L, 4, &body_len);
    }
    lua_getfield(L, 2, "method");                       /* 5 */
    size_t method_len;
    const char *method = luaL_optlstring(L, 5, body != NULL ? "POST" : "GET", &method_len);
    if (!valid_method(method, method_len))
        return luaL_argerror(L, 2, "'method' must be an HTTP token (no spaces, CR, LF or NUL)");
    lua_getfield(L, 2, "headers");                      /* 6 */
    set_headers(L, t, 6);
    long timeout_ms = opt_ms(L, 2, "timeout", t->timeout_ms);
    lua_Integer max_body = opt_int(L, 2, "max_body", (lua_Integer)t->max_body, 1,
                                   (lua_Integer)1 << 40);
    lua_getfield(L, 2, "fresh_connect");                /* 7 */
    long fresh = lua_toboolean(L, 7) ? 1L : 0L;

    curl_easy_setopt(c, CURLOPT_URL, url);
    /* A write goes out on a new connection: on a reused one, libcurl silently sends
     * the request again when the connection dies before any answer, and a server
     * that had processed it would apply it twice. A fresh connection is never
     * retried that way. */
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    if (strcmp(method, "GET") == 0 && body == NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0 && body == NULL) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->req_headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    buf_reset(&t->body);
    buf_reset(&t->headers);
    t->body.max = (size_t)max_body;
    t->errbuf[0] = '\0';

    CURLcode rc = curl_easy_perform(c);
    /* The body string must not be used by curl after this call. */
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);

    if (rc == CURLE_OK && (t->body.failed || t->headers.failed))
        rc = CURLE_OUT_OF_MEMORY;
    if (t->body.too_large || t->headers.too_large) {
        lua_pushnil(L);
        lua_pushinteger(L, (lua_Integer)CURLE_WRITE_ERROR);
        if (t->body.too_large)
            lua_pushfstring(L, "response larger than %I bytes", max_body);
        else
            lua_pushfstring(L, "response headers larger than %I bytes",
                            (lua_Integer)TG_MAX_HEADERS_BYTES);
        lua_pushboolean(L, 1);
        buf_free(&t->body);
        return 4;
    }
    if (rc != CURLE_OK) {
        lua_pushnil(L);
        lua_pushinteger(L, (lua_Integer)rc);
        lua_pushstring(L, t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(rc));
        lua_pushboolean(L, !provably_unsent(c, rc));
        return 4;
    }

    long status = 0;
    double total = 0;
    char *effective = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);

    lua_createtable(L, 0, 5);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    push_headers(L, &t->headers);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, t->body.data != NULL ? t->body.data : "", t->body.len);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, effective != NULL ? effective : url);
    lua_setfield(L, -2, "url");
    lua_pushnumber(L, total);
    lua_setfield(L, -2, "time");
    /* Do not keep large bodies around between requests. */
    if (t->body.cap > (1u << 20)) {
        buf_free(&t->body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &t->body);
    }
    return 1;
}

/* h:close(): release the handle and its connection; idempotent. */
static int l_close(lua_State *L)
{
    transport_free(check_transport(L, 1));
    return 0;
}

/* __gc / __close: the same as close. */
static int l_gc(lua_State *L)
{
    transport_free(check_transport(L, 1));
    return 0;
}

static int l_tostring(lua_State *L)
{
    tg_transport *t = check_transport(L, 1);
    if (t->curl == NULL)
        lua_pushliteral(L, "twingate.transport (closed)");
    else
        lua_pushfstring(L, "twingate.transport (%p)", (void *)t);
    return 1;
}

int luaopen_twingate_transport(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "request", l_request },
        { "close",   l_close },
        { NULL, NULL }
    };
    static const luaL_Reg meta[] = {
        { "__index",    NULL },
        { "__gc",       l_gc },
        { "__close",    l_gc },
        { "__tostring", l_tostring },
        { NULL, NULL }
    };
    static const luaL_Reg funcs[] = {
        { "new", l_new },
        { NULL, NULL }
    };
    if (luaL_newmetatable(L, TG_TRANSPORT_MT)) {       /* mt */
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);                       /* mt methods */
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);                             /* module */
    lua_pushstring(L, curl_version());
    lua_setfield(L, -2, "version");
    return 1;
}
