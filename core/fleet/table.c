/* Clusters as a meta.k8s.io Table, what `kubectl get clusters` prints:
 * NAME, TYPE, READY, VERSION, AGE, and with -o wide PROVIDER, TUNNELS,
 * RTT and LABELS. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "fleet/fleet_internal.h"

struct column {
    const char *name, *type, *format;
    int priority;
    const char *description;
};

static const struct column columns[] = {
    {"Name", "string", "name", 0, "The member cluster's name."},
    {"Type", "string", "", 0,
     "How the host reaches it: direct, proxy (an agent's tunnels) or the "
     "driver's name."},
    {"Ready", "string", "", 0, "The Ready condition's status."},
    {"Version", "string", "", 0, "The member's Kubernetes version."},
    {"Age", "string", "", 0, "Time since the member joined."},
    {"Provider", "string", "", 1, "spec.provider."},
    {"Tunnels", "string", "", 1, "Agent tunnels connected / expected."},
    {"RTT", "string", "", 1, "The last health probe's round trip."},
    {"Labels", "string", "", 1, "The Cluster's labels."},
};

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    x = b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static const char *ready_of(const cJSON *obj)
{
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "status"), "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        const char *type = str_at(c, "type", NULL);
        if (type && strcmp(type, "Ready") == 0)
            return str_at(c, "status", NULL);
    }
    return NULL;
}

static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

static void add_str(cJSON *cells, const char *s)
{
    cJSON_AddItemToArray(cells, cJSON_CreateString(s ? s : "<none>"));
}

static cJSON *row_of(cJSON *obj, const char *include, int64_t now)
{
    cJSON *row = cJSON_CreateObject();
    cJSON *cells = row ? cJSON_AddArrayToObject(row, "cells") : NULL;
    if (!cells) {
        cJSON_Delete(row);
        return NULL;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
    char age[32], tunnels[32] = "<none>", labels[1024] = "";
    int64_t created = parse_time(str_at(obj, "metadata", "creationTimestamp"));
    fg_human_duration(created < 0 ? 0 : now - created, age, sizeof(age));
    const cJSON *live = cJSON_GetObjectItemCaseSensitive(status, "tunnels");
    const cJSON *want =
        cJSON_GetObjectItemCaseSensitive(status, "tunnelsExpected");
    if (cJSON_IsNumber(live) && cJSON_IsNumber(want))
        snprintf(tunnels, sizeof(tunnels), "%d/%d", live->valueint,
                 want->valueint);
    const cJSON *l;
    cJSON_ArrayForEach(
        l, cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels"))
    {
        size_t n = strlen(labels);
        snprintf(labels + n, sizeof(labels) - n, "%s%s=%s", n ? "," : "",
                 l->string, cJSON_IsString(l) ? l->valuestring : "");
    }
    add_str(cells, str_at(obj, "metadata", "name"));
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "spec"), "connection");
    add_str(cells, str_at(conn, "type", NULL));
    add_str(cells, ready_of(obj) ? ready_of(obj) : "Unknown");
    add_str(cells, str_at(status, "kubernetesVersion", NULL));
    add_str(cells, age);
    add_str(cells, str_at(obj, "spec", "provider"));
    add_str(cells, tunnels);
    add_str(cells, str_at(status, "probeRTT", NULL));
    add_str(cells, labels[0] ? labels : NULL);
    if (strcmp(include, "None") == 0)
        return row;
    if (strcmp(include, "Object") == 0) {
        cJSON_AddItemReferenceToObject(row, "object", obj);
        return row;
    }
    /* Metadata: a PartialObjectMetadata, as kubectl reads names from it */
    cJSON *pom = cJSON_CreateObject();
    if (pom && cJSON_AddItemToObject(row, "object", pom)) {
        cJSON_AddStringToObject(pom, "kind", "PartialObjectMetadata");
        cJSON_AddStringToObject(pom, "apiVersion", "meta.k8s.io/v1");
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        cJSON_AddItemReferenceToObject(pom, "metadata", meta);
    } else {
        cJSON_Delete(pom);
    }
    return row;
}

cJSON *fg_fleet_table(cJSON *items, int table, const char *include, uint64_t rv)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *meta = t ? cJSON_AddObjectToObject(t, "metadata") : NULL;
    cJSON *cols = meta ? cJSON_AddArrayToObject(t, "columnDefinitions") : NULL;
    cJSON *rows = cols ? cJSON_AddArrayToObject(t, "rows") : NULL;
    if (!rows) {
        cJSON_Delete(t);
        return NULL;
    }
    char rvs[24];
    snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
    cJSON_AddStringToObject(t, "kind", "Table");
    cJSON_AddStringToObject(
        t, "apiVersion", table == 2 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1");
    cJSON_AddStringToObject(meta, "resourceVersion", rvs);
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(cols, c)) {
            cJSON_Delete(c);
            continue;
        }
        cJSON_AddStringToObject(c, "name", columns[i].name);
        cJSON_AddStringToObject(c, "type", columns[i].type);
        cJSON_AddStringToObject(c, "format", columns[i].format);
        cJSON_AddStringToObject(c, "description", columns[i].description);
        cJSON_AddNumberToObject(c, "priority", columns[i].priority);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    cJSON *obj;
    cJSON_ArrayForEach(obj, items)
    {
        cJSON *row = row_of(obj, include, now);
        if (row)
            cJSON_AddItemToArray(rows, row);
    }
    return t;
}
