/* OpenAPI documents for the mock member: /openapi/v2 (Swagger 2.0) and
 * /openapi/v3 with one document per group-version, generated from the kind
 * registry and the schemas of schema.c on each request. kubectl needs them:
 * apply, create -f, replace -f and diff refuse to run without one ("failed
 * to download openapi"), explain reads the v3 schemas, and a PATCH
 * operation that lists the fieldValidation parameter makes kubectl leave
 * validation to the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define CT_JSON "application/json"

struct gen {
    int v3;
    int bad; /* an unknown name or memory failure */
};

static int full_name(const char *pkg, const char *name, char *buf, size_t len)
{
    return snprintf(buf, len, "%s.%s", pkg, name) < (int)len ? 0 : -1;
}

static cJSON *ref(struct gen *g, const char *full)
{
    const char *prefix = g->v3 ? "#/components/schemas/" : "#/definitions/";
    size_t len = strlen(prefix) + strlen(full) + 1;
    char *buf = malloc(len);
    if (buf)
        snprintf(buf, len, "%s%s", prefix, full);
    cJSON *o = buf ? cJSON_CreateObject() : NULL;
    int ok = o && cJSON_AddStringToObject(o, "$ref", buf);
    free(buf);
    if (!ok) {
        cJSON_Delete(o);
        g->bad = 1;
        return NULL;
    }
    return o;
}

static cJSON *type_schema(struct gen *g, const char *t, size_t n);

static cJSON *scalar(const char *type, const char *format)
{
    cJSON *o = cJSON_CreateObject();
    if (o && type)
        cJSON_AddStringToObject(o, "type", type);
    if (o && format)
        cJSON_AddStringToObject(o, "format", format);
    return o;
}

static cJSON *type_schema(struct gen *g, const char *t, size_t n)
{
    if (n == 1) {
        switch (t[0]) {
        case 's':
            return scalar("string", NULL);
        case 'i':
            return scalar("integer", "int32");
        case 'l':
            return scalar("integer", "int64");
        case 'b':
            return scalar("boolean", NULL);
        case 'n':
            return scalar("number", "double");
        case 't':
            return scalar("string", "date-time");
        case 'q':
        case 'x': {
            cJSON *o = scalar(NULL, t[0] == 'x' ? "int-or-string" : NULL);
            if (o)
                cJSON_AddBoolToObject(o, "x-kubernetes-int-or-string", 1);
            return o;
        }
        case 'o': {
            cJSON *o = scalar("object", NULL);
            if (o)
                cJSON_AddBoolToObject(o, "x-kubernetes-preserve-unknown-fields",
                                      1);
            return o;
        }
        default:
            break;
        }
    }
    if (n >= 2 && t[0] == '{' && t[n - 1] == '}') {
        cJSON *o = scalar("object", NULL);
        cJSON *inner = type_schema(g, t + 1, n - 2);
        if (!o || !inner) {
            cJSON_Delete(o);
            cJSON_Delete(inner);
            g->bad = 1;
            return NULL;
        }
        cJSON_AddItemToObject(o, "additionalProperties", inner);
        return o;
    }
    if (n >= 2 && t[0] == '[') {
        const char *close = memchr(t, ']', n);
        if (!close) {
            g->bad = 1;
            return NULL;
        }
        cJSON *o = scalar("array", NULL);
        cJSON *inner = type_schema(g, t + 1, (size_t)(close - t - 1));
        if (!o || !inner) {
            cJSON_Delete(o);
            cJSON_Delete(inner);
            g->bad = 1;
            return NULL;
        }
        cJSON_AddItemToObject(o, "items", inner);
        const char *rest = close + 1;
        size_t rn = n - (size_t)(rest - t);
        if (rn > 1 && rest[0] == '@') {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)(rn - 1), rest + 1);
            cJSON_AddStringToObject(o, "x-kubernetes-list-type", "map");
            cJSON *keys =
                cJSON_AddArrayToObject(o, "x-kubernetes-list-map-keys");
            if (keys)
                cJSON_AddItemToArray(keys, cJSON_CreateString(key));
            cJSON_AddStringToObject(o, "x-kubernetes-patch-merge-key", key);
            cJSON_AddStringToObject(o, "x-kubernetes-patch-strategy", "merge");
        } else if (rn == 1 && rest[0] == '*') {
            cJSON_AddStringToObject(o, "x-kubernetes-list-type", "set");
            cJSON_AddStringToObject(o, "x-kubernetes-patch-strategy", "merge");
        } else if (rn == 0) {
            cJSON_AddStringToObject(o, "x-kubernetes-list-type", "atomic");
        } else {
            cJSON_Delete(o);
            g->bad = 1;
            return NULL;
        }
        return o;
    }
    const char *pkg = mock_schema_pkg(t, n);
    char full[192];
    if (!pkg || snprintf(full, sizeof(full), "%s.%.*s", pkg, (int)n, t) >=
                    (int)sizeof(full)) {
        g->bad = 1;
        return NULL;
    }
    return ref(g, full);
}

