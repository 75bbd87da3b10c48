/* The audit Policy: kube-apiserver's audit.k8s.io/v1 Policy file read from
 * YAML or JSON, and its rules matched as kube-apiserver's policy checker
 * matches them: the first rule whose every field matches gives the level
 * (None when no rule matches); omitStages of the policy and of that rule
 * are both left out. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

struct strv {
    char **v;
    size_t n;
};

struct group_resources {
    char *group;
    struct strv resources, names;
};

struct rule {
    enum audit_level level;
    struct strv users, groups, verbs, namespaces, urls;
    struct group_resources *resources;
    size_t n_resources;
    unsigned omit;
};

struct audit_policy {
    struct rule *rules;
    size_t n_rules;
    unsigned omit;
};

struct ctx {
    const char *name;
    char *err;
    size_t err_len;
};

static const char *const level_names[] = {"None", "Metadata", "Request",
                                          "RequestResponse"};
static const char *const stage_names[] = {"RequestReceived", "ResponseStarted",
                                          "ResponseComplete", "Panic"};

const char *audit_level_name(enum audit_level level)
{
    return level_names[level];
}

static int bad(struct ctx *c, const struct fg_yaml_node *n, const char *fmt,
               ...) __attribute__((format(printf, 3, 4)));

/* Writes "NAME:LINE: why" into the context's ERR; returns -1. */
static int bad(struct ctx *c, const struct fg_yaml_node *n, const char *fmt,
               ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->err_len, "%s:%d: %s", c->name, n->line, why);
    return -1;
}

static void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

void audit_policy_free(struct audit_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rules; i++) {
        struct rule *r = &p->rules[i];
        strv_free(&r->users);
        strv_free(&r->groups);
        strv_free(&r->verbs);
        strv_free(&r->namespaces);
        strv_free(&r->urls);
        for (size_t j = 0; j < r->n_resources; j++) {
            free(r->resources[j].group);
            strv_free(&r->resources[j].resources);
            strv_free(&r->resources[j].names);
        }
        free(r->resources);
    }
    free(p->rules);
    free(p);
}

/* ---- reading ------------------------------------------------------------ */

/* What one key of a map is read into: KEY is its index in the map's key
 * list, V its value, INTO what the map fills. */
typedef int (*field_fn)(struct ctx *c, int key, const struct fg_yaml_node *v,
                        void *into);

/* Reads map N, whose keys must be among KEYS (NULL-terminated), each at
 * most once, handing each value to ONE. Returns the bits of the keys seen,
 * or -1 with ERR. */
static long read_map(struct ctx *c, const struct fg_yaml_node *n,
                     const char *what, const char *const *keys, field_fn one,
                     void *into)
{
    if (n->type != FG_YAML_MAP)
        return bad(c, n, "%s must be a map", what);
    unsigned long seen = 0;
    for (size_t i = 0; i < n->n; i += 2) {
        const char *key = n->items[i]->text;
        int k = 0;
        while (keys[k] && strcmp(key, keys[k]) != 0)
            k++;
        if (!keys[k])
            return bad(c, n->items[i], "unknown field \"%s\" in %s", key, what);
        if (seen & (1ul << k))
            return bad(c, n->items[i], "\"%s\" is given twice", key);
        seen |= 1ul << k;
        if (one(c, k, n->items[i + 1], into) != 0)
            return -1;
    }
    return (long)seen;
}

static int scalar(struct ctx *c, const struct fg_yaml_node *n, const char *key)
{
    return n->type == FG_YAML_SCALAR ? 0 : bad(c, n, "%s must be a value", key);
}

/* A list of strings (a YAML null or [] is an empty list). */
static int read_strv(struct ctx *c, const struct fg_yaml_node *n,
                     const char *key, struct strv *out)
{
    if (n->type == FG_YAML_SCALAR && (strcmp(n->text, "null") == 0 ||
                                      strcmp(n->text, "~") == 0 || !*n->text))
        return 0;
    if (n->type != FG_YAML_SEQ)
        return bad(c, n, "%s must be a list", key);
    if (n->n && !(out->v = calloc(n->n, sizeof(*out->v))))
        return bad(c, n, "out of memory");
    for (size_t i = 0; i < n->n; i++) {
        if (scalar(c, n->items[i], key) != 0)
            return -1;
        if (!(out->v[out->n] = strdup(n->items[i]->text)))
            return bad(c, n, "out of memory");
        out->n++;
    }
    return 0;
}

