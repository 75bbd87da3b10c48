/* Kubernetes labels in a member section (`labels = k=v, k2=v2`), checked
 * with apimachinery's rules so that a Cluster object never carries one
 * kube-apiserver would refuse. */
#ifndef FG_LABELS_H
#define FG_LABELS_H

#include <stddef.h>

/* The label the host's own cluster carries (set by [gateway]
 * host_cluster, never in a member's labels). */
#define FG_LABEL_HOST "cluster-role.kubesphere.io/host"

/* A label value: empty, or at most 63 of [A-Za-z0-9._-] beginning and
 * ending alphanumeric. */
int fg_label_value_ok(const char *s, size_t len);

typedef void (*fg_label_fn)(void *arg, const char *key, size_t key_len,
                            const char *value, size_t value_len);

/* Reads VALUE: KEY=VALUE pairs separated by commas (spaces around them
 * ignored); a key is [PREFIX/]NAME, PREFIX a DNS-1123 subdomain of at most
 * 253 bytes, NAME at most 63 of [A-Za-z0-9._-] alphanumeric at both ends;
 * each key once. Calls FN (may be NULL) per pair in order. Returns 0, or
 * -1 with a one-line reason in ERR. */
int fg_labels_parse(const char *value, fg_label_fn fn, void *arg, char *err,
                    size_t err_len);

#endif
