/* SPDX-License-Identifier: ISC */
/* streamlag: command line.  main.c only wires the modules together. */
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/auth.h"
#include "streamlag/check.h"
#include "streamlag/config.h"
#include "streamlag/demo.h"
#include "streamlag/listen.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/render.h"
#include "streamlag/reply.h"
#include "streamlag/router.h"
#include "streamlag/privdrop.h"
#include "streamlag/shared.h"
#include "streamlag/sockclean.h"
#include "streamlag/supervisor.h"
#include "streamlag/table.h"
#include "streamlag/targets.h"
#include "streamlag/top.h"
#include "streamlag/version.h"

#define EXIT_USAGE 2

extern char **environ;

static const char usage_text[] =
"usage: streamlag COMMAND [OPTIONS]\n"
"\n"
"Consumer-lag monitor for Redis Streams: a FastCGI responder behind nginx.\n"
"\n"
"commands:\n"
"  serve [--listen unix:PATH|HOST:PORT] [--workers N] [--config FILE]\n"
"        [--max-requests N] [--request-deadline-ms MS] [--grace-ms MS]\n"
"        [--first-byte-deadline-ms MS] [--read-deadline-ms MS]\n"
"        [--idle-deadline-ms MS] [--user NAME]\n"
"        serve FastCGI requests with N prefork workers (default: cores)\n"
"  get PATH[?QUERY] [--config FILE] [--target NAME]\n"
"        [--format json|table|csv]\n"
"        answer one request in-process, without auth; print the body (or,\n"
"        for consumer-lag and health, the table or CSV of every group);\n"
"        exit 0 on 2xx, 1 on other statuses, 2 on usage errors; why Redis\n"
"        failed goes to stderr\n"
"  check [--config FILE] [--target NAME] [--json]\n"
"        diagnose the setup step by step (configuration, DNS, connect,\n"
"        AUTH, SELECT, server, every command, each stream and group, the\n"
"        JWT key, the listen socket); exit 0 when all pass, else 1\n"
"  top [--config FILE] [--target NAME] [--interval S] [--once]\n"
"        live table of every stream and group, straight from Redis\n"
"        (default every 2 s); --once prints one table and exits\n"
"  token [--sub NAME] [--ttl SECONDS] [--scope S] [--config FILE]\n"
"        mint a bearer token with the configured HS key\n"
"  demo [--config FILE]\n"
"        write demo traffic to REDIS_URL: producers and slower consumers on\n"
"        events:chat, events:ticket, events:remote, events:notification\n"
"\n"
"options:\n"
"  --help       this text\n"
"  --version    print the version\n"
"\n"
"Configuration comes from the environment (REDIS_URL, STREAMLAG_STREAMS,\n"
"STREAMLAG_JWT_SECRET, ...), from --config FILE (KEY=VALUE lines, which\n"
"override the environment) and from flags.  See README.md.\n";

/* serve's flags: each sets one configuration variable, above the --config
 * file and the environment (config.c checks the value like any other). */
static const struct {
	const char	*flag;
	const char	*name;
} serve_flags[] = {
	{ "--listen", "STREAMLAG_LISTEN" },
	{ "--workers", "STREAMLAG_WORKERS" },
	{ "--max-requests", "STREAMLAG_MAX_REQUESTS" },
	{ "--request-deadline-ms", "STREAMLAG_REQUEST_DEADLINE_MS" },
	{ "--grace-ms", "STREAMLAG_GRACE_MS" },
	{ "--first-byte-deadline-ms", "STREAMLAG_FIRST_BYTE_DEADLINE_MS" },
	{ "--read-deadline-ms", "STREAMLAG_READ_DEADLINE_MS" },
	{ "--idle-deadline-ms", "STREAMLAG_IDLE_DEADLINE_MS" },
	{ "--user", "STREAMLAG_USER" },
};

#define NSERVE_FLAGS	(sizeof(serve_flags) / sizeof(serve_flags[0]))

