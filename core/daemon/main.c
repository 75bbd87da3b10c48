/* The fedgate daemon: command line, configuration check mode, start. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config/config.h"
#include "fg_build_info.h"
#include "daemon/gateway.h"
#include "plugin/host_api.h"
#include "base/log.h"
#include "plugin/config_validate.h"
#include "plugin/plugin_loader.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: fedgate -c DIR [--state-dir DIR] [--listen HOST:PORT] "
        "[--check]\n"
        "\n"
        "  -c, --config DIR       read every *.ini in DIR (default conf.d)\n"
        "      --state-dir DIR    where certificates, the admin token and\n"
        "                         admin.kubeconfig live (overrides "
        "[gateway] state_dir)\n"
        "      --listen HOST:PORT overrides [gateway] listen\n"
        "  -t, --check            check the configuration and exit 0/1\n"
        "  -V, --version          print the version and exit\n");
}

/* Instantiates every member's driver once, on a scratch loop, and frees it:
 * what a start would do, without binding anything. */
static int check_instances(struct fg_config *cfg, struct fg_plugin_set *set,
                           struct fg_diag *diag)
{
    struct event_base *base = event_base_new();
    if (!base) {
        fg_diag_add(diag, NULL, 0, "cannot create an event loop");
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < cfg->n_members; i++) {
        const struct fg_config_section *s = &cfg->members[i];
        const struct fg_plugin *p =
            fg_plugins_find(set, FG_PLUGIN_DRIVER, fg_config_get(s, "driver"));
        if (!p)
            continue;
        const struct fg_driver_ops *ops = p->desc->ops;
        struct fg_host_ctx ctx = {
            .base = base,
            .state_dir = cfg->state_dir,
            .tunnel = cfg->tunnel ? &cfg->tunnel->view : NULL,
        };
        snprintf(ctx.prefix, sizeof(ctx.prefix), "%s[%s]", p->desc->name,
                 s->name);
        struct fg_host host;
        fg_host_init(&host, &ctx);
        char msg[256] = "";
        void *inst = ops->instance_new(&host, &s->view, msg, sizeof(msg));
        if (!inst) {
            fg_diag_add(diag, s->file, s->line, "member \"%s\": %s", s->name,
                        msg[0] ? msg : "the driver refused this section");
            bad++;
        } else {
            ops->instance_free(inst);
        }
    }
    event_base_free(base);
    return bad;
}

static int run_check(struct fg_config *cfg)
{
    struct fg_diag diag = {0};
    struct fg_plugin_set set = {0};
    fg_plugins_load_dir(cfg->plugin_dir, &set, &diag);
    int bad = diag.n > 0;
    /* A warning, as at a start: the service may run with another limit. */
    fg_fd_budget(cfg, 0, &diag);
    /* What a start and a reload check too; then the members' instances.
     * Policy instances are made at start only: the state they may read
     * (the admin token) is written by the start, not by a check. */
    if (fg_config_validate(cfg, &set, &diag) != 0)
        bad = 1;
    else
        bad |= check_instances(cfg, &set, &diag) != 0;
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    fg_diag_free(&diag);
    fg_plugins_unload(&set);
    if (!bad)
        printf("fedgate: the configuration in %s is valid\n", cfg->dir);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"check", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = "conf.d", *state_dir = NULL, *listen = NULL;
    int check = 0, opt;
    fg_log_init();
    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            dir = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'V':
            printf("fedgate %s (commit %s%s%s, built %s, plugin ABI %d.%d)\n",
                   FG_VERSION,
                   FG_BUILD_GIT_COMMIT[0] ? FG_BUILD_GIT_COMMIT : "unknown",
                   FG_BUILD_TREE_STATE[0] ? ", " : "", FG_BUILD_TREE_STATE,
                   FG_BUILD_DATE, FG_ABI_MAJOR, FG_ABI_MINOR);
            return 0;
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

    struct fg_diag diag = {0};
    struct fg_config *cfg = fg_config_load(dir, &diag);
    if (cfg && fg_config_override(cfg, state_dir, listen, &diag) != 0) {
        fg_config_free(cfg);
        cfg = NULL;
    }
    if (!cfg) {
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "%s\n", diag.lines[i]);
        fg_diag_free(&diag);
        return 1;
    }
    fg_diag_free(&diag);
    enum fg_log_level level = FG_LOG_INFO;
    fg_log_level_parse(cfg->log_level, &level);
    fg_log_set_level(level);

    if (check) {
        int rc = run_check(cfg);
        fg_config_free(cfg);
        return rc;
    }

    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    struct fg_gateway gw;
    struct fg_error err = {{0}};
    int rc = 0;
    if (fg_gateway_init(&gw, cfg, state_dir, listen, &err) != 0) {
        fprintf(stderr, "fedgate: %s\n", err.msg);
        rc = 1;
    } else {
        rc = fg_gateway_run(&gw);
    }
    fg_gateway_free(&gw);
    fg_config_free(cfg);
    return rc;
}
