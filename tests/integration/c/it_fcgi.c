/* SPDX-License-Identifier: ISC */
/* A FastCGI client for the tests of the connection edge (80-fcgi-edge.t),
 * speaking raw records to a unix socket (/path) or loopback TCP (HOST:PORT):
 *
 *   it_fcgi ADDR getvalues N    FCGI_GET_VALUES naming FCGI_MAX_CONNS N
 *                               times, then GET /healthz on the same
 *                               connection; prints both answers
 *   it_fcgi ADDR role R         BEGIN_REQUEST with role R; prints the
 *                               END_REQUEST's protocolStatus
 *   it_fcgi ADDR stall KIND N SECONDS
 *                               N stalled connections of KIND (silent:
 *                               nothing; bytes3: 3 bytes of a header;
 *                               begin: BEGIN_REQUEST
 *                               only; idle: a request with FCGI_KEEP_CONN,
 *                               answered, then nothing), then GET /healthz
 *                               on a new connection; prints when each was
 *                               closed by the server and when the request
 *                               was answered, in ms from the start
 *   it_fcgi ADDR send FILE      the bytes of FILE; prints the records
 *                               received until the server closes
 *   it_fcgi ADDR bench N        N requests for /healthz, one connection
 *                               each, one after the other (as nginx with
 *                               fastcgi_keep_conn off); prints requests/s
 *
 * Exit status 0 when the exchange ran (what it shows is for the test to
 * judge), 2 on usage or connection errors. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN	64

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
dial(const char *addr)
{
	int fd;

	if (addr[0] == '/') {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			goto fail;
	} else {
		struct sockaddr_in sin;
		char host[64];
		const char *colon = strrchr(addr, ':');

		if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
			goto fail;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
		    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "it_fcgi: connect %s: %s\n", addr, strerror(errno));
	exit(2);
}

static size_t
header(unsigned char *p, int type, int id, size_t clen)
{
	size_t pad = (8 - clen % 8) % 8;

	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(clen >> 8);
	p[5] = (unsigned char)clen;
	p[6] = (unsigned char)pad;
	p[7] = 0;
	return pad;
}

static size_t
record(unsigned char *p, int type, int id, const void *c, size_t clen)
{
	size_t pad = header(p, type, id, clen);

	memcpy(p + 8, c, clen);
	memset(p + 8 + clen, 0, pad);
	return 8 + clen + pad;
}

static size_t
pair(unsigned char *p, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	p[0] = (unsigned char)nl;
	p[1] = (unsigned char)vl;
	memcpy(p + 2, name, nl);
	memcpy(p + 2 + nl, value, vl);
	return 2 + nl + vl;
}

static size_t
begin(unsigned char *p, int id, int role, int keep)
{
	unsigned char b[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	b[0] = (unsigned char)(role >> 8);
	b[1] = (unsigned char)role;
	b[2] = keep ? 1 : 0;
	return record(p, 1, id, b, 8);
}

/* GET /healthz, id 1, as nginx would send it (smaller). */
static size_t
healthz(unsigned char *p, int keep)
{
	unsigned char params[256];
	size_t n = 0, len;

	n += pair(params + n, "REQUEST_METHOD", "GET");
	n += pair(params + n, "DOCUMENT_URI", "/healthz");
	n += pair(params + n, "QUERY_STRING", "");
	len = begin(p, 1, 1, keep);
	len += record(p + len, 4, 1, params, n);
	len += record(p + len, 4, 1, "", 0);
	len += record(p + len, 5, 1, "", 0);
	return len;
}

static void
send_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			fprintf(stderr, "it_fcgi: write: %s\n", strerror(errno));
			exit(2);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Reads one record (content into c, at most 65535 + 255 bytes); the type,
 * or -1 at EOF or error, or -2 after `ms` without one. */
