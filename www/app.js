/* SPDX-License-Identifier: ISC */
/* streamlag dashboard: one plain script, no build step.
 *
 * It reads the API with the token the user pasted (kept in sessionStorage
 * only), three requests per refresh for the target chosen (?target=, when
 * streamlag watches several: STREAMLAG_TARGETS) and, apart, the list of
 * targets with their verdicts; it draws every stream and group with
 * a lag history kept in the page (ring buffers).  Names come from Redis and
 * may hold anything: they are only ever set with textContent.  Nothing here
 * writes a style attribute; uPlot sizes its own elements through the CSSOM,
 * which the Content-Security-Policy allows. */
(function () {
  'use strict';

  var TOKEN_KEY = 'streamlag.token';
  /* The API lives below the page's own directory: /api/v1/events/ for a
   * page at /, /streamlag/api/v1/events/ under nginx's drop-in prefix. */
  var API = location.pathname.replace(/[^/]*$/, '') + 'api/v1/events/';
  var HISTORY = 1800;          /* points per series: an hour at the default 2 s */
  var TOP = 8;                 /* streams drawn in the overview chart */
  var PREFILL_MAX = 100;       /* groups whose server history fills the charts on load */
  var BACKOFF_FIRST = 2000;
  var BACKOFF_MAX = 30000;
  var FETCH_TIMEOUT = 10000;
  /* Worst last: the order of the status column and of the default sort. */
  var SEVERITY = { healthy: 0, no_group: 1, degraded: 2, stalled: 3, unhealthy: 4, error: 5 };
  var STATUS_TEXT = {
    healthy: 'healthy', degraded: 'degraded', unhealthy: 'unhealthy',
    stalled: 'stalled', no_group: 'no group', error: 'error'
  };
  var PALETTE = ['#0b57d0', '#b3261e', '#1a6b2f', '#8a4b00', '#5b2a86', '#00687a', '#7d5260', '#3d4a5c'];
  var NF = new Intl.NumberFormat('en-US');

  var state = {
    timer: null, paused: false, failures: 0, inflight: false, session: 0,
    sortKey: 'status', sortDir: -1, filter: '',
    rows: [], facts: new Map(), selected: null, opener: null,
    times: new Ring(HISTORY), total: new Ring(HISTORY), per: new Map(),
    charts: {}, lastRenderMs: 0, lastBanner: '', updates: 0, prefilled: false,
    target: null, defaultTarget: null, targets: [], targetsInflight: false, targetsAsked: false
  };

  /* ---- a fixed-size history: the newest HISTORY points of one series ---- */

  function Ring(n) {
    this.buf = new Float64Array(n).fill(NaN);
    this.n = n;
    this.len = 0;
    this.head = 0;      /* where the next point goes */
    this.missed = 0;    /* consecutive points without a value */
  }
  Ring.prototype.push = function (v) {
    var none = v === null || v === undefined || !(v >= 0);
    this.buf[this.head] = none ? NaN : v;
    this.head = (this.head + 1) % this.n;
    if (this.len < this.n) this.len++;
    this.missed = none ? this.missed + 1 : 0;
  };
  Ring.prototype.alignWith = function (other) {  /* a new series joins late */
    this.len = other.len;
    this.head = other.head;
  };
  Ring.prototype.last = function () {
    var v = this.len ? this.buf[(this.head - 1 + this.n) % this.n] : NaN;
    return v === v ? v : null;
  };
  Ring.prototype.values = function () {  /* oldest first; gaps are null (uPlot) */
    var out = new Array(this.len);
    var i = (this.head - this.len + this.n) % this.n;
    for (var k = 0; k < this.len; k++) {
      var v = this.buf[i];
      out[k] = v === v ? v : null;
      i = (i + 1) % this.n;
    }
    return out;
  };

  /* ---- small helpers ---- */

  function $(id) { return document.getElementById(id); }
  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function present(v) { return v !== null && v !== undefined; }

  function fmtNum(n) { return present(n) && typeof n === 'number' ? NF.format(n) : '—'; }

  function fmtMs(ms) {
    if (!present(ms) || typeof ms !== 'number') return '—';
    if (ms < 1000) return ms + ' ms';
    var s = ms / 1000;
    if (s < 120) return s.toFixed(1) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function groupLabel(g) { return g === '*' ? 'every group' : 'group ' + g; }

  /* ---- sign-in ---- */

  function showSignin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.session++;
    stop();
    closeDetails(false);
    $('app').hidden = true;
    $('signin').hidden = false;
    $('signin-message').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  function showApp() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('filter').focus();
    refresh();
  }

  /* ---- fetching ---- */

  function Failure(kind, message) { this.kind = kind; this.message = message; }

  function api(path) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT);
    var status = 0;
    return fetch(API + path, {
      headers: { Authorization: 'Bearer ' + token() },
      cache: 'no-store', credentials: 'omit', signal: ctl.signal
    }).then(function (r) {
      status = r.status;
      if (r.status === 401) throw new Failure('auth');
      if (r.status === 403) throw new Failure('scope');
      var json = (r.headers.get('Content-Type') || '').indexOf('application/json') === 0;
      return json ? r.json().catch(function () { return null; }) : null;
    }).then(function (body) {
      clearTimeout(timer);
      /* consumer-lag and health keep their shape in a 503 (Redis down, or a
         stream unhealthy): drawn like a 200. */
      if ((status >= 200 && status < 300 && body) || (status === 503 && body)) return { status: status, body: body };
      if (status === 429) throw new Failure('net', 'nginx is rate limiting this client (HTTP 429)');
      throw new Failure('net', 'HTTP ' + status + (body && body.error ? ': ' + body.error : ''));
    }, function (e) {
      clearTimeout(timer);
      if (e instanceof Failure) throw e;
      throw new Failure('net', ctl.signal.aborted ? 'no answer within ' + FETCH_TIMEOUT / 1000 + ' s' :
        'the network request failed');
    });
  }

  function stop() {
    clearTimeout(state.timer);
    state.timer = null;
  }

  function schedule(ms) {
    stop();
    if (!state.paused && token()) state.timer = setTimeout(refresh, ms);
  }

  function interval() { return Number($('interval').value) || 2000; }

  function notice(text) {
    var n = $('notice');
    if (n.textContent !== (text || '')) n.textContent = text || '';
    n.hidden = !text;
  }

  /* ---- targets ---- */

  /* The query of the target chosen: '' for the default one. */
  function tq(sep) {
    return state.target && state.target !== state.defaultTarget ?
      sep + 'target=' + encodeURIComponent(state.target) : '';
  }

  /* Asked apart from the refresh, so that a target slow to answer (frozen:
     its own timeout) never holds the table of the one chosen. */
  function refreshTargets() {
    if (state.targetsInflight) return;
    state.targetsInflight = true;
    state.targetsAsked = true;
    var session = state.session;
    api('targets').then(function (x) {
      state.targetsInflight = false;
      if (session === state.session && x.body && Array.isArray(x.body.targets)) strip(x.body);
    }, function () { state.targetsInflight = false; });
  }

  function strip(body) {
    state.targets = body.targets;
    state.defaultTarget = body['default'] || null;
    if (!state.target) state.target = state.defaultTarget;
    var several = body.targets.length > 1;
    $('targets').hidden = !several;
    $('target-box').hidden = !several;
    var sel = $('target'), ul = $('targets-list');
    var names = body.targets.map(function (t) { return t.name; }).join('\n');
    if (sel.dataset.names !== names) {   /* rebuilt only when the list changes */
      sel.textContent = '';
      body.targets.forEach(function (t) {
        var o = el('option', '', t.name);
        o.value = t.name;
        sel.appendChild(o);
      });
      sel.dataset.names = names;
    }
    sel.value = state.target;
    ul.textContent = '';
    body.targets.forEach(function (t) {
      var li = el('li'), b = el('button', t.up ? '' : 'down'), st = t.up ? t.status : 'down';
      b.type = 'button';
      b.dataset.target = t.name;
      b.setAttribute('aria-current', String(t.name === state.target));
      b.appendChild(el('span', 'name', t.name));
      b.appendChild(el('span', 'status ' + (t.up ? t.status : 'unhealthy'), STATUS_TEXT[st] || st));
      b.title = (t.server ? t.server + ' ' + t.version + ', ' : '') + t.mode + ', ' +
        t.nodes + (t.nodes === 1 ? ' node' : ' nodes');
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  /* Another target: its own table and charts, from nothing. */
  function chooseTarget(name) {
    if (!name || name === state.target) return;
    state.target = name;
    state.session++;
    closeDetails(false);
    state.rows = [];
    state.facts = new Map();
    state.times = new Ring(HISTORY);
    state.total = new Ring(HISTORY);
    state.per = new Map();
    state.prefilled = false;
    state.lastBanner = '';
    $('banner').textContent = 'Loading…';
    if (state.targets.length) strip({ targets: state.targets, 'default': state.defaultTarget });
    table();
    charts();
    if (!state.inflight) refresh();   /* else the one in flight starts it again */
  }

  function refresh() {
    if (state.inflight || !token()) return;
    stop();
    state.inflight = true;
    var session = state.session;
    /* One target: asked once, to learn that; several: at each refresh. */
    if (!state.targetsAsked || state.targets.length > 1) refreshTargets();
    Promise.all([
      api('consumer-lag?group=*&detail=pel' + tq('&')),
      api('health?group=*' + tq('&')),
      api('streams' + tq('?'))
    ]).then(function (res) {
      state.inflight = false;
      if (session !== state.session) { refresh(); return; }   /* signed in again meanwhile */
      state.failures = 0;
      notice('');
      update(res[0], res[1], res[2]);
      schedule(interval());
    }, function (e) {
      state.inflight = false;
      if (session !== state.session) { refresh(); return; }
      if (e.kind === 'auth') {
        showSignin('streamlag refused the token (missing, invalid or expired). Paste a valid token to go on.');
        return;
      }
      if (e.kind === 'scope') {
        showSignin('The token is valid but lacks the scope streamlag requires. Paste a token that has it.');
        return;
      }
      state.failures++;
      gap();
      var wait = Math.min(BACKOFF_FIRST * Math.pow(2, state.failures - 1), BACKOFF_MAX);
      notice('Cannot reach streamlag: ' + e.message + '. Retrying in ' + wait / 1000 +
        ' s (attempt ' + state.failures + '); the figures below are from ' + $('updated').textContent + '.');
      schedule(wait);
    });
  }

  /* ---- model ---- */

  function rowOf(stream, group, e, age) {
    var details = Array.isArray(e.consumer_details) ? e.consumer_details : [];
    var idle = null;
    details.forEach(function (c) { if (!idle || c.idle_ms > idle.idle_ms) idle = c; });
    var status = SEVERITY.hasOwnProperty(e.status) ? e.status : (e.error ? 'error' : 'healthy');
    var lag = typeof e.lag === 'number' && e.lag >= 0 ? e.lag : null;
    return {
      stream: stream, group: group, lag: lag, exact: e.lag_exact !== false,
      time_lag_ms: present(e.time_lag_ms) ? e.time_lag_ms : null,
      oldest_pending_ms: present(e.oldest_pending_ms) ? e.oldest_pending_ms : null,
      trimmed_unread: present(e.trimmed_unread) ? e.trimmed_unread : null,
      entries_read: present(e.entries_read) ? e.entries_read : null,
      pending: typeof e.pending === 'number' ? e.pending : null,
      eta_s: typeof e.eta_s === 'number' ? e.eta_s : null,
      catching_up: e.catching_up === true,
      trend: typeof e.trend === 'string' ? e.trend : null,
      verdict: typeof e.verdict === 'string' ? e.verdict : null,
      produce_rate: typeof e.produce_rate === 'number' ? e.produce_rate : null,
      consume_rate: typeof e.consume_rate === 'number' ? e.consume_rate : null,
      pel: e.pel && typeof e.pel === 'object' ? e.pel : null,
      hist: e.hasOwnProperty('trend'),    /* serve keeps a history */
      consumers: Array.isArray(e.consumers) ? e.consumers.length : details.length,
      details: details, idle: idle, age: age, status: status, error: e.error || null,
      hay: (stream + '\u0000' + group + '\u0000' + STATUS_TEXT[status]).toLowerCase()
    };
  }

  function rowsOf(lag, facts) {
    var rows = [];
    var streams = lag && lag.streams ? lag.streams : {};
    Object.keys(streams).forEach(function (name) {
      var s = streams[name] || {};
      var f = facts.get(name);
      var age = f && present(f.last_entry_age_ms) ? f.last_entry_age_ms : null;
      var groups = s.groups && typeof s.groups === 'object' ? Object.keys(s.groups) : null;
      if (groups && groups.length) {
        groups.forEach(function (g) { rows.push(rowOf(name, g, s.groups[g] || {}, age)); });
      } else {
        /* an error, a stream without groups, or one group asked by name */
        rows.push(rowOf(name, s.group || '—', s, age));
      }
    });
    return rows;
  }

  function factsOf(body) {
    var m = new Map();
    (body && Array.isArray(body.streams) ? body.streams : []).forEach(function (s) { m.set(s.name, s); });
    return m;
  }

  function remember(lag) {
    var down = !lag || lag.code === 'redis_unavailable';    /* 0 there means unknown */
    state.times.push(Date.now() / 1000);
    state.total.push(!down && typeof lag.total_lag === 'number' ? lag.total_lag : null);
    var streams = lag && lag.streams ? lag.streams : {};
    var seen = new Set();
    Object.keys(streams).forEach(function (name) {
      var ring = state.per.get(name);
      if (!ring) {
        ring = new Ring(HISTORY);
        ring.alignWith(state.total);
        ring.len--; ring.head = (ring.head - 1 + HISTORY) % HISTORY;   /* the point pushed next */
        state.per.set(name, ring);
      }
      ring.push(streams[name] ? streams[name].lag : null);
      seen.add(name);
    });
    state.per.forEach(function (ring, name) {
      if (seen.has(name)) return;
      ring.push(null);
      if (ring.missed >= ring.len) state.per.delete(name);    /* gone for the whole history */
    });
  }

  /* No answer: a gap in every series, so that the charts do not draw a line
     across the time nothing was known. */
  function gap() {
    state.times.push(Date.now() / 1000);
    state.total.push(null);
    state.per.forEach(function (ring) { ring.push(null); });
    charts();
  }

  /* ---- banner ---- */

  function banner(health) {
    var h = health && health.body ? health.body : null;
    var cls, text;
    if (!h || h.redis_connected === false || h.code === 'redis_unavailable') {
      cls = 'down';
      text = 'Redis unreachable: streamlag cannot read the streams (' +
        (h && h.error ? h.error : 'no answer') + '), so lag is unknown.';
    } else {
      var st = h.streams || {};
      cls = SEVERITY.hasOwnProperty(h.status) ? h.status : 'unhealthy';
      text = 'Overall: ' + (h.status || 'unknown') + ' — ' +
        fmtNum(st.healthy || 0) + ' healthy, ' + fmtNum(st.degraded || 0) + ' degraded, ' +
        fmtNum(st.unhealthy || 0) + ' unhealthy, ' + fmtNum(st.stalled || 0) + ' stalled, ' +
        fmtNum(st.no_group || 0) + ' without the group; max lag ' + fmtNum(h.max_lag) +
        ', total ' + fmtNum(h.total_lag) + ' (' + groupLabel(h.consumer_group || '*') + ')';
    }
    var b = $('banner');
    b.className = 'banner ' + cls;
    b.dataset.status = cls;
    /* the banner is a live region: rewrite it only when it says something new */
    if (text !== state.lastBanner) {
      b.textContent = text;
      state.lastBanner = text;
    }
  }

  /* ---- the table ---- */

  function sortValue(r, key) {
    switch (key) {
    case 'stream': return r.stream;
    case 'group': return r.group;
    case 'status': return SEVERITY[r.status];
    case 'consumers': return r.consumers;
    case 'age': return r.age;
    case 'eta': return r.eta_s;
    case 'trend': return r.trend;
    default: return r[key];
    }
  }

  function compare(x, y) {
    if (x === y) return 0;
    if (x === null) return -1;     /* unknown sorts as the smallest */
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }

  function visibleRows() {
    var f = state.filter.trim().toLowerCase();
    var rows = f ? state.rows.filter(function (r) { return r.hay.indexOf(f) >= 0; }) : state.rows.slice();
    var k = state.sortKey, d = state.sortDir;
    rows.sort(function (a, b) {
      return d * compare(sortValue(a, k), sortValue(b, k)) ||
        compare(b.lag, a.lag) || compare(a.stream, b.stream) || compare(a.group, b.group);
    });
    return rows;
  }

  var ROW = (function () {
    /* explicit roles: the rows are laid out as grids (app.css) */
    var tr = document.createElement('tr');
    tr.setAttribute('role', 'row');
    ['name', '', 'num lag', 'num', 'num', '', 'num', 'num eta', 'trend', ''].forEach(function (cls) {
      tr.appendChild(el('td', cls || null)).setAttribute('role', 'cell');
    });
    tr.firstChild.appendChild(el('button', 'link'));
    tr.firstChild.firstChild.type = 'button';
    tr.lastChild.appendChild(el('span', 'status'));
    return tr;
  }());

  function renderRow(r) {
    var tr = ROW.cloneNode(true);
    var c = tr.children;
    tr.dataset.stream = r.stream;
    tr.dataset.group = r.group;
    tr.dataset.status = r.status;
    var b = c[0].firstChild;
    b.textContent = r.stream;
    if (r.error) c[0].appendChild(el('div', 'err', r.error));
    c[1].textContent = r.group;
    if (r.lag === null) {
      c[2].textContent = '—';
    } else if (r.exact) {
      c[2].textContent = NF.format(r.lag);
    } else {
      c[2].textContent = '≥ ' + NF.format(r.lag);
      c[2].classList.add('inexact');
      c[2].title = 'At least this many: more entries are left than streamlag counts (STREAMLAG_LAG_COUNT_CAP)';
    }
    c[3].textContent = fmtMs(r.time_lag_ms);
    c[4].textContent = fmtNum(r.pending);
    c[5].textContent = r.idle ? r.consumers + ' · most idle ' + r.idle.name + ' (' + fmtMs(r.idle.idle_ms) + ')' :
      String(r.consumers);
    c[6].textContent = fmtMs(r.age);
    c[7].textContent = r.eta_s !== null ? fmtMs(Math.round(r.eta_s * 1000)) :
      (r.trend !== null ? 'not catching up' : '—');
    c[8].textContent = r.trend !== null ? r.trend + (r.verdict && r.verdict !== 'ok' ? ' · ' + r.verdict.replace('_', ' ') : '') : '—';
    if (r.verdict) c[8].dataset.verdict = r.verdict;
    var s = c[9].firstChild;
    s.className = 'status ' + r.status;
    s.textContent = STATUS_TEXT[r.status];
    return tr;
  }

  function table() {
    var t0 = performance.now();
    var rows = visibleRows();
    var frag = document.createDocumentFragment();
    for (var i = 0; i < rows.length; i++) frag.appendChild(renderRow(rows[i]));
    $('rows').replaceChildren(frag);
    $('count').textContent = (rows.length === state.rows.length ? NF.format(rows.length) + ' groups' :
      NF.format(rows.length) + ' of ' + NF.format(state.rows.length) + ' groups') +
      (state.truncated ? ' (streamlag lists no more streams than STREAMLAG_DISCOVERY_MAX: there are others)' : '');
    state.lastRenderMs = performance.now() - t0;
  }

  function sortBy(key, button) {
    if (state.sortKey === key) state.sortDir = -state.sortDir;
    else state.sortDir = key === 'stream' || key === 'group' ? 1 : -1;
    state.sortKey = key;
    document.querySelectorAll('#table thead th').forEach(function (th) { th.removeAttribute('aria-sort'); });
    button.parentNode.setAttribute('aria-sort', state.sortDir > 0 ? 'ascending' : 'descending');
    table();
  }

  /* ---- charts ---- */

  function plot(id, key, labels, data) {
    var box = $(id);
    if (typeof uPlot === 'undefined' || !box || box.offsetParent === null) return;
    var sig = labels.join('\u0000');
    var chart = state.charts[key];
    if (chart && chart.sig === sig && chart.box === box) {
      chart.u.setData(data);
      return;
    }
    if (chart) chart.u.destroy();
    var series = [{}];
    labels.forEach(function (l, i) {
      series.push({ label: l, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false });
    });
    var u = new uPlot({
      width: chartWidth(box), height: 200,
      series: series, axes: [{}, { size: 60 }], legend: { live: false },
      /* a single point: a minute of time around it, not years */
      scales: { x: { range: function (u, min, max) { return min === max ? [min - 60, max + 5] : [min, max]; } } }
    }, data, box);
    state.charts[key] = { u: u, sig: sig, box: box };
  }

  function chartWidth(box) { return Math.max(280, Math.floor(box.clientWidth || 500)); }

  function charts() {
    var t = state.times.values();
    var total = state.total.last();
    $('total-now').textContent = total === null ? '' : ' (now ' + NF.format(total) + ')';
    plot('chart-total', 'total', ['total lag'], [t, state.total.values()]);
    var latest = [];
    state.per.forEach(function (ring, name) { latest.push([name, ring.last() || 0]); });
    latest.sort(function (a, b) { return b[1] - a[1] || compare(a[0], b[0]); });
    var top = latest.slice(0, TOP).map(function (x) { return x[0]; });
    plot('chart-streams', 'streams', top, [t].concat(top.map(function (n) { return state.per.get(n).values(); })));
    if (state.selected && state.per.has(state.selected))
      plot('chart-one', 'one', [state.selected], [t, state.per.get(state.selected).values()]);
  }

  function resizeCharts() {
    Object.keys(state.charts).forEach(function (k) {
      var c = state.charts[k];
      if (c.box.offsetParent !== null) c.u.setSize({ width: chartWidth(c.box), height: 200 });
    });
  }

  /* ---- details ---- */

  function fact(dl, name, value) {
    if (!present(value) || value === '') return;
    dl.appendChild(el('dt', null, name));
    dl.appendChild(el('dd', null, value));
  }

  function cells(tr, values) {
    values.forEach(function (v, i) { tr.appendChild(el(i ? 'td' : 'th', i > 1 ? 'num' : null, v)); });
    tr.firstChild.scope = 'row';
  }

  function details(name, opener) {
    var first = state.selected !== name || $('details').hidden;
    state.selected = name;
    if (opener) state.opener = opener;
    $('details-title').textContent = name;
    var f = state.facts.get(name) || {};
    var dl = $('details-facts');
    dl.replaceChildren();
    fact(dl, 'Length', fmtNum(f.length));
    fact(dl, 'Groups', Array.isArray(f.group_names) ? f.group_names.join(', ') || 'none' : f.groups);
    fact(dl, 'First entry', f.first_entry_id);
    fact(dl, 'Last entry', f.last_entry_id);
    fact(dl, 'Last entry age', present(f.last_entry_age_ms) ? fmtMs(f.last_entry_age_ms) : null);
    fact(dl, 'Last generated id', f.last_generated_id);
    fact(dl, 'Entries added', present(f.entries_added) ? fmtNum(f.entries_added) : null);
    fact(dl, 'Max deleted id', f.max_deleted_entry_id);
    fact(dl, 'Recorded first id', f.recorded_first_entry_id);
    fact(dl, 'Error', f.error);

    var mine = state.rows.filter(function (r) { return r.stream === name; });
    var groups = $('details-groups');
    groups.replaceChildren();
    var consumers = $('details-consumers');
    consumers.replaceChildren();
    mine.forEach(function (r) {
      var tr = el('tr');
      cells(tr, [r.group, STATUS_TEXT[r.status], r.lag === null ? '—' : (r.exact ? '' : '≥ ') + NF.format(r.lag),
        fmtMs(r.time_lag_ms), fmtNum(r.pending), fmtMs(r.oldest_pending_ms), fmtNum(r.entries_read),
        fmtNum(r.trimmed_unread)]);
      groups.appendChild(tr);
      if (r.error) {
        var er = el('tr');
        var td = el('td', 'err', r.group + ': ' + r.error);
        td.colSpan = 8;
        er.appendChild(td);
        groups.appendChild(er);
      }
      r.details.forEach(function (c) {
        var ctr = el('tr');
        cells(ctr, [c.name, r.group, fmtNum(c.pending), fmtMs(c.idle_ms), fmtMs(c.inactive_ms)]);
        consumers.appendChild(ctr);
      });
    });
    pelPanel(name, mine);
    if (!consumers.firstChild) {
      var none = el('tr');
      var td = el('td', null, 'No consumers.');
      td.colSpan = 5;
      none.appendChild(td);
      consumers.appendChild(none);
    }
    var d = $('details');
    d.hidden = false;
    if (first) d.focus();
    charts();
  }

  /* What the pending list says, per group, and the command an operator
     would run: text to copy, never sent (streamlag only reads). */
  function pelPanel(stream, rows) {
    var box = $('details-pel');
    box.replaceChildren();
    rows.forEach(function (r) {
      if (!r.pel) return;
      var p = r.pel, sec = el('section', 'pel');
      sec.dataset.group = r.group;
      sec.appendChild(el('h3', null, 'Pending list of ' + r.group));
      var dl = el('dl', 'facts');
      fact(dl, 'Read', fmtNum(p.scanned) + (p.truncated ? ' (more pending: STREAMLAG_PEL_SCAN)' : ''));
      fact(dl, 'Most deliveries', fmtNum(p.max_deliveries));
      fact(dl, 'Poison entries', fmtNum(p.poison_entries) +
        (Array.isArray(p.poison_ids) && p.poison_ids.length ? ': ' + p.poison_ids.join(', ') : ''));
      fact(dl, 'Claimable entries', fmtNum(p.claimable_entries));
      fact(dl, 'Unowned entries', p.unowned_entries ? fmtNum(p.unowned_entries) : null);
      fact(dl, 'Dangling entries', fmtNum(p.dangling_entries));
      fact(dl, 'Dead consumers', fmtNum(p.dead_consumers));
      sec.appendChild(dl);
      var cmds = [];
      if (p.claimable_entries > 0)
        cmds.push('XAUTOCLAIM ' + quote(stream) + ' ' + quote(r.group) + ' <live-consumer> 60000 0-0 COUNT 100');
      if (Array.isArray(p.poison_ids) && p.poison_ids.length)
        cmds.push('XCLAIM ' + quote(stream) + ' ' + quote(r.group) + ' <dead-letter-consumer> 0 ' + p.poison_ids.join(' '));
      if (cmds.length) {
        sec.appendChild(el('p', null, 'To run yourself (streamlag never writes to Redis):'));
        sec.appendChild(el('pre', 'cmd', cmds.join('\n')));
      }
      box.appendChild(sec);
    });
  }

  /* A redis-cli argument: quoted when it holds anything but plain characters. */
  function quote(s) {
    return /^[A-Za-z0-9:._\-]+$/.test(s) ? s : '"' + s.replace(/[\\"]/g, '\\$&') + '"';
  }

  function closeDetails(restoreFocus) {
    $('details').hidden = true;
    state.selected = null;
    if (state.charts.one) { state.charts.one.u.destroy(); delete state.charts.one; }
    if (restoreFocus && state.opener) {
      var row = document.querySelector('#rows tr[data-stream="' + CSS.escape(state.opener) + '"] button');
      if (row) row.focus();
    }
    state.opener = null;
  }

  /* ---- the server's history: the charts start filled, not empty ---- */

  function merge(res) {
    var byT = new Map();
    res.forEach(function (p) {
      var b = p[1];
      if (!b || !Array.isArray(b.samples)) return;
      b.samples.forEach(function (x) {
        if (typeof x.t !== 'number') return;
        var e = byT.get(x.t);
        if (!e) { e = { total: 0, known: false, per: new Map() }; byT.set(x.t, e); }
        if (typeof x.lag !== 'number') return;
        e.total += x.lag;
        e.known = true;
        e.per.set(p[0].stream, Math.max(e.per.get(p[0].stream) || 0, x.lag));
      });
    });
    return byT;
  }

  function refill(byT) {
    var first = state.times.len ? state.times.values()[0] : Infinity;
    var ts = Array.from(byT.keys()).filter(function (t) { return t / 1000 < first; })
      .sort(function (a, b) { return a - b; });
    if (!ts.length) return 0;
    var live = { t: state.times.values(), total: state.total.values(), per: new Map() };
    state.per.forEach(function (ring, n) { live.per.set(n, ring.values()); });
    var names = new Set(live.per.keys());
    byT.forEach(function (e) { e.per.forEach(function (v, n) { names.add(n); }); });
    var per = new Map();
    names.forEach(function (n) { per.set(n, new Ring(HISTORY)); });
    state.times = new Ring(HISTORY);
    state.total = new Ring(HISTORY);
    ts.forEach(function (t) {
      var e = byT.get(t);
      state.times.push(t / 1000);
      state.total.push(e.known ? e.total : null);
      per.forEach(function (ring, n) { ring.push(e.per.has(n) ? e.per.get(n) : null); });
    });
    live.t.forEach(function (t, i) {
      state.times.push(t);
      state.total.push(live.total[i]);
      per.forEach(function (ring, n) { var v = live.per.get(n); ring.push(v ? v[i] : null); });
    });
    state.per = per;
    return ts.length;
  }

  function prefill() {
    if (state.prefilled) return;
    state.prefilled = true;
    var ask = state.rows.filter(function (r) { return !r.error && r.hist; })
      .slice(0, PREFILL_MAX);
    var session = state.session;
    Promise.all(ask.map(function (r) {
      return api('history?stream=' + encodeURIComponent(r.stream) + '&group=' + encodeURIComponent(r.group) +
        '&limit=' + HISTORY + tq('&')).then(function (x) { return [r, x.body]; }, function () { return [r, null]; });
    })).then(function (res) {
      if (session !== state.session) return;
      state.prefilledPoints = refill(merge(res));
      charts();
    });
  }

  /* ---- one refresh ---- */

  function update(lag, health, streams) {
    banner(health);
    state.facts = factsOf(streams.body);
    state.rows = rowsOf(lag.body, state.facts);
    state.truncated = !!(lag.body && lag.body.truncated);
    remember(lag.body);
    table();
    charts();
    prefill();
    if (state.selected && !$('details').hidden) details(state.selected);
    var now = new Date();
    var u = $('updated');
    u.textContent = now.toLocaleTimeString();
    u.dateTime = now.toISOString();
    state.updates++;
  }

  /* ---- controls ---- */

  function init() {
    $('signin-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token').value.trim().replace(/^Bearer\s+/i, '');
      if (!t) {
        $('signin-message').textContent = 'Paste a token first.';
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, t);
      $('signin-message').textContent = '';
      $('token').value = '';
      showApp();
    });
    $('signout').addEventListener('click', function () { showSignin(''); });
    $('pause').addEventListener('click', function () {
      state.paused = !state.paused;
      this.setAttribute('aria-pressed', String(state.paused));
      this.textContent = state.paused ? 'Resume' : 'Pause';
      $('paused').hidden = !state.paused;
      if (state.paused) stop(); else refresh();
    });
    $('interval').addEventListener('change', function () { if (!state.paused && !state.inflight) schedule(0); });
    $('filter').addEventListener('input', function () { state.filter = this.value; table(); });
    $('target').addEventListener('change', function () { chooseTarget(this.value); });
    $('targets-list').addEventListener('click', function (ev) {
      var b = ev.target.closest('button');
      if (b && b.dataset.target) chooseTarget(b.dataset.target);
    });
    document.querySelectorAll('#table thead th button').forEach(function (b) {
      b.addEventListener('click', function () { sortBy(this.dataset.key, this); });
    });
    $('rows').addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr && tr.dataset.stream !== undefined) details(tr.dataset.stream, tr.dataset.stream);
    });
    $('details-close').addEventListener('click', function () { closeDetails(true); });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && !$('details').hidden) closeDetails(true);
    });
    var resizing = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizing);
      resizing = setTimeout(resizeCharts, 150);
    });
    window.__streamlag = state;   /* read by the browser test */
    if (token()) showApp(); else showSignin('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