/* A definition object from the field notation FIELDS. */
static cJSON *object_schema(struct gen *g, const char *desc, const char *fields)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        g->bad = 1;
        return NULL;
    }
    cJSON_AddStringToObject(o, "description", desc);
    cJSON_AddStringToObject(o, "type", "object");
    cJSON *props = cJSON_AddObjectToObject(o, "properties");
    cJSON *req = NULL;
    const char *p = fields;
    while (props && *p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon) {
            g->bad = 1;
            break;
        }
        size_t nl = (size_t)(colon - p);
        int required = nl > 0 && p[nl - 1] == '!';
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(nl - (size_t)required), p);
        cJSON *s = type_schema(g, colon + 1, (size_t)(end - colon - 1));
        if (!s)
            break;
        cJSON_AddItemToObject(props, name, s);
        if (required) {
            if (!req)
                req = cJSON_AddArrayToObject(o, "required");
            if (req)
                cJSON_AddItemToArray(req, cJSON_CreateString(name));
        }
        p = end;
    }
    return o;
}

static void add_gvk(cJSON *o, const struct mock_kind *k, const char *kind)
{
    cJSON *a = cJSON_AddArrayToObject(o, "x-kubernetes-group-version-kind");
    cJSON *e = a ? cJSON_CreateObject() : NULL;
    if (!e)
        return;
    cJSON_AddItemToArray(a, e);
    cJSON_AddStringToObject(e, "group", k->group);
    cJSON_AddStringToObject(e, "kind", kind);
    cJSON_AddStringToObject(e, "version", k->version);
}

static cJSON *all_schemas(struct gen *g)
{
    cJSON *s = cJSON_CreateObject();
    if (!s) {
        g->bad = 1;
        return NULL;
    }
    char full[192], fields[1024];
    for (size_t i = 0; i < mock_schema_n_defs() && !g->bad; i++) {
        const struct mock_schema_def *d = mock_schema_def_at(i);
        full_name(d->pkg, d->name, full, sizeof(full));
        cJSON_AddItemToObject(s, full, object_schema(g, d->desc, d->fields));
    }
    for (size_t i = 0; i < MOCK_N_KINDS && !g->bad; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        const char *desc;
        const char *extra = mock_schema_kind_fields(k, &desc);
        snprintf(fields, sizeof(fields),
                 "apiVersion:s kind:s metadata:ObjectMeta %s", extra);
        cJSON *o = object_schema(g, desc, fields);
        if (!o)
            break;
        add_gvk(o, k, k->kind);
        full_name(mock_schema_kind_pkg(k), k->kind, full, sizeof(full));
        cJSON_AddItemToObject(s, full, o);
        char ldesc[128];
        snprintf(ldesc, sizeof(ldesc), "%s is a list of %s objects.",
                 k->list_kind, k->kind);
        snprintf(fields, sizeof(fields),
                 "apiVersion:s kind:s metadata:ListMeta items!:[%s]", k->kind);
        o = object_schema(g, ldesc, fields);
        if (!o)
            break;
        add_gvk(o, k, k->list_kind);
        full_name(mock_schema_kind_pkg(k), k->list_kind, full, sizeof(full));
        cJSON_AddItemToObject(s, full, o);
    }
    return s;
}

/* ---- paths ------------------------------------------------------------ */

