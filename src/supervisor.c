/* SPDX-License-Identifier: ISC */
/* The prefork master.
 *
 * The master blocks the signals it cares about and takes them synchronously
 * with sigtimedwait(): no handler runs in the master, and the timeout doubles
 * as the tick that enforces request deadlines, the grace period of workers
 * retired by a reload, and delayed respawns.  Workers
 * are tracked by slot; a slot in shared memory tells the master when its
 * worker started its current request. */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/router.h"
#include "streamlag/sampler.h"
#include "streamlag/shared.h"
#include "streamlag/supervisor.h"
#include "streamlag/targets.h"
#include "streamlag/worker.h"

#define CRASH_WINDOW_MS	2000	/* a worker dying this soon counts as a crash */
#define RESPAWN_MIN_MS	100
#define RESPAWN_MAX_MS	5000
#define TICK_MS		250

struct member {
	pid_t	 pid;		/* 0 = free */
	int64_t	 started_ms;
	int	 retiring;	/* told to stop: not replaced */
	int64_t	 retired_ms;	/* when it was told (SIGHUP) */
	int	 deadline_killed;
	int	 retire_killed;
};

struct master {
	int			 fd;
	struct sl_config	*cfg;
	struct sl_serve_opts	 o;	/* from cfg; a reload replaces both */
	struct sl_shared	*sh;
	struct member		 m[SL_MAX_SLOTS];
	int			 crash_streak;
	int64_t			 respawn_at;	/* 0 = now */
	unsigned long		 restarts;
	struct sl_history	*hist;		/* NULL: no sampler */
	struct member		 sampler;	/* its pid 0: not running */
	int			 sampler_streak;
	int64_t			 sampler_at;	/* respawn not before */
};

static int
active_count(const struct master *ms)
{
	int n = 0;

	for (int i = 0; i < SL_MAX_SLOTS; i++)
		if (ms->m[i].pid != 0 && !ms->m[i].retiring)
			n++;
	return n;
}

static void
worker_child(struct master *ms, int slot, pid_t master_pid)
{
	struct sl_worker_opts	 wo;
	struct sl_redis		*redis;
	struct sl_ctx		 ctx;
	struct sigaction	 sa;
	sigset_t		 all;
	int			 rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;	/* SIGHUP is the master's */
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* A master killed outright (SIGKILL, OOM killer) must not leave
	 * orphans accepting on its socket: the kernel sends the graceful
	 * SIGTERM when the master goes; a master already gone before this
	 * line ran is caught by the parent check. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != master_pid)
		_exit(1);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	ms->sh->slots[slot].pid = getpid();
	ms->sh->slots[slot].busy_since_ms = 0;
	ms->sh->slots[slot].requests = 0;
	/* One connection per target (targets.h). */
	if ((redis = sl_targets_open(ms->cfg, &ms->sh->counters,
	    &ms->sh->lagcache, ms->sh->discache)) == NULL)
		_exit(1);
	ctx.cfg = ms->cfg;
	ctx.redis = redis;
	ctx.counters = &ms->sh->counters;
	ctx.lag_out = NULL;
	ctx.stream = NULL;	/* set by the worker per request */
	ctx.history = ms->hist;
	wo.slot = &ms->sh->slots[slot];
	wo.max_requests = ms->o.max_requests;
	wo.deadlines = ms->o.deadlines;
	rc = sl_worker_run(&ctx, ms->fd, &wo);
	sl_targets_close(redis, sl_config_ntargets(ms->cfg));
	ms->sh->slots[slot].pid = 0;
	_exit(rc == 0 ? 0 : 1);
}

static int
spawn(struct master *ms)
{
	int	 slot;
	pid_t	 pid, self = getpid();

	for (slot = 0; slot < SL_MAX_SLOTS; slot++)
		if (ms->m[slot].pid == 0)
			break;
	if (slot == SL_MAX_SLOTS)
		return -1;
	if ((pid = fork()) == -1) {
		sl_log(SL_LOG_ERROR, "fork_failed", "errno=%d", errno);
		return -1;
	}
	if (pid == 0)
		worker_child(ms, slot, self);
	memset(&ms->m[slot], 0, sizeof(ms->m[slot]));
	ms->m[slot].pid = pid;
	ms->m[slot].started_ms = sl_monotonic_ms();
	sl_log(SL_LOG_INFO, "worker_start", "pid=%ld slot=%d", (long)pid, slot);
	return 0;
}

