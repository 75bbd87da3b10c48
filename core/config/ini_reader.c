/* Feeds one in-memory ini file to inih line by line (see ini_reader.h).
 *
 * inih r55 (Debian 12) cuts lines at ini_max_line bytes and hands the rest
 * on as the next line, cuts section names at 49 bytes, and reads an
 * indented line as the continuation of the previous value. None of that is
 * ever what the author of a gateway configuration meant, so this reader
 * looks at every raw line first: a line it refuses reaches inih as an empty
 * line (the error is reported here, with its line number, and parsing goes
 * on), and section headers are parsed here, whole, and also reach inih as
 * empty lines. inih then only splits "key = value" lines, including its
 * inline comment rule: a ';' after whitespace starts a comment. */
#include "config/ini_reader.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct reader {
    const char *buf;
    size_t len, pos;
    int line; /* number of the line inih is working on */
    int errors;
    const struct fg_ini_callbacks *cb;
    void *user;
};

static void refuse(struct reader *r, const char *msg)
{
    r->errors++;
    r->cb->error(r->user, r->line, msg);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The character at which inih ends the key of a key line: the first '=' or
 * ':', or an inline comment (';' after whitespace), as inih decides it. */
static char key_end(const char *s, size_t n)
{
    int was_space = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=' || c == ':')
            return c;
        if (was_space && ini_allow_inline_comments &&
            strchr(ini_inline_comment_prefixes, c))
            return ';';
        was_space = isspace((unsigned char)c);
    }
    return 0;
}

static void header(struct reader *r, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    const char *rest = close ? close + 1 : s + n, *end = s + n;
    while (rest < end && isspace((unsigned char)*rest))
        rest++;
    if (!close || (rest < end && *rest != ';' && *rest != '#')) {
        refuse(r, close ? "unexpected text after section header"
                        : "section header without closing ']'");
        r->cb->section(r->user, r->line, NULL, 0);
        return;
    }
    r->cb->section(r->user, r->line, s + 1, (size_t)(close - s - 1));
}

/* The ini_reader given to inih: the next raw line, or an empty one. */
static char *next_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (r->pos >= r->len || num < 3)
        return NULL;

    const char *s = r->buf + r->pos;
    const char *nl = memchr(s, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
    r->pos += nl ? n + 1 : n;
    r->line++;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (r->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }

    /* Room for the line, its '\n' and the NUL inih's buffer needs. */
    size_t max = (size_t)num - 2;
    int pass = 0;
    char msg[64];
    if (memchr(s, '\0', n)) {
        refuse(r, "NUL byte in line");
    } else if (n > max) {
        snprintf(msg, sizeof(msg), "line too long (max %zu bytes)", max);
        refuse(r, msg);
    } else if (is_blank(s, n) || s[0] == ';' || s[0] == '#') {
        /* blank or comment: nothing for inih to do */
    } else if (isspace((unsigned char)s[0])) {
        refuse(r, "indented lines are not allowed");
    } else if (s[0] == '[') {
        header(r, s, n);
    } else if (key_end(s, n) != '=') {
        refuse(r, "expected KEY = VALUE");
    } else {
        pass = 1;
    }

    if (pass)
        memcpy(str, s, n);
    else
        n = 0;
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct reader *r = user;
    (void)section; /* possibly cut by inih: the header callback has it all */
    r->cb->entry(r->user, r->line, name, value ? value : "");
    return 1;
}

int fg_ini_parse_buffer(const char *buf, size_t len,
                        const struct fg_ini_callbacks *cb, void *user)
{
    struct reader r = {.buf = buf, .len = len, .cb = cb, .user = user};
    int rc = ini_parse_stream(next_line, &r, on_entry, &r);
    /* Every line inih could reject was refused above, so this is only a
     * safety net for an inih that parses differently. */
    if (rc > 0) {
        r.errors++;
        cb->error(user, rc, "cannot parse line");
    } else if (rc < 0) {
        r.errors++;
        cb->error(user, r.line, "out of memory while parsing");
    }
    return r.errors;
}
