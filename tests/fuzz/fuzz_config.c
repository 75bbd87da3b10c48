/* Fuzzes the configuration loader (core/config/config.c and the ini reader
 * under it): each input is written as the one *.ini of a temporary directory,
 * then loaded and freed. Any crash, leak or sanitizer report is a bug; a
 * refused input is the expected outcome for most of them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

/* One directory for the whole run: creating one per input would make the
 * file system, not the parser, what is measured. */
static char dir[64];
static char path[128];

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

static int prepare(void)
{
    if (dir[0])
        return 0;
    strcpy(dir, "/tmp/fg-fuzz-config-XXXXXX");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return -1;
    }
    snprintf(path, sizeof(path), "%s/fuzz.ini", dir);
    atexit(remove_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (prepare() != 0)
        return 0;
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote != size)
        return 0;

    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(dir, &diag);
    if (cfg) {
        /* Whatever loads must read back through the SDK's view. */
        for (size_t i = 0; i < cfg->n_sections; i++) {
            const struct fg_section *v = &cfg->sections[i].view;
            v->get(v, "driver");
            v->get_int(v, "workers", 0);
        }
        fg_config_free(cfg);
    }
    fg_diag_free(&diag);
    return 0;
}
