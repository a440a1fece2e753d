// tracecard report: renders the embedded TraceCard data. No network, no eval:
// every string from the data goes through esc() or textContent.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('tracecard-data').textContent);
  var S = D.strings;
  var app = document.getElementById('app');
  var tip = document.getElementById('tip');
  var VERDICT = ['needed', 'redundant', 'unproven'];
  var BUCKETS = ['input', 'output', 'cache read', 'cache write 5m', 'cache write 1h', 'reasoning'];
  // step row fields (see tracecard-report/src/lib.rs)
  var F = { id: 0, lane: 1, kind: 2, tool: 3, model: 4, agent: 5, cost: 6, carried: 7, wasted: 8,
    verdict: 9, reason: 10, evidence: 11, confirmed: 12, tokens: 13, start: 14, dur: 15, err: 16,
    source: 17, reported: 18, parent: 19, subtree: 20, priced: 21, dup: 22 };
  var LANE_H = 20, BAR_H = 14, AXIS_H = 22, COST_H = 100, EDGE_CAP = 300;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function str(i) { return i >= 0 ? S[i] : null; }
  function money(x) {
    if (x === null || x === undefined) return 'unknown';
    var a = Math.abs(x);
    if (a === 0) return '$0';
    if (a >= 100) return '$' + x.toFixed(2);
    if (a >= 1) return '$' + x.toFixed(3);
    if (a >= 0.01) return '$' + x.toFixed(4);
    return '$' + x.toPrecision(3);
  }
  function exact(s) { return s === null || s === undefined ? '–' : '$' + s; }
  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function pct(x) { return (100 * x).toFixed(x < 0.1 ? 1 : 0) + '%'; }
  function dur(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }
  function tick(ms) {
    if (ms === 0) return '0';
    if (ms < 1000) return ms + 'ms';
    if (ms < 60000) return (ms / 1000) + 's';
    if (ms < 3600000) return Math.floor(ms / 60000) + 'm' + (ms % 60000 ? Math.round(ms % 60000 / 1000) + 's' : '');
    return Math.floor(ms / 3600000) + 'h' + (ms % 3600000 ? Math.round(ms % 3600000 / 60000) + 'm' : '');
  }
  function name(r) { return str(r[F.tool]) || str(r[F.model]) || ''; }
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function tile(k, v, n, attrs) {
    return '<div class="tile"' + (attrs || '') + '><div class="k">' + esc(k) + '</div><div class="v">' +
      esc(v) + '</div>' + (n ? '<div class="n">' + esc(n) + '</div>' : '') + '</div>';
  }

  // ---------------------------------------------------------------- costcraft
  var CC = D.costcraft; // null without --patches / --rules / --distill
  var PKIND = { prune: 'pk0', repair: 'pk1', preserve: 'pk2' };
  // patch row fields (see tracecard-report/src/costcraft.rs)
  var P = { kind: 0, target: 1, steps: 2, save: 3, saveS: 4, confirmed: 5, text: 6, refused: 7, refusedMsg: 8, quarantined: 9 };
  function patchStatus(p) {
    return p[P.refused] ? 'refused: ' + p[P.refused] : (p[P.quarantined] ? 'kept, quarantined' : 'kept');
  }
  function rulePill(r) {
    return '<span class="pill ' + (PKIND[r.action] || '') + '">' + esc(r.action) + '</span> <span class="rs rs-' + esc(r.status) + '">' + esc(r.status.replace('_', ' ')) + '</span>';
  }
  function ruleLine(r) {
    return 'support ' + r.support[0] + ' session(s), ' + r.support[1] + ' task(s), ' + r.support[2] + ' step(s) · counter-examples ' + r.counter[0] +
      ' (' + pct(r.counter[1]) + ') · saves $' + r.savings_s[0] + ' (median $' + r.savings_s[1] + ') · transfer ' + r.transfer.toFixed(2) +
      (r.confirmed_by ? ' · confirmed by ' + r.confirmed_by : '') + ' · ' + r.enforce.replace(/_/g, ' ');
  }
  function prunable(s) {
    var t = 0;
    s.patches.forEach(function (p) { if (p[P.kind] === 'prune' && !p[P.refused]) t += p[P.save]; });
    return t;
  }

  // ---------------------------------------------------------------- routing
  var current = null; // the session view in use
  function route() {
    var h = decodeURIComponent(location.hash.slice(1));
    var m = /^s(\d+)(?:\/(\d+))?$/.exec(h);
    var n = D.sessions.length;
    tip.hidden = true;
    if (n === 1) session(0, m && m[2] ? +m[2] : null);
    else if (m && +m[1] < n) session(+m[1], m[2] ? +m[2] : null);
    else overview();
    document.body.setAttribute('data-rendered', '1');
    // for the browser test: time from navigation start to the first full render
    if (window.tracecardRenderedMs === undefined) window.tracecardRenderedMs = performance.now();
  }
  window.addEventListener('hashchange', route);

  // ---------------------------------------------------------------- overview
  var sortKey = 'cost', sortDir = -1;
  function overview() {
    current = null;
    var ss = D.sessions;
    var wasted = 0, unproven = 0, warns = 0;
    ss.forEach(function (s) { wasted += s.wasted_f; unproven += s.unproven_f; warns += s.warnings.length; });
    var h = '<h1>' + esc(ss.length) + ' sessions</h1>' +
      '<p class="sub">' + esc(D.generator) + ' · content ' + (D.content ? 'included' : 'hashed or omitted') + '</p>' +
      '<div class="tiles">' +
      tile('Total cost (computed)', exact(D.total), num(D.steps) + ' steps', ' data-total="' + esc(D.total) + '"') +
      tile('Wasted (redundant)', money(wasted), D.total > 0 ? pct(wasted / +D.total) + ' of the cost' : '') +
      tile('Unproven', money(unproven), 'a replay would settle it') +
      tile('Warnings', num(warns), '') + '</div>' +
      '<div class="charts"><div class="chart"><h2 id="hist-h">Cost per session (distribution)</h2><div id="hist"></div></div>' +
      '<div class="chart"><h2 id="share-h">Wasted and unproven share (most expensive sessions)</h2><div id="share"></div></div></div>' +
      '<h2>Sessions</h2><table id="overview-table"><caption class="sr-only">One row per session; the column headers sort.</caption><thead><tr></tr></thead><tbody></tbody></table>' +
      (CC ? ccOverview() : '');
    app.innerHTML = h;
    document.title = 'tracecard report: ' + ss.length + ' sessions';
    histogram(document.getElementById('hist'));
    shares(document.getElementById('share'));
    table();
  }

  var COLS = [
    ['id', 'Session', function (s) { return s.id; }, false],
    ['format', 'Format', function (s) { return s.format; }, false],
    ['outcome', 'Outcome', function (s) { return s.outcome; }, false],
    ['steps', 'Steps', function (s) { return s.steps.length; }, true],
    ['cost', 'Cost', function (s) { return s.total_f; }, true],
    ['reported', 'Reported', function (s) { return s.reported === null ? -Infinity : +s.reported; }, true],
    ['delta', 'Delta', function (s) { return s.delta === null ? -Infinity : +s.delta; }, true],
    ['wasted', 'Wasted', function (s) { return s.wasted_f; }, true],
    ['share', 'Wasted %', function (s) { return s.total_f > 0 ? s.wasted_f / s.total_f : 0; }, true],
    ['unproven', 'Unproven', function (s) { return s.unproven_f; }, true],
    ['warnings', 'Warnings', function (s) { return s.warnings.length; }, true]
  ];
  if (CC && CC.has_patches) {
    COLS.push(['patches', 'Patches', function (s) { return s.patches.length; }, true]);
    COLS.push(['prunable', 'Prunable', function (s) { return prunable(s); }, true]);
  }
  if (CC && CC.has_rules) COLS.push(['rules', 'Rule links', function (s) { return s.rule_links.length; }, true]);
  function cell(k, s) {
    if (k === 'patches') return '<td class="num">' + s.patches.length + '</td>';
    if (k === 'prunable') return '<td class="num">' + esc(money(prunable(s))) + '</td>';
    if (k === 'rules') return '<td class="num">' + s.rule_links.length + '</td>';
    return '';
  }

  // every rule of rules.yaml (and the patch counts) on the overview
  function ccOverview() {
    var h = '<h2 id="cc-h">Costcraft</h2><p class="note">' +
      (CC.has_patches ? esc(CC.patches_kept + ' patch(es) kept, ' + CC.patches_refused + ' refused. ') : '') +
      (CC.corpus ? esc('Rules distilled from ' + CC.corpus.sessions + ' session(s), ' + CC.corpus.tasks + ' task(s), ' + CC.corpus.steps + ' step(s) (' + CC.corpus.generated_by + ').') : '') + '</p>';
    if (CC.has_rules) h += rulesTable(CC.rules.map(function (r, i) { return i; }), null);
    return h;
  }
  // rules as a table; `cites` (rule index -> [supporting, counter-example] links in
  // this session) adds a column
  function rulesTable(idx, cites) {
    if (!idx.length) return '<p class="note" id="rules-table">no rule' + (cites ? ' cites a step of this session' : '') + '</p>';
    return '<table id="rules-table"><caption class="sr-only">Distilled rules</caption><thead><tr><th scope="col">rule</th><th scope="col">action · status</th>' +
      (cites ? '<th scope="col">steps here</th>' : '') +
      '<th class="num" scope="col">sessions</th><th class="num" scope="col">tasks</th><th class="num" scope="col">counter-ex.</th><th class="num" scope="col">savings</th><th class="num" scope="col">transfer</th><th scope="col">reason</th></tr></thead><tbody>' +
      idx.map(function (i) {
        var r = CC.rules[i];
        return '<tr><td><code>' + esc(r.id) + '</code></td><td>' + rulePill(r) + '</td>' +
          (cites ? '<td>' + cites[i].map(function (l) { return '<button type="button" class="linkbtn" data-go="' + l[0] + '">step ' + (l[0] + 1) + '</button>' + (l[1] ? ' (counter-example)' : ''); }).join(', ') + '</td>' : '') +
          '<td class="num">' + r.support[0] + '</td><td class="num">' + r.support[1] + '</td><td class="num">' + r.counter[0] + ' (' + pct(r.counter[1]) + ')</td><td class="num">$' + esc(r.savings_s[0]) +
          '</td><td class="num">' + r.transfer.toFixed(2) + '</td><td>' + esc(r.reason) + (r.held_back.length ? '<br><span class="note">held back: ' + esc(r.held_back.join('; ')) + '</span>' : '') +
          (r.fix ? '<br><span class="note">fix: ' + esc(r.fix) + '</span>' : '') + '</td></tr>';
      }).join('') + '</tbody></table>';
  }
  function table() {
    var t = document.getElementById('overview-table');
    var head = t.tHead.rows[0];
    head.innerHTML = COLS.map(function (c) {
      var sort = c[0] === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none';
      return '<th scope="col" class="' + (c[3] ? 'num' : '') + '" aria-sort="' + sort + '"><button type="button" data-k="' + c[0] + '">' + esc(c[1]) + '</button></th>';
    }).join('');
    head.onclick = function (e) {
      var b = e.target.closest('button');
      if (!b) return;
      var k = b.getAttribute('data-k');
      if (k === sortKey) sortDir = -sortDir; else { sortKey = k; sortDir = k === 'id' || k === 'format' || k === 'outcome' ? 1 : -1; }
      table();
      t.querySelector('th button[data-k="' + k + '"]').focus();
    };
    var col = COLS.filter(function (c) { return c[0] === sortKey; })[0];
    var idx = D.sessions.map(function (_, i) { return i; });
    idx.sort(function (a, b) {
      var x = col[2](D.sessions[a]), y = col[2](D.sessions[b]);
      return (x < y ? -1 : x > y ? 1 : a - b) * (x === y ? 1 : sortDir);
    });
    t.tBodies[0].innerHTML = idx.map(function (i) {
      var s = D.sessions[i];
      var share = s.total_f > 0 ? s.wasted_f / s.total_f : 0;
      return '<tr><td><a href="#s' + i + '">' + esc(s.id) + '</a></td><td>' + esc(s.format) + '</td><td>' + esc(s.outcome) +
        '</td><td class="num">' + num(s.steps.length) + '</td><td class="num">' + esc(exact(s.total)) +
        '</td><td class="num">' + esc(exact(s.reported)) + '</td><td class="num">' + esc(exact(s.delta)) +
        '</td><td class="num">' + esc(money(s.wasted_f)) + '</td><td class="num">' + pct(share) +
        '</td><td class="num">' + esc(money(s.unproven_f)) + '</td><td class="num">' + s.warnings.length + '</td>' +
        COLS.slice(11).map(function (c) { return cell(c[0], s); }).join('') + '</tr>';
    }).join('');
  }

  // sessions per cost bin; log-spaced bins when the costs span more than 50×
  function histogram(box) {
    var ss = D.sessions, W = 460, H = 210, L = 40, B = 34, T = 24;
    var max = 0, min = Infinity;
    ss.forEach(function (s) { max = Math.max(max, s.total_f); if (s.total_f > 0) min = Math.min(min, s.total_f); });
    var log = max > 0 && min < Infinity && max / min > 50;
    var bins = Math.min(12, Math.max(1, ss.length)), counts = [], edges = [];
    for (var i = 0; i <= bins; i++) edges.push(log ? min * Math.pow(max / min, i / bins) : max * i / bins);
    for (i = 0; i < bins; i++) counts.push(0);
    ss.forEach(function (s) {
      var x = s.total_f, b = 0;
      if (max > 0) b = log ? (x <= min ? 0 : Math.floor(Math.log(x / min) / Math.log(max / min) * bins)) : Math.floor(x / max * bins);
      counts[Math.max(0, Math.min(bins - 1, b))]++;
    });
    var cmax = Math.max.apply(null, counts), bw = (W - L - 10) / bins;
    var h = '<svg viewBox="0 0 ' + W + ' ' + H + '" width="100%" role="img" aria-labelledby="hist-h" aria-describedby="hist-d">';
    var desc = [];
    counts.forEach(function (c, i) {
      var bh = cmax ? (H - B - T) * c / cmax : 0;
      desc.push(c + ' sessions cost ' + money(edges[i]) + ' to ' + money(edges[i + 1]));
      h += '<rect class="barh" x="' + (L + i * bw + 1).toFixed(1) + '" y="' + (H - B - bh).toFixed(1) + '" width="' + (bw - 2).toFixed(1) + '" height="' + bh.toFixed(1) + '"><title>' + esc(desc[i]) + '</title></rect>';
      if (c) h += '<text x="' + (L + i * bw + bw / 2).toFixed(1) + '" y="' + (H - B - bh - 3).toFixed(1) + '" text-anchor="middle">' + c + '</text>';
    });
    h += '<line class="grid" x1="' + L + '" x2="' + W + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/>';
    h += '<text x="' + L + '" y="' + (H - 18) + '">' + esc(money(edges[0])) + '</text><text x="' + (W - 10) + '" y="' + (H - 18) + '" text-anchor="end">' + esc(money(max)) + '</text>';
    h += '<text x="' + ((L + W) / 2) + '" y="' + (H - 4) + '" text-anchor="middle">cost per session' + (log ? ' (log scale)' : '') + '</text>';
    h += '<text x="4" y="12">sessions per bin</text></svg><p id="hist-d" class="sr-only">' + esc(desc.join('; ')) + '</p>';
    box.innerHTML = h;
  }

  function shares(box) {
    var idx = D.sessions.map(function (_, i) { return i; });
    idx.sort(function (a, b) { return D.sessions[b].total_f - D.sessions[a].total_f || a - b; });
    idx = idx.slice(0, 30);
    var W = 460, L = 150, RH = 16, H = idx.length * RH + 24;
    var h = '<svg viewBox="0 0 ' + W + ' ' + H + '" width="100%" role="img" aria-labelledby="share-h">';
    idx.forEach(function (i, k) {
      var s = D.sessions[i], t = s.total_f || 1;
      var w = Math.min(1, s.wasted_f / t), u = Math.min(1 - w, s.unproven_f / t), y = k * RH + 4, bw = W - L - 50;
      var label = s.id.length > 22 ? s.id.slice(0, 21) + '…' : s.id;
      h += '<a href="#s' + i + '"><text x="' + (L - 6) + '" y="' + (y + 11) + '" text-anchor="end">' + esc(label) + '</text></a>';
      h += '<rect class="bar0" x="' + L + '" y="' + y + '" width="' + bw + '" height="' + (RH - 4) + '"/>';
      h += '<rect class="bar1" x="' + L + '" y="' + y + '" width="' + (bw * w).toFixed(1) + '" height="' + (RH - 4) + '"><title>' + esc(s.id + ': wasted ' + pct(w) + ', unproven ' + pct(u)) + '</title></rect>';
      h += '<rect class="bar2" x="' + (L + bw * w).toFixed(1) + '" y="' + y + '" width="' + (bw * u).toFixed(1) + '" height="' + (RH - 4) + '"/>';
      h += '<text x="' + (L + bw + 4) + '" y="' + (y + 11) + '">' + pct(w) + '</text>';
    });
    h += '<text x="' + L + '" y="' + (H - 4) + '"><tspan class="bar1">■</tspan> wasted <tspan class="bar2">■</tspan> unproven <tspan class="bar0">■</tspan> rest of the cost</text></svg>';
    box.innerHTML = h;
  }

  // ---------------------------------------------------------------- session page
  function session(si, stepId) {
    var s = D.sessions[si];
    var v = current && current.si === si ? current : new View(si);
    current = v;
    if (!v.mounted) v.mount();
    if (stepId) v.select(stepId - 1, true);
    document.title = 'tracecard report: ' + s.id;
  }

  function View(si) {
    this.si = si;
    this.s = D.sessions[si];
    this.rows = this.s.steps;
    this.zoom = 1;
    this.sel = -1;
    this.byTime = !!this.s.timed;
    this.mounted = false;
    this.out = null; this.inn = null;
    // costcraft: step index -> patch rows citing it; -> [rule index, role]
    var pby = {}, rby = {}, pt = {};
    this.s.patches.forEach(function (p, k) {
      p[P.steps].forEach(function (i) { (pby[i] = pby[i] || []).push(k); });
      if (!pt[p[P.target]] || !p[P.refused]) pt[p[P.target]] = p;
    });
    this.s.rule_links.forEach(function (l) { (rby[l[1]] = rby[l[1]] || []).push([l[0], l[2]]); });
    this.pby = pby; this.rby = rby; this.ptarget = pt;
    this.geom();
  }

  // x positions: by start time and duration when the source has times, by order otherwise
  View.prototype.geom = function () {
    var rows = this.rows, n = rows.length, x0 = new Float64Array(n), x1 = new Float64Array(n), end = 0;
    for (var i = 0; i < n; i++) {
      var r = rows[i];
      if (this.byTime) { x0[i] = r[F.start]; x1[i] = r[F.start] + Math.max(0, r[F.dur] || 0); }
      else { x0[i] = i; x1[i] = i + 1; }
      if (x1[i] > end) end = x1[i];
    }
    this.x0 = x0; this.x1 = x1; this.end = end || 1;
  };

  View.prototype.mount = function () {
    var s = this.s, self = this, c = s.counts;
    var deltaNote = s.delta === null ? 'the source reported no cost' : (+s.delta === 0 ? 'computed = reported' : 'computed − reported');
    var tok = s.tokens.map(function (t, i) { return t ? BUCKETS[i] + ' ' + num(t) : null; }).filter(Boolean).join(' · ');
    var h = (D.sessions.length > 1 ? '<a class="back" href="#overview">← all ' + D.sessions.length + ' sessions</a>' : '') +
      '<h1>' + esc(s.id) + '</h1><p class="sub">' + esc(s.format) + ' · outcome <b>' + esc(s.outcome) + '</b>' +
      (s.outcome_reason ? ' (' + esc(s.outcome_reason) + ')' : '') + ' · prices ' + esc(s.prices) +
      (s.files.length ? ' · ' + esc(s.files.join(', ')) : '') + '</p>' +
      '<div class="tiles">' +
      tile('Total cost (computed)', exact(s.total), s.unpriced_steps ? s.unpriced_steps + ' step(s) unpriced, not included' : 'sum of step costs', ' data-total="' + esc(s.total) + '" id="total-cost"') +
      tile('Reported cost', exact(s.reported), 'by the source') +
      tile('Delta', s.delta === null ? '–' : (s.delta.charAt(0) === '-' ? '−$' + s.delta.slice(1) : '+$' + s.delta), deltaNote) +
      tile('Wasted', exact(s.wasted), 'redundant: own ' + exact(s.redundant_cost) + ' + carried context') +
      tile('Unproven', exact(s.unproven), 'own + carried; a replay would settle it') +
      tile('Steps', num(s.steps.length), c[0] + ' needed · ' + c[1] + ' redundant · ' + c[2] + ' unproven', ' data-steps="' + s.steps.length + '" data-redundant="' + c[1] + '"') +
      tile('Tokens', num(s.tokens.reduce(function (a, b, i) { return i === 5 ? a : a + b; }, 0)), tok) +
      (s.replays_used !== null ? tile('Replays used', String(s.replays_used), 'counterfactual replays') : '') +
      (CC && CC.has_patches ? tile('Patches', String(s.patches.length), 'prunable ' + money(prunable(s)) + ' (kept prune patches)', ' id="patch-tile"') : '') +
      '</div>' +
      '<div class="layout"><div class="main">' +
      '<h2 id="wf-h">Timeline: one lane per agent and sub-agent, <span id="wf-mode"></span></h2>' +
      '<div class="toolbar"><span class="legend" aria-hidden="true"><span><span class="sw v0"></span>needed</span><span><span class="sw v1"></span>redundant</span><span><span class="sw v2"></span>unproven</span><span>dashed outline: error</span></span>' +
      '<span><button type="button" data-z="0.5" aria-label="Zoom out">−</button> <button type="button" data-z="2" aria-label="Zoom in">+</button> <button type="button" data-z="0">Fit</button></span>' +
      (s.timed ? '<span><button type="button" id="mode" aria-pressed="false">By order</button></span>' : '') +
      '<span><button type="button" data-n="1">Next redundant</button> <button type="button" data-n="2">Next unproven</button>' +
      (s.patches.length ? ' <button type="button" data-n="p">Next patch</button>' : '') + '</span></div>' +
      '<div class="wf" id="wf-box" tabindex="0" role="group" aria-labelledby="wf-h" aria-describedby="wf-d">' +
      '<div class="labels" id="lanes"></div><div class="scroll" id="scroll"></div></div>' +
      '<p id="wf-d" class="note">' + esc(s.steps.length + ' steps in ' + s.lanes.length + ' lane(s): ' + c[0] + ' needed, ' + c[1] + ' redundant, ' + c[2] + ' unproven. ') +
      'Click a bar, or focus the timeline and use ← → (previous / next step), ↑ ↓ (other lane), R / U (next redundant / unproven)' + (s.patches.length ? ', P (next patch target; a triangle marks each)' : '') + ', Esc. The table of steps below has the same data as text.</p>' +
      '</div><aside id="details" aria-live="polite"><h2>Step details</h2><p class="note">Select a step to see its costs, tokens, verdict and evidence.</p></aside></div>' +
      '<h2>Rollups</h2><div class="rollups" id="rollups"></div>' +
      '<h2>Warnings (' + s.warnings.length + ')</h2><ul class="warn" id="warnings"></ul>' +
      (CC ? '<h2 id="cc-h">Costcraft: patches and rules</h2><div id="costcraft"></div>' : '') +
      '<details id="steps-table"><summary>All ' + s.steps.length + ' steps as a table</summary><div></div></details>';
    app.innerHTML = h;
    this.mounted = true;
    var lanes = document.getElementById('lanes');
    lanes.innerHTML = s.lanes.map(function (l) {
      return '<div style="padding-left:' + (6 + 10 * l[2]) + 'px" title="' + esc(l[0]) + '">' + esc(l[0]) + '</div>';
    }).join('') + '<div class="axis-l" id="axis-l"></div><div class="cost-l">cost per step (bars) and cumulative cost (line)</div>';
    this.draw();
    this.rollups();
    if (CC) this.costcraft();
    document.getElementById('warnings').innerHTML = s.warnings.length ? s.warnings.map(function (w) {
      return '<li><code>' + esc(w[0]) + '</code> ' + esc(w[1]) + (w[2] ? ' <span class="note">(' + esc(w[2]) + (w[3] ? ':' + w[3] : '') + ')</span>' : '') + '</li>';
    }).join('') : '<li class="note">none</li>';
    var box = document.getElementById('wf-box');
    var scroll = document.getElementById('scroll');
    scroll.addEventListener('click', function (e) {
      var i = e.target.getAttribute && e.target.getAttribute('data-i');
      if (i !== null && i !== undefined) self.select(+i, false);
    });
    scroll.addEventListener('mousemove', function (e) {
      var i = e.target.getAttribute && e.target.getAttribute('data-i');
      if (i === null || i === undefined) { tip.hidden = true; return; }
      var r = self.rows[+i];
      tip.textContent = 'step ' + r[F.id] + ' · ' + str(r[F.kind]) + (name(r) ? ' ' + name(r) : '') + ' · ' + money(r[F.cost]) + ' · ' + VERDICT[r[F.verdict]];
      tip.hidden = false;
      tip.style.left = Math.min(window.innerWidth - 370, e.clientX + 12) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    });
    scroll.addEventListener('mouseleave', function () { tip.hidden = true; });
    box.addEventListener('keydown', function (e) { self.key(e); });
    app.querySelector('.toolbar').addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b) return;
      if (b.id === 'mode') {
        self.byTime = !self.byTime;
        b.setAttribute('aria-pressed', String(!self.byTime));
        self.geom();
        self.draw();
        if (self.sel >= 0) { self.highlight(); self.reveal(); }
      } else if (b.hasAttribute('data-z')) {
        var z = +b.getAttribute('data-z');
        self.zoom = z === 0 ? 1 : Math.max(1, Math.min(4096, self.zoom * z));
        self.draw();
        if (self.sel >= 0) { self.highlight(); self.reveal(); }
      } else if (b.getAttribute('data-n') === 'p') self.nextPatch();
      else self.next(+b.getAttribute('data-n'));
    });
    ['details', 'costcraft'].forEach(function (id) {
      var box = document.getElementById(id);
      if (box) box.addEventListener('click', function (e) {
        var b = e.target.closest('[data-go]');
        if (b) { self.select(+b.getAttribute('data-go'), true); document.getElementById('wf-box').focus(); }
      });
    });
    var det = document.getElementById('steps-table');
    det.addEventListener('toggle', function () { if (det.open) self.stepsTable(500); });
  };

  View.prototype.X = function (t) { return 8 + t / this.end * (this.plotW - 8); };

  View.prototype.draw = function () {
    var s = this.s, rows = this.rows, n = rows.length, scroll = document.getElementById('scroll');
    document.getElementById('wf-mode').textContent = this.byTime ? 'by start time and duration' : (s.timed ? 'by step order' : 'by step order (the source has no times)');
    document.getElementById('axis-l').textContent = this.byTime ? 'time' : 'step';
    var W = Math.max(300, scroll.clientWidth - 2);
    this.plotW = Math.round(W * this.zoom) - 10;
    var laneCount = s.lanes.length, H = laneCount * LANE_H, self = this;
    var parts = ['<svg id="wf" width="' + (this.plotW + 10) + '" height="' + (H + AXIS_H + COST_H) + '" aria-hidden="true">' +
      '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
      '<rect width="4" height="4" fill="#D55E00"/><rect width="1" height="4" fill="#ffffff"/></pattern></defs>'];
    for (var l = 0; l < laneCount; l++) {
      parts.push('<rect class="lane-bg' + (l % 2 ? ' odd' : '') + '" x="0" y="' + l * LANE_H + '" width="' + (this.plotW + 10) + '" height="' + LANE_H + '"/>');
    }
    // axis ticks
    var ticks = this.ticks();
    ticks.forEach(function (t) {
      var x = self.X(t[0]).toFixed(1);
      parts.push('<line class="grid" x1="' + x + '" x2="' + x + '" y1="0" y2="' + (H + 4) + '"/><text x="' + x + '" y="' + (H + 16) + '" text-anchor="middle">' + esc(t[1]) + '</text>');
    });
    // step bars
    var bars = [], cost = [], maxCost = 0;
    for (var i = 0; i < n; i++) if (rows[i][F.cost] > maxCost) maxCost = rows[i][F.cost];
    var cy = H + AXIS_H, ch = COST_H - 14;
    // long bars first, so that short and instant steps stay visible (and clickable) on top
    var drawOrder = [];
    for (i = 0; i < n; i++) drawOrder.push(i);
    if (this.byTime) {
      var a0 = this.x0, a1 = this.x1;
      drawOrder.sort(function (a, b) { return (a1[b] - a0[b]) - (a1[a] - a0[a]) || a - b; });
    }
    for (var q = 0; q < n; q++) {
      i = drawOrder[q];
      var r = rows[i], x = this.X(this.x0[i]), w = Math.max(this.byTime ? 2 : 1, this.X(this.x1[i]) - x - (this.byTime ? 0 : (this.plotW / n > 3 ? 1 : 0)));
      var y = r[F.lane] * LANE_H + (LANE_H - BAR_H) / 2, v = r[F.verdict];
      bars.push('<rect class="st v' + v + (r[F.err] ? ' err' : '') + '" data-i="' + i + '" x="' + x.toFixed(1) + '" y="' + y + '" width="' + w.toFixed(1) + '" height="' + BAR_H + '"/>');
      var c = r[F.cost] || 0;
      if (c > 0) {
        var bh = Math.max(1, ch * c / maxCost);
        cost.push('<rect class="c' + v + '" data-i="' + i + '" x="' + x.toFixed(1) + '" y="' + (cy + ch - bh + 4).toFixed(1) + '" width="' + Math.max(1, w).toFixed(1) + '" height="' + bh.toFixed(1) + '"/>');
      }
    }
    parts.push('<g id="bars">' + bars.join('') + '</g><g id="costbars">' + cost.join('') + '</g>');
    // a triangle above each patch target (hollow when the patch was refused)
    var marks = [];
    for (var key in this.ptarget) {
      var pi = +key, p = this.ptarget[key], mx = this.X(this.x0[pi]), my = rows[pi][F.lane] * LANE_H + (LANE_H - BAR_H) / 2;
      marks.push('<path class="pm ' + (PKIND[p[P.kind]] || '') + (p[P.refused] ? ' refused' : '') + '" data-i="' + pi + '" d="M' + (mx - 4).toFixed(1) + ',' + (my - 3) + ' h8 l-4,5 z"/>');
    }
    parts.push('<g id="pmarks">' + marks.join('') + '</g>');
    // cumulative cost curve over time (steps sorted by end)
    var order = [];
    for (i = 0; i < n; i++) order.push(i);
    if (this.byTime) { var x1 = this.x1; order.sort(function (a, b) { return x1[a] - x1[b] || a - b; }); }
    var total = 0;
    for (i = 0; i < n; i++) total += rows[i][F.cost] || 0;
    var cum = 0, pts = [this.X(0).toFixed(1) + ',' + (cy + ch + 4)];
    for (i = 0; i < n; i++) {
      var k = order[i];
      cum += rows[k][F.cost] || 0;
      pts.push(this.X(this.x1[k]).toFixed(1) + ',' + (cy + 4 + ch - (total > 0 ? ch * cum / total : 0)).toFixed(1));
    }
    parts.push('<polyline class="cum" points="' + pts.join(' ') + '"/>');
    parts.push('<line class="grid" x1="0" x2="' + (this.plotW + 10) + '" y1="' + (cy + ch + 4) + '" y2="' + (cy + ch + 4) + '"/>');
    parts.push('<text x="12" y="' + (cy + 12) + '">cumulative ' + esc(money(total)) + ' · tallest bar ' + esc(money(maxCost)) + '</text>');
    parts.push('<g id="edges"></g></svg>');
    scroll.innerHTML = parts.join('');
    var list = scroll.querySelectorAll('#bars rect'), rects = new Array(n);
    for (i = 0; i < list.length; i++) rects[+list[i].getAttribute('data-i')] = list[i];
    this.rects = rects;
  };

  View.prototype.ticks = function () {
    var out = [], end = this.end, target = Math.max(2, Math.floor(this.plotW / 120)), raw = end / target, step;
    var nice = this.byTime ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 144e5, 432e5, 864e5]
      : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
    step = nice[nice.length - 1];
    for (var q = nice.length - 1; q >= 0; q--) if (nice[q] >= raw) step = nice[q];
    for (var t = 0; t <= end; t += step) {
      out.push([t, this.byTime ? tick(t) : String(t + 1)]);
      if (out.length > 400) break;
    }
    return out;
  };

  View.prototype.adj = function () {
    if (this.out) return;
    var n = this.rows.length, e = this.s.edges, out = [], inn = [];
    for (var i = 0; i < n; i++) { out.push([]); inn.push([]); }
    for (var k = 0; k < e.length; k += 4) {
      out[e[k]].push(k);
      if (e[k + 1] >= 0) inn[e[k + 1]].push(k);
    }
    this.out = out; this.inn = inn;
  };

  // the path to the outcome (breadth first, like `tracecard compile --explain`)
  View.prototype.chain = function (i) {
    var e = this.s.edges, pred = {}, seen = {}, q = [i], end = -1;
    seen[i] = true;
    outer: while (q.length) {
      var x = q.shift(), os = this.out[x];
      for (var k = 0; k < os.length; k++) {
        var j = os[k], t = e[j + 1];
        if (t < 0) { end = j; pred.sink = [x, j]; break outer; }
        if (!seen[t]) { seen[t] = true; pred[t] = [x, j]; q.push(t); }
      }
    }
    if (end < 0) return null;
    var path = [{ edge: end, to: -1 }], cur = pred.sink[0];
    while (cur !== i) { var p = pred[cur]; path.push({ edge: p[1], to: cur }); cur = p[0]; }
    return path.reverse();
  };

  View.prototype.select = function (i, reveal) {
    if (i < 0 || i >= this.rows.length) return;
    this.sel = i;
    this.highlight();
    this.details();
    if (reveal) this.reveal();
  };

  View.prototype.reveal = function () {
    var scroll = document.getElementById('scroll'), x = this.X(this.x0[this.sel]);
    if (x < scroll.scrollLeft + 20 || x > scroll.scrollLeft + scroll.clientWidth - 40) scroll.scrollLeft = Math.max(0, x - scroll.clientWidth / 3);
  };

  View.prototype.highlight = function () {
    var old = document.querySelectorAll('#bars rect.sel, #bars rect.rel');
    for (var k = 0; k < old.length; k++) old[k].classList.remove('sel', 'rel');
    var i = this.sel, g = document.getElementById('edges');
    if (i < 0) { g.innerHTML = ''; return; }
    this.adj();
    this.rects[i].classList.add('sel');
    var e = this.s.edges, parts = [], self = this, drawn = 0;
    function yc(j) { return self.rows[j][F.lane] * LANE_H + LANE_H / 2; }
    function curve(a, b, cls) {
      var xa = self.X(self.x1[a]), xb = self.X(self.x0[b]), ya = yc(a), yb = yc(b), mx = (xa + xb) / 2;
      return '<path class="edge ' + cls + '" d="M' + xa.toFixed(1) + ',' + ya + ' C' + mx.toFixed(1) + ',' + ya + ' ' + mx.toFixed(1) + ',' + yb + ' ' + xb.toFixed(1) + ',' + yb + '"/>';
    }
    this.out[i].forEach(function (j) {
      if (drawn++ > EDGE_CAP) return;
      var t = e[j + 1];
      if (t < 0) {
        var xa = self.X(self.x1[i]), ya = yc(i);
        parts.push('<path class="edge out" d="M' + xa.toFixed(1) + ',' + ya + ' H' + (self.plotW + 4) + '"/><circle class="sinkmark" cx="' + (self.plotW + 4) + '" cy="' + ya + '" r="4"/>');
      } else { parts.push(curve(i, t, 'out')); self.rects[t].classList.add('rel'); }
    });
    this.inn[i].forEach(function (j) {
      if (drawn++ > EDGE_CAP) return;
      var p = e[j];
      parts.push(curve(p, i, 'in'));
      self.rects[p].classList.add('rel');
    });
    g.innerHTML = parts.join('');
  };

  View.prototype.details = function () {
    var i = this.sel, r = this.rows[i], s = this.s, e = this.s.edges, self = this;
    var tk = r[F.tokens], lane = s.lanes[r[F.lane]];
    function go(j) { return '<button type="button" class="linkbtn" data-go="' + j + '">step ' + self.rows[j][F.id] + '</button>'; }
    function edgeText(j) { return '[' + esc(S[e[j + 2]]) + '] ' + esc(S[e[j + 3]]); }
    var h = '<h2>Step ' + r[F.id] + ' <span class="pill v' + r[F.verdict] + '">' + VERDICT[r[F.verdict]] + '</span></h2><dl>' +
      '<dt>kind</dt><dd>' + esc(str(r[F.kind])) + (r[F.err] ? ' (error)' : '') + '</dd>' +
      (str(r[F.tool]) ? '<dt>tool</dt><dd>' + esc(str(r[F.tool])) + '</dd>' : '') +
      (str(r[F.model]) ? '<dt>model</dt><dd>' + esc(str(r[F.model])) + (str(r[F.priced]) ? ' <span class="note">priced as ' + esc(str(r[F.priced])) + '</span>' : '') + '</dd>' : '') +
      '<dt>lane</dt><dd>' + esc(lane[0]) + (str(r[F.agent]) ? ' · agent ' + esc(str(r[F.agent])) : '') + '</dd>' +
      (s.timed ? '<dt>start</dt><dd>+' + dur(r[F.start]) + '</dd>' : '') +
      '<dt>duration</dt><dd>' + dur(r[F.dur]) + '</dd>' +
      '<dt>own cost</dt><dd>' + money(r[F.cost]) + ' <span class="note">(' + esc(str(r[F.source])) + ')</span></dd>' +
      (r[F.reported] !== null ? '<dt>reported</dt><dd>' + money(r[F.reported]) + '</dd>' : '') +
      '<dt>carried</dt><dd>' + money(r[F.carried] || 0) + ' <span class="note">(its output re-sent in later calls)</span></dd>' +
      (r[F.wasted] !== null ? '<dt>wasted</dt><dd>' + money(r[F.wasted]) + '</dd>' : '') +
      (r[F.subtree] !== null ? '<dt>sub-agent total</dt><dd>' + money(r[F.subtree]) + '</dd>' : '') +
      '<dt>tokens</dt><dd>' + (tk.some(function (t) { return t; }) ? tk.map(function (t, k) { return t ? BUCKETS[k] + ' ' + num(t) : null; }).filter(Boolean).join('<br>') : 'none') + '</dd>' +
      (str(r[F.reason]) ? '<dt>reason</dt><dd>' + esc(str(r[F.reason])) + '</dd>' : '') +
      (str(r[F.evidence]) ? '<dt>evidence</dt><dd>' + esc(str(r[F.evidence])) + '</dd>' : '') +
      (str(r[F.confirmed]) ? '<dt>confirmed by</dt><dd>' + esc(str(r[F.confirmed])) + '</dd>' : '') +
      (r[F.dup] ? '<dt>duplicate of</dt><dd>' + go(r[F.dup] - 1) + ' (same tool, input and output)</dd>' : '') +
      (r[F.parent] ? '<dt>spawned by</dt><dd>' + go(r[F.parent] - 1) + '</dd>' : '') +
      '</dl>';
    if (CC) h += this.ccDetails(i, go);
    if (this.s.edges.length || this.out[i].length) {
      var ch = this.chain(i);
      h += '<h3>Evidence chain</h3>';
      if (ch) {
        var link = function (p) { return '<li>→ ' + (p.to < 0 ? '<b>OUTCOME</b>' : go(p.to)) + ' ' + edgeText(p.edge) + '</li>'; };
        var shown = ch.length > 40 ? ch.slice(0, 30).map(link).join('') + '<li>… ' + (ch.length - 35) + ' more steps …</li>' + ch.slice(-5).map(link).join('') : ch.map(link).join('');
        h += '<ol class="chain"><li>step ' + r[F.id] + '</li>' + shown + '</ol>';
      } else {
        h += '<p>' + (r[F.verdict] === 0 ? 'kept (user input or compaction)' : esc(VERDICT[r[F.verdict]]) + ': no path to the outcome') + '</p>';
      }
      var outs = this.out[i], ins = this.inn[i];
      h += '<h3>Its output went to (' + outs.length + ')</h3>' + (outs.length ? '<ul class="chain">' + outs.slice(0, 100).map(function (j) {
        var t = e[j + 1];
        return '<li>' + (t < 0 ? '<b>OUTCOME</b>' : go(t) + (self.rows[t][F.verdict] ? ' <span class="pill v' + self.rows[t][F.verdict] + '">' + VERDICT[self.rows[t][F.verdict]] + '</span>' : '')) + ' ' + edgeText(j) + '</li>';
      }).join('') + (outs.length > 100 ? '<li>… ' + (outs.length - 100) + ' more</li>' : '') + '</ul>' : '<p class="note">no later step used its output</p>');
      h += '<h3>It used (' + ins.length + ')</h3>' + (ins.length ? '<ul class="chain">' + ins.slice(0, 100).map(function (j) {
        return '<li>' + go(e[j]) + ' ' + edgeText(j) + '</li>';
      }).join('') + (ins.length > 100 ? '<li>… ' + (ins.length - 100) + ' more</li>' : '') + '</ul>' : '<p class="note">nothing recorded</p>');
    }
    document.getElementById('details').innerHTML = h;
  };

  // the patches and rules that cite step i
  View.prototype.ccDetails = function (i, go) {
    var s = this.s, ps = this.pby[i] || [], rs = this.rby[i] || [], h = '';
    if (CC.has_patches) {
      h += '<h3>Patches (' + ps.length + ')</h3>';
      h += ps.length ? '<ul class="chain" id="step-patches">' + ps.map(function (k) {
        var p = s.patches[k];
        return '<li class="patch"><span class="pill ' + (PKIND[p[P.kind]] || '') + '">' + esc(p[P.kind]) + '</span> ' +
          (p[P.target] === i ? 'targets this step' : 'target ' + go(p[P.target])) +
          (p[P.steps].length > 1 ? ' · covers ' + p[P.steps].length + ' steps' : '') +
          ' · saves $' + esc(p[P.saveS]) + (p[P.confirmed] ? ' · confirmed by ' + esc(p[P.confirmed]) : '') +
          ' · <b>' + esc(patchStatus(p)) + '</b>' + (p[P.refusedMsg] ? ' <span class="note">(' + esc(p[P.refusedMsg]) + ')</span>' : '') +
          (p[P.text] ? '<br><span class="note">' + esc(p[P.text]) + '</span>' : '') + '</li>';
      }).join('') + '</ul>' : '<p class="note">no patch cites this step</p>';
    }
    if (CC.has_rules) {
      h += '<h3>Rules (' + rs.length + ')</h3>';
      h += rs.length ? '<ul class="chain" id="step-rules">' + rs.map(function (x) {
        var r = CC.rules[x[0]];
        return '<li><code>' + esc(r.id) + '</code> ' + rulePill(r) + ' · ' + (x[1] ? '<b>counter-example</b> (this step was needed)' : 'supporting step') +
          '<br><span class="note">' + esc(ruleLine(r)) + '</span><br>' + esc(r.reason) + '</li>';
      }).join('') + '</ul>' : '<p class="note">no rule cites this step</p>';
    }
    return h;
  };

  // the session's patches, and the rules citing its steps
  View.prototype.costcraft = function () {
    var s = this.s, h = '';
    if (CC.has_patches) {
      h += '<h3>Patches of this session (' + s.patches.length + ')</h3>' + (s.patches.length ?
        '<table id="patches-table"><thead><tr><th scope="col">patch</th><th scope="col">target</th><th class="num" scope="col">steps</th><th class="num" scope="col">saves</th><th scope="col">confirmed by</th><th scope="col">status</th><th scope="col">counterfactual / claim / fix</th></tr></thead><tbody>' +
        s.patches.map(function (p) {
          return '<tr><td><span class="pill ' + (PKIND[p[P.kind]] || '') + '">' + esc(p[P.kind]) + '</span></td><td><button type="button" class="linkbtn" data-go="' + p[P.target] + '">step ' + (p[P.target] + 1) + '</button></td><td class="num">' +
            p[P.steps].length + '</td><td class="num">$' + esc(p[P.saveS]) + '</td><td>' + esc(p[P.confirmed] || '–') + '</td><td>' + esc(patchStatus(p)) +
            '</td><td>' + esc(p[P.text]) + '</td></tr>';
        }).join('') + '</tbody></table>' : '<p class="note">no patch for this session</p>');
    }
    if (CC.has_rules) {
      var cites = {}, idx = [];
      s.rule_links.forEach(function (l) {
        if (!cites[l[0]]) { cites[l[0]] = []; idx.push(l[0]); }
        cites[l[0]].push([l[1], l[2]]);
      });
      idx.sort(function (a, b) { return a - b; });
      h += '<h3>Rules citing its steps (' + idx.length + ' of ' + CC.rules.length + ')</h3>' + rulesTable(idx, cites);
    }
    if (s.cc_unmatched) h += '<p class="note">' + s.cc_unmatched + ' patch(es) or rule evidence link(s) name this session but no step of it (a different compilation?).</p>';
    document.getElementById('costcraft').innerHTML = h;
  };

  View.prototype.nextPatch = function () {
    var n = this.rows.length;
    for (var k = 1; k <= n; k++) {
      var j = (this.sel + k + n) % n;
      if (this.ptarget[j]) { this.select(j, true); return; }
    }
  };

  View.prototype.next = function (v) {
    var n = this.rows.length;
    for (var k = 1; k <= n; k++) {
      var j = (this.sel + k + n) % n;
      if (this.rows[j][F.verdict] === v) { this.select(j, true); return; }
    }
  };

  View.prototype.key = function (e) {
    var i = this.sel, n = this.rows.length, rows = this.rows;
    var k = e.key;
    if (k === 'ArrowRight') this.select(Math.min(n - 1, i + 1), true);
    else if (k === 'ArrowLeft') this.select(Math.max(0, i - 1), true);
    else if (k === 'Home') this.select(0, true);
    else if (k === 'End') this.select(n - 1, true);
    else if (k === 'ArrowDown' || k === 'ArrowUp') {
      var lane = i < 0 ? 0 : rows[i][F.lane], want = lane + (k === 'ArrowDown' ? 1 : -1), t = i < 0 ? 0 : this.x0[i], best = -1, bd = Infinity;
      for (var j = 0; j < n; j++) {
        if (rows[j][F.lane] !== want) continue;
        var d = Math.abs(this.x0[j] - t);
        if (d < bd) { bd = d; best = j; }
      }
      if (best >= 0) this.select(best, true);
    } else if (k === 'r' || k === 'R') this.next(1);
    else if (k === 'u' || k === 'U') this.next(2);
    else if ((k === 'p' || k === 'P') && this.s.patches.length) this.nextPatch();
    else if (k === 'Escape') { this.sel = -1; this.highlight(); }
    else return;
    e.preventDefault();
  };

  View.prototype.rollups = function () {
    var r = this.s.rollups;
    var box = document.getElementById('rollups');
    box.innerHTML = [['model', 'By model'], ['tool', 'By tool'], ['agent', 'By agent']].map(function (p) {
      var list = r[p[0]].slice().sort(function (a, b) { return b[2] - a[2] || (a[0] < b[0] ? -1 : 1); });
      return '<div><table><caption style="text-align:left;font-weight:600">' + p[1] + '</caption><thead><tr><th scope="col">' + p[0] +
        '</th><th class="num" scope="col">steps</th><th class="num" scope="col">cost</th><th class="num" scope="col">carried</th><th class="num" scope="col">redundant</th><th class="num" scope="col">tokens</th></tr></thead><tbody>' +
        (list.length ? list.map(function (x) {
          var t = x[5][0] + x[5][1] + x[5][2] + x[5][3] + x[5][4];
          return '<tr><td>' + esc(x[0]) + '</td><td class="num">' + num(x[1]) + '</td><td class="num">' + money(x[2]) + '</td><td class="num">' + money(x[3]) + '</td><td class="num">' + x[4] + '</td><td class="num">' + num(t) + '</td></tr>';
        }).join('') : '<tr><td colspan="6" class="note">none</td></tr>') + '</tbody></table></div>';
    }).join('');
  };

  View.prototype.stepsTable = function (limit) {
    var rows = this.rows, s = this.s, self = this, box = document.querySelector('#steps-table > div');
    var h = '<table><thead><tr><th scope="col">#</th><th scope="col">lane</th><th scope="col">kind</th><th scope="col">tool / model</th><th scope="col">verdict</th><th class="num" scope="col">cost</th><th class="num" scope="col">carried</th><th class="num" scope="col">wasted</th><th scope="col">reason</th></tr></thead><tbody>';
    var m = Math.min(limit, rows.length);
    for (var i = 0; i < m; i++) {
      var r = rows[i];
      h += '<tr><td><button type="button" class="linkbtn" data-go="' + i + '">' + r[F.id] + '</button></td><td>' + esc(s.lanes[r[F.lane]][0]) + '</td><td>' + esc(str(r[F.kind])) + '</td><td>' + esc(name(r)) +
        '</td><td>' + VERDICT[r[F.verdict]] + '</td><td class="num">' + money(r[F.cost]) + '</td><td class="num">' + (r[F.carried] ? money(r[F.carried]) : '') + '</td><td class="num">' + (r[F.wasted] !== null ? money(r[F.wasted]) : '') + '</td><td>' + esc(str(r[F.reason]) || '') + '</td></tr>';
    }
    h += '</tbody></table>' + (m < rows.length ? '<button type="button" id="more">Show all ' + rows.length + ' steps</button>' : '');
    box.innerHTML = h;
    box.onclick = function (e) {
      var b = e.target.closest('button');
      if (!b) return;
      if (b.id === 'more') self.stepsTable(Infinity);
      else if (b.hasAttribute('data-go')) { self.select(+b.getAttribute('data-go'), true); document.getElementById('wf-box').focus(); }
    };
  };

  route();
})();
