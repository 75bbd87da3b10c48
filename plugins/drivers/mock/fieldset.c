/* Field sets in kube's FieldsV1 form, the value of a managedFields entry's
 * fieldsV1: a tree whose keys are "f:NAME" (a field of a struct or map),
 * "k:{"KEY":VALUE}" (an item of a list merged by KEY), "v:VALUE" (a
 * member of a set) and "." (the list item itself), and whose leaves are
 * {}. Server-side apply (managed.c) computes them from objects along the
 * schemas of schema.c, and unites, subtracts and intersects them; this
 * file also removes a set's fields from an object and names them the way
 * kube's conflict messages do (".spec.template.spec.containers[name=
 * "web"].image"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* Fields no manager owns: the server sets them (kube's stripMeta). */
static int server_owned(const char *field, int top)
{
    static const char *const meta[] = {"name",
                                       "namespace",
                                       "uid",
                                       "generation",
                                       "resourceVersion",
                                       "creationTimestamp",
                                       "selfLink",
                                       "managedFields",
                                       "deletionTimestamp",
                                       "deletionGracePeriodSeconds"};
    if (top)
        return strcmp(field, "apiVersion") == 0 || strcmp(field, "kind") == 0;
    for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
        if (strcmp(meta[i], field) == 0)
            return 1;
    }
    return 0;
}

static int is_leaf(const cJSON *n)
{
    return cJSON_IsObject(n) && !n->child;
}

/* DST[KEY] as an object node, created when absent. */
static cJSON *node_at(cJSON *dst, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(dst, key);
    if (c)
        return c;
    return cJSON_AddObjectToObject(dst, key);
}

char *mock_fs_item_key(const struct mock_type *t, const cJSON *item)
{
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)t->key_n, t->key);
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!kv || cJSON_IsObject(kv) || cJSON_IsArray(kv) || cJSON_IsNull(kv))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToObject(o, key, cJSON_Duplicate(kv, 0))) {
        cJSON_Delete(o);
        return NULL;
    }
    char *j = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t n = j ? strlen(j) + 3 : 0;
    char *out = j ? malloc(n) : NULL;
    if (out)
        snprintf(out, n, "k:%s", j);
    free(j);
    return out;
}

static char *value_key(const cJSON *v)
{
    char *j = cJSON_PrintUnformatted(v);
    size_t n = j ? strlen(j) + 3 : 0;
    char *out = j ? malloc(n) : NULL;
    if (out)
        snprintf(out, n, "v:%s", j);
    free(j);
    return out;
}

/* The item of list OLD whose key (as item_key gives it) is KEY. */
static const cJSON *find_item(const struct mock_type *t, const cJSON *old,
                              const char *key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, old)
    {
        char *k = mock_fs_item_key(t, e);
        int same = k && strcmp(k, key) == 0;
        free(k);
        if (same)
            return e;
    }
    return NULL;
}

static int has_value(const cJSON *list, const cJSON *v)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_Compare(e, v, 1))
            return 1;
    }
    return 0;
}

struct walk {
    int bad; /* memory */
};

static void fields_of(struct walk *w, const struct mock_type *t, const cJSON *v,
                      const cJSON *old, cJSON *out, int top);

/* Adds to OUT[KEY] the fields of V (type T) that differ from OLD (NULL:
 * all of them). */
static void value_of(struct walk *w, const struct mock_type *t, const cJSON *v,
                     const cJSON *old, cJSON *out, const char *key)
{
    int granular =
        t->c == MOCK_T_STRUCT || t->c == MOCK_T_MAP || t->c == MOCK_T_ANY;
    if (granular && cJSON_IsObject(v) && v->child) {
        cJSON *child = cJSON_CreateObject();
        if (!child) {
            w->bad = 1;
            return;
        }
        fields_of(w, t, v, cJSON_IsObject(old) ? old : NULL, child, 0);
        if (child->child)
            cJSON_AddItemToObject(out, key, child);
        else
            cJSON_Delete(child);
        return;
    }
    struct mock_type et;
    int keyed = t->c == MOCK_T_LIST_MAP && cJSON_IsArray(v) && v->child &&
                mock_schema_elem(t, &et) == 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, (keyed ? v : NULL))
    {
        char *k = mock_fs_item_key(t, e);
        free(k);
        if (!k || !cJSON_IsObject(e))
            keyed = 0;
    }
    if (keyed) {
        cJSON *child = cJSON_CreateObject();
        cJSON_ArrayForEach(e, (child ? v : NULL))
        {
            char *k = mock_fs_item_key(t, e);
            cJSON *inner = k ? cJSON_CreateObject() : NULL;
            const cJSON *oe =
                k && cJSON_IsArray(old) ? find_item(t, old, k) : NULL;
            if (!inner) {
                free(k);
                w->bad = 1;
                break;
            }
            if (!oe)
                cJSON_AddObjectToObject(inner, ".");
            fields_of(w, &et, e, oe, inner, 0);
            if (inner->child)
                cJSON_AddItemToObject(child, k, inner);
            else
                cJSON_Delete(inner);
            free(k);
        }
        if (!child)
            w->bad = 1;
        else if (child->child)
            cJSON_AddItemToObject(out, key, child);
        else
            cJSON_Delete(child);
        return;
    }
    if (t->c == MOCK_T_SET && cJSON_IsArray(v) && v->child) {
        cJSON *child = cJSON_CreateObject();
        cJSON_ArrayForEach(e, (child ? v : NULL))
        {
            if (cJSON_IsArray(old) && has_value(old, e))
                continue;
            char *k = value_key(e);
            if (!k || !cJSON_AddObjectToObject(child, k))
                w->bad = 1;
            free(k);
        }
        if (!child)
            w->bad = 1;
        else if (child->child)
            cJSON_AddItemToObject(out, key, child);
        else
            cJSON_Delete(child);
        return;
    }
    /* A leaf: a scalar, an atomic list, an empty object or list. */
    if (old && cJSON_Compare(v, old, 1))
        return;
    if (!node_at(out, key))
        w->bad = 1;
}

