/* streamlag: command line.  main.c only wires the modules together. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/auth.h"
#include "streamlag/config.h"
#include "streamlag/listen.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/render.h"
#include "streamlag/router.h"
#include "streamlag/worker.h"

#define EXIT_USAGE 2

extern char **environ;

static const char usage_text[] =
"usage: streamlag COMMAND [OPTIONS]\n"
"\n"
"Consumer-lag monitor for Redis Streams: a FastCGI responder behind nginx.\n"
"\n"
"commands:\n"
"  serve [--listen unix:PATH|HOST:PORT] [--config FILE]\n"
"        serve FastCGI requests (default listen: STREAMLAG_LISTEN)\n"
"  get PATH[?QUERY] [--config FILE]\n"
"        answer one request in-process, without auth; print the body;\n"
"        exit 0 on 2xx, 1 on other statuses, 2 on usage errors\n"
"  token [--sub NAME] [--ttl SECONDS] [--scope S] [--config FILE]\n"
"        mint a bearer token with the configured HS key\n"
"\n"
"options:\n"
"  --help       this text\n"
"  --version    print the version\n"
"\n"
"Configuration comes from the environment (REDIS_URL, STREAMLAG_STREAMS,\n"
"STREAMLAG_JWT_SECRET, ...), from --config FILE (KEY=VALUE lines, which\n"
"override the environment) and from flags.  See README.md.\n";

/* Flags that set configuration variables, then --config FILE, then the
 * environment. */
struct layers {
	const char	*listen;	/* --listen */
	char		**file;		/* --config FILE contents */
};

static const char *
lookup(void *ctx, const char *name)
{
	struct layers	*l = ctx;
	const char	*v;

	if (l->listen != NULL && strcmp(name, "STREAMLAG_LISTEN") == 0)
		return l->listen;
	if (l->file != NULL && (v = sl_env_get(l->file, name)) != NULL)
		return v;
	return getenv(name);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr, exit status 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("streamlag: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see streamlag --help)\n", stderr);
	return EXIT_USAGE;
}

/* --name VALUE or --name=VALUE.  Returns the value, or NULL when argv[*i] is
 * not this flag; *missing is set when it is but has no value. */
static const char *
flag_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

