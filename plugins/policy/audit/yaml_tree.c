/* Reads one YAML document (JSON is YAML too) with libyaml into a small tree
 * of scalars, sequences and maps, each node with its line, so that the
 * policy reader can name the line of every mistake. Aliases are refused:
 * with them a few lines could expand into a huge tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "audit.h"

struct reader {
    yaml_parser_t parser;
    size_t nodes;
    char *err;
    size_t err_len;
};

void audit_yaml_free(struct audit_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        audit_yaml_free(n->kids[i]);
    free(n->kids);
    free(n->value);
    free(n);
}

static int fail(struct reader *r, int line, const char *why)
{
    snprintf(r->err, r->err_len, "line %d: %s", line, why);
    return -1;
}

static int next(struct reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->parser, ev))
        return 0;
    snprintf(r->err, r->err_len, "line %d: %s",
             (int)r->parser.problem_mark.line + 1,
             r->parser.problem ? r->parser.problem : "not YAML");
    return -1;
}

static int add_kid(struct audit_node *parent, struct audit_node *kid)
{
    if ((parent->n_kids & (parent->n_kids - 1)) == 0) {
        size_t cap = parent->n_kids ? parent->n_kids * 2 : 4;
        struct audit_node **k = realloc(parent->kids, cap * sizeof(*k));
        if (!k)
            return -1;
        parent->kids = k;
    }
    parent->kids[parent->n_kids++] = kid;
    return 0;
}

/* The node that EV starts (its first event, already read), and all of it
 * below, into *OUT. */
static int node(struct reader *r, yaml_event_t *ev, int depth,
                struct audit_node **out)
{
    int line = (int)ev->start_mark.line + 1;
    if (ev->type == YAML_ALIAS_EVENT)
        return fail(r, line, "aliases are not accepted");
    if (depth > AUDIT_YAML_MAX_DEPTH)
        return fail(r, line, "nested too deep");
    if (++r->nodes > AUDIT_YAML_MAX_NODES)
        return fail(r, line, "too many values");
    struct audit_node *n = calloc(1, sizeof(*n));
    if (!n)
        return fail(r, line, "out of memory");
    n->line = line;
    *out = n;
    if (ev->type == YAML_SCALAR_EVENT) {
        n->type = AUDIT_SCALAR;
        n->value = malloc(ev->data.scalar.length + 1);
        if (!n->value)
            return fail(r, line, "out of memory");
        memcpy(n->value, ev->data.scalar.value, ev->data.scalar.length);
        n->value[ev->data.scalar.length] = '\0';
        if (strlen(n->value) != ev->data.scalar.length)
            return fail(r, line, "a value holds a NUL character");
        return 0;
    }
    yaml_event_type_t end;
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        n->type = AUDIT_SEQ;
        end = YAML_SEQUENCE_END_EVENT;
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        n->type = AUDIT_MAP;
        end = YAML_MAPPING_END_EVENT;
    } else {
        return fail(r, line, "unexpected YAML event");
    }
    for (;;) {
        yaml_event_t kid_ev;
        if (next(r, &kid_ev) != 0)
            return -1;
        if (kid_ev.type == end) {
            yaml_event_delete(&kid_ev);
            return 0;
        }
        struct audit_node *kid = NULL;
        int rc = node(r, &kid_ev, depth + 1, &kid);
        yaml_event_delete(&kid_ev);
        if (kid && add_kid(n, kid) != 0) {
            audit_yaml_free(kid);
            return fail(r, line, "out of memory");
        }
        if (rc != 0)
            return -1;
        if (n->type == AUDIT_MAP && n->n_kids % 2 == 1 &&
            kid->type != AUDIT_SCALAR)
            return fail(r, kid->line, "a map key must be a plain value");
    }
}

/* Reads events up to and including one of type WANT. */
static int expect(struct reader *r, yaml_event_type_t want, const char *what)
{
    yaml_event_t ev;
    if (next(r, &ev) != 0)
        return -1;
    int line = (int)ev.start_mark.line + 1;
    int ok = ev.type == want;
    yaml_event_delete(&ev);
    return ok ? 0 : fail(r, line, what);
}

struct audit_node *audit_yaml_parse(const char *buf, size_t len, char *err,
                                    size_t err_len)
{
    struct reader r = {.err = err, .err_len = err_len};
    if (!yaml_parser_initialize(&r.parser)) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)buf, len);
    struct audit_node *root = NULL;
    yaml_event_t ev;
    int rc = expect(&r, YAML_STREAM_START_EVENT, "not YAML");
    if (rc == 0)
        rc = next(&r, &ev);
    if (rc == 0) {
        if (ev.type == YAML_STREAM_END_EVENT)
            rc = fail(&r, (int)ev.start_mark.line + 1, "the file is empty");
        yaml_event_delete(&ev);
    }
    if (rc == 0)
        rc = next(&r, &ev);
    if (rc == 0) {
        rc = node(&r, &ev, 0, &root);
        yaml_event_delete(&ev);
    }
    if (rc == 0)
        rc = expect(&r, YAML_DOCUMENT_END_EVENT, "more than one value");
    if (rc == 0)
        rc = expect(&r, YAML_STREAM_END_EVENT,
                    "more than one document (one Policy per file)");
    yaml_parser_delete(&r.parser);
    if (rc != 0) {
        audit_yaml_free(root);
        return NULL;
    }
    return root;
}