static void fields_of(struct walk *w, const struct mock_type *t, const cJSON *v,
                      const cJSON *old, cJSON *out, int top)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, v)
    {
        if (top && server_owned(m->string, 1))
            continue;
        struct mock_type mt;
        if (mock_schema_member(t, m->string, &mt) != 0)
            mock_schema_type("o", 1, &mt);
        const cJSON *om = cJSON_GetObjectItemCaseSensitive(old, m->string);
        size_t n = strlen(m->string) + 3;
        char *key = malloc(n);
        if (!key) {
            w->bad = 1;
            return;
        }
        snprintf(key, n, "f:%s", m->string);
        if (top && strcmp(m->string, "metadata") == 0 && cJSON_IsObject(m)) {
            /* metadata's own server-set fields are no one's either. */
            cJSON *child = cJSON_CreateObject();
            const cJSON *f;
            struct mock_type ft;
            cJSON_ArrayForEach(f, (child ? m : NULL))
            {
                if (server_owned(f->string, 0))
                    continue;
                if (mock_schema_member(&mt, f->string, &ft) != 0)
                    mock_schema_type("o", 1, &ft);
                char fk[300];
                snprintf(fk, sizeof(fk), "f:%.290s", f->string);
                value_of(w, &ft, f,
                         cJSON_GetObjectItemCaseSensitive(om, f->string), child,
                         fk);
            }
            if (child && child->child)
                cJSON_AddItemToObject(out, key, child);
            else
                cJSON_Delete(child);
            if (!child)
                w->bad = 1;
        } else {
            value_of(w, &mt, m, om, out, key);
        }
        free(key);
    }
}

/* The part of kind K's object a write to SUB may touch: status alone for
 * the status subresource; all but status otherwise, when K has one. */
static int in_scope(const struct mock_kind *k, const char *sub,
                    const char *field)
{
    int status = strcmp(field, "status") == 0;
    if (sub && strcmp(sub, "status") == 0)
        return status;
    return !status || !mock_kind_has_status(k);
}

cJSON *mock_fs_changed(const struct mock_kind *k, const char *sub,
                       const cJSON *old, const cJSON *obj)
{
    struct mock_type root;
    cJSON *out = cJSON_CreateObject();
    if (!out || mock_schema_root(k, &root) != 0) {
        cJSON_Delete(out);
        return NULL;
    }
    struct walk w = {0};
    cJSON *scoped = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, (scoped ? obj : NULL))
    {
        if (in_scope(k, sub, m->string) &&
            !cJSON_AddItemReferenceToObject(scoped, m->string, (cJSON *)m))
            w.bad = 1;
    }
    if (!scoped)
        w.bad = 1;
    else
        fields_of(&w, &root, scoped, old, out, 1);
    cJSON_Delete(scoped);
    if (w.bad) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

cJSON *mock_fs_of(const struct mock_kind *k, const char *sub, const cJSON *obj)
{
    return mock_fs_changed(k, sub, NULL, obj);
}

/* ---- set algebra ------------------------------------------------------ */

int mock_fs_union(cJSON *dst, const cJSON *src)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, src)
    {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, s->string);
        if (!d) {
            if (!cJSON_AddItemToObject(dst, s->string, cJSON_Duplicate(s, 1)))
                return -1;
            continue;
        }
        if (mock_fs_union(d, s) != 0)
            return -1;
    }
    return 0;
}

void mock_fs_subtract(cJSON *dst, const cJSON *src)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, src)
    {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, s->string);
        if (!d)
            continue;
        if (is_leaf(s)) {
            /* A leaf of SRC owns the whole field. */
            cJSON_Delete(cJSON_DetachItemViaPointer(dst, d));
            continue;
        }
        if (is_leaf(d))
            continue; /* owned whole by DST, in part by SRC */
        mock_fs_subtract(d, s);
        if (!d->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(dst, d));
    }
}