static int
read_record(int fd, unsigned char *c, size_t *clen, int *id, int ms)
{
	unsigned char	 h[8];
	size_t		 got = 0, need = 8, total;
	long long	 end = now_ms() + ms;
	int		 have_header = 0;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return -2;
		n = read(fd, have_header ? c + got : h + got, need - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (got < need)
			continue;
		if (have_header)
			break;
		have_header = 1;
		total = ((size_t)h[4] << 8 | h[5]) + h[6];
		*clen = (size_t)h[4] << 8 | h[5];
		*id = h[2] << 8 | h[3];
		got = 0;
		need = total;
		if (need == 0)
			break;
	}
	return h[1];
}

/* Reads the answer to a request: "status=... body=... end=N" */
static void
print_answer(int fd)
{
	unsigned char	 c[65536 + 256];
	char		 out[8192];
	size_t		 clen, olen = 0;
	int		 type, id;

	while ((type = read_record(fd, c, &clen, &id, 10000)) >= 0) {
		if (type == 6 && olen + clen < sizeof(out)) {
			memcpy(out + olen, c, clen);
			olen += clen;
		} else if (type == 3) {
			char *body, *status;

			out[olen] = '\0';
			status = strstr(out, "Status: ");
			body = strstr(out, "\r\n\r\n");
			printf("status=%.3s body=%s end=%d\n",
			    status != NULL ? status + 8 : "200",
			    body != NULL ? body + 4 : "", c[4]);
			return;
		}
	}
	printf("answer=%s\n", type == -2 ? "timeout" : "closed");
}

static int
cmd_getvalues(const char *addr, int times)
{
	unsigned char	 buf[4096], c[65536 + 256], body[2048];
	size_t		 n = 0, clen, len;
	int		 fd = dial(addr), type, id;

	for (int i = 0; i < times; i++)
		n += pair(body + n, "FCGI_MAX_CONNS", "");
	len = record(buf, 9, 0, body, n);
	send_all(fd, buf, len);
	type = read_record(fd, c, &clen, &id, 10000);
	printf("type=%d id=%d", type, id);
	for (size_t off = 0; type == 10 && off + 2 <= clen; ) {
		size_t nl = c[off], vl = c[off + 1];

		if (off + 2 + nl + vl > clen)
			break;
		printf(" %.*s=%.*s", (int)nl, c + off + 2, (int)vl,
		    c + off + 2 + nl);
		off += 2 + nl + vl;
	}
	printf("\n");
	len = healthz(buf, 1);
	send_all(fd, buf, len);
	print_answer(fd);
	close(fd);
	return 0;
}

static int
cmd_role(const char *addr, int role)
{
	unsigned char	 buf[256], c[65536 + 256];
	size_t		 len = 0, clen;
	int		 fd = dial(addr), type, id;

	len = begin(buf, 1, role, 0);
	len += record(buf + len, 4, 1, "", 0);
	len += record(buf + len, 5, 1, "", 0);
	send_all(fd, buf, len);
	type = read_record(fd, c, &clen, &id, 10000);
	if (type == 3)
		printf("end_request id=%d protocol_status=%d\n", id, c[4]);
	else
		printf("type=%d\n", type);
	close(fd);
	return 0;
}