static cJSON *param(struct gen *g, const char *name, const char *in,
                    int required, const char *desc)
{
    cJSON *p = cJSON_CreateObject();
    if (!p) {
        g->bad = 1;
        return NULL;
    }
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "in", in);
    cJSON_AddStringToObject(p, "description", desc);
    if (required)
        cJSON_AddBoolToObject(p, "required", 1);
    if (g->v3) {
        cJSON *s = cJSON_AddObjectToObject(p, "schema");
        if (s)
            cJSON_AddStringToObject(s, "type", "string");
    } else {
        cJSON_AddStringToObject(p, "type", "string");
        cJSON_AddBoolToObject(p, "uniqueItems", 1);
    }
    return p;
}

static const char *const write_params[][2] = {
    {"dryRun", "When present, indicates that modifications should not be "
               "persisted."},
    {"fieldManager", "fieldManager is a name associated with the actor or "
                     "entity that is making these changes."},
    {"fieldValidation",
     "fieldValidation instructs the server on how to handle objects in the "
     "request (POST/PUT/PATCH) containing unknown or duplicate fields. "
     "Valid values are: Ignore, Warn (the default), Strict."},
};

static const char *const patch_types[] = {
    "application/apply-patch+yaml", "application/json-patch+json",
    "application/merge-patch+json", "application/strategic-merge-patch+json"};

