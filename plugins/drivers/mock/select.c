/* The selectors of a list or watch request to the mock (?labelSelector=,
 * ?fieldSelector=), read with the SDK's parser (fg_selector_*). */
#include <stdio.h>
#include <string.h>

#include "mock.h"

/* A stored object as selectors read it: its doc's index, and the parsed
 * object only once a field path outside the index asks for it. */
struct subject {
    const struct mock_doc *doc;
    cJSON *parsed;
};

static const char *doc_label(void *ctx, const char *key)
{
    const struct subject *o = ctx;
    return mock_doc_label(o->doc, key);
}

static const char *doc_field(void *ctx, const char *path, char *buf, size_t len)
{
    struct subject *o = ctx;
    if (strcmp(path, "metadata.name") == 0)
        return o->doc->name;
    if (strcmp(path, "metadata.namespace") == 0)
        return o->doc->ns;
    if (!o->parsed && !(o->parsed = mock_doc_parse(o->doc)))
        return NULL;
    return fg_json_text(fg_json_path(o->parsed, path), buf, len);
}

int mock_selector_match_doc(const struct fg_selector *s,
                            const struct mock_doc *d)
{
    struct subject o = {.doc = d};
    const struct fg_selector_subject subject = {doc_label, doc_field, &o};
    int rc = fg_selector_match_subject(s, &subject);
    cJSON_Delete(o.parsed);
    return rc;
}

int mock_selectors_from_query(const char *q, struct fg_selector *sel[2],
                              char *msg, size_t msg_len)
{
    static const char *const keys[2] = {"labelSelector", "fieldSelector"};
    sel[0] = sel[1] = NULL;
    for (int f = 0; f < 2; f++) {
        char text[1024];
        int r = fg_query_get(q, keys[f], text, sizeof(text));
        int rc = r < 0 ? -1 : r > 0 ? fg_selector_parse(text, f, &sel[f]) : 0;
        if (rc == 0)
            continue;
        fg_selector_free(sel[0]);
        sel[0] = NULL;
        if (rc == -2)
            return -1;
        snprintf(msg, msg_len, "unable to parse requirement: invalid %s",
                 keys[f]);
        return 1;
    }
    return 0;
}
