/* Chart.yaml: checked as Helm's loader and chart.Metadata.Validate check
 * it, and reduced to the fields Helm's repository index carries. Every
 * scalar is kept as its raw text (so version 1.10 stays "1.10", as
 * sigs.k8s.io/yaml reads it into Helm's string fields) after Helm's
 * sanitizeString (white space becomes a space, other control characters
 * go). Unknown fields are dropped, as Helm's non-strict read drops them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <fedgate/yaml.h>

#include "appstore.h"

#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 100000

struct ctx {
    char *err;
    size_t err_len;
};

static void *fail(struct ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail(struct ctx *c, int line, const char *fmt, ...)
{
    int n = line > 0 ? snprintf(c->err, c->err_len, "Chart.yaml:%d: ", line)
                     : snprintf(c->err, c->err_len, "Chart.yaml: ");
    if (n < 0 || (size_t)n >= c->err_len)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
    va_end(ap);
    return NULL;
}

/* A scalar's text as Helm's sanitizeString leaves it, as a cJSON string;
 * NULL with ERR when N is not a scalar. */
static cJSON *text(struct ctx *c, const struct fg_yaml_node *n,
                   const char *what)
{
    if (n->type != FG_YAML_SCALAR)
        return fail(c, n->line, "%s must be a string", what);
    size_t len = strlen(n->text);
    char *s = malloc(len + 1);
    if (!s)
        return fail(c, 0, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)n->text[i];
        if (ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f')
            s[o++] = ' ';
        else if (ch >= 0x20 && ch != 0x7f)
            s[o++] = (char)ch;
    }
    s[o] = 0;
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v ? v : fail(c, 0, "out of memory");
}

/* go-yaml's (YAML 1.1) booleans. */
static cJSON *boolean(struct ctx *c, const struct fg_yaml_node *n,
                      const char *what)
{
    static const char *const yes[] = {"y", "yes", "on", "true"};
    static const char *const no[] = {"n", "no", "off", "false"};
    if (n->type == FG_YAML_SCALAR && n->plain) {
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(n->text, yes[i]) == 0)
                return cJSON_CreateTrue();
            if (strcasecmp(n->text, no[i]) == 0)
                return cJSON_CreateFalse();
        }
    }
    return fail(c, n->line, "%s must be true or false", what);
}

static cJSON *text_list(struct ctx *c, const struct fg_yaml_node *n,
                        const char *what)
{
    if (n->type != FG_YAML_SEQ)
        return fail(c, n->line, "%s must be a list of strings", what);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n->n; i++) {
        cJSON *v = text(c, n->items[i], what);
        if (!v) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, v);
    }
    return a ? a : fail(c, 0, "out of memory");
}

/* A map's fields by name, each read by its reader; NAMES, KINDS: 's'
 * string, 'b' bool, 'l' list of strings, 'i' import-values. */
struct field {
    const char *name;
    char kind;
};

static cJSON *import_values(struct ctx *c, const struct fg_yaml_node *n);

static cJSON *fields(struct ctx *c, const struct fg_yaml_node *m,
                     const struct field *f, const char *what)
{
    if (m->type != FG_YAML_MAP)
        return fail(c, m->line, "%s must be a map", what);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return fail(c, 0, "out of memory");
    for (; f->name; f++) {
        const struct fg_yaml_node *v = fg_yaml_get(m, f->name);
        if (fg_yaml_is_null(v))
            continue;
        cJSON *j = f->kind == 's'   ? text(c, v, f->name)
                   : f->kind == 'b' ? boolean(c, v, f->name)
                   : f->kind == 'l' ? text_list(c, v, f->name)
                                    : import_values(c, v);
        if (!j) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, f->name, j);
    }
    return o;
}

