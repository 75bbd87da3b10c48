/* Where a request may switch protocols: only on the paths Kubernetes
 * upgrades (a pod's exec, attach and portforward, and the proxy
 * subresource of pods, services and nodes). Elsewhere an Upgrade header is
 * ignored (RFC 9110 7.8) and the request is served as plain HTTP, so no
 * member is ever asked to switch where kube-apiserver would not. */
#ifndef FG_UPGRADE_H
#define FG_UPGRADE_H

#include <stddef.h>

/* Whether PATH, a member-relative path in fg_target's canonical form
 * ("/api/v1/namespaces/NS/pods/NAME/exec"), is one Kubernetes upgrades. */
int fg_upgrade_path(const char *path);

/* The same for TARGET, a raw origin-form request target of LEN bytes (at
 * most MAX_LEN) as a client sent it: 0 when it is malformed. */
int fg_upgrade_target(const char *target, size_t len, size_t max_len);

#endif
