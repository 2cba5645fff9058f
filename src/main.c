/*
 * main.c: the process. Parses argv into a flags table and runs
 * require("twingate.main").run(flags, script_kind, script, args, interp) in one
 * protected call (lua.c pmain/docall); the exit code is what run returns.
 *
 *   twingate-lua [options] SCRIPT.lua [ARGS...]
 *   twingate-lua [options] -e CODE [ARGS...]
 *   twingate-lua [options] - [ARGS...]
 *
 * Options end at the script name, -e CODE, "-" or "--". Values are passed to
 * Lua as strings; twingate.config validates them and applies the environment.
 * Exit codes: 0 ok, 1 script error, 2 usage/configuration (see --help),
 * 128 + N after signal N (SIGINT/SIGTERM, see open_interrupt).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "embed.h"

#define PROGNAME "twingate-lua"

#define EXIT_OK     0
#define EXIT_SCRIPT 1
#define EXIT_USAGE  2

static const char short_usage[] =
    "Usage: " PROGNAME " [options] SCRIPT.lua [ARGS...]\n"
    "       " PROGNAME " [options] -e CODE [ARGS...]\n"
    "       " PROGNAME " [options] - [ARGS...]\n"
    "Try '" PROGNAME " --help' for more information.\n";

static const char help_text[] =
    "Usage: " PROGNAME " [options] SCRIPT.lua [ARGS...]   run a script; ARGS reach it as `arg` and `...`\n"
    "       " PROGNAME " [options] -e CODE [ARGS...]      run a chunk of Lua\n"
    "       " PROGNAME " [options] - [ARGS...]            read the script from stdin\n"
    "\n"
    "Runs Lua 5.4 scripts with the `twingate` module (Twingate Admin API).\n"
    "Options end at the script name, -e CODE, '-' or '--'; the rest goes to the script.\n"
    "\n"
    "Options (each also from the environment; flags win):\n"
    "  --network NAME         network name, e.g. acme for acme.twingate.com   TWINGATE_NETWORK\n"
    "                         (a name containing a dot is used as the full host)\n"
    "  --url DOMAIN           base domain (default twingate.com)              TWINGATE_URL\n"
    "  --endpoint URL         full GraphQL URL; overrides --network/--url     TWINGATE_ENDPOINT\n"
    "  --api-token-file PATH  read the API token from a file (mode 0600)      TWINGATE_API_TOKEN_FILE\n"
    "                         or set the token itself in                      TWINGATE_API_TOKEN\n"
    "                         (never as a flag: it would show in ps)\n"
    "  --dry-run              never send a mutation; log each as planned      TWINGATE_DRY_RUN=1\n"
    "  --timeout SECONDS      total timeout per HTTP request (default 35)     TWINGATE_HTTP_TIMEOUT\n"
    "  --max-retries N        retries of a failed request (default 10)        TWINGATE_HTTP_MAX_RETRY\n"
    "  --rate-limit R:W[/S]|off  reads:writes a minute (default 60:20), or per  TWINGATE_RATE_LIMIT\n"
    "                         S seconds; off: no pacing\n"
    "  --page-size N          items per page in list queries (default 100)    TWINGATE_PAGE_SIZE\n"
    "  --log-format text|json log lines on stderr as text or JSON lines       TWINGATE_LOG_FORMAT\n"
    "  -v, --verbose          debug logging (a line per request) and tracebacks on errors\n"
    "  -q, --quiet            only warnings and errors\n"
    "  -e CODE                run CODE instead of a script file\n"
    "  -                      read the script from stdin\n"
    "  --                     end of options; the next argument is the script\n"
    "  -h, --help             this text\n"
    "      --version          print the version\n"
    "\n"
    "Other environment:\n"
    "  TWINGATE_LUA_DIR       load the built-in Lua modules from this lua/ directory first\n"
    "\n"
    "Exit codes:\n"
    "  0  done\n"
    "  1  the script failed (uncaught error, GraphQL error, failed mutation),\n"
    "     or the admin declined at the confirmation prompt\n"
    "  2  usage, configuration or input error (bad flag, missing setting, malformed CSV)\n"
    "  3  partial: the job finished but skipped rows or some changes failed\n"
    "  4  authentication failed (401/403)\n"
    "  5  the API could not be reached or kept failing (transport, HTTP 5xx, rate limit)\n"
    "  6  nothing done: every change a bulk job attempted failed\n"
    "  130, 143  interrupted by SIGINT / SIGTERM (a bulk job stops after the request\n"
    "     in flight and says how to resume; a second signal kills at once)\n"
    "\n"
    "Logs go to stderr, results to stdout.\n";

/* Options that take a value: command-line name -> key in the flags table. */
static const struct { const char *name; const char *key; } value_options[] = {
    { "--network",        "network" },
    { "--url",            "url" },
    { "--endpoint",       "endpoint" },
    { "--api-token-file", "api_token_file" },
    { "--timeout",        "timeout" },
    { "--max-retries",    "max_retries" },
    { "--log-format",     "log_format" },
    { "--rate-limit",     "rate_limit" },
    { "--page-size",      "page_size" },
    { NULL, NULL }
};

