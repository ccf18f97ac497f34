/* SPDX-License-Identifier: ISC */
/* make bench's baseline: the least a libfcgi responder can do, a fixed 200
 * JSON body, so that streamlag's throughput behind the same nginx reads as
 * a share of it.  Prefork is spawn-fcgi's (-F), as many as streamlag's. */
#include <fcgiapp.h>

static const char BODY[] =
    "Status: 200\r\nContent-Type: application/json\r\n"
    "Cache-Control: no-store\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}";

int
main(void)
{
	FCGX_Request	 req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(BODY, (int)sizeof(BODY) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
