/* The server URL a dialling client is given: https://HOST[:PORT][/], the
 * host a name or an IP literal (v6 in brackets), nothing after it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client.h"

int fg_client_url_parse(const char *url, struct fg_client_url *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, err_len, "server \"%s\" must be an https:// URL", url);
        return -1;
    }
    const char *p = url + 8, *host, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            snprintf(err, err_len, "server \"%s\": unclosed '['", url);
            return -1;
        }
        p = host_end + 1;
    } else {
        host = p;
        while (*p && *p != ':' && *p != '/')
            p++;
        host_end = p;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(out->host)) {
        snprintf(err, err_len, "server \"%s\": missing or overlong host", url);
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)out->host[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_')) {
            snprintf(err, err_len, "server \"%s\": invalid host", url);
            return -1;
        }
    }
    long port = 443;
    if (*p == ':') {
        char *end;
        errno = 0;
        port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno || port < 1 || port > 65535) {
            snprintf(err, err_len, "server \"%s\": invalid port", url);
            return -1;
        }
        p = end;
    }
    if (*p == '/')
        p++;
    if (*p) {
        snprintf(err, err_len,
                 "server \"%s\": a path, query or user info is not supported",
                 url);
        return -1;
    }
    out->port = (uint16_t)port;

    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, out->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(out->port);
        out->addr_len = sizeof(*v4);
        out->is_ip = 1;
    } else if (inet_pton(AF_INET6, out->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(out->port);
        out->addr_len = sizeof(*v6);
        out->is_ip = 1;
    } else if (strchr(out->host, ':')) {
        snprintf(err, err_len, "server \"%s\": invalid host", url);
        return -1;
    }
    int v6lit = out->is_ip && v6->sin6_family == AF_INET6;
    /* Host must match what the server's certificate and routing expect:
     * the default port is left out, as clients do. */
    if (out->port == 443)
        snprintf(out->authority, sizeof(out->authority), v6lit ? "[%s]" : "%s",
                 out->host);
    else
        snprintf(out->authority, sizeof(out->authority),
                 v6lit ? "[%s]:%u" : "%s:%u", out->host, out->port);
    return 0;
}
