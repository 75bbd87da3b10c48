/* Impersonation (see impersonation.h), as kube-apiserver's
 * WithImpersonation filter reads the headers: Impersonate-User once (the
 * first), Impersonate-Group and Impersonate-Extra-KEY once per header,
 * Impersonate-Uid once; KEY lower-cased and percent-decoded. */
#include "request/impersonation.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fedgate/util.h>

#include "config/config.h"

#define EXTRA_PREFIX "impersonate-extra-"
#define EXTRA_PREFIX_LEN (sizeof(EXTRA_PREFIX) - 1)
#define SA_PREFIX "system:serviceaccount:"
#define SA_PREFIX_LEN (sizeof(SA_PREFIX) - 1)

static int named(const struct fg_header *h, const char *lit)
{
    size_t n = strlen(lit);
    return h->name_len == n && strncasecmp(h->name, lit, n) == 0;
}

static int is_extra(const struct fg_header *h)
{
    return h->name_len > EXTRA_PREFIX_LEN &&
           strncasecmp(h->name, EXTRA_PREFIX, EXTRA_PREFIX_LEN) == 0;
}

/* serviceaccount.SplitUsername: "system:serviceaccount:NS:NAME" with a
 * valid namespace and name; anything else is a user's name. */
static int split_service_account(struct fg_arena *a, const char *user,
                                 const char **ns, const char **name)
{
    if (strncmp(user, SA_PREFIX, SA_PREFIX_LEN) != 0)
        return 0;
    const char *rest = user + SA_PREFIX_LEN;
    const char *colon = strchr(rest, ':');
    if (!colon || strchr(colon + 1, ':') ||
        !fg_is_dns1123_label(rest, (size_t)(colon - rest)) ||
        !fg_is_dns1123_subdomain(colon + 1, strlen(colon + 1)))
        return 0;
    *ns = fg_arena_strndup(a, rest, (size_t)(colon - rest));
    *name = colon + 1;
    return *ns ? 1 : -1;
}

/* An extra's key: the header name after the prefix, lower-case, decoded
 * as url.PathUnescape decodes it, or kept as it is when that fails. */
static const char *extra_key(struct fg_arena *a, const struct fg_header *h)
{
    const char *s = h->name + EXTRA_PREFIX_LEN;
    size_t len = h->name_len - EXTRA_PREFIX_LEN;
    char *key = fg_arena_strndup(a, s, len);
    if (!key)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            key[i] = (char)(key[i] - 'A' + 'a');
    for (size_t i = 0; i < len; i++)
        if (key[i] == '%' && (i + 2 >= len || fg_hex_digit(key[i + 1]) < 0 ||
                              fg_hex_digit(key[i + 2]) < 0))
            return key;
    fg_percent_decode(key, len + 1, key, len, 0);
    return key;
}

static void question(struct fg_request_info *q, const char *group,
                     const char *resource, const char *sub, const char *ns,
                     const char *name)
{
    *q = (struct fg_request_info){
        .is_resource = 1,
        .verb = "impersonate",
        .api_prefix = *group ? "apis" : "api",
        .api_group = group,
        .api_version = "",
        .namespace_ = ns,
        .resource = resource,
        .subresource = sub,
        .name = name,
        .path = "",
    };
}

static int has_group(const struct fg_identity *id, const char *g)
{
    for (size_t i = 0; i < id->n_groups; i++)
        if (strcmp(id->groups[i], g) == 0)
            return 1;
    return 0;
}

/* The extras, one entry per key, values in header order; one question
 * per value. */
static int read_extras(struct fg_arena *a, const struct fg_header *headers,
                       size_t n, size_t n_extras, struct fg_impersonation *out)
{
    struct fg_identity_extra *extra =
        fg_arena_alloc(a, (n_extras ? n_extras : 1) * sizeof(*extra));
    if (!extra)
        return -2;
    size_t n_keys = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_extra(&headers[i]))
            continue;
        const char *key = extra_key(a, &headers[i]);
        const char *value =
            fg_arena_strndup(a, headers[i].value, headers[i].value_len);
        if (!key || !value)
            return -2;
        question(&out->questions[out->n_questions++], "authentication.k8s.io",
                 "userextras", key, "", value);
        size_t k = 0;
        while (k < n_keys && strcmp(extra[k].key, key) != 0)
            k++;
        if (k == n_keys) {
            /* room for every value, however many share the key */
            const char **values = fg_arena_alloc(a, n_extras * sizeof(*values));
            if (!values)
                return -2;
            extra[n_keys++] =
                (struct fg_identity_extra){.key = key, .values = values};
        }
        ((const char **)extra[k].values)[extra[k].n_values++] = value;
    }
    out->identity.extra = extra;
    out->identity.n_extra = n_keys;
    return 0;
}

