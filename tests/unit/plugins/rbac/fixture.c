/* Policies from YAML text and requests through the core's request info
 * parser, for the rbac unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "request/arena.h"
#include "request/request_info.h"

struct rbac_policy *policy_from(const char *yaml, char *err, size_t err_len)
{
    char dir[] = "/tmp/fg-rbac-test-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rules.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    struct rbac_policy *p = rbac_load(path, 1 << 20, err, err_len);
    if (!p) { /* name the file as the tests expect it */
        char *at = strstr(err, "rules.yaml");
        if (at)
            memmove(err, at, strlen(at) + 1);
    }
    unlink(path);
    rmdir(dir);
    return p;
}

static struct fg_arena *arena;
static struct fg_request_info info;
static struct fg_identity identity;
static const char *group_list[16];
static char group_text[256];
static struct rbac_attrs attrs;

static void arena_free(void)
{
    fg_arena_free(arena);
}

const struct rbac_attrs *request(const char *user, const char *groups,
                                 const char *member, const char *method,
                                 const char *path, const char *query)
{
    if (!arena) {
        assert_non_null(arena = fg_arena_new(0));
        atexit(arena_free);
    }
    assert_int_equal(fg_request_info_parse(arena, method, path, query, &info),
                     0);
    identity.user = user;
    identity.n_groups = 0;
    snprintf(group_text, sizeof(group_text), "%s", groups);
    for (char *save = NULL, *g = strtok_r(group_text, ",", &save); g;
         g = strtok_r(NULL, ",", &save))
        group_list[identity.n_groups++] = g;
    identity.groups = group_list;
    struct fg_policy_request req = {.method = method,
                                    .path = path,
                                    .member = member,
                                    .info = &info,
                                    .identity = &identity};
    rbac_attrs_of(&req, &attrs);
    return &attrs;
}

int allowed(const struct rbac_policy *p, const char *user, const char *groups,
            const char *member, const char *method, const char *path)
{
    const char *q = strchr(path, '?');
    char bare[512];
    snprintf(bare, sizeof(bare), "%.*s",
             q ? (int)(q - path) : (int)strlen(path), path);
    return rbac_allows(p, request(user, groups, member, method, bare,
                                  q ? q + 1 : NULL)) != NULL;
}
