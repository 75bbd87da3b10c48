/* Where a request may switch protocols: only where Kubernetes upgrades (a
 * pod's exec, attach and portforward, and the proxy subresource of pods,
 * services and nodes: fg_request_info_is_upgradable). Elsewhere an Upgrade
 * header is ignored (RFC 9110 7.8) and the request is served as plain
 * HTTP, so no member is ever asked to switch where kube-apiserver would
 * not. */
#ifndef FG_UPGRADE_H
#define FG_UPGRADE_H

#include <stddef.h>

/* Whether a METHOD request for TARGET, a raw origin-form request target of
 * LEN bytes (at most MAX_LEN) as the client sent it, may switch protocols:
 * its member-relative path is read as kube-apiserver reads it, by segment,
 * never searched for a substring. 0 when the target is malformed. */
int fg_upgrade_allowed(const char *method, const char *target, size_t len,
                       size_t max_len);

#endif