/* The history and its sampler (sampler.h): memory fixed at start, logged.
 * -1 when it cannot be made (serve stops: the operator asked for it). */
static int
history_start(struct master *ms)
{
	const struct sl_config	*cfg = ms->cfg;
	struct sl_error		 why;
	long long		 n;

	if (cfg->sample_ms <= 0) {
		sl_log(SL_LOG_INFO, "history_start", "sampler=off");
		return 0;
	}
	n = sl_history_samples(cfg->history_s, cfg->sample_ms);
	if ((ms->hist = sl_history_create(cfg->history_groups, n, &why)) ==
	    NULL) {
		sl_log(SL_LOG_ERROR, "history_failed", "error=\"%s\"", why.str);
		return -1;
	}
	sl_log(SL_LOG_INFO, "history_start", "bytes=%zu groups=%lld "
	    "samples_per_group=%lld sample_ms=%lld history_s=%lld",
	    sl_history_bytes(cfg->history_groups, n), cfg->history_groups, n,
	    cfg->sample_ms, cfg->history_s);
	return 0;
}

static void
sampler_child(struct master *ms, pid_t master_pid)
{
	struct sigaction sa;
	sigset_t	 all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != master_pid)
		_exit(1);
	(void)prctl(PR_SET_NAME, "streamlag-sampl");	/* 15 bytes: ps, top */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	close(ms->fd);		/* the FastCGI socket is the workers' */
	_exit(sl_sampler_run(ms->cfg, ms->hist, ms->sh, &ms->sh->sampler));
}

/* Starts the sampler when it is on, not running, and not held back. */
static void
sampler_fill(struct master *ms)
{
	pid_t pid, self = getpid();

	if (ms->hist == NULL || ms->sampler.pid != 0 ||
	    ms->cfg->sample_ms <= 0 || sl_monotonic_ms() < ms->sampler_at)
		return;
	if ((pid = fork()) == -1) {
		sl_log(SL_LOG_ERROR, "fork_failed", "errno=%d", errno);
		return;
	}
	if (pid == 0)
		sampler_child(ms, self);
	memset(&ms->sampler, 0, sizeof(ms->sampler));
	ms->sampler.pid = pid;
	ms->sampler.started_ms = sl_monotonic_ms();
	ms->sh->sampler.busy_since_ms = 0;
	sl_log(SL_LOG_INFO, "sampler_start", "pid=%ld sample_ms=%lld",
	    (long)pid, ms->cfg->sample_ms);
}

/* The sampler exited: respawned at the next tick, or after a back-off
 * doubling from RESPAWN_MIN_MS to RESPAWN_MAX_MS while it keeps dying
 * young. */
static void
sampler_reaped(struct master *ms, int status)
{
	struct member	*mb = &ms->sampler;
	int64_t		 up = sl_monotonic_ms() - mb->started_ms, delay = 0;
	int		 crashed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	if (!mb->retiring) {
		sl_count(&ms->sh->counters, &ms->sh->counters.sampler_restarts);
		if (crashed && !mb->deadline_killed && up < CRASH_WINDOW_MS) {
			delay = RESPAWN_MIN_MS;
			for (int k = 0; k < ms->sampler_streak &&
			    delay < RESPAWN_MAX_MS; k++)
				delay *= 2;
			if (delay > RESPAWN_MAX_MS)
				delay = RESPAWN_MAX_MS;
			ms->sampler_streak++;
		} else
			ms->sampler_streak = 0;
	}
	ms->sampler_at = sl_monotonic_ms() + delay;
	sl_log(crashed && !mb->retiring ? SL_LOG_WARN : SL_LOG_INFO,
	    "sampler_exit", "pid=%ld reason=%s status=%d signal=%d "
	    "uptime_ms=%lld respawn_ms=%lld", (long)mb->pid, mb->retiring ?
	    "retired" : mb->deadline_killed ? "deadline" : "crashed",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0, (long long)up,
	    (long long)delay);
	ms->sh->sampler.pid = 0;
	ms->sh->sampler.busy_since_ms = 0;
	memset(mb, 0, sizeof(*mb));
}

