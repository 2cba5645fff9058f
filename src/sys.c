/*
 * sys.c: the few system calls the Lua side needs (module "twingate.sys").
 *
 *   sys.now()            monotonic clock, seconds (float): for pacing and timeouts
 *   sys.time()           wall clock, seconds since the epoch (float): for logs
 *   sys.sleep(seconds)   sleep, resumed after signals
 *   sys.isatty(fd)       true if fd (0, 1, 2) is a terminal
 *   sys.file_mode(path)  permission bits (integer, e.g. 0600 = 384), or nil, err
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "embed.h"

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sys.now(): monotonic seconds; only differences are meaningful. */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, clock_seconds(CLOCK_MONOTONIC));
    return 1;
}

/* sys.time(): wall-clock seconds since the epoch, with sub-second precision. */
static int l_time(lua_State *L)
{
    lua_pushnumber(L, clock_seconds(CLOCK_REALTIME));
    return 1;
}

/* sys.sleep(seconds): sleep the whole duration even when signals interrupt it. */
static int l_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s < 1e9, 1, "seconds must be between 0 and 1e9");
    struct timespec req, rem;
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - floor(s)) * 1e9);
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
    return 0;
}

/* sys.isatty(fd): whether a file descriptor is a terminal (coloured output, prompts). */
static int l_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd));
    return 1;
}

/* sys.file_mode(path): permission bits of a file (stat follows symlinks), or nil, err. */
static int l_file_mode(lua_State *L)
{
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    /* stat() would silently look at the path cut at the first NUL. */
    luaL_argcheck(L, memchr(path, '\0', len) == NULL, 1, "path must not contain a NUL byte");
    struct stat st;
    if (stat(path, &st) != 0)
        return luaL_fileresult(L, 0, path);
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    return 1;
}

int luaopen_twingate_sys(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "now",       l_now },
        { "time",      l_time },
        { "sleep",     l_sleep },
        { "isatty",    l_isatty },
        { "file_mode", l_file_mode },
        { NULL, NULL }
    };
    luaL_newlib(L, funcs);
    return 1;
}
