/*
 * embed.c: make the built-in modules loadable with require().
 *
 * Every embedded lua file (lua/twingate/x.lua) gets a loader in package.preload that loads
 * its source text in text mode with the chunk name "@lua/twingate/x.lua", so
 * tracebacks name the real file (mpv load_builtin). cjson and the C modules
 * (twingate.transport, twingate.sys) are preloaded the same way.
 *
 * TWINGATE_LUA_DIR=/path/to/lua makes each embedded module load from that
 * directory first when the file exists there, and adds the directory to
 * package.path, so developers can edit Lua without rebuilding.
 *
 * Relative entries ("./?.lua") are removed from package.path and cpath is
 * emptied: a script run from an untrusted directory must not be able to
 * shadow a module, and no C module is loaded from disk (mpv fuck_lua).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>

#include "embed.h"

int luaopen_cjson_safe(lua_State *L);  /* in liblua5.4-cjson.a, not in its header */

/*
 * Try to load module `name` from $TWINGATE_LUA_DIR. Returns 1 with the chunk
 * pushed when a file was found, 0 when there is none (nothing pushed); raises
 * on a syntax error in the file.
 */
static int load_from_dir(lua_State *L, const char *dir, const char *name)
{
    const char *suffixes[] = { ".lua", "/init.lua" };
    luaL_gsub(L, name, ".", "/");                      /* rel */
    for (size_t i = 0; i < 2; i++) {
        const char *path = lua_pushfstring(L, "%s/%s%s", dir, lua_tostring(L, -1),
                                           suffixes[i]); /* rel path */
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            fclose(f);
            if (luaL_loadfilex(L, path, "t") != LUA_OK)
                lua_error(L);
            lua_replace(L, -3);                        /* chunk path */
            lua_pop(L, 1);                             /* chunk */
            return 1;
        }
        lua_pop(L, 1);                                 /* rel */
    }
    lua_pop(L, 1);
    return 0;
}

/*
 * package.preload loader for one embedded module; upvalue 1 is its index in
 * tg_embedded_modules. Called as loader(name, extra) by require.
 */
static int l_load_embedded(lua_State *L)
{
    const tg_embedded_module *m =
        &tg_embedded_modules[lua_tointeger(L, lua_upvalueindex(1))];
    const char *dir = getenv("TWINGATE_LUA_DIR");
    int found = 0;
    if (dir != NULL && dir[0] != '\0')
        found = load_from_dir(L, dir, m->name);
    if (!found && luaL_loadbufferx(L, (const char *)m->src, m->len, m->chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, m->name);                        /* chunk name */
    lua_call(L, 1, 1);                                 /* module */
    return 1;
}

/* Keep only absolute entries of a ';'-separated search path. */
static void strip_relative(lua_State *L, const char *field)
{
    luaL_Buffer b;
    int first = 1;
    lua_getfield(L, -1, field);                        /* package path */
    const char *p = luaL_optstring(L, -1, "");
    luaL_buffinit(L, &b);
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[0] == '/') {
            if (!first)
                luaL_addchar(&b, ';');
            luaL_addlstring(&b, p, len);
            first = 0;
        }
        p += len;
        if (*p == ';')
            p++;
    }
    luaL_pushresult(&b);                               /* package path newpath */
    lua_setfield(L, -3, field);
    lua_pop(L, 1);                                     /* package */
}

void tg_embed_open(lua_State *L)
{
    static const luaL_Reg c_modules[] = {
        { "cjson",              luaopen_cjson },
        { "cjson.safe",         luaopen_cjson_safe },
        { "twingate.transport", luaopen_twingate_transport },
        { "twingate.sys",       luaopen_twingate_sys },
        { NULL, NULL }
    };
    const char *dir = getenv("TWINGATE_LUA_DIR");

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_LOADLIBNAME);              /* loaded package */
    lua_remove(L, -2);                                 /* package */

    strip_relative(L, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    /* Keep the preload and Lua searchers only: no C modules from disk. */
    lua_getfield(L, -1, "searchers");                  /* package searchers */
    for (lua_Integer n = (lua_Integer)luaL_len(L, -1); n > 2; n--) {
        lua_pushnil(L);
        lua_rawseti(L, -2, n);
    }
    lua_pop(L, 1);                                     /* package */
    if (dir != NULL && dir[0] != '\0') {
        lua_getfield(L, -1, "path");
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
        lua_setfield(L, -3, "path");
        lua_pop(L, 1);
    }

    lua_getfield(L, -1, "preload");                    /* package preload */
    for (const luaL_Reg *r = c_modules; r->name != NULL; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    for (lua_Integer i = 0; tg_embedded_modules[i].name != NULL; i++) {
        lua_pushinteger(L, i);
        lua_pushcclosure(L, l_load_embedded, 1);
        lua_setfield(L, -2, tg_embedded_modules[i].name);
    }
    lua_pop(L, 2);
}
