/* References in a chart repository's answers — an index's chart URLs and a
 * redirect's Location — made absolute against the URL they came from. Both
 * are the remote server's bytes, so they are checked before anything
 * follows them. */
#ifndef APPSTORE_URL_REF_H
#define APPSTORE_URL_REF_H

#include <stddef.h>

/** Whether V (LEN bytes) may be followed as a Location: 1 to MAX bytes of
 * visible ASCII. */
int appstore_location_ok(const char *v, size_t len, size_t max);

/** REF resolved against BASE (an absolute URL, "SCHEME://AUTHORITY[PATH]
 * [?QUERY][#FRAGMENT]") as RFC 3986 section 5.2 does for the forms a
 * repository uses: REF itself when it has a scheme; BASE's scheme before a
 * network-path "//HOST/..."; BASE's scheme and authority before an
 * absolute path; BASE's path before a query; BASE's path up to its last
 * '/' before a relative path; BASE without its fragment for an empty REF.
 * Dot segments are left to the server. Malloc'd, or NULL when BASE is not
 * absolute or out of memory. Whether the result may be fetched (https://
 * only) is the caller's to check. */
char *appstore_url_resolve(const char *base, const char *ref);

#endif
