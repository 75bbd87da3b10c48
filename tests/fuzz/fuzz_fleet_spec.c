/* libFuzzer target for a Cluster object written to the host's API
 * (core/fleet/spec.c): the JSON body, its labels and its base64
 * kubeconfig. The input is split at the first NUL: the object, then the
 * Cluster as the host shows it now (an update; none when absent). Every
 * outcome is one of the three; a valid object names a DNS-1123 member
 * with one ini line's worth of labels and server, never a newline, and
 * credentials inline; an invalid one has causes, each with a field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "config/config.h"
#include "fleet/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *parse(const char *p, size_t n)
{
    return fg_json_depth(p, n, 32) > 32 ? NULL : cJSON_ParseWithLength(p, n);
}

static void check_valid(const struct fg_spec *s)
{
    const struct fg_join *j = &s->join;
    if (!fg_is_dns1123_label(j->name, strlen(j->name)) ||
        strlen(j->labels) > FG_SPEC_MAX_VALUE || strchr(j->labels, '\n'))
        abort();
    if (s->credentials &&
        (!j->server || strlen(j->server) > FG_SPEC_MAX_VALUE ||
         strpbrk(j->server, "\n\r ;#") || !j->ca_pem ||
         (j->kind == FG_JOIN_TOKEN ? !j->token : !j->cert_pem || !j->key_pem)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul ? (size_t)(nul - data) : size;
    cJSON *obj = parse(text, first);
    cJSON *cur = nul ? parse(text + first + 1, size - first - 1) : NULL;
    struct fg_spec s;
    struct fg_spec_causes c;
    for (int agents = 0; obj && agents < 2; agents++) {
        int rc = fg_spec_read(obj, cur, agents, &s, &c);
        if (rc < -1 || rc > 1 || (rc == 1) != (c.n > 0))
            abort();
        for (size_t i = 0; i < c.n; i++)
            if (!c.v[i].field[0] || !c.v[i].message[0])
                abort();
        if (rc == 0)
            check_valid(&s);
        fg_spec_free(&s);
    }
    cJSON_Delete(obj);
    cJSON_Delete(cur);
    return 0;
}