static int read_level(struct ctx *c, const struct fg_yaml_node *n,
                      enum audit_level *out)
{
    if (scalar(c, n, "level") != 0)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(n->text, level_names[i]) == 0) {
            *out = (enum audit_level)i;
            return 0;
        }
    return bad(c, n,
               "level \"%s\" is not one of None, Metadata, Request, "
               "RequestResponse",
               n->text);
}

static int read_stages(struct ctx *c, const struct fg_yaml_node *n,
                       unsigned *out)
{
    struct strv s = {0};
    int rc = read_strv(c, n, "omitStages", &s);
    for (size_t i = 0; rc == 0 && i < s.n; i++) {
        size_t k = 0;
        while (k < 4 && strcmp(s.v[i], stage_names[k]) != 0)
            k++;
        if (k == 4)
            rc = bad(c, n, "omitStages: \"%s\" is not a stage", s.v[i]);
        else
            *out |= 1u << k;
    }
    strv_free(&s);
    return rc;
}

/* A bool the gateway accepts and has no use for (omitManagedFields: it
 * records no bodies). */
static int read_bool(struct ctx *c, const struct fg_yaml_node *n,
                     const char *key)
{
    if (scalar(c, n, key) != 0)
        return -1;
    if (strcmp(n->text, "true") != 0 && strcmp(n->text, "false") != 0)
        return bad(c, n, "%s must be true or false", key);
    return 0;
}

static int group_resources_field(struct ctx *c, int key,
                                 const struct fg_yaml_node *v, void *into)
{
    struct group_resources *g = into;
    if (key == 1)
        return read_strv(c, v, "resources", &g->resources);
    if (key == 2)
        return read_strv(c, v, "resourceNames", &g->names);
    if (scalar(c, v, "group") != 0)
        return -1;
    return (g->group = strdup(v->text)) ? 0 : bad(c, v, "out of memory");
}

static int read_resources(struct ctx *c, const struct fg_yaml_node *v,
                          struct rule *r)
{
    static const char *const keys[] = {"group", "resources", "resourceNames",
                                       NULL};
    if (v->type != FG_YAML_SEQ)
        return bad(c, v, "resources must be a list");
    if (v->n && !(r->resources = calloc(v->n, sizeof(*r->resources))))
        return bad(c, v, "out of memory");
    for (size_t j = 0; j < v->n; j++) {
        struct group_resources *g = &r->resources[r->n_resources++];
        if (read_map(c, v->items[j], "a resources entry", keys,
                     group_resources_field, g) < 0)
            return -1;
        if (!g->group && !(g->group = strdup("")))
            return bad(c, v->items[j], "out of memory");
        if (g->names.n && !g->resources.n)
            return bad(c, v->items[j], "resourceNames requires resources");
    }
    return 0;
}

static int rule_field(struct ctx *c, int key, const struct fg_yaml_node *v,
                      void *into)
{
    struct rule *r = into;
    struct strv *lists[] = {NULL,           &r->users, &r->groups, &r->verbs,
                            &r->namespaces, NULL,      &r->urls};
    static const char *const names[] = {
        NULL,         "users", "userGroups",     "verbs",
        "namespaces", NULL,    "nonResourceURLs"};
    switch (key) {
    case 0:
        return read_level(c, v, &r->level);
    case 5:
        return read_resources(c, v, r);
    case 7:
        return read_stages(c, v, &r->omit);
    case 8:
        return read_bool(c, v, "omitManagedFields");
    default:
        return read_strv(c, v, names[key], lists[key]);
    }
}