/* Flags, then --config FILE, then the environment. */
struct layers {
	const char	*flags[NSERVE_FLAGS];	/* values of serve_flags */
	const char	*config_path;	/* --config or STREAMLAG_CONFIG */
	char		**file;		/* its KEY=VALUE lines */
};

static const char *
lookup(void *ctx, const char *name)
{
	struct layers	*l = ctx;
	const char	*v;

	for (size_t i = 0; i < NSERVE_FLAGS; i++)
		if (l->flags[i] != NULL && strcmp(name, serve_flags[i].name) == 0)
			return l->flags[i];
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

/* A bad value that came from the --config file: its line is added to the
 * error, which starts with the setting's name. */
static void
where_in_file(struct layers *l, char *err, size_t errlen)
{
	char	 name[128];
	size_t	 n = strcspn(err, ":"), len = strlen(err);

	if (l->file == NULL || n == 0 || n >= sizeof(name) || err[n] != ':')
		return;
	memcpy(name, err, n);
	name[n] = '\0';
	/* Only when the file's value is the one used (not a flag's). */
	if (lookup(l, name) == NULL || lookup(l, name) != sl_env_get(l->file, name))
		return;
	snprintf(err + len, errlen - len, " (%s:%zu)", l->config_path,
	    sl_env_line(l->file, name));
}

/* (Re)reads the --config file, then builds the configuration from flags,
 * file and environment.  0, or -1 with err set. */
static int
load_config(struct sl_config *cfg, struct layers *l, char *err, size_t errlen)
{
	char **file = NULL;

	if (l->config_path != NULL) {
		if ((file = sl_env_file_read(l->config_path, err, errlen)) == NULL)
			return -1;
		for (char **e = file; *e != NULL; e++) {
			size_t k = strcspn(*e, "=");
			char key[128];

			if (k >= sizeof(key))
				k = sizeof(key) - 1;
			memcpy(key, *e, k);
			key[k] = '\0';
			if (!sl_config_known(key)) {
				snprintf(err, errlen, "--config: %s:%zu: unknown "
				    "setting %s", l->config_path,
				    sl_env_entry_line(*e), key);
				sl_env_free(file);
				return -1;
			}
		}
	}
	sl_env_free(l->file);
	l->file = file;
	if (sl_config_load(cfg, lookup, l, err, errlen) == -1) {
		where_in_file(l, err, errlen);
		return -1;
	}
	return 0;
}

static struct sl_config *
reload_config(void *arg, char *err, size_t errlen)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (load_config(cfg, arg, err, errlen) == -1) {
		free(cfg);
		return NULL;
	}
	if (cfg->jwt_key == NULL) {
		snprintf(err, errlen, "STREAMLAG_JWT_SECRET: required to serve");
		sl_config_free(cfg);
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* The socket: inherited through systemd socket activation (LISTEN_FDS, fd 3)
 * or on fd 0 (spawn-fcgi, StandardInput=socket), else opened here. */
static int
open_socket(const struct sl_config *cfg, const struct layers *l, int *owned)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char		 err[512];
	long long	 v;
	int		 acc = 0, fd;
	socklen_t	 len = sizeof(acc);

	*owned = 0;
	if (pid != NULL && fds != NULL && sl_parse_ll(pid, 1, 1 << 30, &v) == 0 &&
	    v == (long long)getpid() && sl_parse_ll(fds, 1, 64, &v) == 0) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
		    !acc) {
			fprintf(stderr, "streamlag: LISTEN_FDS: fd 3 is not a "
			    "listening socket\n");
			return -1;
		}
		sl_log(SL_LOG_INFO, "socket_inherited", "from=systemd fd=3");
		return 3;
	}
	if (lookup((void *)l, "STREAMLAG_LISTEN") == NULL &&
	    getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc) {
		sl_log(SL_LOG_INFO, "socket_inherited", "from=stdin fd=0");
		return 0;
	}
	if ((fd = sl_listen_open(cfg->listen, cfg->socket_mode,
	    cfg->socket_group, err, sizeof(err))) == -1) {
		fprintf(stderr, "streamlag: %s\n", err);
		return -1;
	}
	*owned = 1;
	return fd;
}