/* Helm's import-values: strings, or maps of child and parent. */
static cJSON *import_values(struct ctx *c, const struct fg_yaml_node *n)
{
    static const struct field cp[] = {{"child", 's'}, {"parent", 's'}, {0}};
    if (n->type != FG_YAML_SEQ)
        return fail(c, n->line, "import-values must be a list");
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n->n; i++) {
        const struct fg_yaml_node *it = n->items[i];
        cJSON *v = it->type == FG_YAML_MAP
                       ? fields(c, it, cp, "an import-values entry")
                       : text(c, it, "an import-values entry");
        if (!v) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, v);
    }
    return a ? a : fail(c, 0, "out of memory");
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int charset(const char *s, const char *extra)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || strchr(extra, ch)))
            return 0;
    }
    return 1;
}

static cJSON *maintainers(struct ctx *c, const struct fg_yaml_node *n)
{
    static const struct field f[] = {
        {"name", 's'}, {"email", 's'}, {"url", 's'}, {0}};
    if (n->type != FG_YAML_SEQ)
        return fail(c, n->line, "maintainers must be a list");
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n->n; i++) {
        cJSON *m = fields(c, n->items[i], f, "a maintainer");
        if (m && !*str(m, "name")) {
            cJSON_Delete(m);
            m = fail(c, n->items[i]->line, "maintainers must have a name");
        }
        if (!m) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, m);
    }
    return a ? a : fail(c, 0, "out of memory");
}

static cJSON *dependencies(struct ctx *c, const struct fg_yaml_node *n)
{
    static const struct field f[] = {
        {"name", 's'},          {"version", 's'}, {"repository", 's'},
        {"condition", 's'},     {"tags", 'l'},    {"enabled", 'b'},
        {"import-values", 'i'}, {"alias", 's'},   {0}};
    if (n->type != FG_YAML_SEQ)
        return fail(c, n->line, "dependencies must be a list");
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n->n; i++) {
        int line = n->items[i]->line;
        cJSON *d = fields(c, n->items[i], f, "a dependency");
        const char *key = d ? str(d, "alias") : "";
        if (d && !*str(d, "name")) {
            cJSON_Delete(d);
            d = fail(c, line, "dependencies must have a name");
        } else if (d && *key && !charset(key, "_-")) {
            fail(c, line, "dependency alias \"%.64s\" is invalid", key);
            cJSON_Delete(d); /* after the message: KEY is in D */
            d = NULL;
        }
        if (d && !*key)
            key = str(d, "name");
        const cJSON *o = NULL;
        cJSON_ArrayForEach(o, a)
        {
            const char *k = *str(o, "alias") ? str(o, "alias") : str(o, "name");
            if (d && strcmp(k, key) == 0) {
                cJSON_Delete(d);
                d = fail(c, line,
                         "more than one dependency with name or alias "
                         "\"%.64s\"",
                         k);
                break;
            }
        }
        if (!d) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, d);
    }
    return a ? a : fail(c, 0, "out of memory");
}

/* The checks of Metadata.Validate, on the fields read. */
static cJSON *validate(struct ctx *c, cJSON *md, const struct fg_yaml_node *r)
{
    const char *api = str(md, "apiVersion");
    const char *name = str(md, "name");
    const char *version = str(md, "version");
    const char *type = str(md, "type");
    struct appstore_semver sv;
    const char *why = NULL;
    char buf[200];
    if (!*api)
        why = "apiVersion is required";
    else if (strcmp(api, "v1") != 0 && strcmp(api, "v2") != 0)
        why = "apiVersion must be v1 or v2";
    else if (!*name)
        why = "name is required";
    else if (!charset(name, "._-") || strcmp(name, ".") == 0 ||
             strcmp(name, "..") == 0) {
        snprintf(buf, sizeof buf, "name \"%.64s\" is invalid", name);
        why = buf;
    } else if (!*version)
        why = "version is required";
    else if (appstore_semver_parse(version, &sv) < 0) {
        snprintf(buf, sizeof buf,
                 "version \"%.64s\" is not a valid SemVer 2 version", version);
        why = buf;
    } else if (*type && strcmp(type, "application") != 0 &&
               strcmp(type, "library") != 0)
        why = "type must be application or library";
    else if (strcmp(api, "v1") == 0 &&
             cJSON_GetObjectItemCaseSensitive(md, "dependencies"))
        why = "dependencies are only allowed with apiVersion v2";
    if (!why)
        return md;
    cJSON_Delete(md);
    return fail(c, r->line, "%s", why);
}

