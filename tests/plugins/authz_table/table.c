/* authz_table: a test policy plugin driven by a table file (`table`), one
 * entry a line, fields separated by blanks, '#' comments:
 *
 *   token TOKEN USER [GROUP,GROUP...]      a bearer token and who it is
 *   allow|deny WHO VERB GROUP RESOURCE NAMESPACE CLUSTER [NAME]
 *
 * WHO is a user, or group:NAME. "*" matches anything, "P*" what starts
 * with P, "-" stands for "",
 * RESOURCE may be RES/SUB, or a path starting with '/' for a non-resource
 * URL (GROUP and NAMESPACE then "-"). The first matching allow or deny
 * decides; none: no opinion. rules() lists the allow entries that apply
 * (a deny cannot be listed: the answer is then incomplete). With `delay`
 * the authorize verdicts come that much later through done(). Every
 * authorize call is written to `log_file`: "authorize review=R user=U
 * groups=G,G verb=V group=G resource=R sub=S namespace=N name=N member=M
 * path=P". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <fedgate/fedgate.h>

#define MAX_FIELDS 8
#define MAX_GROUPS 8

struct entry {
    char *line; /* the fields point into it */
    const char *f[MAX_FIELDS];
    int n;
    const char *groups[MAX_GROUPS];
    size_t n_groups;
};

struct pending;

struct table {
    const struct fg_host *host;
    const char *log_file;
    uint64_t delay_ms;
    struct entry *e;
    size_t n;
    struct pending *pending;
};

struct pending {
    struct table *t;
    struct fg_policy_call *call;
    struct fg_timer *timer;
    enum fg_verdict verdict;
    const char *why;
    struct pending *next;
};

static void free_entries(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->e[i].line);
    free(t->e);
    t->e = NULL;
    t->n = 0;
}

static int load(struct table *t, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open", path);
        return -1;
    }
    char buf[1024];
    while (fgets(buf, sizeof(buf), f)) {
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        struct entry e = {.line = strdup(buf)};
        struct entry *grown = realloc(t->e, (t->n + 1) * sizeof(*grown));
        if (!e.line || !grown) {
            free(e.line);
            if (grown)
                t->e = grown;
            fclose(f);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        t->e = grown;
        for (char *save, *tok = strtok_r(e.line, " \t\r\n", &save);
             tok && e.n < MAX_FIELDS; tok = strtok_r(NULL, " \t\r\n", &save))
            e.f[e.n++] = strcmp(tok, "-") == 0 ? "" : tok;
        if (e.n >= 4 && strcmp(e.f[0], "token") == 0 && *e.f[3]) {
            char *save;
            for (char *g = strtok_r((char *)e.f[3], ",", &save);
                 g && e.n_groups < MAX_GROUPS; g = strtok_r(NULL, ",", &save))
                e.groups[e.n_groups++] = g;
        }
        if (e.n == 0) {
            free(e.line);
            continue;
        }
        t->e[t->n++] = e;
    }
    fclose(f);
    return 0;
}

static void note(struct table *t, const char *line)
{
    int fd = open(t->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    size_t n = strlen(line);
    if (write(fd, line, n) != (ssize_t)n)
        t->host->log(t->host, FG_LOG_ERROR, "%s: short write", t->log_file);
    close(fd);
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct table *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    t->host = host;
    t->log_file = s->get(s, "log_file");
    t->delay_ms = (uint64_t)s->get_int(s, "delay", 0);
    if (load(t, s->get(s, "table"), err, err_len) != 0) {
        free_entries(t);
        free(t);
        return NULL;
    }
    return t;
}

static void instance_free(void *instance)
{
    struct table *t = instance;
    while (t->pending) {
        struct pending *p = t->pending;
        t->pending = p->next;
        t->host->timer_free(p->timer);
        free(p);
    }
    free_entries(t);
    free(t);
}

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    struct table *t = instance;
    const struct fg_policy_request *r = c->req;
    const char *token = NULL;
    size_t len = 0;
    for (size_t i = 0; i < r->n_headers; i++)
        if (fg_header_name_folds_to(r->headers[i].name, r->headers[i].name_len,
                                    "authorization", 0) &&
            r->headers[i].value_len > 7 &&
            strncmp(r->headers[i].value, "Bearer ", 7) == 0) {
            token = r->headers[i].value + 7;
            len = r->headers[i].value_len - 7;
        }
    for (size_t i = 0; token && i < t->n; i++) {
        const struct entry *e = &t->e[i];
        if (strcmp(e->f[0], "token") != 0 || e->n < 3 ||
            strlen(e->f[1]) != len || CRYPTO_memcmp(e->f[1], token, len) != 0)
            continue;
        struct fg_identity id = {
            .user = e->f[2], .groups = e->groups, .n_groups = e->n_groups};
        return c->set_identity(c, &id) == 0 ? FG_ALLOW : FG_DENY;
    }
    return FG_NO_OPINION;
}

/* "*" is anything; "PREFIX*" a prefix, as RBAC's nonResourceURLs. */
static int matches(const char *pattern, const char *value)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, value, n - 1) == 0;
    return strcmp(pattern, value) == 0;
}

static int is_subject(const char *who, const struct fg_identity *id)
{
    if (strncmp(who, "group:", 6) != 0)
        return matches(who, id->user);
    for (size_t i = 0; i < id->n_groups; i++)
        if (strcmp(who + 6, id->groups[i]) == 0)
            return 1;
    return 0;
}

static int is_rule(const struct entry *e)
{
    return e->n >= 7 &&
           (strcmp(e->f[0], "allow") == 0 || strcmp(e->f[0], "deny") == 0);
}