/* Frees cfg on every path (the supervisor owns it once started). */
static int
cmd_serve(struct sl_config *cfg, struct layers *l)
{
	struct sl_serve_opts	 o;
	char			 buf[300], safe[300];
	int			 fd, owned, rc = EXIT_USAGE;

	if (cfg->jwt_key == NULL) {
		fprintf(stderr, "streamlag: STREAMLAG_JWT_SECRET: required to serve "
		    "(or STREAMLAG_JWT_SECRET_FILE; STREAMLAG_JWT_PUBLIC_KEY_FILE "
		    "for RS*/ES*)\n");
		goto fail;
	}
	sl_serve_opts_from_config(cfg, &o);
	rc = 1;
	if ((fd = open_socket(cfg, l, &owned)) == -1)
		goto fail;
	if ((owned && sl_sockclean_arm(cfg->listen, cfg->user, buf,
	    sizeof(buf)) == -1) ||
	    sl_privdrop(cfg->user, buf, sizeof(buf)) == -1) {
		fprintf(stderr, "streamlag: %s\n", buf);
		if (owned)
			sl_listen_cleanup(cfg->listen);
		close(fd);
		goto fail;
	}
	sl_log(SL_LOG_INFO, "start", "version=%s commit=%s listen=%s redis=%s "
	    "streams=%zu group=%s", sl_version, sl_commit, sl_log_str(owned ? cfg->listen : "inherited",
	    buf, sizeof(buf)), sl_log_str(cfg->redis_url_safe, safe,
	    sizeof(safe)), cfg->nstreams, cfg->consumer_group);
	/* From here the supervisor owns cfg (a reload replaces it); keep the
	 * socket path for the cleanup. */
	snprintf(buf, sizeof(buf), "%s", owned ? cfg->listen : "");
	rc = sl_supervise(fd, cfg, &o, reload_config, l);
	close(fd);
	if (owned)
		sl_listen_cleanup(buf);
	sl_log(SL_LOG_INFO, "stop", NULL);
	return rc == 0 ? 0 : 1;
fail:
	sl_config_free(cfg);
	free(cfg);
	return rc;
}

enum get_format { GET_JSON, GET_TABLE, GET_CSV };

#define GET_CAUSES_MAX	10	/* stream lines on stderr; the rest counted */

/* Why a lag report's rows failed, one stderr line each (at most
 * GET_CAUSES_MAX): the body keeps the seed's shape, the operator sees the
 * cause. */
static void
report_causes(const struct sl_lag_report *rep)
{
	char		 name[512], group[512], status[1024];
	const char	*why;
	size_t		 shown = 0, more = 0;

	if (rep->error != NULL)
		return;		/* Redis unreachable: one line said why */
	for (size_t i = 0; i < rep->n; i++) {
		const struct sl_lag_entry *e = &rep->entries[i];

		if (e->error == NULL && e->status != SL_STATUS_NO_GROUP)
			continue;
		if (shown == GET_CAUSES_MAX) {
			more++;
			continue;
		}
		shown++;
		sl_table_cell(rep, e, SL_COL_STREAM, name, sizeof(name));
		sl_table_cell(rep, e, SL_COL_GROUP, group, sizeof(group));
		why = sl_table_cell(rep, e, SL_COL_STATUS, status, sizeof(status));
		if (strncmp(why, "error: ", 7) == 0)
			why += 7;
		if (e->error != NULL)
			fprintf(stderr, "streamlag: stream %s: %s\n", name, why);
		else
			fprintf(stderr, "streamlag: stream %s: no consumer group "
			    "%s\n", name, group);
	}
	if (more > 0)
		fprintf(stderr, "streamlag: %zu more streams failed or lack the "
		    "group\n", more);
}

