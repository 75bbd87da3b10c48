/* Services' cluster IPs, as kube-apiserver's allocator gives them: a free
 * address of the service range (10.96.0.0/12, kubeadm's default) for a
 * Service that asks for none, the one it asks for when free and in range,
 * "None" kept for a headless Service, none for ExternalName; clusterIPs,
 * ipFamilies and ipFamilyPolicy to match; and on update the allocated
 * address kept when the client omits it and refused when it changes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mock.h"

#define RANGE_BASE 0x0A600000u /* 10.96.0.0 */
#define RANGE_BITS 20
#define RANGE_TEXT "10.96.0.0/12"
/* Random probes before a sweep of the range. */
#define PROBES 64

static int parse_ip(const char *s, uint32_t *ip)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *ip = ntohl(a.s_addr);
    return 0;
}

static int in_range(uint32_t ip)
{
    uint32_t off = ip - RANGE_BASE;
    /* Neither the network nor the broadcast address. */
    return ip >= RANGE_BASE && off > 0 && off < (1u << RANGE_BITS) - 1;
}

/* Whether a Service other than (NS, NAME) holds IP. */
static int taken(const struct mock_store *s, const struct mock_kind *k,
                 uint32_t ip, const char *ns, const char *name)
{
    const struct mock_bucket *b = mock_store_bucket(s, k);
    for (size_t i = 0; i < b->n; i++) {
        uint32_t other;
        char v[64];
        if (mock_doc_string(b->v[i]->doc, "spec.clusterIP", v, sizeof(v)) ==
                0 &&
            parse_ip(v, &other) == 0 && other == ip &&
            (strcmp(b->v[i]->ns, ns) != 0 || strcmp(b->v[i]->name, name) != 0))
            return 1;
    }
    return 0;
}

static int allocate(const struct mock_store *s, const struct mock_kind *k,
                    const char *ns, const char *name, uint32_t *ip)
{
    uint32_t size = (1u << RANGE_BITS) - 2;
    for (int i = 0; i < PROBES; i++) {
        uint32_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            break;
        *ip = RANGE_BASE + 1 + r % size;
        if (!taken(s, k, *ip, ns, name))
            return 0;
    }
    for (uint32_t off = 1; off <= size; off++) {
        *ip = RANGE_BASE + off;
        if (!taken(s, k, *ip, ns, name))
            return 0;
    }
    return -1;
}

static int set_ips(cJSON *spec, const char *ip)
{
    cJSON *ips = cJSON_CreateStringArray(&ip, 1);
    if (mock_w_set_str(spec, "clusterIP", ip) != 0 ||
        fg_json_set(spec, "clusterIPs", ips) != 0)
        return -1;
    if (!cJSON_GetObjectItemCaseSensitive(spec, "ipFamilies")) {
        const char *fam = "IPv4";
        if (fg_json_set(spec, "ipFamilies", cJSON_CreateStringArray(&fam, 1)) !=
            0)
            return -1;
    }
    if (!cJSON_GetObjectItemCaseSensitive(spec, "ipFamilyPolicy") &&
        mock_w_set_str(spec, "ipFamilyPolicy", "SingleStack") != 0)
        return -1;
    return 0;
}

int mock_w_cluster_ip(struct mock_write *w, cJSON *obj, const cJSON *old)
{
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec))
        return 0;
    const char *name = mock_json_str(obj, "metadata.name", "");
    if (strcmp(mock_json_str(spec, "type", "ClusterIP"), "ExternalName") == 0)
        return 0;
    const char *want = mock_json_str(spec, "clusterIP", "");
    const char *had = old ? mock_json_str(old, "spec.clusterIP", "") : "";
    char detail[512], ipbuf[INET_ADDRSTRLEN];
    if (had[0]) {
        if (!want[0]) {
            snprintf(ipbuf, sizeof(ipbuf), "%.15s", had);
            return set_ips(spec, ipbuf) == 0 ? 0 : -1;
        }
        if (strcmp(want, had) != 0) {
            snprintf(detail, sizeof(detail),
                     "spec.clusterIPs[0]: Invalid value: []string{\"%.64s\"}: "
                     "may not change once set",
                     want);
            return mock_w_invalid(w, name, "spec.clusterIPs[0]",
                                  "FieldValueInvalid", detail) == 0
                       ? 1
                       : -1;
        }
        return 0;
    }
    if (strcmp(want, "None") == 0)
        return set_ips(spec, "None") == 0 ? 0 : -1;
    uint32_t ip;
    if (want[0]) {
        const char *why = NULL;
        if (parse_ip(want, &ip) != 0)
            why = "must be a valid IP address";
        else if (!in_range(ip))
            why = "the provided IP is not in the valid range. The range of "
                  "valid IPs is " RANGE_TEXT;
        else if (taken(w->in->store, w->k, ip, w->ns, name))
            why = "provided IP is already allocated";
        if (why) {
            snprintf(detail, sizeof(detail),
                     "spec.clusterIPs: Invalid value: []string{\"%.64s\"}: "
                     "failed to allocate IP %.64s: %s",
                     want, want, why);
            return mock_w_invalid(w, name, "spec.clusterIPs",
                                  "FieldValueInvalid", detail) == 0
                       ? 1
                       : -1;
        }
    } else if (allocate(w->in->store, w->k, w->ns, name, &ip) != 0) {
        return mock_w_status(w, 500, "InternalError",
                             "Internal error occurred: failed to allocate a "
                             "serviceIP: range is full",
                             NULL) == 0
                   ? 1
                   : -1;
    }
    struct in_addr a = {htonl(ip)};
    inet_ntop(AF_INET, &a, ipbuf, sizeof(ipbuf));
    return set_ips(spec, ipbuf) == 0 ? 0 : -1;
}
