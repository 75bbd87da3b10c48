/* JSON patch (RFC 6902, `kubectl patch --type=json`) on cJSON trees (JSON
 * merge patch, RFC 7386, is the SDK's fg_json_merge_patch). JSON patch is
 * bounded the way kube-apiserver bounds it (at most MOCK_PATCH_MAX_OPS
 * operations) and, because copy can double a document per operation, by the
 * total size of what it copies and by the nesting depth it can create, so that
 * no request can make the recursive cJSON routines run out of stack or the
 * process out of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* ---- JSON pointers (RFC 6901) ----------------------------------------- */

#define MAX_TOKENS 128

struct ptr {
    char *tok[MAX_TOKENS];
    size_t n;
};

static void ptr_free(struct ptr *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->tok[i]);
    p->n = 0;
}

/* Splits S into unescaped reference tokens. Returns 0, -1 when malformed,
 * -2 on memory failure. */
static int ptr_parse(const char *s, struct ptr *p)
{
    p->n = 0;
    if (*s == '\0')
        return 0;
    if (*s != '/')
        return -1;
    while (*s == '/') {
        s++;
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (p->n == MAX_TOKENS)
            goto bad;
        char *t = malloc(n + 1);
        if (!t) {
            ptr_free(p);
            return -2;
        }
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '~') {
                if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
                    t[o++] = s[i + 1] == '0' ? '~' : '/';
                    i++;
                } else {
                    free(t);
                    goto bad;
                }
            } else {
                t[o++] = s[i];
            }
        }
        t[o] = '\0';
        p->tok[p->n++] = t;
        s += n;
    }
    return 0;
bad:
    ptr_free(p);
    return -1;
}

/* An array index token: digits without a leading zero. -1 when not. */
static long index_of(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 9 || (n > 1 && t[0] == '0'))
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return -1;
        v = v * 10 + (t[i] - '0');
    }
    return v;
}

static cJSON *child(cJSON *c, const char *t)
{
    if (cJSON_IsObject(c))
        return cJSON_GetObjectItemCaseSensitive(c, t);
    if (cJSON_IsArray(c)) {
        long i = index_of(t);
        return i < 0 ? NULL : cJSON_GetArrayItem(c, (int)i);
    }
    return NULL;
}

/* The value at the first N tokens of P, or NULL. */
static cJSON *walk(cJSON *root, const struct ptr *p, size_t n)
{
    cJSON *c = root;
    for (size_t i = 0; c && i < n; i++)
        c = child(c, p->tok[i]);
    return c;
}

/* ---- JSON patch ------------------------------------------------------- */

struct jp {
    cJSON *root;
    char *err;
    size_t err_len;
    size_t copied; /* nodes copied so far */
};

static size_t count_nodes(const cJSON *v, size_t limit)
{
    size_t n = 1;
    for (const cJSON *c = v ? v->child : NULL; c && n <= limit; c = c->next)
        n += count_nodes(c, limit - n);
    return n;
}

/* Inserts V before element I (or appends when I is the size). Debian's
 * cJSON 1.7.15 refuses cJSON_InsertItemInArray past index 0, so the tail
 * is moved aside and put back. */
static int array_insert(cJSON *arr, int i, cJSON *v)
{
    cJSON *tail = cJSON_CreateArray();
    if (!tail)
        return 0;
    cJSON *at = cJSON_GetArrayItem(arr, i);
    while (at) {
        cJSON *next = at->next;
        cJSON_AddItemToArray(tail, cJSON_DetachItemViaPointer(arr, at));
        at = next;
    }
    int ok = cJSON_AddItemToArray(arr, v);
    while (tail->child)
        cJSON_AddItemToArray(arr,
                             cJSON_DetachItemViaPointer(tail, tail->child));
    cJSON_Delete(tail);
    return ok;
}

