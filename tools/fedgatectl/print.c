/* fedgatectl's printers (print.h). */
#include "print.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

int fg_ctl_print_table(FILE *out, const cJSON *table, int wide)
{
    const cJSON *cols =
        cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(table, "rows");
    int n_cols = cJSON_GetArraySize(cols);
    if (!cJSON_IsArray(cols) || !cJSON_IsArray(rows) || n_cols == 0)
        return -1;
    size_t *width = calloc((size_t)n_cols, sizeof(*width));
    int *shown = calloc((size_t)n_cols, sizeof(*shown));
    if (!width || !shown) {
        free(width);
        free(shown);
        return -1;
    }
    for (int c = 0; c < n_cols; c++) {
        const cJSON *def = cJSON_GetArrayItem(cols, c);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "name");
        const cJSON *prio = cJSON_GetObjectItemCaseSensitive(def, "priority");
        shown[c] = cJSON_IsString(name) &&
                   (wide || !cJSON_IsNumber(prio) || prio->valueint == 0);
        width[c] = shown[c] ? strlen(name->valuestring) : 0;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(row, "cells");
        for (int c = 0; c < n_cols; c++) {
            const cJSON *cell = cJSON_GetArrayItem(cells, c);
            size_t w = cJSON_IsString(cell) ? strlen(cell->valuestring) : 6;
            if (shown[c] && w > width[c])
                width[c] = w;
        }
    }
    /* the header, then each row; the last column is not padded */
    for (int r = -1; r < cJSON_GetArraySize(rows); r++) {
        const cJSON *cells = r < 0 ? NULL
                                   : cJSON_GetObjectItemCaseSensitive(
                                         cJSON_GetArrayItem(rows, r), "cells");
        int last = n_cols - 1;
        while (last > 0 && !shown[last])
            last--;
        for (int c = 0; c <= last; c++) {
            if (!shown[c])
                continue;
            char text[256];
            if (r < 0) {
                const cJSON *def = cJSON_GetArrayItem(cols, c);
                snprintf(
                    text, sizeof(text), "%s",
                    cJSON_GetObjectItemCaseSensitive(def, "name")->valuestring);
                for (char *p = text; *p; p++)
                    *p = (char)toupper((unsigned char)*p);
            } else {
                const cJSON *cell = cJSON_GetArrayItem(cells, c);
                snprintf(text, sizeof(text), "%s",
                         cJSON_IsString(cell) ? cell->valuestring : "<none>");
            }
            if (c == last)
                fprintf(out, "%s\n", text);
            else
                fprintf(out, "%-*s   ", (int)width[c], text);
        }
    }
    free(width);
    free(shown);
    return 0;
}

static int plain_key(const char *k)
{
    if (!*k)
        return 0;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
            return 0;
    return 1;
}

static void scalar(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        char *q = cJSON_PrintUnformatted(v); /* a JSON string is YAML's */
        fputs(q ? q : "\"\"", out);
        free(q);
    } else if (cJSON_IsNull(v)) {
        fputs("null", out);
    } else {
        char *t = cJSON_PrintUnformatted(v);
        fputs(t ? t : "null", out);
        free(t);
    }
}

static void key(FILE *out, const char *k)
{
    if (plain_key(k)) {
        fputs(k, out);
        return;
    }
    cJSON *s = cJSON_CreateString(k);
    scalar(out, s);
    cJSON_Delete(s);
}

static int empty(const cJSON *v)
{
    return (cJSON_IsObject(v) || cJSON_IsArray(v)) && !v->child;
}

static void node(FILE *out, const cJSON *v, int indent);

/* The value after "KEY:" or "- " at INDENT. */
static void value(FILE *out, const cJSON *v, int indent)
{
    if (empty(v)) {
        fputs(cJSON_IsArray(v) ? " []\n" : " {}\n", out);
    } else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        fputc('\n', out);
        node(out, v, indent);
    } else {
        fputc(' ', out);
        scalar(out, v);
        fputc('\n', out);
    }
}

static void node(FILE *out, const cJSON *v, int indent)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, v)
    {
        fprintf(out, "%*s", indent, "");
        if (cJSON_IsArray(v)) {
            fputc('-', out);
            if (cJSON_IsObject(c) && !empty(c)) {
                /* the first key on the dash's line */
                fputc(' ', out);
                const cJSON *f = c->child;
                key(out, f->string);
                fputc(':', out);
                value(out, f, indent + 4);
                cJSON tail = *c;
                tail.child = f->next;
                if (tail.child)
                    node(out, &tail, indent + 2);
                continue;
            }
            value(out, c, indent + 2);
            continue;
        }
        key(out, c->string);
        fputc(':', out);
        value(out, c, cJSON_IsArray(c) ? indent : indent + 2);
    }
}

void fg_ctl_print_yaml(FILE *out, const cJSON *doc)
{
    if (cJSON_IsObject(doc) || cJSON_IsArray(doc))
        node(out, doc, 0);
    else
        value(out, doc, 0);
}
