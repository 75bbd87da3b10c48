/* YAML documents (and JSON ones, which libyaml reads as flow YAML) turned
 * into small trees that remember the line of every node, so that an
 * error in an RBAC object names its file and line. Built from libyaml's
 * events rather than its document loader: an alias is refused before it
 * can make a small file stand for a huge tree, and nesting is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rbac.h"

/* RBAC objects nest five levels deep (List, items, object, rules, rule,
 * verbs); anything much deeper is not an RBAC object. */
#define MAX_DEPTH 32

void rbac_node_free(struct rbac_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        rbac_node_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

const struct rbac_node *rbac_node_get(const struct rbac_node *m,
                                      const char *key)
{
    if (!m || m->type != RBAC_NODE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->items[i]->type == RBAC_NODE_SCALAR &&
            strcmp(m->items[i]->text, key) == 0)
            return m->items[i + 1];
    return NULL;
}

int rbac_node_is_null(const struct rbac_node *n)
{
    return !n || (n->type == RBAC_NODE_SCALAR && n->plain &&
                  (!*n->text || strcmp(n->text, "null") == 0 ||
                   strcmp(n->text, "~") == 0));
}

static int append(struct rbac_node *parent, struct rbac_node *child)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t cap = parent->n ? parent->n * 2 : 4;
        struct rbac_node **items = realloc(parent->items, cap * sizeof(*items));
        if (!items)
            return -1;
        parent->items = items;
    }
    parent->items[parent->n++] = child;
    return 0;
}

static struct rbac_node *node_new(enum rbac_node_type type,
                                  const yaml_event_t *ev)
{
    struct rbac_node *n = calloc(1, sizeof(*n));
    if (n) {
        n->type = type;
        n->line = (int)ev->start_mark.line + 1;
    }
    return n;
}

struct builder {
    struct rbac_node *stack[MAX_DEPTH + 1];
    int depth;
    struct rbac_node **docs;
    size_t n_docs;
};

/* Adds node N under the open collection, or as a document's root. */
static int place(struct builder *b, struct rbac_node *n)
{
    if (b->depth > 0)
        return append(b->stack[b->depth - 1], n);
    struct rbac_node **docs = realloc(b->docs, (b->n_docs + 1) * sizeof(*docs));
    if (!docs)
        return -1;
    b->docs = docs;
    b->docs[b->n_docs++] = n;
    return 0;
}

/* Handles one event: 1 at the stream's end, 0 to go on, -1 with ERR. */
static int on_event(struct builder *b, const yaml_event_t *ev, const char *file,
                    char *err, size_t err_len)
{
    int line = (int)ev->start_mark.line + 1;
    struct rbac_node *n = NULL;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_ALIAS_EVENT:
        snprintf(err, err_len, "%s:%d: YAML aliases are not supported", file,
                 line);
        return -1;
    case YAML_SCALAR_EVENT:
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            snprintf(err, err_len, "%s:%d: a NUL character in a value", file,
                     line);
            return -1;
        }
        if (!(n = node_new(RBAC_NODE_SCALAR, ev)) ||
            !(n->text = strndup((const char *)ev->data.scalar.value,
                                ev->data.scalar.length)) ||
            place(b, n) != 0)
            break;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (b->depth == MAX_DEPTH) {
            snprintf(err, err_len, "%s:%d: nested more than %d levels deep",
                     file, line, MAX_DEPTH);
            return -1;
        }
        if (!(n = node_new(ev->type == YAML_SEQUENCE_START_EVENT
                               ? RBAC_NODE_SEQ
                               : RBAC_NODE_MAP,
                           ev)) ||
            place(b, n) != 0)
            break;
        b->stack[b->depth++] = n;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    default: /* stream and document start/end: nothing to build */
        return 0;
    }
    rbac_node_free(n); /* out of memory: N was not placed */
    snprintf(err, err_len, "%s:%d: out of memory", file, line);
    return -1;
}

long rbac_yaml_parse(const char *text, size_t len, const char *file,
                     struct rbac_node ***docs, char *err, size_t err_len)
{
    yaml_parser_t parser;
    struct builder b = {.depth = 0};
    int r = 0;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, err_len, "%s: out of memory", file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (r == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, err_len, "%s:%d: %s%s%s", file,
                     (int)parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "not YAML",
                     parser.context ? " " : "",
                     parser.context ? parser.context : "");
            r = -1;
            break;
        }
        r = on_event(&b, &ev, file, err, err_len);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (r < 0) {
        for (size_t i = 0; i < b.n_docs; i++)
            rbac_node_free(b.docs[i]);
        free(b.docs);
        return -1;
    }
    *docs = b.docs;
    return (long)b.n_docs;
}
