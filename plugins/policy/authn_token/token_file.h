/* The static token file of kube-apiserver's --token-auth-file, parsed into
 * a table keyed by the SHA-256 of each token: the grammar (token_file.c)
 * and the lookup, apart from the plugin so that tests and the fuzz target
 * reach them without a gateway. */
#ifndef FG_AUTHN_TOKEN_FILE_H
#define FG_AUTHN_TOKEN_FILE_H

#include <stddef.h>

#include <fedgate/fedgate.h>

struct token_table;

/** Called for what kube-apiserver only warns about (an empty token, a
 * token given twice: the later line wins). MESSAGE names FILE:LINE. */
typedef void (*token_warn_fn)(void *arg, const char *message);

/** Parses TEXT (LEN bytes) read from FILE (used in messages only). Returns
 * the table, or NULL with ERR naming FILE:LINE and what is wrong there. */
struct token_table *token_table_parse(const char *text, size_t len,
                                      const char *file, token_warn_fn warn,
                                      void *warn_arg, char *err,
                                      size_t err_len);

/** Reads PATH (at most MAX_BYTES) and parses it. NULL with ERR on failure.
 * *SHARED is set when the file holds tokens and others than its owner may
 * read it. */
struct token_table *token_table_load(const char *path, size_t max_bytes,
                                     token_warn_fn warn, void *warn_arg,
                                     int *shared, char *err, size_t err_len);

/** The identity TOKEN (LEN bytes) authenticates, or NULL. */
const struct fg_identity *token_table_lookup(const struct token_table *t,
                                             const char *token, size_t len);

/** Number of tokens in T. */
size_t token_table_size(const struct token_table *t);

void token_table_free(struct token_table *t);

#endif