static cJSON *operation(struct gen *g, const struct mock_kind *k,
                        const char *verb, const char *action, int namespaced,
                        int write, const char *result)
{
    cJSON *op = cJSON_CreateObject();
    if (!op) {
        g->bad = 1;
        return NULL;
    }
    char id[160], full[192];
    const struct mock_group *grp = mock_kind_group(k);
    snprintf(id, sizeof(id), "%s%s%s%s", verb, grp->op,
             namespaced ? "Namespaced" : "", k->kind);
    cJSON_AddStringToObject(op, "description", action);
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON *tags = cJSON_AddArrayToObject(op, "tags");
    if (tags)
        cJSON_AddItemToArray(tags, cJSON_CreateString(grp->tag));
    cJSON *params = cJSON_AddArrayToObject(op, "parameters");
    for (size_t i = 0; write && params && i < 3; i++)
        cJSON_AddItemToArray(params, param(g, write_params[i][0], "query", 0,
                                           write_params[i][1]));
    full_name(mock_schema_kind_pkg(k), result, full, sizeof(full));
    if (write && g->v3) {
        cJSON *body = cJSON_AddObjectToObject(op, "requestBody");
        cJSON *content = body ? cJSON_AddObjectToObject(body, "content") : NULL;
        int patch = strcmp(verb, "patch") == 0;
        for (size_t i = 0; content && i < (patch ? 4u : 1u); i++) {
            cJSON *mt = cJSON_AddObjectToObject(content, patch ? patch_types[i]
                                                               : CT_JSON);
            if (mt && patch) {
                cJSON *s = cJSON_AddObjectToObject(mt, "schema");
                if (s)
                    cJSON_AddStringToObject(
                        s, "$ref",
                        "#/components/schemas/"
                        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
            } else if (mt) {
                cJSON_AddItemToObject(mt, "schema", ref(g, full));
            }
        }
        if (body)
            cJSON_AddBoolToObject(body, "required", 1);
    } else if (write && params) {
        cJSON *b = cJSON_CreateObject();
        if (b) {
            cJSON_AddStringToObject(b, "name", "body");
            cJSON_AddStringToObject(b, "in", "body");
            cJSON_AddBoolToObject(b, "required", 1);
            cJSON_AddItemToObject(b, "schema", ref(g, full));
            cJSON_AddItemToArray(params, b);
        }
        if (strcmp(verb, "patch") == 0) {
            cJSON *c = cJSON_AddArrayToObject(op, "consumes");
            for (size_t i = 0; c && i < 4; i++)
                cJSON_AddItemToArray(c, cJSON_CreateString(patch_types[i]));
        }
    }
    cJSON *resp = cJSON_AddObjectToObject(op, "responses");
    cJSON *ok = resp ? cJSON_AddObjectToObject(resp, "200") : NULL;
    if (ok) {
        cJSON_AddStringToObject(ok, "description", "OK");
        if (g->v3) {
            cJSON *content = cJSON_AddObjectToObject(ok, "content");
            cJSON *mt =
                content ? cJSON_AddObjectToObject(content, CT_JSON) : NULL;
            if (mt)
                cJSON_AddItemToObject(mt, "schema", ref(g, full));
        } else {
            cJSON_AddItemToObject(ok, "schema", ref(g, full));
        }
    }
    cJSON_AddStringToObject(op, "x-kubernetes-action", verb);
    cJSON *gvk = cJSON_AddObjectToObject(op, "x-kubernetes-group-version-kind");
    if (gvk) {
        cJSON_AddStringToObject(gvk, "group", k->group);
        cJSON_AddStringToObject(gvk, "kind", k->kind);
        cJSON_AddStringToObject(gvk, "version", k->version);
    }
    return op;
}

static void add_path_params(struct gen *g, cJSON *item, int ns, int name)
{
    cJSON *params = cJSON_AddArrayToObject(item, "parameters");
    if (!params) {
        g->bad = 1;
        return;
    }
    if (name)
        cJSON_AddItemToArray(params,
                             param(g, "name", "path", 1, "name of the object"));
    if (ns)
        cJSON_AddItemToArray(params,
                             param(g, "namespace", "path", 1,
                                   "object name and auth scope, such as for "
                                   "teams and projects"));
}

static void add_paths(struct gen *g, cJSON *paths, const struct mock_kind *k)
{
    char base[128], path[192];
    if (k->group[0])
        snprintf(base, sizeof(base), "/apis/%s/%s", k->group, k->version);
    else
        snprintf(base, sizeof(base), "/api/%s", k->version);
    int ns = k->namespaced;
    snprintf(path, sizeof(path), "%s%s/%s", base,
             ns ? "/namespaces/{namespace}" : "", k->resource);
    cJSON *coll = cJSON_AddObjectToObject(paths, path);
    if (!coll) {
        g->bad = 1;
        return;
    }
    cJSON_AddItemToObject(
        coll, "get",
        operation(g, k, "list", "list objects", ns, 0, k->list_kind));
    cJSON_AddItemToObject(
        coll, "post",
        operation(g, k, "create", "create an object", ns, 1, k->kind));
    add_path_params(g, coll, ns, 0);
    snprintf(path, sizeof(path), "%s%s/%s/{name}", base,
             ns ? "/namespaces/{namespace}" : "", k->resource);
    cJSON *item = cJSON_AddObjectToObject(paths, path);
    if (!item) {
        g->bad = 1;
        return;
    }
    cJSON_AddItemToObject(
        item, "get",
        operation(g, k, "read", "read the specified object", ns, 0, k->kind));
    cJSON_AddItemToObject(item, "put",
                          operation(g, k, "replace",
                                    "replace the specified object", ns, 1,
                                    k->kind));
    cJSON_AddItemToObject(item, "patch",
                          operation(g, k, "patch",
                                    "partially update the specified object", ns,
                                    1, k->kind));
    cJSON_AddItemToObject(
        item, "delete",
        operation(g, k, "delete", "delete an object", ns, 0, k->kind));
    add_path_params(g, item, ns, 1);
    if (ns) {
        snprintf(path, sizeof(path), "%s/%s", base, k->resource);
        cJSON *all = cJSON_AddObjectToObject(paths, path);
        if (all)
            cJSON_AddItemToObject(all, "get",
                                  operation(g, k, "list",
                                            "list objects of every namespace",
                                            0, 0, k->list_kind));
    }
}

/* The Patch body schema every PATCH operation points at. */
static void add_patch_schema(cJSON *schemas)
{
    cJSON *p = cJSON_AddObjectToObject(
        schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
    if (p) {
        cJSON_AddStringToObject(p, "description",
                                "Patch is provided to give a concrete name "
                                "and type to the Kubernetes PATCH request "
                                "body.");
        cJSON_AddStringToObject(p, "type", "object");
    }
}

/* ---- documents ------------------------------------------------------ */

static char *finish(cJSON *doc, struct gen *g)
{
    char *out = doc && !g->bad ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}

static cJSON *info(cJSON *doc)
{
    cJSON *i = cJSON_AddObjectToObject(doc, "info");
    if (i) {
        cJSON_AddStringToObject(i, "title", "Kubernetes");
        cJSON_AddStringToObject(i, "version", "unversioned");
    }
    return i;
}

/* The v3 document of GROUP/VERSION ("" for the core group), or NULL when
 * the mock serves no kind there. */
static char *v3_doc(const char *group, const char *version)
{
    struct gen g = {.v3 = 1};
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "openapi", "3.0.0");
    info(doc);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    int any = 0;
    for (size_t i = 0; paths && i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
            continue;
        any = 1;
        add_paths(&g, paths, k);
    }
    if (!any) {
        cJSON_Delete(doc);
        return NULL;
    }
    cJSON *comp = cJSON_AddObjectToObject(doc, "components");
    cJSON *schemas = comp ? all_schemas(&g) : NULL;
    if (schemas) {
        add_patch_schema(schemas);
        cJSON_AddItemToObject(comp, "schemas", schemas);
    } else {
        g.bad = 1;
    }
    return finish(doc, &g);
}

static char *v2_doc(void)
{
    struct gen g = {.v3 = 0};
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "swagger", "2.0");
    info(doc);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    for (size_t i = 0; paths && i < MOCK_N_KINDS; i++)
        add_paths(&g, paths, mock_kind_at(i));
    cJSON *schemas = all_schemas(&g);
    if (schemas) {
        add_patch_schema(schemas);
        cJSON_AddItemToObject(doc, "definitions", schemas);
    } else {
        g.bad = 1;
    }
    return finish(doc, &g);
}