/* Adds V (owned) at P. Returns 0, -1 with a message, -2 on memory. */
static int jp_add(struct jp *j, const struct ptr *p, cJSON *v)
{
    if (p->n == 0) {
        cJSON_Delete(j->root);
        j->root = v;
        return 0;
    }
    cJSON *parent = walk(j->root, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (cJSON_IsObject(parent)) {
        return fg_json_set(parent, last, v) == 0 ? 0 : -2;
    }
    if (cJSON_IsArray(parent)) {
        int size = cJSON_GetArraySize(parent);
        long i = strcmp(last, "-") == 0 ? size : index_of(last);
        if (i < 0 || i > size) {
            cJSON_Delete(v);
            snprintf(j->err, j->err_len,
                     "add operation: index %.64s out of "
                     "bounds",
                     last);
            return -1;
        }
        int ok = array_insert(parent, (int)i, v);
        if (!ok) {
            cJSON_Delete(v);
            return -2;
        }
        return 0;
    }
    cJSON_Delete(v);
    snprintf(j->err, j->err_len,
             "add operation does not apply: doc is missing path");
    return -1;
}

/* Detaches the value at P. NULL when missing (or P is the root). */
static cJSON *jp_detach(struct jp *j, const struct ptr *p)
{
    if (p->n == 0)
        return NULL;
    cJSON *parent = walk(j->root, p, p->n - 1);
    cJSON *c = parent ? child(parent, p->tok[p->n - 1]) : NULL;
    return c ? cJSON_DetachItemViaPointer(parent, c) : NULL;
}

static int get_ptr(struct jp *j, const cJSON *op, const char *key,
                   struct ptr *p)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(op, key);
    if (!cJSON_IsString(s)) {
        snprintf(j->err, j->err_len, "operation missing \"%s\" string", key);
        return -1;
    }
    int rc = ptr_parse(s->valuestring, p);
    if (rc == -1)
        snprintf(j->err, j->err_len, "invalid JSON pointer \"%.128s\"",
                 s->valuestring);
    return rc;
}

static int is_prefix(const struct ptr *a, const struct ptr *b)
{
    if (a->n >= b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->tok[i], b->tok[i]) != 0)
            return 0;
    }
    return 1;
}

/* Refuses a value that would nest deeper than allowed at P. */
static int depth_ok(struct jp *j, const struct ptr *p, const cJSON *v)
{
    int limit = MOCK_WRITE_MAX_DEPTH - (int)p->n;
    if (limit < 0 || mock_tree_depth(v, limit) > limit) {
        snprintf(j->err, j->err_len,
                 "the result would nest deeper than %d "
                 "levels",
                 MOCK_WRITE_MAX_DEPTH);
        return 0;
    }
    return 1;
}