cJSON *mock_fs_intersect(const cJSON *a, const cJSON *b)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *x;
    cJSON_ArrayForEach(x, (out ? a : NULL))
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y)
            continue;
        cJSON *r;
        if (is_leaf(x))
            r = cJSON_Duplicate(y, 1);
        else if (is_leaf(y))
            r = cJSON_Duplicate(x, 1);
        else
            r = mock_fs_intersect(x, y);
        if (!r) {
            cJSON_Delete(out);
            return NULL;
        }
        if (r->child || (is_leaf(x) || is_leaf(y)))
            cJSON_AddItemToObject(out, x->string, r);
        else
            cJSON_Delete(r);
    }
    return out;
}

/* ---- objects and paths ------------------------------------------------ */

/* The element of list LIST that the "k:" or "v:" key KEY names. */
static cJSON *element_of(cJSON *list, const char *key)
{
    cJSON *want = cJSON_Parse(key + 2);
    cJSON *found = NULL, *e;
    cJSON_ArrayForEach(e, (want ? list : NULL))
    {
        if (key[0] == 'v') {
            if (cJSON_Compare(e, want, 1)) {
                found = e;
                break;
            }
            continue;
        }
        const cJSON *kf;
        int all = cJSON_IsObject(e) && cJSON_IsObject(want) && want->child;
        cJSON_ArrayForEach(kf, (all ? want : NULL))
        {
            if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(e, kf->string),
                               kf, 1))
                all = 0;
        }
        if (all) {
            found = e;
            break;
        }
    }
    cJSON_Delete(want);
    return found;
}

void mock_fs_remove(cJSON *obj, const cJSON *set)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, set)
    {
        cJSON *child = NULL;
        if (strncmp(s->string, "f:", 2) == 0 && cJSON_IsObject(obj))
            child = cJSON_GetObjectItemCaseSensitive(obj, s->string + 2);
        else if ((s->string[0] == 'k' || s->string[0] == 'v') &&
                 s->string[1] == ':' && cJSON_IsArray(obj))
            child = element_of(obj, s->string);
        if (!child)
            continue;
        if (is_leaf(s) || cJSON_GetObjectItemCaseSensitive(s, "."))
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, child));
        else
            mock_fs_remove(child, s);
    }
}

/* Appends the path of each leaf under SET (reached by PREFIX) to OUT. */
static int paths(const cJSON *set, struct mock_buf *prefix, cJSON *out)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, set)
    {
        size_t mark = prefix->len;
        int bad = 0;
        if (strcmp(s->string, ".") == 0) {
            bad = !cJSON_AddItemToArray(
                out, cJSON_CreateString(prefix->len ? prefix->p : "."));
            if (bad)
                return -1;
            continue;
        }
        if (strncmp(s->string, "f:", 2) == 0) {
            bad |= mock_buf_adds(prefix, ".");
            bad |= mock_buf_adds(prefix, s->string + 2);
        } else if (strncmp(s->string, "v:", 2) == 0) {
            bad |= mock_buf_adds(prefix, "[=");
            bad |= mock_buf_adds(prefix, s->string + 2);
            bad |= mock_buf_adds(prefix, "]");
        } else {
            /* k:{"name":"web"} is written [name="web"]. */
            cJSON *kv = cJSON_Parse(s->string + 2);
            const cJSON *f;
            bad |= mock_buf_adds(prefix, "[");
            cJSON_ArrayForEach(f, kv)
            {
                char *v = cJSON_PrintUnformatted(f);
                if (f != kv->child)
                    bad |= mock_buf_adds(prefix, ",");
                bad |= mock_buf_adds(prefix, f->string);
                bad |= mock_buf_adds(prefix, "=");
                bad |= v ? mock_buf_adds(prefix, v) : 1;
                free(v);
            }
            cJSON_Delete(kv);
            bad |= mock_buf_adds(prefix, "]");
        }
        if (bad)
            return -1;
        if (is_leaf(s)) {
            if (!cJSON_AddItemToArray(out, cJSON_CreateString(prefix->p)))
                return -1;
        } else if (paths(s, prefix, out) != 0) {
            return -1;
        }
        prefix->len = mark;
        prefix->p[mark] = '\0';
    }
    return 0;
}

cJSON *mock_fs_paths(const cJSON *set)
{
    cJSON *out = cJSON_CreateArray();
    struct mock_buf prefix = {0};
    if (!out || mock_buf_add(&prefix, "", 0) != 0 ||
        paths(set, &prefix, out) != 0) {
        cJSON_Delete(out);
        out = NULL;
    }
    mock_buf_free(&prefix);
    return out;
}
