/* Per-cluster overrides (override.h): a JSON pointer walked over a cJSON
 * tree and one add, replace or remove at its end. cJSON's own array
 * insertion fails past index 0 (DESIGN.md), so insertion relinks here. */
#include "override.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAX_POINTER 1024
#define MAX_TOKENS 64

/* POINTER split into its unescaped reference tokens, written into BUF.
 * Returns the token count, or -1 when it is no JSON pointer we take. */
static int tokens(const char *pointer, char *buf, char *tok[MAX_TOKENS])
{
    size_t len = strlen(pointer);
    if (len == 0 || len >= MAX_POINTER || pointer[0] != '/')
        return -1;
    int n = 0;
    char *w = buf;
    for (const char *p = pointer; *p;) {
        if (n == MAX_TOKENS)
            return -1;
        p++; /* the '/' */
        tok[n++] = w;
        for (; *p && *p != '/'; p++) {
            if (*p != '~') {
                *w++ = *p;
                continue;
            }
            if (p[1] != '0' && p[1] != '1')
                return -1;
            *w++ = p[1] == '0' ? '~' : '/';
            p++;
        }
        *w++ = '\0';
    }
    return n;
}

/* The array index TOK names in an array of N items ("-" is N), or -1. */
static long array_index(const char *tok, int n)
{
    if (strcmp(tok, "-") == 0)
        return n;
    size_t len = strlen(tok);
    if (len == 0 || len > 9 || (tok[0] == '0' && len > 1) ||
        strspn(tok, "0123456789") != len)
        return -1;
    return strtol(tok, NULL, 10);
}

/* Inserts ITEM into ARRAY before position AT (0 <= AT <= size). */
static void array_insert(cJSON *array, int at, cJSON *item)
{
    if (at == cJSON_GetArraySize(array)) {
        cJSON_AddItemToArray(array, item);
        return;
    }
    cJSON *next = cJSON_GetArrayItem(array, at);
    item->next = next;
    item->prev = next->prev;
    if (next == array->child) {
        array->child = item; /* the head's prev stays the tail */
    } else {
        next->prev->next = item;
    }
    next->prev = item;
}

/* ERR names PATH on one line: its control characters become '?'. */
static int fail(char *err, size_t len, const char *path, const char *why)
{
    char shown[201];
    size_t n = 0;
    for (; path[n] && n < sizeof(shown) - 1; n++)
        shown[n] =
            (unsigned char)path[n] < 0x20 || path[n] == 0x7f ? '?' : path[n];
    shown[n] = '\0';
    snprintf(err, len, "override path \"%s\": %s", shown, why);
    return -1;
}

int fed_override_apply(cJSON *obj, const char *path, const char *op,
                       const cJSON *value, char *err, size_t err_len)
{
    char buf[MAX_POINTER];
    char *tok[MAX_TOKENS];
    int n = tokens(path, buf, tok);
    if (n < 0)
        return fail(err, err_len, path,
                    "not a JSON pointer (\"/spec/replicas\"; ~0 and ~1 "
                    "escapes)");
    if (!op || !*op)
        op = "replace";
    int add = strcmp(op, "add") == 0, replace = strcmp(op, "replace") == 0,
        remove = strcmp(op, "remove") == 0;
    if (!add && !replace && !remove)
        return fail(err, err_len, path, "op must be add, replace or remove");
    if (!remove && !value)
        return fail(err, err_len, path, "value is required");
    cJSON *parent = obj;
    for (int i = 0; i < n - 1; i++) {
        cJSON *child = NULL;
        if (cJSON_IsObject(parent)) {
            child = cJSON_GetObjectItemCaseSensitive(parent, tok[i]);
        } else if (cJSON_IsArray(parent)) {
            long at = array_index(tok[i], cJSON_GetArraySize(parent));
            child = at >= 0 ? cJSON_GetArrayItem(parent, (int)at) : NULL;
        }
        if (!child)
            return fail(err, err_len, path, "no such field");
        parent = child;
    }
    const char *last = tok[n - 1];
    if (cJSON_IsObject(parent)) {
        cJSON *there = cJSON_GetObjectItemCaseSensitive(parent, last);
        if (!there && !add)
            return fail(err, err_len, path, "no such field");
        if (remove) {
            cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
            return 0;
        }
        cJSON *copy = cJSON_Duplicate(value, 1);
        if (!copy)
            return fail(err, err_len, path, "out of memory");
        if (there)
            cJSON_ReplaceItemInObjectCaseSensitive(parent, last, copy);
        else
            cJSON_AddItemToObject(parent, last, copy);
        return 0;
    }
    if (!cJSON_IsArray(parent))
        return fail(err, err_len, path, "parent is neither object nor array");
    int size = cJSON_GetArraySize(parent);
    long at = array_index(last, size);
    if (at < 0 || at > size || (!add && at == size))
        return fail(err, err_len, path, "array index out of range");
    if (remove) {
        cJSON_DeleteItemFromArray(parent, (int)at);
        return 0;
    }
    cJSON *copy = cJSON_Duplicate(value, 1);
    if (!copy)
        return fail(err, err_len, path, "out of memory");
    if (add)
        array_insert(parent, (int)at, copy);
    else
        cJSON_ReplaceItemInArray(parent, (int)at, copy);
    return 0;
}

int fed_overrides_apply(cJSON *obj, const cJSON *overrides, const char *cluster,
                        char *err, size_t err_len)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, overrides)
    {
        const cJSON *name =
            cJSON_GetObjectItemCaseSensitive(entry, "clusterName");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, cluster) != 0)
            continue;
        const cJSON *o;
        cJSON_ArrayForEach(
            o, cJSON_GetObjectItemCaseSensitive(entry, "clusterOverrides"))
        {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
            if (!cJSON_IsString(path))
                return fail(err, err_len, "", "path is required");
            if (fed_override_apply(obj, path->valuestring,
                                   cJSON_IsString(op) ? op->valuestring : NULL,
                                   cJSON_GetObjectItemCaseSensitive(o, "value"),
                                   err, err_len) < 0)
                return -1;
        }
    }
    return 0;
}