/* The first rule for R's attributes, or NULL. */
static const struct entry *rule_for(const struct table *t,
                                    const struct fg_policy_request *r)
{
    const struct fg_request_info *ri = r->info;
    char resource[256];
    snprintf(resource, sizeof(resource), "%s%s%s", ri->resource,
             *ri->subresource ? "/" : "", ri->subresource);
    const char *what = ri->is_resource ? resource : ri->path;
    for (size_t i = 0; i < t->n; i++) {
        const struct entry *e = &t->e[i];
        if (is_rule(e) && is_subject(e->f[1], r->identity) &&
            matches(e->f[2], ri->verb) && matches(e->f[3], ri->api_group) &&
            matches(e->f[4], what) && matches(e->f[5], ri->namespace_) &&
            matches(e->f[6], r->member ? r->member : "") &&
            (e->n < 8 || matches(e->f[7], ri->name)))
            return e;
    }
    return NULL;
}

static void log_call(struct table *t, const struct fg_policy_request *r)
{
    const struct fg_request_info *ri = r->info;
    const struct fg_identity *id = r->identity;
    char groups[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < id->n_groups && n < sizeof(groups); i++)
        n += (size_t)snprintf(groups + n, sizeof(groups) - n, "%s%s",
                              i ? "," : "", id->groups[i]);
    char line[1024];
    snprintf(line, sizeof(line),
             "authorize review=%d user=%s groups=%s uid=%s extra=%zu "
             "verb=%s group=%s resource=%s sub=%s namespace=%s name=%s "
             "member=%s path=%s\n",
             r->review, id->user, groups, id->uid ? id->uid : "-", id->n_extra,
             ri->verb, ri->api_group, ri->resource, ri->subresource,
             ri->namespace_, ri->name, r->member ? r->member : "-",
             ri->is_resource ? "-" : ri->path);
    note(t, line);
}

static void deliver(void *arg)
{
    struct pending *p = arg;
    struct table *t = p->t;
    for (struct pending **pp = &t->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    struct fg_policy_call *c = p->call;
    enum fg_verdict v = p->verdict;
    if (v == FG_DENY)
        c->set_denial(c, 0, NULL, p->why);
    t->host->timer_free(p->timer);
    free(p);
    c->done(c, v);
}

static enum fg_verdict authorize(void *instance, struct fg_policy_call *c)
{
    struct table *t = instance;
    log_call(t, c->req);
    const struct entry *e = rule_for(t, c->req);
    enum fg_verdict v = !e                              ? FG_NO_OPINION
                        : strcmp(e->f[0], "allow") == 0 ? FG_ALLOW
                                                        : FG_DENY;
    const char *why = "the table says no";
    if (!t->delay_ms) {
        if (v == FG_DENY)
            c->set_denial(c, 0, NULL, why);
        return v;
    }
    struct pending *p = calloc(1, sizeof(*p));
    if (!p)
        return FG_DENY;
    *p = (struct pending){
        .t = t, .call = c, .verdict = v, .why = why, .next = t->pending};
    p->timer = t->host->timer_new(t->host, deliver, p);
    if (!p->timer) {
        free(p);
        return FG_DENY;
    }
    t->pending = p;
    t->host->timer_arm(p->timer, t->delay_ms);
    return FG_PENDING;
}

static void cancel(void *instance, struct fg_policy_call *c)
{
    struct table *t = instance;
    for (struct pending **pp = &t->pending; *pp; pp = &(*pp)->next) {
        struct pending *p = *pp;
        if (p->call != c)
            continue;
        *pp = p->next;
        note(t, "cancel\n");
        t->host->timer_free(p->timer);
        free(p);
        return;
    }
}

static int rules(void *instance, const struct fg_identity *identity,
                 const char *member, const char *namespace_,
                 fg_policy_rule_fn emit, void *arg)
{
    struct table *t = instance;
    int incomplete = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct entry *e = &t->e[i];
        if (!is_rule(e) || !is_subject(e->f[1], identity) ||
            !matches(e->f[6], member ? member : "") ||
            !(strcmp(e->f[5], "*") == 0 || !*e->f[5] ||
              strcmp(e->f[5], namespace_) == 0))
            continue;
        if (strcmp(e->f[0], "deny") == 0) {
            incomplete = 1;
            continue;
        }
        struct fg_policy_rule r = {.verbs = &e->f[2], .n_verbs = 1};
        if (e->f[4][0] == '/') {
            r.non_resource_urls = &e->f[4];
            r.n_non_resource_urls = 1;
        } else {
            r.api_groups = &e->f[3];
            r.n_api_groups = 1;
            r.resources = &e->f[4];
            r.n_resources = 1;
            r.resource_names = e->n >= 8 ? &e->f[7] : NULL;
            r.n_resource_names = e->n >= 8 ? 1 : 0;
        }
        emit(arg, &r);
    }
    return incomplete;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHENTICATE | FG_PHASE_AUTHORIZE,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .authenticate = authenticate,
    .authorize = authorize,
    .cancel = cancel,
    .rules = rules,
};

static const struct fg_config_key keys[] = {
    {"table", FG_CONFIG_PATH, NULL, 1, 0, 0, "tokens and rules"},
    {"log_file", FG_CONFIG_PATH, NULL, 1, 0, 0, "authorize calls go here"},
    {"delay", FG_CONFIG_DURATION, "0", 0, 0, 600000,
     "authorize verdicts come this much later"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "authz_table",
    .version = "0.0.1",
    .description = "test policy plugin: tokens and rules from a table",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
