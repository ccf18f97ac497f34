/* SPDX-License-Identifier: ISC */
/* libFuzzer: Authorization header values into sl_auth_check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/auth.h"
#include "streamlag/config.h"

/* libFuzzer calls these; declared here since it ships no header. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 key[] = "0123456789abcdef0123456789abcdef";
	struct sl_config	 cfg;
	char			*s;

	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_alg = (char *)"HS256";
	cfg.jwt_key = (unsigned char *)key;
	cfg.jwt_key_len = sizeof(key) - 1;
	cfg.jwt_issuer = (char *)"iss";
	cfg.jwt_audience = (char *)"aud";
	cfg.jwt_leeway_s = 30;
	if ((s = malloc(size + 8)) == NULL)
		return 0;
	memcpy(s, "Bearer ", 7);
	memcpy(s + 7, data, size);
	s[size + 7] = '\0';
	(void)sl_auth_check(&cfg, s, 1800000000, NULL);
	free(s);
	return 0;
}
