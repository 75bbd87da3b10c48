/* YAML documents as trees with lines (fedgate/yaml.h). Built from
 * libyaml's events rather than its document loader: an alias is refused
 * before it can make a small file stand for a huge tree, and depth and
 * node count are bounded while reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <fedgate/yaml.h>

void fg_yaml_free(struct fg_yaml_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        fg_yaml_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

void fg_yaml_free_docs(struct fg_yaml_node **docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fg_yaml_free(docs[i]);
    free(docs);
}

const struct fg_yaml_node *fg_yaml_get(const struct fg_yaml_node *m,
                                       const char *key)
{
    if (!m || m->type != FG_YAML_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (strcmp(m->items[i]->text, key) == 0)
            return m->items[i + 1];
    return NULL;
}

int fg_yaml_is_null(const struct fg_yaml_node *n)
{
    return !n || (n->type == FG_YAML_SCALAR && n->plain &&
                  (!*n->text || strcmp(n->text, "null") == 0 ||
                   strcmp(n->text, "~") == 0));
}

static int append(struct fg_yaml_node *parent, struct fg_yaml_node *child)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t cap = parent->n ? parent->n * 2 : 4;
        struct fg_yaml_node **items =
            realloc(parent->items, cap * sizeof(*items));
        if (!items)
            return -1;
        parent->items = items;
    }
    parent->items[parent->n++] = child;
    return 0;
}

struct builder {
    struct fg_yaml_node **stack; /* the open collections */
    size_t depth, max_depth;
    size_t nodes, max_nodes;
    struct fg_yaml_node **docs;
    size_t n_docs;
    const char *file;
    char *err;
    size_t err_len;
};

static int fail(struct builder *b, int line, const char *why)
{
    snprintf(b->err, b->err_len, "%s:%d: %s", b->file, line, why);
    return -1;
}

/* Adds N under the open collection, or as a document's root. */
static int place(struct builder *b, struct fg_yaml_node *n)
{
    if (b->depth > 0) {
        struct fg_yaml_node *parent = b->stack[b->depth - 1];
        if (parent->type == FG_YAML_MAP && parent->n % 2 == 0 &&
            n->type != FG_YAML_SCALAR)
            return 1;
        return append(parent, n);
    }
    struct fg_yaml_node **docs =
        realloc(b->docs, (b->n_docs + 1) * sizeof(*docs));
    if (!docs)
        return -1;
    b->docs = docs;
    b->docs[b->n_docs++] = n;
    return 0;
}

/* Builds the node EV starts and places it: 0, or -1 with ERR. */
static int add_node(struct builder *b, const yaml_event_t *ev,
                    enum fg_yaml_type type, int line)
{
    if (++b->nodes > b->max_nodes)
        return fail(b, line, "too many values");
    if (type != FG_YAML_SCALAR && b->depth == b->max_depth)
        return fail(b, line, "nested too deep");
    struct fg_yaml_node *n = calloc(1, sizeof(*n));
    if (!n)
        return fail(b, line, "out of memory");
    n->type = type;
    n->line = line;
    if (type == FG_YAML_SCALAR) {
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!(n->text = strndup((const char *)ev->data.scalar.value,
                                ev->data.scalar.length))) {
            free(n);
            return fail(b, line, "out of memory");
        }
    }
    int rc = place(b, n);
    if (rc != 0) {
        fg_yaml_free(n);
        return fail(b, line,
                    rc > 0 ? "a map key must be a plain value"
                           : "out of memory");
    }
    if (type != FG_YAML_SCALAR)
        b->stack[b->depth++] = n;
    return 0;
}

/* Handles one event: 1 at the stream's end, 0 to go on, -1 with ERR. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_ALIAS_EVENT:
        return fail(b, line, "aliases are not accepted");
    case YAML_SCALAR_EVENT:
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
            return fail(b, line, "a value holds a NUL character");
        return add_node(b, ev, FG_YAML_SCALAR, line);
    case YAML_SEQUENCE_START_EVENT:
        return add_node(b, ev, FG_YAML_SEQ, line);
    case YAML_MAPPING_START_EVENT:
        return add_node(b, ev, FG_YAML_MAP, line);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    default: /* stream and document start/end: nothing to build */
        return 0;
    }
}

long fg_yaml_parse(const char *text, size_t len, const char *file,
                   size_t max_depth, size_t max_nodes,
                   struct fg_yaml_node ***docs, char *err, size_t err_len)
{
    struct builder b = {.max_depth = max_depth,
                        .max_nodes = max_nodes,
                        .file = file,
                        .err = err,
                        .err_len = err_len};
    yaml_parser_t parser;
    if (!(b.stack = calloc(max_depth + 1, sizeof(*b.stack))) ||
        !yaml_parser_initialize(&parser)) {
        free(b.stack);
        snprintf(err, err_len, "%s: out of memory", file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int r = 0;
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
        r = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    free(b.stack);
    if (r < 0) {
        fg_yaml_free_docs(b.docs, b.n_docs);
        return -1;
    }
    *docs = b.docs;
    return (long)b.n_docs;
}
