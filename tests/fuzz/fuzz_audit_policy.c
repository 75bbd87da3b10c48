/* Fuzz target for the audit plugin's Policy file reader (YAML or JSON via
 * libyaml, then the audit.k8s.io/v1 Policy fields): whatever the bytes, it
 * refuses them with a "NAME:LINE: " reason or gives a policy that answers
 * for requests of every shape (resource and not, with and without an
 * identity) with one of the four levels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const groups[] = {"system:authenticated", "dev"};
static const struct fg_identity id = {"alice", "u1", groups, 2, NULL, 0};

static const struct fg_request_info infos[] = {
    {1, "get", "api", "", "v1", "default", "pods", "log", "web", "/api/v1/x"},
    {1, "update", "apis", "apps", "v1", "", "deployments", "scale", "", "/x"},
    {0, "get", "", "", "", "", "", "", "", "/healthz/etcd"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    struct audit_policy *p = audit_policy_parse("p.yaml", (const char *)data,
                                                size, err, sizeof(err));
    if (!p) {
        if (strncmp(err, "p.yaml:", 7) != 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
        for (int with_id = 0; with_id < 2; with_id++) {
            unsigned omit;
            enum audit_level l =
                audit_policy_level(p, with_id ? &id : NULL, &infos[i], &omit);
            if (l > AUDIT_LEVEL_REQUEST_RESPONSE || omit > 0xf)
                abort();
        }
    audit_policy_wants_bodies(p);
    audit_policy_free(p);
    return 0;
}
