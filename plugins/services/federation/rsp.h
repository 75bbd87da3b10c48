/* ReplicaSchedulingPreference: a total replica count split over the
 * placed clusters by weight with per-cluster minimum and maximum, by the
 * Webster (Sainte-Lague) method: after the minimums, each replica goes to
 * the cluster with the largest weight / (2 * replicas + 1) that is below
 * its maximum, a tie to the cluster whose name sorts first. */
#ifndef FEDERATION_RSP_H
#define FEDERATION_RSP_H

#include <stddef.h>

struct cJSON;

struct fed_share {
    const char *name;
    long weight; /* >= 0 */
    long min;    /* >= 0 */
    long max;    /* < 0: none */
};

/* The split of TOTAL over SHARES (N) into OUT (N). Replicas no cluster
 * may take (every one at its maximum or of weight 0) stay unplaced. */
void fed_webster(const struct fed_share *shares, size_t n, long total,
                 long *out);

/* The replicas of each of CLUSTERS (N names) by the preference RSP (its
 * spec.totalReplicas and spec.clusters, "*" for every cluster not named)
 * into OUT. 0, or -1 when RSP has no total or memory ran out. */
int fed_rsp_split(const struct cJSON *rsp, const char *const *clusters,
                  size_t n, long *out);

#endif
