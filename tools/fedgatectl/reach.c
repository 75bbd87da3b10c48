/* fedgatectl's question to the gateway (reach.h). First the rules that
 * hold in every namespace: a review requires a namespace, so it is asked
 * in a random one that no RoleBinding names. Only when those are the
 * basics does it list the member's namespaces (as the admin) and ask in
 * each, so a namespace admin's kubeconfig defaults to their namespace. */
#include "reach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "answers.h"

#define MAX_GROUPS 64

/* 1, 0 as fg_ctl_reach; -1 with ERR. */
static int reaches_in(const struct fg_ask_server *gw,
                      const struct fg_ctl_identity *id, const char *member,
                      const char *ns, struct fg_error *err)
{
    struct fg_header h[MAX_GROUPS + 1];
    size_t n = 0;
    h[n++] =
        (struct fg_header){"impersonate-user", 16, id->user, strlen(id->user)};
    for (size_t i = 0; i < id->n_groups && n < MAX_GROUPS + 1; i++)
        h[n++] = (struct fg_header){"impersonate-group", 17, id->groups[i],
                                    strlen(id->groups[i])};
    char target[512], body[256];
    snprintf(target, sizeof(target),
             "/clusters/%s/apis/authorization.k8s.io/v1/"
             "selfsubjectrulesreviews",
             member);
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":"
             "\"SelfSubjectRulesReview\",\"spec\":{\"namespace\":\"%s\"}}",
             ns);
    struct fg_ask_answer a;
    if (fg_ask(gw, "POST", target, h, n, body, &a, err) != 0)
        return -1;
    int rc = a.status == 201 ? fg_ctl_review_reaches(a.body, a.len) : -1;
    if (rc < 0)
        fg_error_set(err, "member %s: the rules review answered %d: %.200s",
                     member, a.status, a.body);
    fg_ask_answer_free(&a);
    return rc;
}

/* The member's namespaces (as the admin); count, or -1 with ERR. */
static int namespaces(const struct fg_ask_server *gw, const char *member,
                      char ***names, struct fg_error *err)
{
    char target[320];
    snprintf(target, sizeof(target), "/clusters/%s/api/v1/namespaces", member);
    struct fg_ask_answer a;
    if (fg_ask(gw, "GET", target, NULL, 0, NULL, &a, err) != 0)
        return -1;
    int n = a.status == 200 ? fg_ctl_namespace_names(a.body, a.len, names) : -1;
    if (n < 0)
        fg_error_set(err,
                     "member %s: listing its namespaces answered %d: "
                     "%.200s",
                     member, a.status, a.body);
    fg_ask_answer_free(&a);
    return n;
}

int fg_ctl_reach(const struct fg_ask_server *gw,
                 const struct fg_ctl_identity *id, const char *member,
                 char **namespace_, struct fg_error *err)
{
    unsigned char raw[8];
    char probe[40];
    *namespace_ = NULL;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ERR_clear_error();
        return fg_error_set(err, "no random bytes");
    }
    int at = snprintf(probe, sizeof(probe), "fedgatectl-");
    for (size_t i = 0; i < sizeof(raw); i++)
        at += snprintf(probe + at, sizeof(probe) - (size_t)at, "%02x", raw[i]);
    int rc = reaches_in(gw, id, member, probe, err);
    if (rc != 0)
        return rc;
    char **names;
    int n = namespaces(gw, member, &names, err);
    if (n < 0)
        return -1;
    int hits = 0, only = -1;
    for (int i = 0; i < n; i++) {
        rc = reaches_in(gw, id, member, names[i], err);
        if (rc < 0)
            break;
        if (rc > 0) {
            hits++;
            only = i;
        }
    }
    if (rc >= 0 && hits == 1) {
        *namespace_ = names[only];
        names[only] = NULL;
    }
    fg_ctl_names_free(names, n);
    return rc < 0 ? -1 : hits > 0;
}
