/* A member as a Cluster object of cluster.kubesphere.io/v1alpha1, the
 * shape KubeSphere's scripts read: spec.connection (type, the driver's
 * non-secret settings), spec.provider, spec.enable, labels; status with
 * the version, tunnels, the probe's round trip and the conditions. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "config/labels.h"
#include "fleet/fleet_internal.h"

static void timestamp(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* Whether a driver key may be shown: never what holds or names a secret
 * (a token, a key, a password), whatever the driver calls it. */
static int shown(const char *key)
{
    static const char *const secret[] = {"token", "key", "password", "secret",
                                         NULL};
    for (const char *const *s = secret; *s; s++)
        if (strstr(key, *s))
            return 0;
    return 1;
}

static void add_label(void *arg, const char *k, size_t kl, const char *v,
                      size_t vl)
{
    char key[320], value[64];
    snprintf(key, sizeof(key), "%.*s", (int)kl, k);
    snprintf(value, sizeof(value), "%.*s", (int)vl, v);
    cJSON_AddStringToObject(arg, key, value);
}

static void add_condition(cJSON *arr, const char *type,
                          const struct fg_fleet_condition *k)
{
    char when[32];
    timestamp(k->changed_ms, when, sizeof(when));
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return;
    }
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "status", k->status);
    cJSON_AddStringToObject(o, "lastUpdateTime", when);
    cJSON_AddStringToObject(o, "lastTransitionTime", when);
    cJSON_AddStringToObject(o, "reason", k->reason);
    cJSON_AddStringToObject(o, "message", k->message);
}

static void add_spec(cJSON *obj, const struct fg_fleet_cluster *c)
{
    const struct fg_config_section *s = c->section;
    cJSON *spec = cJSON_AddObjectToObject(obj, "spec");
    cJSON *conn = spec ? cJSON_AddObjectToObject(spec, "connection") : NULL;
    if (!conn)
        return;
    cJSON_AddStringToObject(conn, "type", c->connection_type);
    cJSON_AddStringToObject(conn, "driver", fg_config_get(s, "driver"));
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct fg_config_entry *e = &s->entries[i];
        if (e->line && !fg_config_is_core_key(s, e->key) && shown(e->key))
            cJSON_AddStringToObject(conn, e->key, e->value);
    }
    const char *provider = fg_config_get(s, "provider");
    if (provider)
        cJSON_AddStringToObject(spec, "provider", provider);
    cJSON_AddTrueToObject(spec, "enable");
    cJSON_AddBoolToObject(spec, "joinFederation", 0);
}

static void add_status(cJSON *obj, const struct fg_fleet_cluster *c)
{
    cJSON *st = cJSON_AddObjectToObject(obj, "status");
    if (!st)
        return;
    if (c->health.version[0])
        cJSON_AddStringToObject(st, "kubernetesVersion", c->health.version);
    if (c->health.node_count_known)
        cJSON_AddNumberToObject(st, "nodeCount", c->health.node_count);
    if (c->has_agent) {
        cJSON_AddNumberToObject(st, "tunnels", c->health.tunnels_live);
        cJSON_AddNumberToObject(st, "tunnelsExpected",
                                c->health.tunnels_expected);
    }
    if (c->health.rtt_us) {
        char rtt[32];
        snprintf(rtt, sizeof(rtt), "%.3fms", (double)c->health.rtt_us / 1e3);
        cJSON_AddStringToObject(st, "probeRTT", rtt);
    }
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    if (!conds)
        return;
    add_condition(conds, "Ready", &c->ready);
    if (c->has_agent)
        add_condition(conds, "AgentAvailable", &c->agent);
    if (c->health.client_cert_not_after)
        add_condition(conds, "KubeConfigCertExpiresInSevenDays", &c->cert);
}

cJSON *fg_fleet_cluster_object(const struct fg_fleet_cluster *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "Cluster");
    cJSON_AddStringToObject(o, "apiVersion",
                            FG_FLEET_GROUP "/" FG_FLEET_VERSION);
    cJSON *meta = o ? cJSON_AddObjectToObject(o, "metadata") : NULL;
    cJSON *labels = meta ? cJSON_CreateObject() : NULL;
    if (!labels) {
        cJSON_Delete(o);
        return NULL;
    }
    char created[32], rv[24];
    timestamp(c->created_ms, created, sizeof(created));
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)c->rv);
    cJSON_AddStringToObject(meta, "name", c->section->name);
    cJSON_AddStringToObject(meta, "uid", c->uid);
    cJSON_AddStringToObject(meta, "resourceVersion", rv);
    cJSON_AddStringToObject(meta, "creationTimestamp", created);
    const char *text = fg_config_get(c->section, "labels");
    if (text)
        fg_labels_parse(text, add_label, labels, NULL, 0);
    if (c->is_host)
        cJSON_AddStringToObject(labels, FG_LABEL_HOST, "");
    if (cJSON_GetArraySize(labels))
        cJSON_AddItemToObject(meta, "labels", labels);
    else
        cJSON_Delete(labels);
    add_spec(o, c);
    add_status(o, c);
    return o;
}