/* A round held longer than the request deadline, or a sampler retired by
 * a reload that did not go within the grace period, is killed. */
static void
sampler_deadline(struct master *ms, int64_t now)
{
	struct member	*mb = &ms->sampler;
	int64_t		 since = ms->sh->sampler.busy_since_ms;

	if (mb->pid == 0 || mb->deadline_killed)
		return;
	if (mb->retiring && mb->retired_ms != 0 &&
	    now - mb->retired_ms >= ms->o.grace_ms) {
		mb->deadline_killed = 1;
		kill(mb->pid, SIGKILL);
		return;
	}
	if (ms->o.deadline_ms <= 0 || since == 0 ||
	    now - since <= ms->o.deadline_ms)
		return;
	sl_log(SL_LOG_WARN, "sampler_deadline", "pid=%ld busy_ms=%lld",
	    (long)mb->pid, (long long)(now - since));
	mb->deadline_killed = 1;
	kill(mb->pid, SIGKILL);
}

/* Reaps every exited child; logs how and decides on throttling. */
static void
reap(struct master *ms)
{
	int	 status, slot;
	pid_t	 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct member	*mb = NULL;
		int64_t		 up;
		const char	*reason;
		int		 crashed;

		if (ms->sampler.pid == pid) {
			sampler_reaped(ms, status);
			continue;
		}
		for (slot = 0; slot < SL_MAX_SLOTS; slot++)
			if (ms->m[slot].pid == pid) {
				mb = &ms->m[slot];
				break;
			}
		if (mb == NULL)
			continue;
		up = sl_monotonic_ms() - mb->started_ms;
		crashed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (mb->retiring)
			reason = "retired";
		else if (mb->deadline_killed)
			reason = "deadline";
		else if (!crashed)
			reason = "recycled";
		else
			reason = "crashed";
		sl_log(crashed && !mb->retiring ? SL_LOG_WARN : SL_LOG_INFO,
		    "worker_exit", "pid=%ld slot=%d reason=%s status=%d signal=%d "
		    "uptime_ms=%lld requests=%llu", (long)pid, slot, reason,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0, (long long)up,
		    (unsigned long long)ms->sh->slots[slot].requests);
		if (!mb->retiring) {
			ms->restarts++;
			sl_count(&ms->sh->counters,
			    &ms->sh->counters.worker_restarts);
			if (crashed && !mb->deadline_killed && up < CRASH_WINDOW_MS) {
				int64_t delay = RESPAWN_MIN_MS;
				for (int k = 1; k < ms->crash_streak &&
				    delay < RESPAWN_MAX_MS; k++)
					delay *= 2;
				if (delay > RESPAWN_MAX_MS)
					delay = RESPAWN_MAX_MS;
				ms->crash_streak++;
				ms->respawn_at = sl_monotonic_ms() + delay;
				sl_log(SL_LOG_WARN, "respawn_throttled",
				    "delay_ms=%lld streak=%d", (long long)delay,
				    ms->crash_streak);
			} else if (!crashed || up >= CRASH_WINDOW_MS)
				ms->crash_streak = 0;
		}
		ms->sh->slots[slot].pid = 0;
		ms->sh->slots[slot].busy_since_ms = 0;
		memset(mb, 0, sizeof(*mb));
	}
}

static void
fill_up(struct master *ms)
{
	sampler_fill(ms);
	if (ms->respawn_at != 0 && sl_monotonic_ms() < ms->respawn_at)
		return;
	ms->respawn_at = 0;
	while (active_count(ms) < ms->o.workers)
		if (spawn(ms) == -1)
			break;
}

/* A worker retired by a reload gets the grace period to finish, like a
 * stop: then SIGKILL, whatever holds it. */
