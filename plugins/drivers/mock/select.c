/* The selectors of a list or watch request to the mock (?labelSelector=,
 * ?fieldSelector=), read with the SDK's parser (fg_selector_*). */
#include <stdio.h>

#include "mock.h"

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
