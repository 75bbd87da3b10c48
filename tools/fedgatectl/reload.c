/* `fedgatectl reload` (reload.h). Only a process that is a fedgate gets
 * the signal: a stale pid file may name a pid some other program has by
 * now, and SIGHUP would end most of them. */
#include "reload.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "config/config.h"
#include "daemon/gateway.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fedgatectl reload [-c DIR] [--state-dir DIR] [--pid PID]\n"
            "\n"
            "Sends SIGHUP to the running gateway: it reads its configuration "
            "again and\n"
            "takes it only if it is valid (see its log and "
            "/readyz?verbose).\n"
            "  -c, --config DIR   the gateway's configuration (default "
            "conf.d): its\n"
            "                     state_dir holds " FG_PID_FILE "\n"
            "  --state-dir DIR    the state directory the gateway was "
            "started with\n"
            "  --pid PID          this process instead\n");
}

/* A pid: decimal digits, positive, no sign or space but a final newline. */
static long parse_pid(const char *s)
{
    char *end;
    errno = 0;
    long pid = strtol(s, &end, 10);
    if (end == s || s[0] < '0' || s[0] > '9' || errno || pid <= 0 ||
        pid > 0x3fffffff || (*end && strcmp(end, "\n") != 0))
        return -1;
    return pid;
}

/* Whether PID runs fedgate (its /proc comm), so that SIGHUP goes nowhere
 * else. */
static int is_fedgate(long pid)
{
    char path[64], *comm = NULL;
    size_t len;
    struct fg_error err = {{0}};
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    int yes = fg_read_file(path, 64, &comm, &len, NULL, &err) == 0 &&
              strcmp(comm, "fedgate\n") == 0;
    free(comm);
    return yes;
}

/* The pid in the pid file of the state_dir that DIR (or STATE_DIR) names;
 * -1 after saying why not. */
static long pid_from_state(const char *dir, const char *state_dir)
{
    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(dir, &diag);
    if (cfg && state_dir && fg_config_override(cfg, state_dir, NULL, &diag)) {
        fg_config_free(cfg);
        cfg = NULL;
    }
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    fg_diag_free(&diag);
    if (!cfg)
        return -1;
    char *path = fg_path_join(cfg->state_dir, FG_PID_FILE);
    fg_config_free(cfg);
    char *text = NULL;
    size_t len;
    struct fg_error err = {{0}};
    long pid = -1;
    if (!path || fg_read_file(path, 32, &text, &len, NULL, &err) != 0)
        fprintf(stderr,
                "fedgatectl: %s: %s (is the gateway running with this "
                "state_dir?)\n",
                path ? path : "pid file", path ? err.msg : "out of memory");
    else if ((pid = parse_pid(text)) < 0)
        fprintf(stderr, "fedgatectl: %s: not a pid\n", path);
    free(text);
    free(path);
    return pid;
}

int fg_ctl_reload(int argc, char **argv)
{
    return fg_ctl_reload_to(argc, argv, stdout);
}

int fg_ctl_reload_to(int argc, char **argv, FILE *report)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {"pid", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = "conf.d", *state_dir = NULL, *given = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'p':
            given = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    long pid = given ? parse_pid(given) : pid_from_state(dir, state_dir);
    if (given && pid < 0) {
        fprintf(stderr, "fedgatectl: --pid %s: not a pid\n", given);
        return 2;
    }
    if (pid < 0)
        return 1;
    if (!is_fedgate(pid)) {
        fprintf(stderr, "fedgatectl: process %ld is not a running fedgate\n",
                pid);
        return 1;
    }
    if (kill((pid_t)pid, SIGHUP) != 0) {
        fprintf(stderr, "fedgatectl: SIGHUP to %ld: %s\n", pid,
                strerror(errno));
        return 1;
    }
    fprintf(report,
            "fedgatectl: SIGHUP sent to fedgate (pid %ld); its log and "
            "/readyz?verbose say whether the configuration was taken\n",
            pid);
    return 0;
}
