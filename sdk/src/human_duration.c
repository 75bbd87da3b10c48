/* kubectl's AGE: the steps of apimachinery's duration.HumanDuration,
 * precise when young, coarser as objects get older. */
#include <stdio.h>

#include "fedgate/util.h"

void fg_human_duration(int64_t d_ms, char *buf, size_t len)
{
    int64_t secs = d_ms / 1000;
    if (secs < -1) {
        snprintf(buf, len, "<invalid>");
        return;
    }
    if (secs < 0)
        secs = 0;
    if (secs < 120) {
        snprintf(buf, len, "%llds", (long long)secs);
        return;
    }
    long long mins = secs / 60, hours = secs / 3600, days = hours / 24;
    if (mins < 10) {
        if (secs % 60 == 0)
            snprintf(buf, len, "%lldm", mins);
        else
            snprintf(buf, len, "%lldm%llds", mins, (long long)(secs % 60));
    } else if (mins < 180) {
        snprintf(buf, len, "%lldm", mins);
    } else if (hours < 8) {
        if (mins % 60 == 0)
            snprintf(buf, len, "%lldh", hours);
        else
            snprintf(buf, len, "%lldh%lldm", hours, mins % 60);
    } else if (hours < 48) {
        snprintf(buf, len, "%lldh", hours);
    } else if (hours < 24 * 8) {
        if (hours % 24 == 0)
            snprintf(buf, len, "%lldd", days);
        else
            snprintf(buf, len, "%lldd%lldh", days, hours % 24);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%lldd", days);
    } else if (hours < 24 * 365 * 8) {
        if (days % 365 == 0)
            snprintf(buf, len, "%lldy", days / 365);
        else
            snprintf(buf, len, "%lldy%lldd", days / 365, days % 365);
    } else {
        snprintf(buf, len, "%lldy", days / 365);
    }
}
