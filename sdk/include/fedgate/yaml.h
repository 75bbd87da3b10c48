/* YAML (and JSON, which is flow YAML) documents as small trees that keep
 * the line of every node, so that a plugin reading a rule or policy file
 * names the file and line of each mistake. Part of libfedgate-sdk (links
 * libyaml, Debian libyaml-dev). Any thread may call these. */
#ifndef FEDGATE_YAML_H
#define FEDGATE_YAML_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fg_yaml_type {
    FG_YAML_SCALAR = 1,
    FG_YAML_MAP = 2, /**< ITEMS alternate key (a scalar), value */
    FG_YAML_SEQ = 3,
};

struct fg_yaml_node {
    enum fg_yaml_type type;
    int line;   /**< 1-based */
    char *text; /**< scalars: NUL-terminated, no NUL inside */
    int plain;  /**< an unquoted scalar: null, ~ and "" mean nothing */
    struct fg_yaml_node **items;
    size_t n;
};

/** Parses TEXT (LEN bytes) read from FILE into its documents' root nodes.
 * Aliases are refused (they would let a small file stand for a huge
 * tree), so are nesting deeper than MAX_DEPTH, more than MAX_NODES nodes,
 * a NUL in a value and a map key that is not a scalar. Returns the number
 * of documents (*DOCS malloc'd; free each with fg_yaml_free, then the
 * array), or -1 with ERR "FILE:LINE: why". */
long fg_yaml_parse(const char *text, size_t len, const char *file,
                   size_t max_depth, size_t max_nodes,
                   struct fg_yaml_node ***docs, char *err, size_t err_len);
void fg_yaml_free(struct fg_yaml_node *n);
/** Frees N documents and their array. */
void fg_yaml_free_docs(struct fg_yaml_node **docs, size_t n);
/** The value of KEY in map M, or NULL. */
const struct fg_yaml_node *fg_yaml_get(const struct fg_yaml_node *m,
                                       const char *key);
/** Whether N is absent or a null scalar (plain null, ~ or nothing). */
int fg_yaml_is_null(const struct fg_yaml_node *n);

#ifdef __cplusplus
}
#endif
#endif
