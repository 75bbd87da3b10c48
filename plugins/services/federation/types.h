/* The federated kinds the service serves: KubeFed's
 * types.kubefed.io/v1beta1 Federated<Kind> for a fixed list of member
 * kinds, and scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference;
 * their schemas, printer columns, discovery entries, and where each
 * member kind lives on a member (its API path). */
#ifndef FEDERATION_TYPES_H
#define FEDERATION_TYPES_H

#include <stddef.h>

#include <fedgate/objects.h>
#include <fedgate/service.h>

#define FED_GROUP "types.kubefed.io"
#define FED_VERSION "v1beta1"
#define RSP_GROUP "scheduling.kubefed.io"
#define RSP_VERSION "v1alpha1"

/* What a federated kind propagates. */
struct fed_target {
    const char *api_version; /* "apps/v1" */
    const char *kind;        /* "Deployment" */
    const char *resource;    /* "deployments" */
    int namespaced;          /* 0: FederatedNamespace's Namespace */
    int workload;            /* has spec.replicas and status.readyReplicas */
};

/* The kinds of the store: federated ones first (FED_N_TYPES), then
 * ReplicaSchedulingPreference, then the end. fed_targets[i] is what
 * fed_kinds[i] propagates. */
#define FED_N_TYPES 13
#define FED_RSP FED_N_TYPES
/* The kind a ReplicaSchedulingPreference schedules. */
#define FED_DEPLOYMENTS 8
extern const struct fg_object_kind fed_kinds[];
extern const struct fed_target fed_targets[];
extern const struct fg_service_resource fed_resources[];
extern const struct fg_service_resource rsp_resources[];

/* The index of K in fed_kinds. */
size_t fed_kind_index(const struct fg_object_kind *k);

/* The member path of TARGET's object NAME in namespace NS (ignored for
 * cluster-scoped ones), NAME "" for the collection, into BUF. 0, or -1
 * when it does not fit. */
int fed_target_path(const struct fed_target *t, const char *ns,
                    const char *name, char *buf, size_t len);

#endif
