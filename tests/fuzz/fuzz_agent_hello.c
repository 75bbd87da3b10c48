/* libFuzzer target for the tunnel handshake's values (plugins/drivers/
 * agent/tunnel/hello.c), which both the host and fedgate-agent read from
 * the peer before it is trusted. The input is a header block, one
 * "name: value" per line. What is accepted holds only what each field
 * allows (checked again here), and a refused block says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 16

static void check(const char *v, size_t cap, char lo, char hi)
{
    size_t n = strnlen(v, cap);
    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if (v[i] < lo || v[i] > hi)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_header h[MAX_FIELDS];
    size_t n = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && n < MAX_FIELDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon) {
            const char *v =
                colon + 1 < line_end && colon[1] == ' ' ? colon + 2 : colon + 1;
            h[n++] = (struct fg_header){p, (size_t)(colon - p), v,
                                        (size_t)(line_end - v)};
        }
        p = nl ? nl + 1 : end;
    }
    struct tunnel_hello out;
    char err[128] = "";
    if (tunnel_hello_read(h, n, &out, err, sizeof(err)) != 0) {
        if (!err[0])
            abort();
        return 0;
    }
    check(out.host_id, sizeof(out.host_id), '0', 'f');
    if (out.host_id[0] && strlen(out.host_id) != TUNNEL_HOST_ID_LEN)
        abort();
    if (out.member[0] && !tunnel_name_ok(out.member, strlen(out.member)))
        abort();
    check(out.token, sizeof(out.token), '!', '~');
    check(out.reason, sizeof(out.reason), ' ', '~');
    if (out.verdict[0] && strcmp(out.verdict, "joined") != 0 &&
        strcmp(out.verdict, "refused") != 0)
        abort();
    char clean[TUNNEL_REASON_MAX + 1];
    char raw[64];
    size_t k = size < sizeof(raw) - 1 ? size : sizeof(raw) - 1;
    memcpy(raw, data, k);
    raw[k] = 0;
    tunnel_reason_clean(clean, raw);
    check(clean, sizeof(clean), ' ', '~');
    return 0;
}
