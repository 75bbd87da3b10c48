/* fg_json_depth (util.h): a nesting-depth pre-scan that keeps deep
 * documents away from cJSON's recursive parser. Strings are skipped, so
 * brackets inside them do not count. */
#include <fedgate/util.h>

int fg_json_depth(const char *data, size_t len, int limit)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max) {
                max = depth;
                if (max > limit)
                    return max;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return max;
}