/*
 * SIGINT/SIGTERM (lua.c's laction/lstop): the handler only records the signal
 * and sets a hook; the hook runs at the next Lua instruction (never inside
 * curl: curl runs with NOSIGNAL and has no Lua in its callbacks) and raises
 * an "interrupted" error { interrupted = true, signal = N, message = ... },
 * unless Lua code deferred it (twingate.plan while applying: it polls
 * pending() between changes and stops cleanly). A second signal of the same
 * kind kills the process (default action).
 */
static lua_State *globalL = NULL;
static volatile sig_atomic_t got_signal = 0;
static int interrupt_deferred = 0;

#define INTERRUPTED_MT "twingate.interrupted"

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

/* Push the interrupted error object for `sig`. */
static void push_interrupted(lua_State *L, int sig)
{
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "interrupted");
    lua_pushinteger(L, sig);
    lua_setfield(L, -2, "signal");
    lua_pushfstring(L, "interrupted (%s)", signal_name(sig));
    lua_setfield(L, -2, "message");
    luaL_setmetatable(L, INTERRUPTED_MT);
}

static int interrupted_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    return 1;
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    if (interrupt_deferred || got_signal == 0)
        return;
    push_interrupted(L, (int)got_signal);
    lua_error(L);
}

static void on_signal(int sig)
{
    got_signal = sig;
    signal(sig, SIG_DFL);           /* a second one kills */
    if (globalL != NULL)
        lua_sethook(globalL, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* interrupt.pending() -> signal number or nil */
static int l_pending(lua_State *L)
{
    if (got_signal == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, got_signal);
    return 1;
}

/* interrupt.defer(on) -> previous: while on, a signal does not raise; poll pending() */
static int l_defer(lua_State *L)
{
    int prev = interrupt_deferred;
    interrupt_deferred = lua_toboolean(L, 1);
    /* a signal that came while deferred is the deferring code's to handle
       (it polled pending()); the hook is not re-armed here */
    lua_pushboolean(L, prev);
    return 1;
}

/* interrupt.error(sig) -> the interrupted error object */
static int l_error(lua_State *L)
{
    push_interrupted(L, (int)luaL_optinteger(L, 1, got_signal != 0 ? got_signal : SIGINT));
    return 1;
}

/* interrupt.signal_name(sig) -> "SIGINT" | "SIGTERM" | "signal" */
static int l_signal_name(lua_State *L)
{
    lua_pushstring(L, signal_name((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* package.loaded["twingate.interrupt"], and the handlers. */
static void open_interrupt(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "pending", l_pending }, { "defer", l_defer }, { "error", l_error },
        { "signal_name", l_signal_name }, { NULL, NULL }
    };
    luaL_newmetatable(L, INTERRUPTED_MT);
    lua_pushcfunction(L, interrupted_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "twingate.interrupt");
    lua_pop(L, 1);
    globalL = L;
    /* a signal ignored by the parent (a background job of a shell) stays ignored */
    int sigs[2] = { SIGINT, SIGTERM };
    for (int k = 0; k < 2; k++) {
        struct sigaction old;
        if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        signal(sigs[k], on_signal);
    }
}

/* Print a usage error and the short usage to stderr; returns the exit code. */
static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, PROGNAME ": ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n%s", short_usage);
    return EXIT_USAGE;
}

/* Add flags.verbose += 1 (-v may be repeated). */
static void bump_verbose(lua_State *L, int flags)
{
    lua_getfield(L, flags, "verbose");
    lua_Integer v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushinteger(L, v + 1);
    lua_setfield(L, flags, "verbose");
}

/* Push argv[from..argc-1] as an array. */
static void push_array(lua_State *L, char **argv, int from, int to)
{
    lua_createtable(L, to > from ? to - from : 0, 0);
    for (int i = from; i < to; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - from + 1);
    }
}

/*
 * Protected main: parse argv, then call twingate.main.run. Returns the exit
 * code as an integer; usage errors return 2 without running any Lua module.
 */
static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    const char *kind = NULL, *script = NULL;
    int i;

    luaL_checkversion(L);
    luaL_openlibs(L);
    tg_embed_open(L);

    lua_newtable(L);                                    /* flags */
    int flags = lua_gettop(L);
    for (i = 1; i < argc && kind == NULL; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 >= argc) {
                lua_pushinteger(L, usage_error("%s", "no script after '--'"));
                return 1;
            }
            kind = "file";
            script = argv[++i];
        } else if (strcmp(a, "-") == 0) {
            kind = "stdin";
            script = "-";
        } else if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) {
                lua_pushinteger(L, usage_error("option '%s' needs a value", a));
                return 1;
            }
            kind = "code";
            script = argv[++i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help_text, stdout);
            lua_pushinteger(L, EXIT_OK);
            return 1;
        } else if (strcmp(a, "--version") == 0) {
            printf(PROGNAME " %s (%s, %s)\n", TG_VERSION, LUA_RELEASE, curl_version());
            lua_pushinteger(L, EXIT_OK);
            return 1;
        } else if (strcmp(a, "--api-token") == 0 || strncmp(a, "--api-token=", 12) == 0) {
            fprintf(stderr, PROGNAME ": the API token is never accepted on the command line "
                    "(it would show in ps and shell history); set TWINGATE_API_TOKEN "
                    "or use --api-token-file PATH\n%s", short_usage);
            lua_pushinteger(L, EXIT_USAGE);
            return 1;
        } else if (strcmp(a, "--dry-run") == 0) {
            lua_pushboolean(L, 1);
            lua_setfield(L, flags, "dry_run");
        } else if (strcmp(a, "--quiet") == 0) {
            lua_pushboolean(L, 1);
            lua_setfield(L, flags, "quiet");
        } else if (strcmp(a, "--verbose") == 0) {
            bump_verbose(L, flags);
        } else if (a[0] == '-' && a[1] != '-' && a[1] != '\0'
                   && strspn(a + 1, "vq") == strlen(a + 1)) {
            /* -v, -vv, -q, -vq ... */
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'v') {
                    bump_verbose(L, flags);
                } else {
                    lua_pushboolean(L, 1);
                    lua_setfield(L, flags, "quiet");
                }
            }
        } else if (a[0] == '-') {
            int j;
            size_t n = strcspn(a, "=");
            for (j = 0; value_options[j].name != NULL; j++)
                if (strlen(value_options[j].name) == n && strncmp(a, value_options[j].name, n) == 0)
                    break;
            if (value_options[j].name == NULL) {
                lua_pushinteger(L, usage_error("unknown option '%s'", a));
                return 1;
            }
            const char *value;
            if (a[n] == '=') {
                value = a + n + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                lua_pushinteger(L, usage_error("option '%s' needs a value", a));
                return 1;
            }
            lua_pushstring(L, value);
            lua_setfield(L, flags, value_options[j].key);
        } else {
            kind = "file";
            script = a;
        }
    }
    if (kind == NULL) {
        lua_pushinteger(L, usage_error("%s", "no script given (a SCRIPT.lua, -e CODE or -)"));
        return 1;
    }

    open_interrupt(L);

    /* run(flags, kind, script, args, interp) */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "twingate.main");
    lua_call(L, 1, 1);                                  /* flags main */
    lua_getfield(L, -1, "run");                         /* flags main run */
    lua_pushvalue(L, flags);
    lua_pushstring(L, kind);
    lua_pushstring(L, script);
    push_array(L, argv, i, argc);                       /* arguments after the script */
    /* interpreter part, for arg[-n..-1]: everything before the script name */
    push_array(L, argv, 0, strcmp(kind, "code") == 0 ? i - 2 : i - 1);
    lua_call(L, 5, 1);                                  /* flags main code */
    int isint;
    lua_Integer code = lua_tointegerx(L, -1, &isint);
    if (!isint)
        code = lua_toboolean(L, -1) || lua_isnil(L, -1) ? EXIT_OK : EXIT_SCRIPT;
    lua_pushinteger(L, code);
    return 1;
}

/*
 * Message handler for the outer pcall (lua.c msghandler): turn a non-string
 * error into a string via __tostring and append a traceback. Errors reach it
 * only when twingate.main itself fails; script errors are handled in Lua.
 */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, PROGNAME ": cannot initialise libcurl\n");
        return EXIT_SCRIPT;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, PROGNAME ": cannot create Lua state: not enough memory\n");
        curl_global_cleanup();
        return EXIT_SCRIPT;
    }
    lua_pushcfunction(L, msghandler);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 1);
    int code;
    if (status == LUA_OK) {
        lua_Integer c = lua_tointeger(L, -1);
        code = c < 0 || c > 255 ? EXIT_SCRIPT : (int)c;
    } else {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, PROGNAME ": %s\n", msg != NULL ? msg : "(no error message)");
        code = EXIT_SCRIPT;
    }
    globalL = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    lua_close(L);
    curl_global_cleanup();
    /* Results that could not be written (disk full, closed pipe) are a failure. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROGNAME ": error writing to stdout\n");
        return code != EXIT_OK ? code : EXIT_SCRIPT;
    }
    return code;
}