static int
cmd_get(struct sl_config *cfg, const char *target, enum get_format fmt)
{
	struct sl_redis		*redis;
	struct sl_ctx		 ctx;
	struct sl_request	 req;
	struct sl_response	 resp;
	struct sl_lag_report	 rep;
	struct sl_table_view	 view;
	enum sl_route_id	 id;
	char			*path, *text = NULL, cause[600];
	int			 rc, has_report;

	if ((path = strdup(target)) == NULL)
		return 1;
	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	req.method = "GET";
	req.path = path;
	if ((req.query = strchr(path, '?')) != NULL)
		*(char *)req.query++ = '\0';
	req.now = time(NULL);
	req.skip_auth = 1;
	if ((redis = sl_targets_open(cfg, NULL, NULL, NULL)) == NULL) {
		free(path);
		return 1;
	}
	ctx.cfg = cfg;
	ctx.redis = redis;
	ctx.counters = NULL;
	ctx.lag_out = &rep;
	ctx.stream = NULL;	/* bodies whole, in resp.body */
	ctx.history = NULL;	/* the serve master's only */
	id = sl_route(&ctx, &req, &resp);
	has_report = rep.n > 0 || rep.error != NULL || resp.status == 200;
	has_report = has_report && (id == SL_ROUTE_CONSUMER_LAG ||
	    id == SL_ROUTE_HEALTH);
	if (fmt != GET_JSON && has_report) {
		memset(&view, 0, sizeof(view));
		view.sort = SL_COL_LAG;
		if (fmt == GET_CSV)
			text = sl_render_csv(&rep);
		else
			text = sl_render_table(&rep, &view, NULL);
		if (text == NULL)
			fprintf(stderr, "streamlag: out of memory\n");
		else
			fputs(text, stdout);
		free(text);
	} else if (resp.body != NULL) {
		fwrite(resp.body, 1, resp.body_len, stdout);
		fputc('\n', stdout);
	}
	rc = resp.status >= 200 && resp.status < 300 ? 0 : 1;
	for (size_t i = 0; i < sl_config_ntargets(cfg); i++)
		if (redis[i].errors > 0 || (resp.status == 503 &&
		    redis[i].errstr[0] != '\0'))
			fprintf(stderr, "streamlag: %s\n", sl_redis_cause(
			    &redis[i], cause, sizeof(cause)));
	report_causes(&rep);
	sl_lag_report_free(&rep);
	sl_response_free(&resp);
	sl_targets_close(redis, sl_config_ntargets(cfg));
	free(path);
	if (fflush(stdout) != 0)
		return 1;
	return rc;
}