static void
check_retired(struct master *ms)
{
	int64_t now = sl_monotonic_ms();

	for (int i = 0; i < SL_MAX_SLOTS; i++) {
		struct member *mb = &ms->m[i];

		if (mb->pid == 0 || !mb->retiring || mb->retired_ms == 0 ||
		    mb->retire_killed || now - mb->retired_ms < ms->o.grace_ms)
			continue;
		sl_log(SL_LOG_WARN, "retire_escalated", "pid=%ld slot=%d "
		    "grace_ms=%d", (long)mb->pid, i, ms->o.grace_ms);
		mb->retire_killed = 1;
		kill(mb->pid, SIGKILL);
	}
}

static void
check_deadlines(struct master *ms)
{
	int64_t now = sl_monotonic_ms();

	check_retired(ms);
	sampler_deadline(ms, now);
	if (ms->o.deadline_ms <= 0)
		return;
	for (int i = 0; i < SL_MAX_SLOTS; i++) {
		struct member *mb = &ms->m[i];
		int64_t since = ms->sh->slots[i].busy_since_ms;

		if (mb->pid == 0 || mb->deadline_killed || since == 0 ||
		    now - since <= ms->o.deadline_ms)
			continue;
		sl_log(SL_LOG_WARN, "request_deadline", "pid=%ld slot=%d busy_ms=%lld",
		    (long)mb->pid, i, (long long)(now - since));
		mb->deadline_killed = 1;
		kill(mb->pid, SIGKILL);
	}
}

static void
signal_all(struct master *ms, int sig, int retiring_only)
{
	for (int i = 0; i < SL_MAX_SLOTS; i++)
		if (ms->m[i].pid != 0 && (!retiring_only || ms->m[i].retiring))
			kill(ms->m[i].pid, sig);
	if (ms->sampler.pid != 0 && (!retiring_only || ms->sampler.retiring))
		kill(ms->sampler.pid, sig);
}

void
sl_serve_opts_from_config(const struct sl_config *cfg, struct sl_serve_opts *o)
{
	long n;

	memset(o, 0, sizeof(*o));
	o->workers = cfg->workers;
	if (o->workers == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		o->workers = n < 1 ? 1 : n > SL_MAX_WORKERS ? SL_MAX_WORKERS : (int)n;
	}
	o->max_requests = (unsigned long)cfg->max_requests;
	o->deadline_ms = cfg->request_deadline_ms;
	o->grace_ms = cfg->grace_ms;
	o->deadlines.first_byte_ms = cfg->first_byte_deadline_ms;
	o->deadlines.read_ms = cfg->read_deadline_ms;
	o->deadlines.idle_ms = cfg->idle_deadline_ms;
}

/* One line per SIGHUP naming the changed settings a reload cannot apply
 * (the listening socket, the user...); their running values stay. */
static void
log_restart_needed(struct sl_config *old, struct sl_config *ncfg)
{
	const char	*names[16];
	char		 list[600];
	size_t		 n, len = 0;

	n = sl_config_restart_needed(old, ncfg, names, 16);
	sl_config_keep_running(old, ncfg);
	if (n == 0)
		return;
	list[0] = '\0';
	for (size_t i = 0; i < n && i < 16; i++) {
		int w = snprintf(list + len, sizeof(list) - len, "%s%s",
		    i > 0 ? "," : "", names[i]);

		if (w < 0 || (size_t)w >= sizeof(list) - len)
			break;
		len += (size_t)w;
	}
	sl_log(SL_LOG_WARN, "reload_needs_restart", "settings=%s count=%zu "
	    "msg=\"changed, needs a restart; the running values stay\"", list,
	    n);
}