static int read_rule(struct ctx *c, const struct fg_yaml_node *n,
                     struct rule *r)
{
    static const char *const keys[] = {"level",
                                       "users",
                                       "userGroups",
                                       "verbs",
                                       "namespaces",
                                       "resources",
                                       "nonResourceURLs",
                                       "omitStages",
                                       "omitManagedFields",
                                       NULL};
    long seen = read_map(c, n, "a rule", keys, rule_field, r);
    if (seen < 0)
        return -1;
    if (!(seen & 1))
        return bad(c, n, "a rule needs a level");
    if (r->urls.n && (r->n_resources || r->namespaces.n))
        return bad(c, n,
                   "a rule matches resources or nonResourceURLs, not both");
    for (size_t i = 0; i < r->urls.n; i++) {
        const char *star = strchr(r->urls.v[i], '*');
        if (star && star[1])
            return bad(c, n,
                       "nonResourceURLs: \"%s\": '*' only as the last "
                       "character",
                       r->urls.v[i]);
    }
    return 0;
}

static int read_rules(struct ctx *c, const struct fg_yaml_node *v,
                      struct audit_policy *p)
{
    if (v->type != FG_YAML_SEQ || v->n == 0)
        return bad(c, v, "rules must be a list of at least one rule");
    if (!(p->rules = calloc(v->n, sizeof(*p->rules))))
        return bad(c, v, "out of memory");
    for (size_t i = 0; i < v->n; i++) {
        p->n_rules++;
        if (read_rule(c, v->items[i], &p->rules[i]) != 0)
            return -1;
    }
    return 0;
}

static int policy_field(struct ctx *c, int key, const struct fg_yaml_node *v,
                        void *into)
{
    static const char *const want[] = {"audit.k8s.io/v1", "Policy"};
    static const char *const names[] = {"apiVersion", "kind"};
    struct audit_policy *p = into;
    switch (key) {
    case 0:
    case 1:
        if (scalar(c, v, names[key]) != 0)
            return -1;
        return strcmp(v->text, want[key]) == 0
                   ? 0
                   : bad(c, v, "%s \"%s\" is not %s", names[key], v->text,
                         want[key]);
    case 2:
        return v->type == FG_YAML_MAP ? 0 : bad(c, v, "metadata must be a map");
    case 3:
        return read_stages(c, v, &p->omit);
    case 4:
        return read_rules(c, v, p);
    default:
        return read_bool(c, v, "omitManagedFields");
    }
}

static int read_policy(struct ctx *c, const struct fg_yaml_node *root,
                       struct audit_policy *p)
{
    static const char *const keys[] = {
        "apiVersion",        "kind", "metadata", "omitStages", "rules",
        "omitManagedFields", NULL};
    long seen = read_map(c, root, "the policy", keys, policy_field, p);
    if (seen < 0)
        return -1;
    if (!(seen & (1 << 4)))
        return bad(c, root, "the policy needs a list of rules");
    return 0;
}

struct audit_policy *audit_policy_parse(const char *name, const char *buf,
                                        size_t len, char *err, size_t err_len)
{
    struct fg_yaml_node **docs = NULL;
    long n = fg_yaml_parse(buf, len, name, AUDIT_YAML_MAX_DEPTH,
                           AUDIT_YAML_MAX_NODES, &docs, err, err_len);
    if (n != 1) {
        if (n == 0)
            snprintf(err, err_len, "%s: the file is empty", name);
        else if (n > 1)
            snprintf(err, err_len,
                     "%s:%d: more than one document (one Policy per file)",
                     name, docs[1]->line);
        if (n > 0)
            fg_yaml_free_docs(docs, (size_t)n);
        return NULL;
    }
    struct fg_yaml_node *root = docs[0];
    free(docs);
    struct ctx c = {name, err, err_len};
    struct audit_policy *p = calloc(1, sizeof(*p));
    if (!p)
        snprintf(err, err_len, "%s: out of memory", name);
    if (p && read_policy(&c, root, p) != 0) {
        audit_policy_free(p);
        p = NULL;
    }
    fg_yaml_free(root);
    return p;
}

