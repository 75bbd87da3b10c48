/* Umbrella header for fedgate plugins: include this one. */
#ifndef FEDGATE_FEDGATE_H
#define FEDGATE_FEDGATE_H
#include "driver.h"
#include "host.h"
#include "plugin.h"
#include "policy.h"
#include "service.h"
#include "util.h"
#endif
