/* SPDX-License-Identifier: ISC */
/* `streamlag demo`: producers and slower consumers on the seed's streams,
 * so that lag and pending move visibly (make run). */
#ifndef STREAMLAG_DEMO_H
#define STREAMLAG_DEMO_H

#include "streamlag/config.h"

/* Runs until SIGINT/SIGTERM.  Returns 0, or 1 when Redis fails. */
int	sl_demo_run(const struct sl_config *cfg);

#endif