static int
cmd_check(struct sl_config *cfg, const struct layers *l, const char *cfg_err,
    int json)
{
	struct sl_checks	 c;
	char			 source[600], *text;
	int			 rc;

	if (l->config_path != NULL)
		snprintf(source, sizeof(source), "environment and %s",
		    l->config_path);
	else
		snprintf(source, sizeof(source), "environment");
	rc = sl_check_run(cfg, source, cfg_err, &c);
	if (json)
		text = sl_checks_json(&c);
	else {
		const char *nc = getenv("NO_COLOR");
		text = sl_checks_text(&c, isatty(STDOUT_FILENO) &&
		    (nc == NULL || *nc == '\0'));
	}
	if (text == NULL || c.oom) {
		fprintf(stderr, "streamlag: out of memory\n");
		rc = 1;
	} else {
		fputs(text, stdout);
		if (json)
			fputc('\n', stdout);
	}
	free(text);
	sl_checks_free(&c);
	return fflush(stdout) != 0 ? 1 : rc;
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

enum command { CMD_SERVE, CMD_GET, CMD_TOKEN, CMD_DEMO, CMD_CHECK, CMD_TOP };

static const char *const command_names[] = {
	"serve", "get", "token", "demo", "check", "top"
};

/* The command line, parsed: the configuration's layers and each command's
 * own options. */
struct args {
	enum command	 cmd;
	struct layers	 layers;
	const char	*target;	/* get PATH */
	const char	*tname;		/* get, check, top --target */
	enum get_format	 fmt;		/* get --format */
	const char	*sub, *scope;	/* token */
	long long	 ttl;		/* token --ttl */
	int		 json;		/* check --json */
	struct sl_top_opts topts;	/* top */
};

/* serve's flags: 1 when argv[*i] is one of them. */
static int
serve_flag(struct args *a, int argc, char **argv, int *i, int *missing)
{
	const char *v;

	for (size_t k = 0; k < NSERVE_FLAGS; k++)
		if ((v = flag_value(argc, argv, i, serve_flags[k].flag,
		    missing)) != NULL) {
			a->layers.flags[k] = v;
			return 1;
		}
	return 0;
}

static int
get_format(struct args *a, const char *v)
{
	if (strcmp(v, "json") == 0)
		a->fmt = GET_JSON;
	else if (strcmp(v, "table") == 0)
		a->fmt = GET_TABLE;
	else if (strcmp(v, "csv") == 0)
		a->fmt = GET_CSV;
	else
		return usage_error("--format: expected json, table or csv, got "
		    "\"%s\"", v);
	return 0;
}

static int
top_interval(struct args *a, const char *v)
{
	char	*end;
	double	 sec;

	errno = 0;
	sec = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' ||
	    !(sec * 1000 >= SL_TOP_INTERVAL_MIN_MS) ||
	    !(sec * 1000 <= SL_TOP_INTERVAL_MAX_MS))
		return usage_error("--interval: expected seconds from 0.1 to 3600, "
		    "got \"%s\"", v);
	a->topts.interval_ms = (int)(sec * 1000 + 0.5);
	return 0;
}

/* The options of get, token, check and top that take a value: 1 when
 * argv[*i] is one (then *rc is 0, or the exit status of a bad value). */
static int
command_flag(struct args *a, int argc, char **argv, int *i, int *missing,
    int *rc)
{
	const char	*v;
	enum command	 c = a->cmd;

	*rc = 0;
	if (c == CMD_TOKEN && (v = flag_value(argc, argv, i, "--sub", missing)))
		a->sub = v;
	else if (c == CMD_TOKEN && (v = flag_value(argc, argv, i, "--scope",
	    missing)))
		a->scope = v;
	else if (c == CMD_TOKEN && (v = flag_value(argc, argv, i, "--ttl",
	    missing))) {
		if (sl_parse_ll(v, 1, SL_TOKEN_TTL_MAX, &a->ttl) == -1)
			*rc = usage_error("--ttl: expected seconds from 1 to %ld, "
			    "got \"%s\"", SL_TOKEN_TTL_MAX, v);
	} else if (c == CMD_GET && (v = flag_value(argc, argv, i, "--format",
	    missing)))
		*rc = get_format(a, v);
	else if ((c == CMD_CHECK || c == CMD_TOP || c == CMD_GET) &&
	    (v = flag_value(argc, argv, i, "--target", missing)))
		a->tname = v;	/* checked once the configuration is read */
	else if (c == CMD_TOP && (v = flag_value(argc, argv, i, "--interval",
	    missing)))
		*rc = top_interval(a, v);
	else
		return 0;
	return 1;
}

