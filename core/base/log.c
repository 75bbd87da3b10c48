/* Logging: see log.h. */
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum fg_log_level threshold = FG_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};
/* syslog priorities of the levels: err, warning, info, debug. */
static const char priorities[] = {'3', '4', '6', '7'};
static int to_journal;

void fg_log_init(void)
{
    /* systemd sets JOURNAL_STREAM to stderr's "DEVICE:INODE" when stderr is
     * the journal; a child whose stderr was redirected inherits the
     * variable, hence the comparison. */
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                 fstat(STDERR_FILENO, &st) == 0 &&
                 (unsigned long long)st.st_dev == dev &&
                 (unsigned long long)st.st_ino == ino;
}

void fg_log_set_level(enum fg_log_level level)
{
    threshold = level;
}

int fg_log_level_parse(const char *s, enum fg_log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum fg_log_level)i;
            return 0;
        }
    return -1;
}

void fg_logv(enum fg_log_level level, const char *prefix, const char *fmt,
             va_list ap)
{
    if (level > threshold)
        return;
    char line[2048];
    int n;
    if (to_journal) {
        /* The journal stamps each line itself and reads the priority from
         * a "<N>" prefix. */
        n = snprintf(line, sizeof(line), "<%c>%-5s %s%s", priorities[level],
                     names[level], prefix ? prefix : "", prefix ? ": " : "");
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level],
                     prefix ? prefix : "", prefix ? ": " : "");
    }
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = m < 0 ? (size_t)n : (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* One control character in a log line could fake another line. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = '?';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void fg_log(enum fg_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fg_logv(level, NULL, fmt, ap);
    va_end(ap);
}
