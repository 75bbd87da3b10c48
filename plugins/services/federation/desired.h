/* The object a member should hold for one federated object: its template,
 * the cluster's overrides, a replica count chosen by a scheduling
 * preference, then what makes it the service's: name, namespace, the
 * managed label and the owner annotation. */
#ifndef FEDERATION_DESIRED_H
#define FEDERATION_DESIRED_H

#include <stddef.h>

#include "types.h"

struct cJSON;

/* The desired object of FED (a Federated<Kind> of target T, whose owner
 * id is OWNER) in CLUSTER; REPLICAS >= 0 sets spec.replicas. NULL with a
 * reason in ERR when an override fails or memory ran out. */
struct cJSON *fed_desired(const struct cJSON *fed, const struct fed_target *t,
                          const char *owner, const char *cluster, long replicas,
                          char *err, size_t err_len);

/* Whether the member object OBJ is the one the service made for OWNER. */
int fed_owned(const struct cJSON *obj, const char *owner);

#endif
