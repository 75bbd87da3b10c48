/* How fedgatectl prints what the host's API answers: a meta.k8s.io Table
 * in kubectl's columns, and any JSON document as YAML. */
#ifndef FG_CTL_PRINT_H
#define FG_CTL_PRINT_H

#include <stdio.h>

struct cJSON;

/* TABLE's columns (those of priority 0 unless WIDE) and rows, left
 * aligned, three spaces apart, upper-case headers, as kubectl prints
 * them. Returns 0, or -1 when TABLE is not a Table. */
int fg_ctl_print_table(FILE *out, const struct cJSON *table, int wide);

/* DOC as block YAML (strings double-quoted, as JSON quotes them). */
void fg_ctl_print_yaml(FILE *out, const struct cJSON *doc);

#endif