static void
reload(struct master *ms, sl_reload_fn fn, void *arg)
{
	struct sl_config	*ncfg;
	char			 err[512];
	int			 before = ms->o.workers;

	if (fn == NULL || (ncfg = fn(arg, err, sizeof(err))) == NULL) {
		sl_log(SL_LOG_ERROR, "reload_failed", "error=%s",
		    sl_log_str(fn == NULL ? "no reload" : err, err, sizeof(err)));
		return;
	}
	log_restart_needed(ms->cfg, ncfg);
	sl_serve_opts_from_config(ncfg, &ms->o);
	/* New workers start on the new config before the old ones stop, so
	 * the socket always has takers and no request fails. */
	for (int i = 0; i < SL_MAX_SLOTS; i++)
		if (ms->m[i].pid != 0 && !ms->m[i].retiring) {
			ms->m[i].retiring = 1;
			ms->m[i].retired_ms = sl_monotonic_ms();
		}
	if (ms->sampler.pid != 0) {
		ms->sampler.retiring = 1;	/* the next one reads ncfg */
		ms->sampler.retired_ms = sl_monotonic_ms();
	}
	sl_config_free(ms->cfg);
	free(ms->cfg);
	ms->cfg = ncfg;
	ms->crash_streak = 0;
	ms->respawn_at = 0;
	fill_up(ms);
	signal_all(ms, SIGTERM, 1);
	sl_log(SL_LOG_INFO, "reloaded", "workers=%d workers_before=%d",
	    ms->o.workers, before);
}

static int
any_alive(const struct master *ms)
{
	for (int i = 0; i < SL_MAX_SLOTS; i++)
		if (ms->m[i].pid != 0)
			return 1;
	return ms->sampler.pid != 0;
}

/* SIGTERM to every worker; SIGKILL to those still there after the grace
 * period, or at once on a second SIGTERM/SIGINT. */
static void
stop_all(struct master *ms, const sigset_t *set)
{
	int64_t		 deadline = sl_monotonic_ms() + ms->o.grace_ms;
	siginfo_t	 si;
	struct timespec	 ts;
	int		 sig, killed = 0;

	for (int i = 0; i < SL_MAX_SLOTS; i++)
		if (ms->m[i].pid != 0)
			ms->m[i].retiring = 1;
	ms->sampler.retiring = 1;
	signal_all(ms, SIGTERM, 0);
	for (reap(ms); any_alive(ms); reap(ms)) {
		int64_t left = deadline - sl_monotonic_ms();

		if (left <= 0) {
			if (killed)
				break;	/* unkillable: give up waiting */
			sl_log(SL_LOG_WARN, "stop_escalated", "grace_ms=%d",
			    ms->o.grace_ms);
			signal_all(ms, SIGKILL, 0);
			killed = 1;
			deadline = sl_monotonic_ms() + 1000;
			continue;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		sig = sigtimedwait(set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			deadline = sl_monotonic_ms();
	}
}

int
sl_supervise(int listen_fd, struct sl_config *cfg,
    const struct sl_serve_opts *o, sl_reload_fn reload_fn, void *arg)
{
	struct master	*ms;
	sigset_t	 set, old;
	siginfo_t	 si;
	struct timespec	 ts;
	int		 sig;

	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return -1;
	if ((ms->sh = sl_shared_create()) == NULL) {
		sl_log(SL_LOG_ERROR, "shared_memory", "errno=%d", errno);
		free(ms);
		return -1;
	}
	ms->fd = listen_fd;
	ms->cfg = cfg;
	ms->o = *o;
	if (history_start(ms) == -1) {
		sl_shared_destroy(ms->sh);
		free(ms);
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	sl_log(SL_LOG_INFO, "master_start", "workers=%d max_requests=%lu "
	    "deadline_ms=%d grace_ms=%d first_byte_ms=%d read_ms=%d "
	    "idle_ms=%d", o->workers, o->max_requests, o->deadline_ms,
	    o->grace_ms, o->deadlines.first_byte_ms, o->deadlines.read_ms,
	    o->deadlines.idle_ms);
	fill_up(ms);
	for (;;) {
		ts.tv_sec = 0;
		ts.tv_nsec = TICK_MS * 1000000L;
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			sl_log(SL_LOG_INFO, "master_stopping", "signal=%d", sig);
			stop_all(ms, &set);
			break;
		}
		if (sig == SIGHUP)
			reload(ms, reload_fn, arg);
		reap(ms);
		check_deadlines(ms);
		fill_up(ms);
	}
	sl_log(SL_LOG_INFO, "master_stopped", "restarts=%lu", ms->restarts);
	sl_config_free(ms->cfg);
	free(ms->cfg);
	sl_shared_destroy(ms->sh);
	sl_history_destroy(ms->hist);
	free(ms);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
