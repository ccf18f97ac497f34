/* SPDX-License-Identifier: ISC */
/* The only file compiled with the version: a new commit rebuilds this one
 * object (Makefile: build/version.stamp), not the whole program. */
#include "streamlag/version.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif
#ifndef SL_COMMIT
#define SL_COMMIT "unknown"
#endif

const char sl_version[] = SL_VERSION;
const char sl_commit[] = SL_COMMIT;