/* A stable digest of a document for the index's ?hash= (clients use it to
 * cache; any change of the document changes it). */
static void doc_hash(const char *doc, char *buf, size_t len)
{
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    for (const char *p = doc; *p; p++) {
        a = (a ^ (unsigned char)*p) * 0x100000001b3ULL;
        b = (b ^ (unsigned char)*p) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
    }
    snprintf(buf, len, "%016llX%016llX", (unsigned long long)a,
             (unsigned long long)b);
}

static char *v3_index(const char *prefix)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *paths = doc ? cJSON_AddObjectToObject(doc, "paths") : NULL;
    int bad = !paths;
    for (size_t i = 0; !bad && i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(mock_kind_at(j)->group, k->group) == 0 &&
                   strcmp(mock_kind_at(j)->version, k->version) == 0;
        if (seen)
            continue;
        char key[128], url[512], hash[40];
        if (k->group[0])
            snprintf(key, sizeof(key), "apis/%s/%s", k->group, k->version);
        else
            snprintf(key, sizeof(key), "api/%s", k->version);
        char *gv = v3_doc(k->group, k->version);
        if (!gv) {
            bad = 1;
            break;
        }
        doc_hash(gv, hash, sizeof(hash));
        free(gv);
        snprintf(url, sizeof(url), "%s/openapi/v3/%s?hash=%s", prefix, key,
                 hash);
        cJSON *e = cJSON_AddObjectToObject(paths, key);
        if (!e || !cJSON_AddStringToObject(e, "serverRelativeURL", url))
            bad = 1;
    }
    char *out = !bad ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}

int mock_openapi_serve(const char *path, const char *prefix, int *found,
                       struct mock_answer *a)
{
    char *body = NULL;
    *found = 1;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 11 && strncmp(path, "/openapi/v2", 11) == 0) {
        body = v2_doc();
    } else if (n == 11 && strncmp(path, "/openapi/v3", 11) == 0) {
        body = v3_index(prefix ? prefix : "");
    } else if (n > 12 && strncmp(path, "/openapi/v3/", 12) == 0) {
        char gv[128], group[64] = "", version[64];
        snprintf(gv, sizeof(gv), "%.*s", (int)(n - 12), path + 12);
        if (sscanf(gv, "api/%63[^/]", version) == 1 &&
            strlen(gv) == 4 + strlen(version)) {
            body = v3_doc("", version);
        } else if (sscanf(gv, "apis/%63[^/]/%63[^/]", group, version) == 2 &&
                   strlen(gv) == 6 + strlen(group) + strlen(version)) {
            body = v3_doc(group, version);
        } else {
            *found = 0;
            return 0;
        }
        if (!body) {
            *found = 0;
            return 0;
        }
    } else {
        *found = 0;
        return 0;
    }
    if (!body)
        return -1;
    a->status = 200;
    a->content_type = CT_JSON;
    a->body = body;
    a->body_len = strlen(body);
    return 0;
}
