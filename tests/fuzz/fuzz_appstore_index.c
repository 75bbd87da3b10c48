/* Fuzz target for the reader of a remote repository's index.yaml
 * (index_read.c): it keeps at most the cap of versions per chart, each
 * with a name, version and url that can be part of a file name, sorted
 * newest first, or refuses with a one-line reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = 0;
    struct appstore_remote_index idx;
    size_t cap = size ? data[0] % 4 + 1 : 1;
    if (appstore_index_read((const char *)data, size, cap, &idx, err,
                            sizeof err) != 0) {
        if (!err[0] || strchr(err, '\n') || idx.n != 0)
            abort();
        return 0;
    }
    size_t run = 0;
    for (size_t i = 0; i < idx.n; i++) {
        const struct appstore_remote_version *r = &idx.versions[i];
        if (!r->url || !*r->v.name || !*r->v.version ||
            strchr(r->v.name, '/') || strchr(r->v.version, '/') ||
            (*r->v.digest && strlen(r->v.digest) != 64))
            abort();
        int same = i > 0 && strcmp(idx.versions[i - 1].v.name, r->v.name) == 0;
        if (same &&
            (strcmp(idx.versions[i - 1].v.version, r->v.version) == 0 ||
             (r->v.sv.major != UINT64_MAX &&
              idx.versions[i - 1].v.sv.major != UINT64_MAX &&
              appstore_semver_cmp(&idx.versions[i - 1].v.sv, &r->v.sv) < 0)))
            abort(); /* twice, or not newest first */
        run = same ? run + 1 : 1;
        if (run > cap)
            abort();
    }
    appstore_remote_index_free(&idx);
    return 0;
}
