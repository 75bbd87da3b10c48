/* The live objects of an ApplicationRelease, read when a client asks for
 * them, never cached: the release as KubeSphere's DescribeAppRls answers
 * it, with status.realTimeResources. Helm's record of the release's
 * revision on the member (read as the release's creator, who wrote it)
 * names the objects; each one is then read from the member as the
 * caller, so that a caller without rights there sees the member's
 * Forbidden for it (in the object's status.state, as KubeSphere shows a
 * failed read) and never the service's view. */
#ifndef APPSTORE_RELEASE_LIVE_H
#define APPSTORE_RELEASE_LIVE_H

#include <fedgate/driver.h>

#include "appstore.h"

struct appstore_live;

/** A read of RELEASE (copied) as CALLER (kept: valid until the close),
 * answered through CB/CTX once started. NULL when out of memory. */
struct appstore_live *appstore_live_open(struct appstore *a,
                                         const struct cJSON *release,
                                         const struct fg_identity *caller,
                                         const struct fg_stream_callbacks *cb,
                                         void *ctx);
/** Reads and answers (200 with the release's JSON). */
void appstore_live_start(struct appstore_live *l);
/** Stops what still runs and frees; no callback follows. */
void appstore_live_close(struct appstore_live *l);

#endif