static int jp_op(struct jp *j, const cJSON *op)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
    if (!cJSON_IsObject(op) || !cJSON_IsString(name)) {
        snprintf(j->err, j->err_len, "operation missing \"op\" string");
        return -1;
    }
    const char *o = name->valuestring;
    struct ptr path = {0}, from = {0};
    int rc = get_ptr(j, op, "path", &path);
    if (rc != 0)
        return rc;
    int has_from = strcmp(o, "move") == 0 || strcmp(o, "copy") == 0;
    if (has_from && (rc = get_ptr(j, op, "from", &from)) != 0) {
        ptr_free(&path);
        return rc;
    }
    int needs_value = strcmp(o, "add") == 0 || strcmp(o, "replace") == 0 ||
                      strcmp(o, "test") == 0;
    if (needs_value && !value) {
        snprintf(j->err, j->err_len, "%.16s operation missing \"value\"", o);
        rc = -1;
    } else if (strcmp(o, "add") == 0) {
        rc = depth_ok(j, &path, value)
                 ? jp_add(j, &path, cJSON_Duplicate(value, 1))
                 : -1;
    } else if (strcmp(o, "remove") == 0 || strcmp(o, "replace") == 0) {
        cJSON *target = walk(j->root, &path, path.n);
        if (!target || (path.n == 0 && strcmp(o, "remove") == 0)) {
            snprintf(j->err, j->err_len,
                     "%s operation does not apply: doc is missing path: "
                     "\"%.128s\"",
                     o,
                     cJSON_GetObjectItemCaseSensitive(op, "path")->valuestring);
            rc = -1;
        } else if (strcmp(o, "remove") == 0) {
            cJSON_Delete(jp_detach(j, &path));
        } else if (!depth_ok(j, &path, value)) {
            rc = -1;
        } else {
            cJSON *v = cJSON_Duplicate(value, 1);
            if (!v) {
                rc = -2;
            } else if (path.n == 0) {
                cJSON_Delete(j->root);
                j->root = v;
            } else {
                cJSON *parent = walk(j->root, &path, path.n - 1);
                if (cJSON_IsObject(parent)) {
                    rc = fg_json_set(parent, path.tok[path.n - 1], v) == 0 ? 0
                                                                           : -2;
                } else if (!cJSON_ReplaceItemViaPointer(parent, target, v)) {
                    cJSON_Delete(v);
                    rc = -2;
                }
            }
        }
    } else if (strcmp(o, "move") == 0) {
        if (is_prefix(&from, &path)) {
            snprintf(j->err, j->err_len,
                     "move operation: \"from\" is a prefix of \"path\"");
            rc = -1;
        } else if (!walk(j->root, &from, from.n) || from.n == 0) {
            snprintf(j->err, j->err_len,
                     "move operation does not apply: doc is missing from "
                     "path");
            rc = -1;
        } else if (!depth_ok(j, &path, walk(j->root, &from, from.n))) {
            rc = -1;
        } else {
            rc = jp_add(j, &path, jp_detach(j, &from));
        }
    } else if (strcmp(o, "copy") == 0) {
        cJSON *src = walk(j->root, &from, from.n);
        if (!src) {
            snprintf(j->err, j->err_len,
                     "copy operation does not apply: doc is missing from "
                     "path");
            rc = -1;
        } else {
            j->copied += count_nodes(src, MOCK_PATCH_MAX_COPY_NODES + 1);
            if (j->copied > MOCK_PATCH_MAX_COPY_NODES) {
                snprintf(j->err, j->err_len,
                         "copy operations exceed the copy size limit");
                rc = -1;
            } else if (depth_ok(j, &path, src)) {
                rc = jp_add(j, &path, cJSON_Duplicate(src, 1));
            } else {
                rc = -1;
            }
        }
    } else if (strcmp(o, "test") == 0) {
        cJSON *target = walk(j->root, &path, path.n);
        if (!target || !cJSON_Compare(target, value, 1)) {
            snprintf(j->err, j->err_len,
                     "testing value %.128s failed: test "
                     "failed",
                     cJSON_GetObjectItemCaseSensitive(op, "path")->valuestring);
            rc = -1;
        }
    } else {
        snprintf(j->err, j->err_len, "Unexpected kind: %.32s", o);
        rc = -3;
    }
    ptr_free(&path);
    ptr_free(&from);
    return rc;
}

int mock_json_patch(cJSON **doc, const cJSON *ops, char *err, size_t len)
{
    if (!cJSON_IsArray(ops)) {
        snprintf(err, len,
                 "json: cannot unmarshal object into Go value of "
                 "type jsonpatch.Patch");
        return -1;
    }
    int n = cJSON_GetArraySize(ops);
    if (n > MOCK_PATCH_MAX_OPS) {
        snprintf(err, len,
                 "The allowed maximum operations in a JSON patch is %d, got "
                 "%d",
                 MOCK_PATCH_MAX_OPS, n);
        return -2;
    }
    /* Operation names and pointers are checked before anything changes. */
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
        static const char *const known[] = {"add",  "remove", "replace",
                                            "move", "copy",   "test"};
        int ok = 0;
        for (size_t i = 0; cJSON_IsString(name) && i < 6; i++)
            ok |= strcmp(name->valuestring, known[i]) == 0;
        if (!cJSON_IsObject(op) || !ok) {
            snprintf(err, len, "Unexpected kind: %.32s",
                     cJSON_IsString(name) ? name->valuestring : "unknown");
            return -1;
        }
    }
    struct jp j = {*doc, err, len, 0};
    int rc = 0;
    cJSON_ArrayForEach(op, ops)
    {
        rc = jp_op(&j, op);
        if (rc != 0)
            break;
    }
    *doc = j.root;
    if (rc == -3)
        return -1;
    if (rc == -1)
        return -2;
    return rc == -2 ? -3 : 0;
}

int mock_tree_depth(const cJSON *v, int limit)
{
    if (!v || !(cJSON_IsObject(v) || cJSON_IsArray(v)))
        return 0;
    if (limit <= 0)
        return 1;
    int max = 0;
    for (const cJSON *c = v->child; c; c = c->next) {
        int d = mock_tree_depth(c, limit - 1);
        if (d > max)
            max = d;
        if (1 + max > limit)
            return limit + 1;
    }
    return 1 + max;
}
