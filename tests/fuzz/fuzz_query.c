/* SPDX-License-Identifier: ISC */
/* libFuzzer: query strings into sl_query_parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/http.h"

/* libFuzzer calls these; declared here since it ships no header. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_query_param	*q;
	size_t			 n;
	char			 err[160], *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sl_query_parse(s, &q, &n, err, sizeof(err)) == 0)
		sl_query_free(q, n);
	free(s);
	return 0;
}
