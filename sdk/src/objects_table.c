/* metav1.Table of a store's objects (objects_internal.h), what kubectl get
 * asks for: NAME, the kind's columns, AGE; each row carries the object's
 * metadata as PartialObjectMetadata, as kube-apiserver sends by default. */
#include "objects_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <fedgate/util.h>

static void column(cJSON *defs, const char *name, const char *type,
                   const char *format, int priority)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "format", format);
    cJSON_AddStringToObject(c, "description", "");
    cJSON_AddNumberToObject(c, "priority", priority);
    cJSON_AddItemToArray(defs, c);
}

/* "5m", "3d4h": how long ago the RFC 3339 time TEXT was; NULL when it is
 * not one. */
static cJSON *age(const char *text)
{
    struct tm tm = {0};
    const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return cJSON_CreateNull();
    char buf[32];
    double since = difftime(time(NULL), timegm(&tm));
    fg_human_duration((int64_t)(since > 0 ? since : 0) * 1000, buf,
                      sizeof(buf));
    return cJSON_CreateString(buf);
}

static cJSON *cell(const struct fg_object_column *c, const cJSON *obj)
{
    const cJSON *v = fg_json_path(obj, c->path);
    if (!v || cJSON_IsNull(v))
        return cJSON_CreateNull();
    if (strcmp(c->type, "date") == 0)
        return age(cJSON_IsString(v) ? v->valuestring : NULL);
    if (cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v))
        return cJSON_Duplicate(v, 0);
    char *text = cJSON_PrintUnformatted(v);
    cJSON *s = cJSON_CreateString(text ? text : "");
    cJSON_free(text);
    return s;
}

static cJSON *row(const struct fg_object_kind *k, const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    const cJSON *created =
        cJSON_GetObjectItemCaseSensitive(meta, "creationTimestamp");
    cJSON *r = cJSON_CreateObject();
    cJSON *cells = cJSON_AddArrayToObject(r, "cells");
    cJSON_AddItemToArray(cells, cJSON_Duplicate(name, 0));
    for (const struct fg_object_column *c = k->columns; c && c->name; c++)
        cJSON_AddItemToArray(cells, cell(c, obj));
    cJSON_AddItemToArray(
        cells, age(cJSON_IsString(created) ? created->valuestring : NULL));
    cJSON *o = cJSON_AddObjectToObject(r, "object");
    cJSON_AddStringToObject(o, "kind", "PartialObjectMetadata");
    cJSON_AddStringToObject(o, "apiVersion", "meta.k8s.io/v1");
    cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(meta, 1));
    return r;
}

cJSON *fg__objects_table(const struct fg_object_kind *k,
                         const cJSON *const *objs, size_t n,
                         const char *list_rv)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "kind", "Table");
    cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1");
    cJSON *meta = cJSON_AddObjectToObject(t, "metadata");
    if (list_rv)
        cJSON_AddStringToObject(meta, "resourceVersion", list_rv);
    cJSON *defs = cJSON_AddArrayToObject(t, "columnDefinitions");
    column(defs, "Name", "string", "name", 0);
    for (const struct fg_object_column *c = k->columns; c && c->name; c++)
        column(defs, c->name, strcmp(c->type, "date") == 0 ? "string" : c->type,
               "", c->priority);
    column(defs, "Age", "string", "", 0);
    cJSON *rows = cJSON_AddArrayToObject(t, "rows");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(rows, row(k, objs[i]));
    return t;
}
