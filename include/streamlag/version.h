/* SPDX-License-Identifier: ISC */
/* The version and commit streamlag was built from (src/version.sh). */
#ifndef STREAMLAG_VERSION_H
#define STREAMLAG_VERSION_H

extern const char sl_version[];
extern const char sl_commit[];

#endif
