// dsrlb console: draws the state the server pushes over server-sent events (/events).
// Every string from the server goes in as text (textContent, setAttribute), never as markup.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function ago(at) {
  if (at === null || at === undefined) return 'never';
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ${s % 60} s ago`;
}

function time(at) {
  return new Date(at).toLocaleTimeString();
}

function rate(n, unit) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M${unit}`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k${unit}`;
  return `${n}${unit}`;
}

/** A small chart of packets/s in (blue) and out (orange) over the history's span. */
function chart(history) {
  const W = 180, H = 40, P = 2;
  const s = svg('svg', { width: W, height: H + 10, viewBox: `0 0 ${W} ${H + 10}`, class: 'chart', role: 'img' });
  s.append(svg('line', { x1: 0, y1: H, x2: W, y2: H, class: 'axis' }));
  if (!history || history.length === 0) return s;
  const t0 = history[0][0];
  const t1 = Math.max(history[history.length - 1][0], t0 + 1);
  const max = Math.max(1, ...history.map((p) => Math.max(p[1], p[2])));
  const pts = (i) => history.map((p) => `${(P + ((p[0] - t0) / (t1 - t0)) * (W - 2 * P)).toFixed(1)},${(H - (p[i] / max) * (H - 4)).toFixed(1)}`).join(' ');
  s.append(svg('polyline', { points: pts(1), class: 'in' }));
  s.append(svg('polyline', { points: pts(2), class: 'out' }));
  const label = svg('text', { x: 2, y: H + 9 });
  label.textContent = `max ${rate(max, ' pps')} · ${Math.round((t1 - t0) / 60000)} min`;
  s.append(label);
  const title = svg('title', {});
  title.textContent = 'packets/s in (blue) and out (orange; 0 in DR: replies bypass the director)';
  s.append(title);
  return s;
}

let state = null;
let token = '';
/** Rate history per real: the full state brings it, each compact state one point more. */
const histories = new Map();
const HISTORY_POINTS = 150;

function takeState(next) {
  for (const s of next.services) {
    for (const r of s.reals) {
      if (Array.isArray(r.history)) histories.set(r.key, r.history.slice());
      else {
        const h = histories.get(r.key) || [];
        if (r.point && (h.length === 0 || h[h.length - 1][0] < r.point[0])) h.push(r.point);
        if (h.length > HISTORY_POINTS) h.splice(0, h.length - HISTORY_POINTS);
        histories.set(r.key, h);
        r.history = h;
      }
    }
  }
  state = next;
}
const weightDraft = new Map();

function healthOf(r) {
  if (!r.health) return { cls: r.weight > 0 ? 'up' : 'quiesced', text: r.weight > 0 ? 'no check' : 'quiesced (weight 0)', data: r.weight > 0 ? 'unchecked' : 'quiesced' };
  if (!r.health.up) return { cls: 'down', text: r.weight === 0 ? 'down · quiesced' : 'down', data: 'down' };
  if (r.weight === 0) return { cls: 'quiesced', text: 'up · quiesced (weight 0)', data: 'quiesced' };
  return { cls: 'up', text: 'up', data: 'up' };
}

async function write(svc, r, action, weight) {
  const body = { proto: svc.proto, vip: svc.vipText, port: svc.port, addr: r.addrText, rport: r.port, action };
  if (action === 'weight') body.weight = weight;
  const res = await fetch('/api/real', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let msg = text;
  try {
    const j = JSON.parse(text);
    msg = j.ok ? j.done : `${j.code}: ${j.message}`;
  } catch { /* plain text */ }
  const out = $('write-result');
  out.textContent = `${res.status} ${msg}`.trim();
  out.dataset.status = String(res.status);
}

function ipText(n) {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function realRow(svc, r) {
  const h = healthOf(r);
  const hc = r.health;
  const check = hc ? `${hc.lastOk === null ? 'no check yet' : hc.lastOk ? 'ok' : 'failed'}, ${ago(hc.lastCheckAt)}${hc.latencyMs !== null ? `, ${hc.latencyMs} ms` : ''}` : '';
  const row = el('tr', { 'data-real': r.name, 'data-health': h.data, 'data-weight': r.weight },
    el('td', {}, r.name, r.local ? el('span', { class: 'muted' }, ' (this host)') : null),
    el('td', { class: 'num weight' }, r.weight, r.configWeight !== null && r.configWeight !== r.weight ? el('span', { class: 'muted' }, ` (config ${r.configWeight})`) : null),
    el('td', {}, el('span', { class: `health ${h.cls}` }, h.text), el('div', { class: 'muted', title: hc && hc.detail ? hc.detail : '' }, check, hc && hc.detail && !hc.up ? ` — ${hc.detail}` : '')),
    el('td', { class: 'num' }, r.active),
    el('td', { class: 'num' }, r.inactive),
    el('td', { class: 'num' }, `${rate(r.rates.inpps, '')} / ${rate(r.rates.outpps, '')}`),
    el('td', {}, chart(r.history)),
  );
  if (state.writable) {
    // An IPv6 real is named by its address text (addr holds only its fold).
    const rr = { ...r, addrText: r.addr6 ?? ipText(r.addr) };
    const input = el('input', { type: 'number', min: 0, max: 65535, value: weightDraft.get(r.key) ?? r.weight, 'aria-label': `weight of ${r.name}` });
    input.addEventListener('input', () => weightDraft.set(r.key, input.value));
    const set = el('button', { type: 'button', class: 'set-weight' }, 'set weight');
    set.addEventListener('click', () => { weightDraft.delete(r.key); void write(svc, rr, 'weight', Number(input.value)); });
    const q = el('button', { type: 'button', class: 'quiesce' }, 'quiesce');
    q.addEventListener('click', () => void write(svc, rr, 'quiesce'));
    const rs = el('button', { type: 'button', class: 'restore' }, 'restore');
    rs.addEventListener('click', () => void write(svc, rr, 'restore'));
    row.append(el('td', {}, input, set, q, rs));
  }
  return row;
}

function drawServices() {
  const box = $('services');
  const parts = [];
  if (state.services.length === 0) parts.push(el('p', { class: 'muted' }, 'no virtual service'));
  for (const s of state.services) {
    const svc = { proto: s.proto, vipText: s.vip6 ?? ipText(s.vip), port: s.port };
    const head = el('tr', {}, ...['real', 'weight', 'health (last check)', 'ActiveConn', 'InActConn', 'pps in / out', 'last minutes'].map((t) => el('th', {}, t)),
      state.writable ? el('th', {}, 'change') : null);
    const table = el('table', { 'data-service': s.name }, el('thead', {}, head), el('tbody', {}, ...s.reals.map((r) => realRow(svc, r))));
    parts.push(el('div', { class: 'svc' },
      el('p', {}, el('span', { class: 'svc-title' }, s.name), ` · ${s.scheduler}${s.persistent ? ` · persistent ${s.persistent} s` : ''} · ${s.conns} connections · ${rate(s.rates.cps, ' conn/s')}`),
      s.check ? el('p', { class: 'muted check' }, `check: ${s.check}`) : null,
      table));
  }
  box.replaceChildren(...parts);
}

function drawHa() {
  const ha = state.ha;
  $('ha').hidden = !ha;
  if (!ha) return;
  const node = (n, me) => el('div', { class: 'node', 'data-node': n.name, 'data-state': n.state },
    el('div', {}, el('b', {}, n.name), me ? ' (this node)' : ' (peer)'),
    el('div', {}, el('span', { class: `role state-${n.dead ? 'dead' : n.state}` }, n.dead ? 'dead' : n.state)),
    me ? null : el('div', { class: 'muted' }, n.heard ? `last heartbeat ${n.lastHeartbeatAgoMs} ms ago` : 'never heard'));
  $('ha-nodes').replaceChildren(node(ha.self, true), node(ha.peer, false));
  const vip = $('ha-vip');
  vip.textContent = `The VIP is held by: ${ha.vipHolder} (preferred: ${ha.preferred})`;
  vip.dataset.holder = ha.vipHolder;
  $('ha-failovers').replaceChildren(...ha.failovers.slice().reverse().slice(0, 10).map((f) =>
    el('li', {}, `${time(f.at)} ${f.from} → ${f.to}: ${f.reason}`)));
}

function draw() {
  $('mode').textContent = state.mode === 'ha' ? 'ha node' : 'director';
  const a = $('active');
  a.textContent = state.active === null ? '' : state.active ? 'active' : 'standby';
  a.className = `pill ${state.active ? 'up' : 'standby'}`;
  a.dataset.active = String(state.active);
  $('writes').hidden = !state.writable;
  $('clock').textContent = `updated ${time(state.at)}`;
  drawServices();
  drawHa();
}

const seenEvents = new Set();
const seenLadders = new Set();

function addEvent(ev) {
  // A reconnected stream sends the recent events again.
  if (seenEvents.has(ev.id)) return;
  seenEvents.add(ev.id);
  const list = $('events');
  const li = el('li', { class: `ev-${ev.kind}`, 'data-kind': ev.kind }, `${time(ev.at)} ${ev.text}`);
  if (ev.lines) li.append(el('div', { class: 'ev-lines' }, ev.lines.join('\n')));
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild.remove();
}

function addLadder(l) {
  if (seenLadders.has(l.id)) return;
  seenLadders.add(l.id);
  const box = $('ladders');
  if (box.firstElementChild && box.firstElementChild.tagName === 'P') box.replaceChildren();
  const fig = el('figure', { class: 'ladder', 'data-ladder': l.id },
    el('figcaption', {}, `${time(l.at)} ${l.title}`),
    el('img', { src: l.url, alt: `ladder of ${l.title}` }));
  box.prepend(fig);
  while (box.children.length > 3) box.lastElementChild.remove();
}

function connect() {
  const es = new EventSource('/events');
  const link = $('link');
  es.addEventListener('open', () => { link.textContent = 'live'; link.className = 'pill up'; });
  es.addEventListener('error', () => { link.textContent = 'reconnecting…'; link.className = 'pill down'; });
  es.addEventListener('state', (m) => { takeState(JSON.parse(m.data)); draw(); });
  es.addEventListener('event', (m) => addEvent(JSON.parse(m.data)));
  es.addEventListener('ladder', (m) => addLadder(JSON.parse(m.data)));
}

document.addEventListener('DOMContentLoaded', () => {
  const t = $('token');
  t.addEventListener('input', () => { token = t.value.trim(); });
  connect();
});
