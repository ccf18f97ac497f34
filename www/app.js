/* streamlag dashboard: a plain script, no build step.  It reads the API with
 * the token the user pasted (kept in sessionStorage only) and draws every
 * stream and group, refreshed every few seconds, with a lag history kept in
 * the page.  Names are set with textContent only: stream, group and consumer
 * names come from Redis and may hold anything. */
(function () {
  'use strict';

  var TOKEN_KEY = 'streamlag.token';
  var HISTORY = 300;          /* points kept per series */
  var TOP = 8;                /* streams drawn in the per-stream chart */
  var BACKOFF_MAX = 30000;

  var state = {
    timer: null, paused: false, backoff: 0, inflight: false,
    sortKey: 'stream', sortDir: 1, filter: '',
    rows: [], streams: new Map(), selected: null,
    t: [], total: [], per: new Map(),   /* per stream: lag values aligned with t */
    charts: {}, chartSeries: '', lastRenderMs: 0
  };

  function $(id) { return document.getElementById(id); }
  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return ms + ' ms';
    var s = ms / 1000;
    if (s < 120) return s.toFixed(1) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }

  function fmtNum(n) { return n === null || n === undefined ? '—' : n.toLocaleString('en-US'); }

  /* ---- sign-in ---- */

  function showSignin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    stop();
    $('app').hidden = true;
    $('signin').hidden = false;
    $('signin-message').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  function showApp() {
    $('signin').hidden = true;
    $('app').hidden = false;
    refresh();
  }

  /* ---- fetching ---- */

  function AuthError() {}
  function TransportError(message) { this.message = message; }

  function api(path) {
    return fetch(path, {
      headers: { Authorization: 'Bearer ' + token() },
      cache: 'no-store'
    }).then(function (r) {
      if (r.status === 401) throw new AuthError();
      var json = (r.headers.get('Content-Type') || '').indexOf('application/json') === 0;
      if (!json || r.status === 429 || (r.status >= 500 && r.status !== 503))
        throw new TransportError('HTTP ' + r.status);
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }, function (e) {
      throw new TransportError(e && e.message ? e.message : 'network error');
    });
  }

  function stop() {
    clearTimeout(state.timer);
    state.timer = null;
  }

  function schedule(ms) {
    stop();
    if (!state.paused) state.timer = setTimeout(refresh, ms);
  }

  function notice(text) {
    var n = $('notice');
    n.textContent = text || '';
    n.hidden = !text;
  }

  function refresh() {
    if (state.inflight || !token()) return;
    state.inflight = true;
    Promise.all([
      api('/api/v1/events/consumer-lag?group=*'),
      api('/api/v1/events/health'),
      api('/api/v1/events/streams')
    ]).then(function (res) {
      state.inflight = false;
      state.backoff = 0;
      notice('');
      update(res[0], res[1], res[2]);
      schedule(Number($('interval').value));
    }, function (e) {
      state.inflight = false;
      if (e instanceof AuthError) {
        showSignin('The token was refused (missing, invalid or expired). Paste a valid token.');
        return;
      }
      state.backoff = Math.min(state.backoff ? state.backoff * 2 : 2000, BACKOFF_MAX);
      notice('Cannot reach streamlag (' + (e && e.message ? e.message : e) +
        '). Retrying in ' + state.backoff / 1000 + ' s…');
      schedule(state.backoff);
    });
  }

  /* ---- model ---- */

  function rowsOf(lag, streamsBody) {
    var rows = [];
    var ages = new Map();
    (streamsBody && streamsBody.streams ? streamsBody.streams : []).forEach(function (s) {
      ages.set(s.name, s);
    });
    state.streams = ages;
    var streams = lag && lag.streams ? lag.streams : {};
    Object.keys(streams).forEach(function (name) {
      var s = streams[name];
      var info = ages.get(name);
      var age = info && info.last_entry_age_ms !== undefined ? info.last_entry_age_ms : null;
      var groups = s.groups ? Object.keys(s.groups) : [];
      if (!s.groups || groups.length === 0) {
        rows.push({ stream: name, group: s.group || '—', lag: s.lag, lag_exact: s.lag_exact !== false,
          time_lag_ms: null, pending: s.pending || 0, consumers: [], details: [],
          age: age, status: s.status || (s.error ? 'error' : 'healthy'), error: s.error || null });
        return;
      }
      groups.forEach(function (g) {
        var e = s.groups[g];
        rows.push({ stream: name, group: g, lag: e.lag, lag_exact: e.lag_exact !== false,
          time_lag_ms: e.time_lag_ms === undefined ? null : e.time_lag_ms,
          pending: e.pending || 0, consumers: e.consumers || [], details: e.consumer_details || [],
          age: age, status: e.status, error: e.error || null });
      });
    });
    return rows;
  }

  function remember(lag) {
    var now = Date.now() / 1000;
    state.t.push(now);
    state.total.push(lag && typeof lag.total_lag === 'number' ? lag.total_lag : null);
    var seen = new Set();
    var streams = lag && lag.streams ? lag.streams : {};
    Object.keys(streams).forEach(function (name) {
      var v = streams[name].lag >= 0 ? streams[name].lag : null;
      var arr = state.per.get(name);
      if (!arr) {
        arr = new Array(state.t.length - 1).fill(null);
        state.per.set(name, arr);
      }
      arr.push(v);
      seen.add(name);
    });
    state.per.forEach(function (arr, name) { if (!seen.has(name)) arr.push(null); });
    if (state.t.length > HISTORY) {
      state.t.shift();
      state.total.shift();
      state.per.forEach(function (arr) { arr.shift(); });
    }
  }

  /* ---- drawing ---- */

  function banner(health) {
    var b = $('banner');
    var h = health.body || {};
    b.className = 'banner';
    if (h.redis_connected === false) {
      b.classList.add('down');
      b.textContent = 'Redis unreachable: lag is unknown (' + (h.error || 'no answer') + ')';
      return;
    }
    var st = h.streams || {};
    b.classList.add(h.status || 'unhealthy');
    b.textContent = 'Overall: ' + (h.status || 'unknown') + ' — ' +
      (st.healthy || 0) + ' healthy, ' + (st.degraded || 0) + ' degraded, ' +
      (st.unhealthy || 0) + ' unhealthy, ' + (st.stalled || 0) + ' stalled, ' +
      (st.no_group || 0) + ' without group; max lag ' + fmtNum(h.max_lag) +
      ', total ' + fmtNum(h.total_lag) + ' (group ' + (h.consumer_group || '') + ')';
  }

  function sortValue(r, key) {
    switch (key) {
    case 'consumers': return r.consumers.length;
    case 'lag': return r.lag === null ? -2 : r.lag;
    case 'time_lag_ms': return r.time_lag_ms === null ? -1 : r.time_lag_ms;
    case 'age': return r.age === null ? -1 : r.age;
    default: return String(r[key] || '').toLowerCase();
    }
  }

  function visibleRows() {
    var f = state.filter.toLowerCase();
    var rows = !f ? state.rows.slice() : state.rows.filter(function (r) {
      return r.stream.toLowerCase().indexOf(f) >= 0 || r.group.toLowerCase().indexOf(f) >= 0 ||
        r.status.toLowerCase().indexOf(f) >= 0;
    });
    var k = state.sortKey, d = state.sortDir;
    rows.sort(function (a, b) {
      var x = sortValue(a, k), y = sortValue(b, k);
      if (x < y) return -d;
      if (x > y) return d;
      return a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0;
    });
    return rows;
  }

  function mostIdle(details) {
    var m = null;
    details.forEach(function (c) { if (!m || c.idle_ms > m.idle_ms) m = c; });
    return m;
  }

  function table() {
    var t0 = performance.now();
    var rows = visibleRows();
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = el('tr');
      tr.tabIndex = 0;
      tr.dataset.stream = r.stream;
      tr.dataset.status = r.status;
      var name = el('td');
      name.appendChild(el('span', null, r.stream));
      if (r.error) name.appendChild(el('div', 'err', r.error));
      tr.appendChild(name);
      tr.appendChild(el('td', null, r.group));
      var lag = el('td', 'num', r.lag === null || r.lag < 0 ? '—' :
        (r.lag_exact ? '' : '≥ ') + fmtNum(r.lag));
      if (!r.lag_exact) {
        lag.classList.add('inexact');
        lag.title = 'Not exact: more entries are left than streamlag counts';
      }
      tr.appendChild(lag);
      tr.appendChild(el('td', 'num', fmtMs(r.time_lag_ms)));
      tr.appendChild(el('td', 'num', fmtNum(r.pending)));
      var idle = mostIdle(r.details);
      tr.appendChild(el('td', null, r.consumers.length +
        (idle ? ' (most idle: ' + idle.name + ', ' + fmtMs(idle.idle_ms) + ')' : '')));
      tr.appendChild(el('td', 'num', fmtMs(r.age)));
      var st = el('td');
      st.appendChild(el('span', 'status ' + r.status, r.status.replace('_', ' ')));
      tr.appendChild(st);
      frag.appendChild(tr);
    });
    var body = $('rows');
    body.replaceChildren(frag);
    $('count').textContent = rows.length;
    state.lastRenderMs = performance.now() - t0;
  }

  function plot(id, key, labels, data) {
    var box = $(id);
    if (typeof uPlot === 'undefined' || !box) return;
    var sig = labels.join('\u0000');
    var chart = state.charts[key];
    if (chart && chart.sig === sig) {
      chart.u.setData(data);
      return;
    }
    if (chart) chart.u.destroy();
    var palette = ['#0b57d0', '#b3261e', '#1a6b2f', '#8a4b00', '#5b2a86', '#00687a', '#7d5260', '#3d4a5c'];
    var series = [{}];
    labels.forEach(function (l, i) {
      series.push({ label: l, stroke: palette[i % palette.length], width: 2, spanGaps: true });
    });
    var u = new uPlot({
      width: Math.max(300, box.clientWidth || 500), height: 200,
      series: series, axes: [{}, { size: 60 }], legend: { live: false }
    }, data, box);
    state.charts[key] = { u: u, sig: sig };
  }

  function charts() {
    var t = state.t;
    plot('chart-total', 'total', ['total lag'], [t, state.total]);
    var latest = [];
    state.per.forEach(function (arr, name) { latest.push([name, arr[arr.length - 1] || 0]); });
    latest.sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); });
    var top = latest.slice(0, TOP).map(function (x) { return x[0]; }).sort();
    plot('chart-streams', 'streams', top, [t].concat(top.map(function (n) { return state.per.get(n); })));
    if (state.selected && state.per.has(state.selected))
      plot('chart-one', 'one', [state.selected], [t, state.per.get(state.selected)]);
  }

  function details(name) {
    state.selected = name;
    var d = $('details');
    $('details-title').textContent = name;
    var facts = $('details-facts');
    facts.replaceChildren();
    var s = state.streams.get(name) || {};
    [['Length', fmtNum(s.length)], ['Groups', s.group_names ? s.group_names.join(', ') : s.groups],
     ['First entry', s.first_entry_id], ['Last entry', s.last_entry_id],
     ['Last entry age', fmtMs(s.last_entry_age_ms)], ['Entries added', fmtNum(s.entries_added)],
     ['Last generated id', s.last_generated_id], ['Error', s.error]].forEach(function (f) {
      if (f[1] === undefined || f[1] === null) return;
      facts.appendChild(el('dt', null, f[0]));
      facts.appendChild(el('dd', null, f[1]));
    });
    var body = $('details-consumers');
    body.replaceChildren();
    state.rows.filter(function (r) { return r.stream === name; }).forEach(function (r) {
      r.details.forEach(function (c) {
        var tr = el('tr');
        tr.appendChild(el('td', null, r.group));
        tr.appendChild(el('td', null, c.name));
        tr.appendChild(el('td', 'num', fmtNum(c.pending)));
        tr.appendChild(el('td', 'num', fmtMs(c.idle_ms)));
        tr.appendChild(el('td', 'num', c.inactive_ms === null || c.inactive_ms === undefined ?
          '—' : fmtMs(c.inactive_ms)));
        body.appendChild(tr);
      });
    });
    d.hidden = false;
    d.focus();
    charts();
  }

  function update(lag, health, streams) {
    banner(health);
    state.rows = rowsOf(lag.body, streams.body);
    remember(lag.body);
    table();
    charts();
    if (state.selected && !$('details').hidden) details(state.selected);
    var now = new Date();
    var u = $('updated');
    u.textContent = now.toLocaleTimeString();
    u.dateTime = now.toISOString();
  }

  /* ---- controls ---- */

  function init() {
    $('signin-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token').value.trim().replace(/^Bearer\s+/i, '');
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      $('signin-message').textContent = '';
      showApp();
    });
    $('signout').addEventListener('click', function () { showSignin(''); });
    $('pause').addEventListener('click', function () {
      state.paused = !state.paused;
      this.setAttribute('aria-pressed', String(state.paused));
      this.textContent = state.paused ? 'Resume' : 'Pause';
      if (state.paused) stop(); else refresh();
    });
    $('interval').addEventListener('change', function () { if (!state.paused) schedule(0); });
    $('filter').addEventListener('input', function () { state.filter = this.value; table(); });
    document.querySelectorAll('th button').forEach(function (b) {
      b.addEventListener('click', function () {
        var key = this.dataset.key;
        state.sortDir = state.sortKey === key ? -state.sortDir : (key === 'stream' || key === 'group' ? 1 : -1);
        state.sortKey = key;
        document.querySelectorAll('th').forEach(function (th) { th.removeAttribute('aria-sort'); });
        this.parentNode.setAttribute('aria-sort', state.sortDir > 0 ? 'ascending' : 'descending');
        table();
      });
    });
    var rows = $('rows');
    rows.addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr) details(tr.dataset.stream);
    });
    rows.addEventListener('keydown', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr && (ev.key === 'Enter' || ev.key === ' ')) {
        ev.preventDefault();
        details(tr.dataset.stream);
      }
    });
    $('details-close').addEventListener('click', function () {
      $('details').hidden = true;
      state.selected = null;
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && !$('details').hidden) $('details-close').click();
    });
    window.__streamlag = state;   /* read by the browser test */
    if (token()) showApp(); else showSignin('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