struct audit_policy *audit_policy_load(const char *file, size_t max_bytes,
                                       char *err, size_t err_len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: %s", file,
                 fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > max_bytes) {
        snprintf(err, err_len, "%s: larger than %zu bytes", file, max_bytes);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        snprintf(err, err_len, "%s: %s", file,
                 buf ? "could not be read whole" : "out of memory");
        free(buf);
        return NULL;
    }
    struct audit_policy *p = audit_policy_parse(file, buf, got, err, err_len);
    free(buf);
    return p;
}

int audit_policy_wants_bodies(const struct audit_policy *p)
{
    for (size_t i = 0; i < p->n_rules; i++)
        if (p->rules[i].level > AUDIT_LEVEL_METADATA)
            return 1;
    return 0;
}

/* ---- matching ----------------------------------------------------------- */

static int has(const struct strv *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return 1;
    return 0;
}

/* One entry of `resources` (kube: "*", "pods", "pods/log", "pods/ *",
 * "* /scale" without the spaces). */
static int resource_matches(const char *spec, const char *resource,
                            const char *sub)
{
    size_t rlen = strlen(resource), slen = strlen(spec);
    if (strcmp(spec, "*") == 0)
        return 1;
    if (!*sub)
        return strcmp(spec, resource) == 0;
    if (strncmp(spec, "*/", 2) == 0)
        return strcmp(spec + 2, sub) == 0;
    if (slen == rlen + 2 && strncmp(spec, resource, rlen) == 0 &&
        strcmp(spec + rlen, "/*") == 0)
        return 1;
    return slen > rlen && strncmp(spec, resource, rlen) == 0 &&
           spec[rlen] == '/' && strcmp(spec + rlen + 1, sub) == 0;
}

static int resources_match(const struct rule *r,
                           const struct fg_request_info *info)
{
    if (!info->is_resource)
        return 0;
    if (r->namespaces.n && !has(&r->namespaces, info->namespace_))
        return 0;
    if (!r->n_resources)
        return 1;
    for (size_t i = 0; i < r->n_resources; i++) {
        const struct group_resources *g = &r->resources[i];
        if (strcmp(g->group, info->api_group) != 0)
            continue;
        if (!g->resources.n)
            return 1;
        if (g->names.n && !has(&g->names, info->name))
            continue;
        for (size_t j = 0; j < g->resources.n; j++)
            if (resource_matches(g->resources.v[j], info->resource,
                                 info->subresource))
                return 1;
    }
    return 0;
}

static int url_matches(const struct strv *urls, const char *path)
{
    for (size_t i = 0; i < urls->n; i++) {
        const char *spec = urls->v[i];
        size_t n = strlen(spec);
        if (strcmp(spec, path) == 0 ||
            (n && spec[n - 1] == '*' && strncmp(spec, path, n - 1) == 0))
            return 1;
    }
    return 0;
}

static int rule_matches(const struct rule *r, const struct fg_identity *id,
                        const struct fg_request_info *info)
{
    if (r->users.n && (!id || !has(&r->users, id->user)))
        return 0;
    if (r->groups.n) {
        int in = 0;
        for (size_t i = 0; id && !in && i < id->n_groups; i++)
            in = has(&r->groups, id->groups[i]);
        if (!in)
            return 0;
    }
    if (r->verbs.n && !has(&r->verbs, info->verb))
        return 0;
    if (r->namespaces.n || r->n_resources)
        return resources_match(r, info);
    if (r->urls.n)
        return !info->is_resource && url_matches(&r->urls, info->path);
    return 1;
}

enum audit_level audit_policy_level(const struct audit_policy *p,
                                    const struct fg_identity *id,
                                    const struct fg_request_info *info,
                                    unsigned *omit)
{
    *omit = p->omit;
    for (size_t i = 0; i < p->n_rules; i++)
        if (rule_matches(&p->rules[i], id, info)) {
            *omit |= p->rules[i].omit;
            return p->rules[i].level;
        }
    return AUDIT_LEVEL_NONE;
}