int fg_impersonation_read(struct fg_arena *a, const struct fg_header *headers,
                          size_t n, struct fg_impersonation *out, char *err,
                          size_t err_len)
{
    memset(out, 0, sizeof(*out));
    const struct fg_header *user_h = NULL, *uid_h = NULL;
    size_t n_groups = 0, n_extras = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fg_header *h = &headers[i];
        if (named(h, "impersonate-user"))
            user_h = user_h ? user_h : h;
        else if (named(h, "impersonate-uid"))
            uid_h = uid_h ? uid_h : h;
        else if (named(h, "impersonate-group"))
            n_groups++;
        else if (is_extra(h))
            n_extras++;
    }
    int has_uid = uid_h && uid_h->value_len > 0;
    if (!(user_h && user_h->value_len > 0)) {
        if (!n_groups && !n_extras && !has_uid)
            return 0;
        snprintf(err, err_len,
                 "requested impersonation of %s without impersonating a user",
                 n_groups   ? "a group"
                 : n_extras ? "user extra"
                            : "a uid");
        return -1;
    }
    const char *user = fg_arena_strndup(a, user_h->value, user_h->value_len);
    out->questions = fg_arena_alloc(a, (1 + n_groups + n_extras + 1) *
                                           sizeof(*out->questions));
    const char **groups = fg_arena_alloc(a, (n_groups + 3) * sizeof(*groups));
    if (!user || !out->questions || !groups)
        return -2;
    struct fg_identity *id = &out->identity;
    id->user = user;
    id->groups = groups;
    const char *ns, *name;
    int sa = split_service_account(a, user, &ns, &name);
    if (sa < 0)
        return -2;
    if (sa) {
        question(&out->questions[out->n_questions++], "", "serviceaccounts", "",
                 ns, name);
        if (!n_groups) { /* a service account's groups are known */
            char *all = fg_arena_strndup(a, "system:serviceaccounts", 22);
            char *of_ns = fg_arena_alloc(a, strlen(ns) + 24);
            if (!all || !of_ns)
                return -2;
            sprintf(of_ns, "system:serviceaccounts:%s", ns);
            groups[id->n_groups++] = all;
            groups[id->n_groups++] = of_ns;
        }
    } else {
        question(&out->questions[out->n_questions++], "", "users", "", "",
                 user);
    }
    for (size_t i = 0; i < n; i++) {
        if (!named(&headers[i], "impersonate-group"))
            continue;
        const char *g =
            fg_arena_strndup(a, headers[i].value, headers[i].value_len);
        if (!g)
            return -2;
        question(&out->questions[out->n_questions++], "", "groups", "", "", g);
        groups[id->n_groups++] = g;
    }
    if (read_extras(a, headers, n, n_extras, out) != 0)
        return -2;
    if (has_uid) {
        id->uid = fg_arena_strndup(a, uid_h->value, uid_h->value_len);
        if (!id->uid)
            return -2;
        question(&out->questions[out->n_questions++], "authentication.k8s.io",
                 "uids", "", "", id->uid);
    }
    /* kube-apiserver: a named user is authenticated unless the groups say
     * otherwise; system:anonymous is unauthenticated. */
    if (strcmp(user, "system:anonymous") != 0) {
        if (!has_group(id, "system:authenticated") &&
            !has_group(id, "system:unauthenticated"))
            groups[id->n_groups++] = "system:authenticated";
    } else if (!has_group(id, "system:unauthenticated")) {
        groups[id->n_groups++] = "system:unauthenticated";
    }
    return 1;
}