static int
load_config(struct sl_config *cfg, struct layers *l, const char *config_path)
{
	char err[512];

	if (config_path == NULL)
		config_path = getenv("STREAMLAG_CONFIG");
	if (config_path != NULL) {
		if ((l->file = sl_env_file_read(config_path, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "streamlag: %s\n", err);
			return -1;
		}
		for (char **e = l->file; *e != NULL; e++) {
			char key[128];
			size_t k = strcspn(*e, "=");
			if (k >= sizeof(key))
				k = sizeof(key) - 1;
			memcpy(key, *e, k);
			key[k] = '\0';
			if (!sl_config_known(key)) {
				fprintf(stderr, "streamlag: %s: unknown setting %s\n",
				    config_path, key);
				return -1;
			}
		}
	}
	if (sl_config_load(cfg, lookup, l, err, sizeof(err)) == -1) {
		fprintf(stderr, "streamlag: %s\n", err);
		return -1;
	}
	return 0;
}

static int
cmd_serve(struct sl_config *cfg)
{
	struct sl_redis	 redis;
	struct sl_ctx	 ctx;
	char		 err[512], safe[300];
	int		 fd, rc;

	if (cfg->jwt_key == NULL) {
		fprintf(stderr, "streamlag: STREAMLAG_JWT_SECRET: required to serve "
		    "(or STREAMLAG_JWT_SECRET_FILE; STREAMLAG_JWT_PUBLIC_KEY_FILE "
		    "for RS*/ES*)\n");
		return EXIT_USAGE;
	}
	if ((fd = sl_listen_open(cfg->listen, cfg->socket_mode,
	    cfg->socket_group, err, sizeof(err))) == -1) {
		fprintf(stderr, "streamlag: %s\n", err);
		return 1;
	}
	sl_log(SL_LOG_INFO, "start", "version=%s listen=%s redis=%s streams=%zu "
	    "group=%s", SL_VERSION, sl_log_str(cfg->listen, err, sizeof(err)),
	    sl_log_str(cfg->redis_url_safe, safe, sizeof(safe)), cfg->nstreams,
	    cfg->consumer_group);
	sl_redis_init(&redis, &cfg->redis, cfg->redis_timeout_ms);
	ctx.cfg = cfg;
	ctx.redis = &redis;
	rc = sl_worker_run(&ctx, fd);
	sl_redis_close(&redis);
	close(fd);
	sl_listen_cleanup(cfg->listen);
	sl_log(SL_LOG_INFO, "stop", NULL);
	return rc == 0 ? 0 : 1;
}

static int
cmd_get(struct sl_config *cfg, const char *target)
{
	struct sl_redis		 redis;
	struct sl_ctx		 ctx;
	struct sl_request	 req;
	struct sl_response	 resp;
	char			*path;
	int			 rc;

	if ((path = strdup(target)) == NULL)
		return 1;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	if ((req.query = strchr(path, '?')) != NULL)
		*(char *)req.query++ = '\0';
	req.now = time(NULL);
	req.skip_auth = 1;
	sl_redis_init(&redis, &cfg->redis, cfg->redis_timeout_ms);
	ctx.cfg = cfg;
	ctx.redis = &redis;
	sl_route(&ctx, &req, &resp);
	if (resp.body != NULL) {
		fwrite(resp.body, 1, resp.body_len, stdout);
		fputc('\n', stdout);
	}
	rc = resp.status >= 200 && resp.status < 300 ? 0 : 1;
	sl_response_free(&resp);
	sl_redis_close(&redis);
	free(path);
	if (fflush(stdout) != 0)
		return 1;
	return rc;
}

static int
cmd_token(struct sl_config *cfg, const char *sub, long ttl, const char *scope)
{
	char	 err[256];
	char	*tok = sl_token_mint(cfg, sub, ttl, scope, time(NULL), err,
	    sizeof(err));

	if (tok == NULL) {
		fprintf(stderr, "streamlag: %s\n", err);
		return EXIT_USAGE;
	}
	printf("%s\n", tok);
	free(tok);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sl_config cfg;
	struct layers	 layers = { NULL, NULL };
	const char	*cmd, *config_path = NULL, *target = NULL;
	const char	*sub = NULL, *scope = NULL, *v;
	long long	 ttl = 3600;
	int		 i, rc, missing = 0;

	memset(&cfg, 0, sizeof(cfg));
	if (argc < 2)
		return usage_error("%s", "missing command");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("streamlag %s\n", SL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "get") != 0 &&
	    strcmp(cmd, "token") != 0)
		return usage_error("unknown %s %s", cmd[0] == '-' ? "option" :
		    "command", cmd);

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if ((v = flag_value(argc, argv, &i, "--config", &missing)))
			config_path = v;
		else if (strcmp(cmd, "serve") == 0 &&
		    (v = flag_value(argc, argv, &i, "--listen", &missing)))
			layers.listen = v;
		else if (strcmp(cmd, "token") == 0 &&
		    (v = flag_value(argc, argv, &i, "--sub", &missing)))
			sub = v;
		else if (strcmp(cmd, "token") == 0 &&
		    (v = flag_value(argc, argv, &i, "--scope", &missing)))
			scope = v;
		else if (strcmp(cmd, "token") == 0 &&
		    (v = flag_value(argc, argv, &i, "--ttl", &missing))) {
			if (sl_parse_ll(v, 1, 10LL * 366 * 86400, &ttl) == -1)
				return usage_error("--ttl: expected seconds from 1 "
				    "to 316224000, got \"%s\"", v);
		} else if (missing)
			return usage_error("%s: missing value", a);
		else if (strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (a[0] == '-' && a[1] != '\0')
			return usage_error("unknown option %s", a);
		else if (strcmp(cmd, "get") == 0 && target == NULL)
			target = a;
		else
			return usage_error("unexpected argument \"%s\"", a);
		if (missing)
			return usage_error("%s: missing value", a);
	}
	if (strcmp(cmd, "get") == 0 && (target == NULL || target[0] != '/'))
		return usage_error("%s", "get: expected PATH starting with /, "
		    "e.g. /api/v1/events/consumer-lag");

	if (load_config(&cfg, &layers, config_path) == -1) {
		sl_env_free(layers.file);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(&cfg);
	else if (strcmp(cmd, "get") == 0) {
		sl_log_set_level(SL_LOG_ERROR);	/* stdout is the answer */
		rc = cmd_get(&cfg, target);
	} else
		rc = cmd_token(&cfg, sub, (long)ttl, scope);
	sl_config_free(&cfg);
	sl_env_free(layers.file);
	return rc;
}