static int
cmd_stall(const char *addr, const char *kind, int n, int seconds)
{
	unsigned char	 buf[1024];
	long long	 t0 = now_ms(), closed[MAXCONN], served = -1;
	int		 fds[MAXCONN], probe, open_left = n, idle, answered[MAXCONN];
	size_t		 len;
	char		 resp[4096];
	size_t		 rlen = 0;

	if (n < 1 || n > MAXCONN)
		return 2;
	idle = strcmp(kind, "idle") == 0;
	if (!idle && strcmp(kind, "bytes3") != 0 &&
	    strcmp(kind, "begin") != 0 && strcmp(kind, "silent") != 0)
		return 2;
	for (int i = 0; i < n; i++) {
		fds[i] = dial(addr);
		closed[i] = -1;
		answered[i] = 0;
		len = idle ? healthz(buf, 1) : begin(buf, 1, 1, 0);
		if (strcmp(kind, "bytes3") == 0)
			len = 3;
		if (strcmp(kind, "silent") != 0)
			send_all(fds[i], buf, len);
	}
	probe = dial(addr);
	len = healthz(buf, 0);
	send_all(probe, buf, len);
	while ((open_left > 0 || served < 0) &&
	    now_ms() - t0 < seconds * 1000LL) {
		struct pollfd pfd[MAXCONN + 1];
		int np = 0, map[MAXCONN + 1];

		for (int i = 0; i < n; i++)
			if (closed[i] < 0) {
				pfd[np].fd = fds[i];
				pfd[np].events = POLLIN;
				map[np++] = i;
			}
		if (served < 0) {
			pfd[np].fd = probe;
			pfd[np].events = POLLIN;
			map[np++] = -1;
		}
		if (poll(pfd, (nfds_t)np, 50) <= 0)
			continue;
		for (int k = 0; k < np; k++) {
			char tmp[4096];
			ssize_t r;

			if (pfd[k].revents == 0)
				continue;
			r = read(pfd[k].fd, tmp, sizeof(tmp));
			if (map[k] == -1) {
				if (r > 0 && rlen + (size_t)r < sizeof(resp)) {
					memcpy(resp + rlen, tmp, (size_t)r);
					rlen += (size_t)r;
				}
				if (r <= 0) {
					served = now_ms() - t0;
					resp[rlen] = '\0';
				}
				continue;
			}
			if (r > 0) {
				answered[map[k]] = 1;
				continue;
			}
			closed[map[k]] = now_ms() - t0;
			open_left--;
		}
	}
	for (int i = 0; i < n; i++) {
		printf("conn=%d answered=%d closed_ms=%lld\n", i, answered[i],
		    closed[i]);
		close(fds[i]);
	}
	/* The body of the probe's STDOUT record, as text. */
	printf("probe served_ms=%lld ok=%d\n", served,
	    served >= 0 && memmem(resp, rlen, "{\"status\":\"ok\"}", 15) != NULL);
	close(probe);
	return 0;
}

static int
cmd_send(const char *addr, const char *file)
{
	unsigned char	 buf[1 << 16], c[65536 + 256];
	FILE		*f = fopen(file, "rb");
	size_t		 len, clen;
	int		 fd, type, id;

	if (f == NULL)
		return 2;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fd = dial(addr);
	send_all(fd, buf, len);
	shutdown(fd, SHUT_WR);
	while ((type = read_record(fd, c, &clen, &id, 10000)) >= 0)
		printf("type=%d id=%d len=%zu%s%d\n", type, id, clen,
		    type == 3 ? " protocol_status=" : type == 11 ?
		    " unknown=" : " first=", clen > 4 ? c[type == 3 ? 4 : 0] :
		    -1);
	printf("%s\n", type == -2 ? "timeout" : "closed");
	close(fd);
	return 0;
}

static int
cmd_bench(const char *addr, int n)
{
	unsigned char	 buf[512], tmp[4096];
	size_t		 len = healthz(buf, 0);
	long long	 t0 = now_ms(), ms;

	for (int i = 0; i < n; i++) {
		int fd = dial(addr);

		send_all(fd, buf, len);
		while (read(fd, tmp, sizeof(tmp)) > 0)
			;
		close(fd);
	}
	ms = now_ms() - t0;
	printf("requests=%d ms=%lld per_s=%.0f\n", n, ms,
	    ms > 0 ? n * 1000.0 / (double)ms : 0.0);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[2], "getvalues") == 0)
		return cmd_getvalues(argv[1], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[2], "role") == 0)
		return cmd_role(argv[1], atoi(argv[3]));
	if (argc >= 6 && strcmp(argv[2], "stall") == 0)
		return cmd_stall(argv[1], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (argc >= 4 && strcmp(argv[2], "send") == 0)
		return cmd_send(argv[1], argv[3]);
	if (argc >= 4 && strcmp(argv[2], "bench") == 0)
		return cmd_bench(argv[1], atoi(argv[3]));
	fprintf(stderr, "usage: it_fcgi ADDR getvalues N | role R | "
	    "stall KIND N SECONDS | send FILE | bench N\n");
	return 2;
}