cJSON *appstore_chart_metadata(const char *yaml, size_t len, char *err,
                               size_t err_len)
{
    static const struct field top[] = {
        {"apiVersion", 's'},  {"name", 's'},        {"version", 's'},
        {"kubeVersion", 's'}, {"description", 's'}, {"type", 's'},
        {"keywords", 'l'},    {"home", 's'},        {"sources", 'l'},
        {"icon", 's'},        {"appVersion", 's'},  {"deprecated", 'b'},
        {"condition", 's'},   {"tags", 's'},        {0}};
    struct ctx c = {err, err_len};
    struct fg_yaml_node **docs = NULL;
    char perr[256];
    long nd = fg_yaml_parse(yaml, len, "Chart.yaml", YAML_MAX_DEPTH,
                            YAML_MAX_NODES, &docs, perr, sizeof perr);
    if (nd < 0) {
        snprintf(err, err_len, "%s", perr); /* "Chart.yaml:LINE: why" */
        return NULL;
    }
    cJSON *md = NULL;
    if (nd == 0 || fg_yaml_is_null(docs[0]))
        fail(&c, 0, "the file is empty");
    else if (nd > 1)
        fail(&c, docs[1]->line, "more than one YAML document");
    else
        md = fields(&c, docs[0], top, "the document");
    const struct fg_yaml_node *r = md ? docs[0] : NULL;
    struct {
        const char *key;
        cJSON *(*read)(struct ctx *, const struct fg_yaml_node *);
    } const lists[] = {{"maintainers", maintainers},
                       {"dependencies", dependencies}};
    for (size_t i = 0; md && i < 2; i++) {
        const struct fg_yaml_node *v = fg_yaml_get(r, lists[i].key);
        if (fg_yaml_is_null(v))
            continue;
        cJSON *j = lists[i].read(&c, v);
        if (!j) {
            cJSON_Delete(md);
            md = NULL;
        } else {
            cJSON_AddItemToObject(md, lists[i].key, j);
        }
    }
    const struct fg_yaml_node *ann = r ? fg_yaml_get(r, "annotations") : NULL;
    if (md && !fg_yaml_is_null(ann)) {
        cJSON *a = ann->type == FG_YAML_MAP
                       ? cJSON_CreateObject()
                       : fail(&c, ann->line, "annotations must be a map");
        for (size_t i = 0; a && i + 1 < ann->n; i += 2) {
            cJSON *v = text(&c, ann->items[i + 1], "an annotation");
            if (!v) {
                cJSON_Delete(a);
                a = NULL;
            } else {
                cJSON_AddItemToObject(a, ann->items[i]->text, v);
            }
        }
        if (a)
            cJSON_AddItemToObject(md, "annotations", a);
        else {
            cJSON_Delete(md);
            md = NULL;
        }
    }
    if (md)
        md = validate(&c, md, r);
    fg_yaml_free_docs(docs, (size_t)nd);
    return md;
}

cJSON *appstore_chart_read(const void *data, size_t len,
                           const struct appstore_limits *lim, char *err,
                           size_t err_len)
{
    char *yaml;
    size_t yaml_len;
    if (appstore_archive_read(data, len, lim, &yaml, &yaml_len, err, err_len) <
        0)
        return NULL;
    cJSON *md = appstore_chart_metadata(yaml, yaml_len, err, err_len);
    free(yaml);
    return md;
}
