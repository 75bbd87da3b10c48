/* `fedgatectl clusters`: the fleet at a glance, from the host's own API
 * (Cluster objects), with a kubeconfig as kubectl finds one. */
#ifndef FG_CTL_CLUSTERS_H
#define FG_CTL_CLUSTERS_H

/* Exit codes of the commands that ask the host's API. */
enum {
    FG_CTL_EXIT_OK = 0,
    FG_CTL_EXIT_REFUSED = 1,     /* the gateway answered with an error */
    FG_CTL_EXIT_USAGE = 2,       /* bad arguments or kubeconfig */
    FG_CTL_EXIT_UNREACHABLE = 3, /* no answer: connection or TLS failed */
};

struct fg_ask_answer;

/* GET TARGET of the host's API with the kubeconfig PATH (CONTEXT: NULL as
 * fedgatectl clusters picks it) and ACCEPT; the answer in *A (free it)
 * when FG_CTL_EXIT_OK is returned, else the exit code, said why. */
int fg_ctl_fleet_get(const char *path, const char *context, const char *target,
                     const char *accept, struct fg_ask_answer *a);

/* ARGV[0] is "clusters". Returns the exit code. */
int fg_ctl_clusters(int argc, char **argv);

#endif
