/* The Impersonate-* headers a gateway sends for the authenticated user
 * (kube-apiserver's impersonation: User, Uid, Group, Extra-KEY), shared by
 * every driver that speaks for the user to a member (util.h). */
#include <string.h>

#include <fedgate/util.h>

static struct fg_header header(const char *name, const char *value)
{
    struct fg_header h = {name, strlen(name), value, strlen(value)};
    return h;
}

size_t fg_impersonate_max(const struct fg_identity *id)
{
    size_t n = 2 + (id ? id->n_groups : 0);
    for (size_t i = 0; id && i < id->n_extra; i++)
        n += id->extra[i].n_values;
    return n;
}

#define EXTRA_PREFIX "impersonate-extra-"

size_t fg_impersonate_names_bytes(const struct fg_identity *id)
{
    size_t n = 1;
    for (size_t i = 0; id && i < id->n_extra; i++)
        if (id->extra[i].key)
            n += sizeof(EXTRA_PREFIX) + 3 * strlen(id->extra[i].key);
    return n;
}

/* RFC 9110 token characters, those a header name may hold as they are. */
static int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$&'*+-.^_`|~", c));
}

/* "impersonate-extra-" and KEY, lower-case, every byte that cannot stand
 * in a header name (and '%') percent-encoded, as kube-apiserver decodes
 * it (e.g. "scopes.example.com/v1" -> "impersonate-extra-scopes.example.
 * com%2fv1"). Returns the end of what was written. */
static char *extra_name(char *w, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    memcpy(w, EXTRA_PREFIX, sizeof(EXTRA_PREFIX) - 1);
    w += sizeof(EXTRA_PREFIX) - 1;
    for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
        if (tchar(*k)) {
            *w++ = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
        } else {
            *w++ = '%';
            *w++ = hex[*k >> 4];
            *w++ = hex[*k & 15];
        }
    }
    *w++ = '\0';
    return w;
}

size_t fg_impersonate_headers(const struct fg_identity *id,
                              struct fg_header *out, char *names)
{
    size_t n = 0;
    if (!id || !id->user)
        return 0;
    out[n++] = header("impersonate-user", id->user);
    if (id->uid)
        out[n++] = header("impersonate-uid", id->uid);
    for (size_t i = 0; i < id->n_groups; i++)
        if (id->groups[i])
            out[n++] = header("impersonate-group", id->groups[i]);
    for (size_t i = 0; i < id->n_extra; i++) {
        const struct fg_identity_extra *e = &id->extra[i];
        if (!e->key || !e->key[0])
            continue;
        const char *name = names;
        names = extra_name(names, e->key);
        for (size_t v = 0; v < e->n_values; v++)
            if (e->values[v])
                out[n++] = header(name, e->values[v]);
    }
    return n;
}