/* argv from argv[2] on.  -1 to go on, else the exit status. */
static int
parse_options(struct args *a, int argc, char **argv)
{
	const char	*v;
	int		 i, rc, missing = 0;

	for (i = 2; i < argc; i++) {
		const char *o = argv[i];

		if ((v = flag_value(argc, argv, &i, "--config", &missing)))
			a->layers.config_path = v;
		else if (a->cmd == CMD_SERVE && serve_flag(a, argc, argv, &i,
		    &missing))
			continue;
		else if (command_flag(a, argc, argv, &i, &missing, &rc)) {
			if (rc != 0)
				return rc;
		} else if (a->cmd == CMD_TOP && strcmp(o, "--once") == 0)
			a->topts.once = 1;
		else if (a->cmd == CMD_CHECK && strcmp(o, "--json") == 0)
			a->json = 1;
		else if (missing)
			return usage_error("%s: missing value", o);
		else if (strcmp(o, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (o[0] == '-' && o[1] != '\0')
			return usage_error("unknown option %s", o);
		else if (a->cmd == CMD_GET && a->target == NULL)
			a->target = o;
		else
			return usage_error("unexpected argument \"%s\"", o);
	}
	return -1;
}

/* The command and its options.  -1 to go on, else the exit status. */
static int
parse_args(struct args *a, int argc, char **argv)
{
	const char	*cmd;
	size_t		 k;
	int		 rc;

	memset(a, 0, sizeof(*a));
	a->ttl = 3600;
	a->fmt = GET_JSON;
	a->topts.interval_ms = 2000;
	if (argc < 2)
		return usage_error("missing command");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("streamlag %s (commit %s)\n", sl_version, sl_commit);
		return 0;
	}
	for (k = 0; k < sizeof(command_names) / sizeof(command_names[0]); k++)
		if (strcmp(cmd, command_names[k]) == 0)
			break;
	if (k == sizeof(command_names) / sizeof(command_names[0]))
		return usage_error("unknown %s %s", cmd[0] == '-' ? "option" :
		    "command", cmd);
	a->cmd = (enum command)k;
	if ((rc = parse_options(a, argc, argv)) != -1)
		return rc;
	if (a->cmd == CMD_GET && (a->target == NULL || a->target[0] != '/'))
		return usage_error("get: expected PATH starting with /, e.g. "
		    "/api/v1/events/consumer-lag");
	if (a->layers.config_path == NULL)
		a->layers.config_path = getenv("STREAMLAG_CONFIG");
	return -1;
}

/* Runs the command with a loaded configuration, which it frees. */
static int
run(struct args *a, struct sl_config *cfg)
{
	int rc;

	if (a->tname != NULL && sl_config_pick_target(cfg, a->tname) == -1) {
		rc = usage_error("--target: no target \"%s\" (STREAMLAG_TARGETS "
		    "names them; without it the one target is \"default\")",
		    a->tname);
		sl_config_free(cfg);
		free(cfg);
		return rc;
	}
	switch (a->cmd) {
	case CMD_SERVE:
		return cmd_serve(cfg, &a->layers);	/* frees cfg */
	case CMD_GET:
		sl_log_set_level(SL_LOG_ERROR);	/* stdout is the answer */
		rc = cmd_get(cfg, a->target, a->fmt);
		break;
	case CMD_CHECK:
		sl_log_set_level(SL_LOG_ERROR);	/* the steps say it all */
		rc = cmd_check(cfg, &a->layers, NULL, a->json);
		break;
	case CMD_TOP:
		/* top watches one target: the default one unless named. */
		(void)sl_config_pick_target(cfg, sl_config_target_name(cfg, 0));
		rc = sl_top_run(cfg, &a->topts);
		break;
	case CMD_DEMO:
		rc = sl_demo_run(cfg);
		break;
	default:
		rc = cmd_token(cfg, a->sub, (long)a->ttl, a->scope);
		break;
	}
	sl_config_free(cfg);
	free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sl_config	*cfg;
	struct args		 a;
	char			 err[512];
	int			 rc;

	if ((rc = parse_args(&a, argc, argv)) != -1)
		return rc;
	sl_reply_blocks_enable();	/* this thread's; the workers inherit it */
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return 1;
	if (load_config(cfg, &a.layers, err, sizeof(err)) == -1) {
		free(cfg);
		if (a.cmd == CMD_CHECK)	/* a finding like the others */
			rc = cmd_check(NULL, &a.layers, err, a.json);
		else {
			fprintf(stderr, "streamlag: %s\n", err);
			rc = EXIT_USAGE;
		}
	} else
		rc = run(&a, cfg);
	sl_env_free(a.layers.file);
	return rc;
}
