/* SPDX-License-Identifier: ISC */
/* libFuzzer: FastCGI record streams into the real serve path.  Each input
 * is what a client sends on one connection: it is written into one end of
 * a socketpair, whose sending side is then shut down, and a thread reads
 * whatever comes back until the worker closes (one thread for the whole
 * run: a thread per input would make libFuzzer look for leaks after every
 * input, four times slower), while sl_worker_serve_conn()
 * serves the other end exactly as a worker serves an accepted connection:
 * the record guard, the hand-off to libfcgi, the router, the answer.
 *
 * Built with -DSL_FCGI_NO_GUARD, libfcgi reads the connection itself: the
 * shipped GET_VALUES input then crashes it (make fuzz-check proves it).
 * Inputs are at most 16 KiB (make fuzz): they fit in the socket's buffer. */
#include <sys/socket.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/config.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/router.h"
#include "streamlag/worker.h"

static struct sl_worker	*w;
static struct sl_config	 cfg;
static struct sl_redis	 redis;
static struct sl_ctx	 ctx;

/* The drain thread: reads fd until EOF, then sets it to -1. */
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static int		 drain_fd = -1;

static void *
drain(void *arg)
{
	static char buf[65536];
	int fd;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (drain_fd == -1)
			pthread_cond_wait(&cv, &mu);
		fd = drain_fd;
		pthread_mutex_unlock(&mu);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		pthread_mutex_lock(&mu);
		drain_fd = -1;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static const char *
lookup(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "STREAMLAG_JWT_SECRET") == 0)
		return "fuzz-secret-0123456789abcdef0123456789";
	/* Nothing listens there: Redis routes fail at once (503). */
	if (strcmp(name, "REDIS_URL") == 0)
		return "unix:///nonexistent/streamlag-fuzz.sock";
	return NULL;
}

/* libFuzzer calls these; declared here since it ships no header. */
int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_worker_opts	 o;
	pthread_t		 t;
	char			 err[256];

	(void)argc;
	(void)argv;
	sl_log_set_level(SL_LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);	/* as in a worker: the peer may be gone */
	if (sl_config_load(&cfg, lookup, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_fcgi: %s\n", err);
		abort();
	}
	sl_redis_init(&redis, &cfg.redis, cfg.redis_timeout_ms);
	ctx.cfg = &cfg;
	ctx.redis = &redis;
	ctx.counters = NULL;
	memset(&o, 0, sizeof(o));
	o.deadlines.first_byte_ms = 1000;
	o.deadlines.read_ms = 1000;
	o.deadlines.idle_ms = 1000;
	if ((w = sl_worker_new(&ctx, &o)) == NULL) {
		fprintf(stderr, "fuzz_fcgi: sl_worker_new failed\n");
		abort();
	}
	if (pthread_create(&t, NULL, drain, NULL) != 0)
		abort();
	return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		 off = 0;
	ssize_t		 n;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	while (off < size && (n = write(sv[1], data + off, size - off)) > 0)
		off += (size_t)n;
	if (off < size)
		abort();
	shutdown(sv[1], SHUT_WR);
	pthread_mutex_lock(&mu);
	drain_fd = sv[1];
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	sl_worker_serve_conn(w, sv[0]);		/* closes sv[0] */
	pthread_mutex_lock(&mu);
	while (drain_fd != -1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	close(sv[1]);
	return 0;
}
