/* Field validation of written objects against the kinds' schemas
 * (schema.c), as kube-apiserver's decoder does it: a value of the wrong
 * type is always a 400 ("cannot unmarshal number into Go struct field
 * ConfigMap.data of type string"); an unknown field is dropped, and with
 * ?fieldValidation=Strict refused ("strict decoding error: unknown field
 * \"spec.bogus\""), with Warn (the default) named in a Warning header,
 * with Ignore dropped silently. Objects of kind "o" in the schema take
 * any field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

struct check {
    const struct mock_kind *k;
    cJSON *unknown; /* paths, in document order */
    char *err;      /* a wrong type: why */
    size_t err_len;
    int bad; /* memory */
};

/* Go's name of type T, for the decoder's message. */
static void go_type(const struct mock_type *t, char *buf, size_t len)
{
    static const struct {
        char c;
        const char *name;
    } scalars[] = {{'s', "string"}, {'i', "int32"},   {'l', "int64"},
                   {'b', "bool"},   {'n', "float64"}, {'t', "string"},
                   {'q', "string"}, {'x', "string"}};
    switch (t->c) {
    case MOCK_T_SCALAR:
        for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
            if (scalars[i].c == t->t[0])
                snprintf(buf, len, "%s", scalars[i].name);
        }
        return;
    case MOCK_T_MAP: {
        struct mock_type et;
        char inner[64] = "interface {}";
        if (mock_schema_type(t->elem, t->elem_n, &et) == 0)
            go_type(&et, inner, sizeof(inner));
        snprintf(buf, len, "map[string]%s", inner);
        return;
    }
    case MOCK_T_LIST:
    case MOCK_T_LIST_MAP:
    case MOCK_T_SET: {
        struct mock_type et;
        char inner[64] = "interface {}";
        if (mock_schema_elem(t, &et) == 0)
            go_type(&et, inner, sizeof(inner));
        snprintf(buf, len, "[]%s", inner);
        return;
    }
    case MOCK_T_STRUCT:
        snprintf(buf, len, "v1.%.*s", (int)t->n, t->t);
        return;
    default:
        snprintf(buf, len, "map[string]interface {}");
        return;
    }
}

/* What Go's decoder calls the JSON type of V. */
static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsArray(v))
        return "array";
    return "object";
}

static int type_ok(const struct mock_type *t, const cJSON *v)
{
    if (cJSON_IsNull(v))
        return 1; /* null is the zero value of anything */
    switch (t->c) {
    case MOCK_T_SCALAR:
        switch (t->t[0]) {
        case 's':
        case 't':
            return cJSON_IsString(v);
        case 'i':
        case 'l':
            return cJSON_IsNumber(v) &&
                   v->valuedouble == (double)(long long)v->valuedouble;
        case 'b':
            return cJSON_IsBool(v);
        case 'n':
            return cJSON_IsNumber(v);
        default: /* q, x: a string or a number */
            return cJSON_IsString(v) || cJSON_IsNumber(v);
        }
    case MOCK_T_LIST:
    case MOCK_T_LIST_MAP:
    case MOCK_T_SET:
        return cJSON_IsArray(v);
    default:
        return cJSON_IsObject(v);
    }
}

static void walk(struct check *c, const struct mock_type *t, cJSON *v,
                 struct mock_buf *path, struct mock_buf *go_path);

/* Checks V, the value at PATH of type T. */
static void value(struct check *c, const struct mock_type *t, cJSON *v,
                  struct mock_buf *path, struct mock_buf *go_path)
{
    if (c->err[0] || c->bad)
        return;
    if (!type_ok(t, v)) {
        char want[96];
        go_type(t, want, sizeof(want));
        snprintf(c->err, c->err_len,
                 "%s in version \"%s\" cannot be handled as a %s: json: "
                 "cannot unmarshal %s into Go struct field %s.%s of type %s",
                 c->k->kind, c->k->version, c->k->kind, json_kind(v),
                 c->k->kind, go_path->p, want);
        return;
    }
    if (cJSON_IsObject(v) && t->c != MOCK_T_ANY) {
        walk(c, t, v, path, go_path);
        return;
    }
    if (!cJSON_IsArray(v))
        return;
    struct mock_type et;
    if (mock_schema_elem(t, &et) != 0)
        return;
    size_t mark = path->len, i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        char idx[32];
        snprintf(idx, sizeof(idx), "[%zu]", i++);
        if (mock_buf_adds(path, idx) != 0) {
            c->bad = 1;
            return;
        }
        value(c, &et, e, path, go_path);
        path->len = mark;
        path->p[mark] = '\0';
    }
}

/* The members of object V of type T (a STRUCT or a MAP). */
static void walk(struct check *c, const struct mock_type *t, cJSON *v,
                 struct mock_buf *path, struct mock_buf *go_path)
{
    cJSON *m = v->child;
    while (m && !c->err[0] && !c->bad) {
        cJSON *next = m->next;
        size_t mark = path->len, gmark = go_path->len;
        int bad = 0;
        if (t->c == MOCK_T_STRUCT) {
            bad |= path->len ? mock_buf_adds(path, ".") : 0;
            bad |= mock_buf_adds(path, m->string);
            bad |= go_path->len ? mock_buf_adds(go_path, ".") : 0;
            bad |= mock_buf_adds(go_path, m->string);
        }
        if (bad) {
            c->bad = 1;
            return;
        }
        struct mock_type mt;
        if (mock_schema_member(t, m->string, &mt) != 0) {
            if (!cJSON_AddItemToArray(c->unknown, cJSON_CreateString(path->p)))
                c->bad = 1;
            cJSON_Delete(cJSON_DetachItemViaPointer(v, m));
        } else {
            value(c, &mt, m, path, go_path);
        }
        path->len = mark;
        path->p[mark] = '\0';
        go_path->len = gmark;
        go_path->p[gmark] = '\0';
        m = next;
    }
}

int mock_fields_check(const struct mock_kind *k, cJSON *obj, cJSON **unknown,
                      char *err, size_t err_len)
{
    struct check c = {k, cJSON_CreateArray(), err, err_len, 0};
    struct mock_buf path = {0}, go_path = {0};
    struct mock_type root;
    err[0] = '\0';
    *unknown = NULL;
    if (!c.unknown || mock_buf_add(&path, "", 0) != 0 ||
        mock_buf_add(&go_path, "", 0) != 0 || mock_schema_root(k, &root) != 0)
        c.bad = 1;
    else
        walk(&c, &root, obj, &path, &go_path);
    mock_buf_free(&path);
    mock_buf_free(&go_path);
    if (c.bad) {
        cJSON_Delete(c.unknown);
        return -2;
    }
    if (err[0]) {
        cJSON_Delete(c.unknown);
        return -1;
    }
    *unknown = c.unknown;
    return 0;
}
