/* The merge of a cross-cluster list: each member's answer (a List such as
 * PodList, or a meta.k8s.io Table) parsed after a depth check, every item
 * annotated fedgate.io/cluster: NAME (a Table's rows also gain a Cluster
 * cell, first, and their objects the annotation), all items in one stable
 * order (cluster, namespace, name), and the members that failed listed in
 * the answer's failedClusters field. */
#ifndef FG_FANOUT_MERGE_H
#define FG_FANOUT_MERGE_H

#include <stddef.h>

#include "base/error.h"

/* The annotation that names an item's cluster. */
#define FG_FANOUT_CLUSTER_ANNOTATION "fedgate.io/cluster"

/* How deep a member's answer may nest (DESIGN.md: cJSON's parser is
 * recursive); Kubernetes objects stay far below. */
#define FG_FANOUT_MAX_DEPTH 128

struct fg_fanout_merge;

struct fg_fanout_merge *fg_fanout_merge_new(void);
void fg_fanout_merge_free(struct fg_fanout_merge *m);

/* Adds CLUSTER's successful answer BODY (LEN bytes). Returns 0 and, in
 * *CONT, the member's metadata.continue (malloc'd; NULL when it has none),
 * or -1 with ERR saying why the answer cannot be merged: not JSON, too
 * deep, no list, or another kind than the first answer's. */
int fg_fanout_merge_add(struct fg_fanout_merge *m, const char *cluster,
                        const char *body, size_t len, char **cont,
                        struct fg_error *err);

/* Records that CLUSTER failed with MESSAGE. Returns 0 or -1 (memory). */
int fg_fanout_merge_fail(struct fg_fanout_merge *m, const char *cluster,
                         const char *message);

/* The kind and apiVersion of the first answer ("" before one). */
const char *fg_fanout_merge_kind(const struct fg_fanout_merge *m);
const char *fg_fanout_merge_api_version(const struct fg_fanout_merge *m);

/* Before any answer: the list is an empty one of KIND and API_VERSION
 * (a page on which no member answered). Returns 0 or -1 (memory). */
int fg_fanout_merge_empty(struct fg_fanout_merge *m, const char *kind,
                          const char *api_version);

/* How many answers, and how many items (or rows), were added. */
size_t fg_fanout_merge_answers(const struct fg_fanout_merge *m);
size_t fg_fanout_merge_items(const struct fg_fanout_merge *m);

/* The merged list with CONT (NULL: none) as its metadata.continue and an
 * empty resourceVersion, as malloc'd JSON of *LEN bytes; NULL when out of
 * memory or when no answer was added. */
char *fg_fanout_merge_finish(struct fg_fanout_merge *m, const char *cont,
                             size_t *len);

#endif
