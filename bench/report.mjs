// bench/report.mjs — turns the load generator's JSON lines into bench/RESULTS.md and the chart's data file.
//   node bench/report.mjs --raw bench/out/raw-full.jsonl --mode full --command "bash bench/run.sh" \
//        --out bench/RESULTS.md --dat bench/out/latency-full.dat [--pin 0] [--elapsed 600]
// Every figure is the median over the rounds (each round ran both servers, sio first, on fresh processes).
import fs from 'node:fs';
import os from 'node:os';
import { execSync } from 'node:child_process';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const rows = fs.readFileSync(args.raw, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  .filter((r) => !r.error)
  .map((r) => ({ variant: 'base', series: 'main', ...r }))  // (lines from before the labels: the main table's)
  .map((r) => (r.scenario === 'connections' && r.connected > 0 && r.server_cpu_connect_s !== undefined
    ? { ...r, server_cpu_us_per_connect: r.server_cpu_connect_s * 1e6 / r.connected } : r));

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
// A filter without `variant`/`series` means the main table's rows (the base servers, series "main"); a variant's
// rows and the base rows run beside them (series = the variant's name) are asked for by name.
const pick = (filter) => {
  const f = { variant: 'base', series: 'main', ...filter };
  return rows.filter((r) => Object.entries(f).every(([k, v]) => r[k] === v));
};
const med = (filter, field) => median(pick(filter).map((r) => r[field]));
const rounds = (filter) => pick(filter).length;
// "lo–hi" of a field over the rounds: how much the rounds disagree (the machine may be shared)
const spread = (filter, field, scale = 1, digits = 0) => {
  const v = pick(filter).map((r) => r[field] / scale).filter(Number.isFinite);
  if (!v.length) return 'n/a';
  return `${fmt(Math.min(...v), digits)}–${fmt(Math.max(...v), digits)}`;
};

const fmt = (x, digits = 0) => {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (Math.abs(x) >= 1e5 && digits === 0) return Math.round(x).toLocaleString('en-US');
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};
const ms = (us) => (Number.isNaN(us) ? 'n/a' : fmt(us / 1000, us < 10000 ? 2 : 1));
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) || b === 0 ? 'n/a' : `${fmt(a / b, 2)}×`);
const sh = (cmd) => {
  try { return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; }
};

// ---- the table -----------------------------------------------------------------------------------------------------
const lines = [];
const table = [];
const targets = [];
const targetsList = targets;  // (the cluster loop pushes the classic pairs' targets only)
const S = 'sio';
const N = 'node';
// The floor (bench/run.sh: ../shared/floor/floor_server.cpp in its two modes, servers "floor-A" and "floor-B"; plain
// WebSocket fan-out, ack and connections only). A row's floor figure is the better mode's median: the higher one for
// rates, the lower one for CPU, latency and memory; the cell names the mode.
const FA = 'floor-A';
const FB = 'floor-B';
const better = (a, b, higher) => {  // [value, 'A' | 'B'] of the two modes' figures; [NaN, ''] when neither ran
  if (Number.isNaN(a) && Number.isNaN(b)) return [NaN, ''];
  if (Number.isNaN(b)) return [a, 'A'];
  if (Number.isNaN(a)) return [b, 'B'];
  return (higher ? a >= b : a <= b) ? [a, 'A'] : [b, 'B'];
};
const floorBest = (filter, field, higher = false) =>
  better(med({ ...filter, server: FA }, field), med({ ...filter, server: FB }, field), higher);
const floorRan = rows.some((r) => r.server === FA || r.server === FB);
// ", floor A lo–hi, B lo–hi" of a field over the rounds, when the floor ran
const floorSpread = (filter, field, scale = 1, digits = 0) => (floorRan
  ? `, floor A ${spread({ ...filter, server: FA }, field, scale, digits)}, B ${spread({ ...filter, server: FB }, field, scale, digits)}` : '');
const NOFLOOR = ['', '', ''];  // a row the floor does not run (polling, wss)
// the floor's three cells of a row: its figure (and mode), sio / floor, node / floor
const floorCells = (s, n, [f, mode], format = fmt, bold = false) => {
  const b = (x) => (bold && x !== 'n/a' ? `**${x}**` : x);
  return [Number.isNaN(f) ? 'n/a' : `${b(format(f))} (${mode})`, b(ratio(s, f)), b(ratio(n, f))];
};
// the same for one field of a filter: sio's and node's medians against the floor's better mode
const floorOf = (filter, field, { higher = false, format = fmt, bold = false } = {}) =>
  floorCells(med({ ...filter, server: S }, field), med({ ...filter, server: N }, field), floorBest(filter, field, higher),
    format, bold);
// latency cells (p50 / p99 [/ max]) of the mode with the lower p99, the ratios on p99
const floorLatency = (filter, keys, bold99 = false) => {
  const [p99, mode] = floorBest(filter, 'p99_us');
  if (Number.isNaN(p99)) return ['n/a', 'n/a', 'n/a'];
  const cell = keys.map((k) => {
    const v = ms(med({ ...filter, server: `floor-${mode}` }, k));
    return k === 'p99_us' && bold99 ? `**${v}**` : v;
  }).join(' / ');
  return [`${cell} (${mode})`, `p99 ${ratio(med({ ...filter, server: S }, 'p99_us'), p99)}`,
    `p99 ${ratio(med({ ...filter, server: N }, 'p99_us'), p99)}`];
};
const row = (what, s, n, r = ratio(s, n), note = '', fl = NOFLOOR) =>
  table.push(`| ${what} | ${s} | ${n} | ${r} | ${fl.join(' | ')} | ${note} |`);

const fan = (clients, transport, phase, param) => ({ scenario: 'fanout', transport, clients, phase, param });
const phaseParams = (clients, transport, phase) =>
  [...new Set(pick({ scenario: 'fanout', transport, clients, phase }).map((r) => r.param))].sort((a, b) => a - b);

const fanLabel = (clients, transport) =>
  ({ polling: `polling fan-out C=${clients}`, wss: `fan-out over wss C=${clients}` })[transport] || `fan-out C=${clients}`;
const fanShapes = [[100, 'websocket'], [1000, 'websocket'], [5000, 'websocket'], [100, 'wss'], [1000, 'wss'], [100, 'polling']];
for (const [clients, transport] of fanShapes) {
  const label = fanLabel(clients, transport);
  const floorRuns = transport === 'websocket';  // (the floor has no polling and no TLS)
  const fl = (cells) => (floorRuns ? cells() : NOFLOOR);
  const us2 = (x) => fmt(x, 2);
  for (const w of phaseParams(clients, transport, 'window')) {
    const f = fan(clients, transport, 'window', w);
    const s = med({ ...f, server: S }, 'delivered_per_s');
    const n = med({ ...f, server: N }, 'delivered_per_s');
    row(`**${label}: delivered msg/s at saturation** (${w} broadcasts in flight)`, `**${fmt(s)}**`, `**${fmt(n)}**`,
      `**${ratio(s, n)}**`, `rounds: sio ${spread({ ...f, server: S }, 'delivered_per_s')}, node ${spread({ ...f, server: N }, 'delivered_per_s')}` +
      (floorRuns ? floorSpread(f, 'delivered_per_s') : ''),
      fl(() => floorOf(f, 'delivered_per_s', { higher: true, bold: true })));
    row(`${label}: p50 / p99 latency at saturation (ms)`,
      `${ms(med({ ...f, server: S }, 'p50_us'))} / ${ms(med({ ...f, server: S }, 'p99_us'))}`,
      `${ms(med({ ...f, server: N }, 'p50_us'))} / ${ms(med({ ...f, server: N }, 'p99_us'))}`, '', '',
      fl(() => floorLatency(f, ['p50_us', 'p99_us'])));
    const sc = med({ ...f, server: S }, 'server_cpu_us_per_msg');
    const nc = med({ ...f, server: N }, 'server_cpu_us_per_msg');
    row(`${label}: server CPU per delivered message at saturation (µs, user+sys)`, fmt(sc, 2), fmt(nc, 2),
      ratio(sc, nc), 'lower is better', fl(() => floorOf(f, 'server_cpu_us_per_msg', { format: us2 })));
    row(`${label}: load generator CPU per delivered message (µs)`,
      fmt(med({ ...f, server: S }, 'loadgen_cpu_us_per_msg'), 2),
      fmt(med({ ...f, server: N }, 'loadgen_cpu_us_per_msg'), 2), '', 'the client side of the same run',
      fl(() => [floorOf(f, 'loadgen_cpu_us_per_msg', { format: us2 })[0], '', '']));
    if (clients === 1000 && transport === 'websocket')
      targets.push(['fan-out C=1000: ≥ 3× Node\'s delivered msg/s', s / n >= 3, `${ratio(s, n)}`]);
    if (transport === 'polling') targets.push(['polling C=100: ≥ Node\'s throughput', s >= n, `${ratio(s, n)}`]);
    // what TLS costs each server: against its own plain fan-out at the same C and window (run in the same bench)
    const plain = fan(clients, 'websocket', 'window', w);
    const sp = med({ ...plain, server: S }, 'delivered_per_s');
    const np = med({ ...plain, server: N }, 'delivered_per_s');
    if (transport === 'wss' && (!Number.isNaN(sp) || !Number.isNaN(np)))
      row(`${label}: delivered msg/s at saturation, wss / plain ws (each server against its fan-out C=${clients} row)`,
        ratio(s, sp), ratio(n, np), '', 'the cost of TLS: 1 = none');
  }
  // from an open-loop sweep: the highest offered rate still delivered in full (≥ 98 %) with p99 under one second
  const sweep = phaseParams(clients, transport, 'rate');
  if (sweep.length > 2) {
    const sustained = (srv) => {
      let best = NaN;
      for (const r of sweep) {
        const f = fan(clients, transport, 'rate', r);
        const d = med({ ...f, server: srv }, 'delivered_per_s');
        const p99 = med({ ...f, server: srv }, 'p99_us');
        if (d >= 0.98 * r * clients && p99 < 1e6) best = r * clients;
      }
      return best;
    };
    const s = sustained(S);
    const n = sustained(N);
    row(`${label}: highest offered rate delivered in full with p99 < 1 s (open-loop sweep, deliveries/s)`, fmt(s), fmt(n),
      ratio(s, n), 'see the sweep table below', fl(() => floorCells(s, n, better(sustained(FA), sustained(FB), true))));
  }
  // the fixed rate of the table: the one rate phase when there is one, else the sweep's FIX rate (given in run.sh)
  const rates = phaseParams(clients, transport, 'rate');
  const fixed = rates.length === 1 ? rates[0] : rates.includes(20) ? 20 : rates[Math.floor(rates.length / 2)];
  if (fixed !== undefined) {
    const f = fan(clients, transport, 'rate', fixed);
    const g = (srv, k) => med({ ...f, server: srv }, k);
    row(`${label}: latency p50 / p99 / max at a fixed ${fixed} msg/s = ${fmt(fixed * clients)} deliveries/s (ms)`,
      `${ms(g(S, 'p50_us'))} / **${ms(g(S, 'p99_us'))}** / ${ms(g(S, 'max_us'))}`,
      `${ms(g(N, 'p50_us'))} / **${ms(g(N, 'p99_us'))}** / ${ms(g(N, 'max_us'))}`,
      `p99 ${ratio(g(S, 'p99_us'), g(N, 'p99_us'))}`,
      `p99 rounds: sio ${spread({ ...f, server: S }, 'p99_us', 1000, 1)}, node ${spread({ ...f, server: N }, 'p99_us', 1000, 1)} ms`,
      fl(() => floorLatency(f, ['p50_us', 'p99_us', 'max_us'], true)));
    // C=1000 at the fixed rate: a target row (issue 21: CPU per delivery against the floor's)
    const bold = clients === 1000 && transport === 'websocket';
    const b = (x) => (bold ? `**${x}**` : x);
    row(b(`${label}: server CPU per delivered message at ${fixed} msg/s (µs)`), b(fmt(g(S, 'server_cpu_us_per_msg'), 2)),
      b(fmt(g(N, 'server_cpu_us_per_msg'), 2)), b(ratio(g(S, 'server_cpu_us_per_msg'), g(N, 'server_cpu_us_per_msg'))),
      `lower is better; rounds: sio ${spread({ ...f, server: S }, 'server_cpu_us_per_msg', 1, 2)}, node ${spread({ ...f, server: N }, 'server_cpu_us_per_msg', 1, 2)}` +
      (floorRuns ? floorSpread(f, 'server_cpu_us_per_msg', 1, 2) : ''),
      fl(() => floorOf(f, 'server_cpu_us_per_msg', { format: us2, bold })));
    if (clients === 1000 && transport === 'websocket')
      targets.push(['fan-out C=1000: p99 ≤ ½ of Node\'s (fixed rate)', g(S, 'p99_us') <= 0.5 * g(N, 'p99_us'),
        `${ms(g(S, 'p99_us'))} ms vs ${ms(g(N, 'p99_us'))} ms`]);
  }
}

{
  const f = { scenario: 'ack', clients: 100 };
  const s = med({ ...f, server: S }, 'delivered_per_s');
  const n = med({ ...f, server: N }, 'delivered_per_s');
  if (!Number.isNaN(s) || !Number.isNaN(n)) {
    row('**ack round-trip C=100 (1 outstanding each): acks/s**', `**${fmt(s)}**`, `**${fmt(n)}**`, `**${ratio(s, n)}**`,
      `rounds: sio ${spread({ ...f, server: S }, 'delivered_per_s')}, node ${spread({ ...f, server: N }, 'delivered_per_s')}` +
      floorSpread(f, 'delivered_per_s'),
      floorOf(f, 'delivered_per_s', { higher: true, bold: true }));
    row('ack round-trip: p50 / p99 (ms)',
      `${ms(med({ ...f, server: S }, 'p50_us'))} / ${ms(med({ ...f, server: S }, 'p99_us'))}`,
      `${ms(med({ ...f, server: N }, 'p50_us'))} / ${ms(med({ ...f, server: N }, 'p99_us'))}`, '', '',
      floorLatency(f, ['p50_us', 'p99_us']));
    const sc = med({ ...f, server: S }, 'server_cpu_us_per_msg');
    const nc = med({ ...f, server: N }, 'server_cpu_us_per_msg');
    row('**ack round-trip: server CPU per ack (µs)**', `**${fmt(sc, 2)}**`, `**${fmt(nc, 2)}**`, `**${ratio(sc, nc)}**`,
      `lower is better; rounds: sio ${spread({ ...f, server: S }, 'server_cpu_us_per_msg', 1, 2)}, node ${spread({ ...f, server: N }, 'server_cpu_us_per_msg', 1, 2)}` +
      floorSpread(f, 'server_cpu_us_per_msg', 1, 2),
      floorOf(f, 'server_cpu_us_per_msg', { format: (x) => fmt(x, 2), bold: true }));
    targets.push(['ack round-trip: ≥ 2× Node\'s', s / n >= 2, ratio(s, n)]);
  }
}

{
  const f = { scenario: 'connections' };
  const c = pick(f);
  if (c.length) {
    const clients = c[0].clients;
    const g = (srv, k) => med({ ...f, server: srv }, k);
    const perRound = (srv, k) => pick({ ...f, server: srv }).map((r) => fmt(r[k])).join(', ');
    const minOf = (srv, k) => Math.min(...pick({ ...f, server: srv }).map((r) => r[k]));
    // the floor's cells that show several fields of one run: those of the mode with the lower RSS per connection
    const [, fm] = floorBest(f, 'rss_per_conn_bytes');
    const F = `floor-${fm}`;
    const floorText = (text) => (fm ? [`${text()} (${fm})`, '', ''] : ['n/a', '', '']);
    const floorHeld = [FA, FB].filter((srv) => rounds({ ...f, server: srv }))
      .map((srv) => `${srv.slice(-1)} ${fmt(minOf(srv, 'connected'))} / ${fmt(minOf(srv, 'held'))}`).join('; ');
    row(`**connections: ${fmt(clients)} WebSocket clients connected / held** (held = got one broadcast; worst round, then each round)`,
      `${fmt(minOf(S, 'connected'))} / ${fmt(minOf(S, 'held'))} (${perRound(S, 'held')})`,
      `${fmt(minOf(N, 'connected'))} / ${fmt(minOf(N, 'held'))} (${perRound(N, 'held')})`, '', '',
      [floorHeld || 'n/a', '', '']);
    row('connections: time to connect all (s, 256 handshakes at once)', fmt(g(S, 'connect_s'), 2),
      fmt(g(N, 'connect_s'), 2), ratio(g(S, 'connect_s'), g(N, 'connect_s')), 'lower is better',
      floorOf(f, 'connect_s', { format: (x) => fmt(x, 2) }));
    // the server's CPU from before the first handshake to the idle sample, over the clients connected (issue 21's row)
    const cs = g(S, 'server_cpu_us_per_connect');
    const cn = g(N, 'server_cpu_us_per_connect');
    row('**connections: server CPU per connection set-up (µs)**', `**${fmt(cs)}**`, `**${fmt(cn)}**`, `**${ratio(cs, cn)}**`,
      `lower is better; the server's CPU from before the first handshake to all connected and 2 s idle, over the connected (10 ms ticks); rounds: sio ${spread({ ...f, server: S }, 'server_cpu_us_per_connect')}, ` +
      `node ${spread({ ...f, server: N }, 'server_cpu_us_per_connect')}` + floorSpread(f, 'server_cpu_us_per_connect'),
      floorOf(f, 'server_cpu_us_per_connect', { format: (x) => fmt(x, x < 100 ? 1 : 0), bold: true }));
    row('connections: server RSS before → idle with all connected (MB)',
      `${fmt(g(S, 'rss_base_kb') / 1024, 1)} → ${fmt(g(S, 'rss_idle_kb') / 1024, 1)}`,
      `${fmt(g(N, 'rss_base_kb') / 1024, 1)} → ${fmt(g(N, 'rss_idle_kb') / 1024, 1)}`, '', '',
      floorText(() => `${fmt(g(F, 'rss_base_kb') / 1024, 1)} → ${fmt(g(F, 'rss_idle_kb') / 1024, 1)}`));
    row('**connections: RSS per idle connection (KB)**', `**${fmt(g(S, 'rss_per_conn_bytes') / 1024, 1)}**`,
      `**${fmt(g(N, 'rss_per_conn_bytes') / 1024, 1)}**`, `**${ratio(g(S, 'rss_per_conn_bytes'), g(N, 'rss_per_conn_bytes'))}**`,
      `lower is better; rounds: sio ${spread({ ...f, server: S }, 'rss_per_conn_bytes', 1024, 1)}, node ${spread({ ...f, server: N }, 'rss_per_conn_bytes', 1024, 1)}` +
      `${floorSpread(f, 'rss_per_conn_bytes', 1024, 2)} KB`,
      floorOf(f, 'rss_per_conn_bytes', { format: (x) => fmt(x / 1024, 2), bold: true }));
    row('connections: server threads before → idle', `${fmt(g(S, 'threads_base'))} → ${fmt(g(S, 'threads_idle'))}`,
      `${fmt(g(N, 'threads_base'))} → ${fmt(g(N, 'threads_idle'))}`, '', '',
      floorText(() => `${fmt(g(F, 'threads_base'))} → ${fmt(g(F, 'threads_idle'))}`));
    row('connections: server fds before → idle (each round)', `${fmt(g(S, 'fds_base'))} → ${perRound(S, 'fds_idle')}`,
      `${fmt(g(N, 'fds_base'))} → ${perRound(N, 'fds_idle')}`, '', 'the fd limit here is 20,000 (hard)',
      floorText(() => `${fmt(g(F, 'fds_base'))} → ${perRound(F, 'fds_idle')}`));
    row('connections: one broadcast to all (s)', fmt(g(S, 'broadcast_s'), 2), fmt(g(N, 'broadcast_s'), 2),
      ratio(g(S, 'broadcast_s'), g(N, 'broadcast_s')), 'lower is better',
      floorOf(f, 'broadcast_s', { format: (x) => fmt(x, 2) }));
    row('after closing all: threads / fds (time to release, s)',
      `${fmt(g(S, 'threads_closed'))} / ${fmt(g(S, 'fds_closed'))} (${fmt(g(S, 'release_s'), 2)})`,
      `${fmt(g(N, 'threads_closed'))} / ${fmt(g(N, 'fds_closed'))} (${fmt(g(N, 'release_s'), 2)})`, '', '',
      floorText(() => `${fmt(g(F, 'threads_closed'))} / ${fmt(g(F, 'fds_closed'))} (${fmt(g(F, 'release_s'), 2)})`));
    row('after closing all: RSS (MB) → after one more connection',
      `${fmt(g(S, 'rss_closed_kb') / 1024, 1)} → ${fmt(g(S, 'rss_after_extra_kb') / 1024, 1)}`,
      `${fmt(g(N, 'rss_closed_kb') / 1024, 1)} → ${fmt(g(N, 'rss_after_extra_kb') / 1024, 1)}`, '',
      'sioserver detaches its threads and trims its heap when most connections have ended',
      floorText(() => `${fmt(g(F, 'rss_closed_kb') / 1024, 1)} → ${fmt(g(F, 'rss_after_extra_kb') / 1024, 1)}`));
    const held = minOf(S, 'held') >= clients && minOf(S, 'connected') >= clients;
    targets.push([`${fmt(clients)} clients held (every round)`, held,
      `${perRound(S, 'held')} of ${fmt(clients)} in the ${rounds({ ...f, server: S })} rounds`]);
    targets.push(['RSS per idle connection ≤ Node\'s', g(S, 'rss_per_conn_bytes') <= g(N, 'rss_per_conn_bytes'),
      `${fmt(g(S, 'rss_per_conn_bytes') / 1024, 1)} KB vs ${fmt(g(N, 'rss_per_conn_bytes') / 1024, 1)} KB`]);
    const released = g(S, 'threads_closed') <= g(S, 'threads_base') + 2 && g(S, 'fds_closed') <= g(S, 'fds_base') + 2;
    const rssBack = g(S, 'rss_after_extra_kb') - g(S, 'rss_base_kb');
    targets.push(['everything released on close (threads, fds; RSS)', released && rssBack < 0.1 * (g(S, 'rss_idle_kb') - g(S, 'rss_base_kb')),
      `threads ${fmt(g(S, 'threads_closed'))}, fds ${fmt(g(S, 'fds_closed'))}; RSS ${fmt(g(S, 'rss_after_extra_kb') / 1024, 1)} MB ` +
      `vs ${fmt(g(S, 'rss_base_kb') / 1024, 1)} MB at start`]);
  }
}

// ---- variants: the same load with one feature on, against the base servers run beside them (bench/run.sh compare)
// What each variant is called in the report; a variant not named here is shown by its label.
const variantTitles = {
  recovery: ['connection state recovery on', 'recovery'],
  admin: ['the admin UI connected (instrumentation in production mode)', 'the admin UI'],
};  // [in titles, in the cost line]
const variantTables = [];
for (const series of [...new Set(rows.map((r) => r.series))].filter((x) => x !== 'main').sort()) {
  const [title, short] = variantTitles[series] || [`${series} on`, series];
  const vt = [];
  const vrow = (what, s, n, r = ratio(s, n), note = '') => vt.push(`| ${what} | ${s} | ${n} | ${r} | ${note} |`);
  const inSeries = rows.filter((r) => r.series === series && r.scenario === 'fanout');
  const shapes = [...new Set(inSeries.map((r) => `${r.clients}|${r.transport}`))];
  for (const shape of shapes) {
    const [clientsText, transport] = shape.split('|');
    const clients = Number(clientsText);
    const label = fanLabel(clients, transport);
    const base = (phase, param) => ({ scenario: 'fanout', transport, clients, phase, param, series, variant: 'base' });
    const on = (phase, param) => ({ ...base(phase, param), variant: series });
    const g = (f, srv, k) => med({ ...f, server: srv }, k);
    const params = (phase) => [...new Set(inSeries.filter((r) => r.phase === phase && r.clients === clients &&
      r.transport === transport).map((r) => r.param))].sort((a, b) => a - b);
    // on/off of one field, round by round (the two ran back to back on fresh servers)
    const perRound = (phase, param, srv, k) => pick({ ...on(phase, param), server: srv }).map((r) => {
      const off = pick({ ...base(phase, param), server: srv, round: r.round })[0];
      return off && off[k] ? fmt(r[k] / off[k], 2) : 'n/a';
    }).join(', ');
    const offsetShare = (f, srv) => {
      const rs = pick({ ...f, server: srv });
      const d = rs.reduce((a, r) => a + (r.delivered || 0), 0);
      return d > 0 && rs.every((r) => r.offset_events !== undefined)
        ? rs.reduce((a, r) => a + r.offset_events, 0) / d : NaN;
    };
    const pct = (x) => (Number.isNaN(x) ? 'n/a' : `${fmt(100 * x, x < 0.995 && x > 0 ? 1 : 0)} %`);
    for (const w of params('window')) {
      const fOn = on('window', w);
      const fOff = base('window', w);
      const sOn = g(fOn, S, 'delivered_per_s'), nOn = g(fOn, N, 'delivered_per_s');
      const sOff = g(fOff, S, 'delivered_per_s'), nOff = g(fOff, N, 'delivered_per_s');
      const scOn = g(fOn, S, 'server_cpu_us_per_msg'), ncOn = g(fOn, N, 'server_cpu_us_per_msg');
      const scOff = g(fOff, S, 'server_cpu_us_per_msg'), ncOff = g(fOff, N, 'server_cpu_us_per_msg');
      vrow(`**${label}, ${title}: delivered msg/s at saturation** (${w} broadcasts in flight)`, `**${fmt(sOn)}**`,
        `**${fmt(nOn)}**`, `**${ratio(sOn, nOn)}**`,
        `rounds: sio ${spread({ ...fOn, server: S }, 'delivered_per_s')}, node ${spread({ ...fOn, server: N }, 'delivered_per_s')}`);
      vrow(`${label}, ${title}: p50 / p99 latency at saturation (ms)`,
        `${ms(g(fOn, S, 'p50_us'))} / ${ms(g(fOn, S, 'p99_us'))}`, `${ms(g(fOn, N, 'p50_us'))} / ${ms(g(fOn, N, 'p99_us'))}`, '');
      vrow(`${label}, ${title}: server CPU per delivered message at saturation (µs, user+sys)`, fmt(scOn, 2),
        fmt(ncOn, 2), ratio(scOn, ncOn), 'lower is better');
      vrow(`${label}, the same with it off (run beside it): delivered msg/s at saturation; server CPU per message (µs)`,
        `${fmt(sOff)}; ${fmt(scOff, 2)}`, `${fmt(nOff)}; ${fmt(ncOff, 2)}`, ratio(sOff, nOff),
        `rounds: sio ${spread({ ...fOff, server: S }, 'delivered_per_s')}, node ${spread({ ...fOff, server: N }, 'delivered_per_s')}`);
      vrow(`**cost of ${short} on sioserver: on/off ratio of the delivered rate at saturation (and CPU per message)**`,
        `**${ratio(sOn, sOff)}** (CPU ${ratio(scOn, scOff)})`, `${ratio(nOn, nOff)} (CPU ${ratio(ncOn, ncOff)})`, '',
        `Node's column: the same for Node; on/off per round: sio ${perRound('window', w, S, 'delivered_per_s')}, ` +
        `node ${perRound('window', w, N, 'delivered_per_s')}`);
      vrow(`${label}: server RSS after the saturation phase, off → on (MB)`,
        `${fmt(g(fOff, S, 'server_rss_kb') / 1024, 1)} → ${fmt(g(fOn, S, 'server_rss_kb') / 1024, 1)}`,
        `${fmt(g(fOff, N, 'server_rss_kb') / 1024, 1)} → ${fmt(g(fOn, N, 'server_rss_kb') / 1024, 1)}`, '');
      const anyOffsets = inSeries.some((r) => r.offset_events > 0);
      if (anyOffsets || series === 'recovery') {
        const shares = [offsetShare(fOn, S), offsetShare(fOff, S), offsetShare(fOn, N), offsetShare(fOff, N)];
        const ok = shares[0] > 0.999 && shares[2] > 0.999 && shares[1] === 0 && shares[3] === 0;
        vrow(`${label}: deliveries whose event carried an offset after the payload, on / off`,
          `${pct(shares[0])} / ${pct(shares[1])}`, `${pct(shares[2])} / ${pct(shares[3])}`, '',
          ok ? 'the check that the variant was on, and only there' : '**not 100 % / 0 %: the variant was not what it says**');
      }
      targets.push([`${label}, ${title}: sioserver's delivered msg/s at saturation within 10 % of its own with it off (same run)`,
        Number.isNaN(sOn / sOff) ? null : sOn >= 0.9 * sOff,
        `${ratio(sOn, sOff)} (${fmt(sOn)} vs ${fmt(sOff)}; CPU per message ${ratio(scOn, scOff)})`]);
    }
    for (const rate of params('rate')) {
      const fOn = on('rate', rate);
      const fOff = base('rate', rate);
      vrow(`${label}, ${title}: latency p50 / p99 / max at a fixed ${rate} msg/s = ${fmt(rate * clients)} deliveries/s (ms)`,
        `${ms(g(fOn, S, 'p50_us'))} / **${ms(g(fOn, S, 'p99_us'))}** / ${ms(g(fOn, S, 'max_us'))}`,
        `${ms(g(fOn, N, 'p50_us'))} / **${ms(g(fOn, N, 'p99_us'))}** / ${ms(g(fOn, N, 'max_us'))}`,
        `p99 ${ratio(g(fOn, S, 'p99_us'), g(fOn, N, 'p99_us'))}`,
        `off beside it: sio ${ms(g(fOff, S, 'p50_us'))} / ${ms(g(fOff, S, 'p99_us'))}, node ${ms(g(fOff, N, 'p50_us'))} / ${ms(g(fOff, N, 'p99_us'))} (p50 / p99)`);
      const scOn = g(fOn, S, 'server_cpu_us_per_msg'), ncOn = g(fOn, N, 'server_cpu_us_per_msg');
      const scOff = g(fOff, S, 'server_cpu_us_per_msg'), ncOff = g(fOff, N, 'server_cpu_us_per_msg');
      vrow(`${label}, ${title}: server CPU per delivered message at ${rate} msg/s (µs; on/off)`,
        `${fmt(scOn, 2)} (${ratio(scOn, scOff)})`, `${fmt(ncOn, 2)} (${ratio(ncOn, ncOff)})`, ratio(scOn, ncOn),
        `off beside it: sio ${fmt(scOff, 2)}, node ${fmt(ncOff, 2)}; one 10 ms CPU tick is ` +
        `${fmt(1e4 / g(fOn, S, 'delivered'), 2)} µs per message here`);
    }
  }
  if (vt.length) variantTables.push([series, title, vt]);
}

// ---- the cluster: two nodes of each server, one Redis per pair ---------------------------------------------------------
const clusterTable = [];
const crow = (what, s, n, r = ratio(s, n), note = '') => clusterTable.push(`| ${what} | ${s} | ${n} | ${r} | ${note} |`);
const clusterParams = (phase) =>
  [...new Set(pick({ scenario: 'cluster', phase }).map((r) => r.param))].sort((a, b) => a - b);
let clusterClients = NaN;
// The pairs on the classic Redis adapter (series "main"), then on the Redis Streams adapter (series "streams":
// bench/run.sh runs both pairs again with --adapter streams); the targets are the classic pairs'.
for (const [series, variant, adapterLabel] of [['main', 'base', ''], ['streams', 'streams', ' (Redis Streams adapter)']]) {
  const c = pick({ scenario: 'cluster', series, variant });
  if (!c.length) continue;
  clusterClients = c[0].clients;
  const targets = series === 'main' ? targetsList : [];
  const clusterParams = (phase) =>
    [...new Set(pick({ scenario: 'cluster', phase, series, variant }).map((r) => r.param))].sort((a, b) => a - b);
  const cl = (phase, param) => ({ scenario: 'cluster', phase, param, series, variant });
  const g = (f, srv, k) => med({ ...f, server: srv }, k);
  const pair = (f, k, digits = 0) => [fmt(g(f, S, k), digits), fmt(g(f, N, k), digits)];
  const cpuNote = (f) => `node A / node B: sio ${fmt(g(f, S, 'server_a_cpu_s'), 2)} / ${fmt(g(f, S, 'server_b_cpu_s'), 2)} s, ` +
    `node ${fmt(g(f, N, 'server_a_cpu_s'), 2)} / ${fmt(g(f, N, 'server_b_cpu_s'), 2)} s`;
  const perMsg = (f, srv) => g(f, srv, 'server_cpu_us_per_msg');  // both nodes' CPU over all deliveries (loadgen)
  const label = `cluster C=${fmt(clusterClients)}${adapterLabel}`;
  for (const w of clusterParams('window')) {
    const f = cl('window', w);
    const s = g(f, S, 'delivered_per_s');
    const n = g(f, N, 'delivered_per_s');
    crow(`**${label}: delivered msg/s at saturation, both nodes** (${w} broadcasts in flight)`, `**${fmt(s)}**`,
      `**${fmt(n)}**`, `**${ratio(s, n)}**`,
      `rounds: sio ${spread({ ...f, server: S }, 'delivered_per_s')}, node ${spread({ ...f, server: N }, 'delivered_per_s')}`);
    const sb = g(f, S, 'delivered_b_per_s');
    const nb = g(f, N, 'delivered_b_per_s');
    crow(`**${label}: of these, delivered on node B (cross-node: through Redis), msg/s**`, `**${fmt(sb)}**`, `**${fmt(nb)}**`,
      `**${ratio(sb, nb)}**`, 'the emitter is on node A');
    crow(`${label}: p50 / p99 latency at saturation, all clients / node B's (ms)`,
      `${ms(g(f, S, 'p50_us'))} / ${ms(g(f, S, 'p99_us'))}; B ${ms(g(f, S, 'p50_b_us'))} / ${ms(g(f, S, 'p99_b_us'))}`,
      `${ms(g(f, N, 'p50_us'))} / ${ms(g(f, N, 'p99_us'))}; B ${ms(g(f, N, 'p50_b_us'))} / ${ms(g(f, N, 'p99_b_us'))}`, '');
    crow(`**${label}: server CPU per delivered message at saturation (µs, both nodes, user+sys)**`,
      `**${fmt(perMsg(f, S), 2)}**`, `**${fmt(perMsg(f, N), 2)}**`, ratio(perMsg(f, S), perMsg(f, N)),
      `lower is better; ${cpuNote(f)}`);
    crow(`**${label}: Redis CPU at saturation (cores busy; µs per broadcast)**`,
      `**${fmt(g(f, S, 'redis_cores'), 3)}**; ${fmt(g(f, S, 'redis_cpu_us_per_broadcast'), 1)}`,
      `**${fmt(g(f, N, 'redis_cores'), 3)}**; ${fmt(g(f, N, 'redis_cpu_us_per_broadcast'), 1)}`,
      ratio(g(f, S, 'redis_cores'), g(f, N, 'redis_cores')), series === 'main'
        ? 'one PUBLISH per broadcast, one subscriber gets it' : 'one XADD per broadcast, read by both nodes\' XREAD');
    crow(`${label}: load generator CPU per delivered message (µs)`, ...pair(f, 'loadgen_cpu_us_per_msg', 2), '',
      'the client side of the same run');
    targets.push([`cluster: ≥ 3× the Node pair's cross-node delivered msg/s (node B's, saturation)`,
      Number.isNaN(sb / nb) ? null : sb / nb >= 3, `${ratio(sb, nb)} (${fmt(sb)} vs ${fmt(nb)})`]);
  }
  for (const rate of clusterParams('rate')) {
    const f = cl('rate', rate);
    const full = (srv) => {  // did this pair sustain the rate? (everything delivered, as in the sweep's rule)
      const off = g(f, srv, 'offered_per_s');
      const d = g(f, srv, 'delivered_per_s');
      if (Number.isNaN(d)) return 'n/a';
      return `${fmt(100 * d / off, 1)} % of offered delivered, ${fmt(g(f, srv, 'lost_msgs'))} lost`;
    };
    crow(`**${label}: latency p50 / p99 / max at a fixed ${rate} msg/s = ${fmt(rate * clusterClients)} deliveries/s, all clients (ms)**`,
      `${ms(g(f, S, 'p50_us'))} / **${ms(g(f, S, 'p99_us'))}** / ${ms(g(f, S, 'max_us'))}`,
      `${ms(g(f, N, 'p50_us'))} / **${ms(g(f, N, 'p99_us'))}** / ${ms(g(f, N, 'max_us'))}`,
      `p99 ${ratio(g(f, S, 'p99_us'), g(f, N, 'p99_us'))}`,
      `p99 rounds: sio ${spread({ ...f, server: S }, 'p99_us', 1000, 1)}, node ${spread({ ...f, server: N }, 'p99_us', 1000, 1)} ms; ` +
      `sio ${full(S)}; node ${full(N)}`);
    crow(`${label}: latency p50 / p99 at ${rate} msg/s, node A's clients / node B's (ms)`,
      `A ${ms(g(f, S, 'p50_a_us'))} / ${ms(g(f, S, 'p99_a_us'))}; B ${ms(g(f, S, 'p50_b_us'))} / ${ms(g(f, S, 'p99_b_us'))}`,
      `A ${ms(g(f, N, 'p50_a_us'))} / ${ms(g(f, N, 'p99_a_us'))}; B ${ms(g(f, N, 'p50_b_us'))} / ${ms(g(f, N, 'p99_b_us'))}`,
      `B's p99 ${ratio(g(f, S, 'p99_b_us'), g(f, N, 'p99_b_us'))}`, 'B − A: the hop through Redis');
    crow(`${label}: server CPU per delivered message at ${rate} msg/s (µs, both nodes)`, fmt(perMsg(f, S), 2),
      fmt(perMsg(f, N), 2), ratio(perMsg(f, S), perMsg(f, N)), `lower is better; ${cpuNote(f)}`);
    crow(`${label}: Redis CPU at ${rate} msg/s (cores busy; µs per broadcast)`,
      `${fmt(g(f, S, 'redis_cores'), 3)}; ${fmt(g(f, S, 'redis_cpu_us_per_broadcast'), 1)}`,
      `${fmt(g(f, N, 'redis_cores'), 3)}; ${fmt(g(f, N, 'redis_cpu_us_per_broadcast'), 1)}`,
      ratio(g(f, S, 'redis_cores'), g(f, N, 'redis_cores')),
      'includes Redis\'s own timers (hz 10; ~0.0015 cores idle with four clients here), most of it at this rate');
    targets.push([`cluster: p99 at the fixed ${rate} msg/s ≤ the Node pair's`,
      Number.isNaN(g(f, S, 'p99_us') / g(f, N, 'p99_us')) ? null : g(f, S, 'p99_us') <= g(f, N, 'p99_us'),
      `${ms(g(f, S, 'p99_us'))} ms vs ${ms(g(f, N, 'p99_us'))} ms`]);
  }
}

// ---- machine and versions ------------------------------------------------------------------------------------------
const cpuModel = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
// (in the cluster rows, "other" excludes both nodes and Redis)
const other = median(rows.filter((r) => r.other_cpu_cores !== undefined).map((r) => r.other_cpu_cores));
const otherMax = Math.max(...rows.filter((r) => r.other_cpu_cores !== undefined).map((r) => r.other_cpu_cores), 0);
// the floor's source when it ran (run.sh --floor; "none" or absent: it did not), and whether any floor line is here
const floorSrc = floorRan && args.floor && args.floor !== 'none' ? args.floor : '';
const sioVersion = JSON.parse(fs.readFileSync('node_modules/socket.io/package.json', 'utf8')).version;
const commit = sh('git rev-parse --short HEAD') + (sh('git status --porcelain sioserver.hpp') ? ' (sioserver.hpp modified)' : '');

lines.push('# Benchmark: sioserver vs Node socket.io');
lines.push('');
lines.push(`Generated by \`${args.command}\` (${args.mode} run, ${args.elapsed || '?'} s) on ${new Date().toISOString()}.`);
lines.push('');
lines.push('| machine | |');
lines.push('|---|---|');
lines.push(`| CPU | ${os.cpus().length} × ${cpuModel} (nproc ${sh('nproc')}) |`);
lines.push(`| memory | ${fmt(os.totalmem() / 2 ** 30, 1)} GiB; \`ulimit -n\` ${sh('bash -c "ulimit -Hn"')} (hard) |`);
lines.push(`| kernel | ${os.release()} |`);
lines.push(`| sioserver | sioserver.hpp at ${commit}, g++ ${sh('g++ -dumpfullversion')} -O2 -DNDEBUG, cpp-httplib ${sh('pkg-config --modversion cpp-httplib')}, 64 KiB thread stacks |`);
lines.push(`| Node | node ${process.version}, socket.io ${sioVersion} (ws transport, no perMessageDeflate) |`);
if (table.length) {
  const src = floorSrc ? `${floorSrc} (sha256 ${sh(`sha256sum '${floorSrc}' | cut -c1-12`)})` : 'floor_server.cpp';
  lines.push(`| floor | ${floorRan ? `${src}, g++ -O2 -DNDEBUG, modes A and B` : 'not run (no floor source)'} |`);
}
const wssRows = rows.filter((r) => r.transport === 'wss');
if (wssRows.length) {
  const sessions = [...new Set(wssRows.map((r) => r.tls).filter(Boolean))].join('; ') || '?';
  lines.push(`| TLS (fan-out over wss) | ${sh('openssl version')}; one self-signed EC P-256 certificate for IP 127.0.0.1 ` +
    `served by both (sio: \`opt.tls\`, Node: \`https.createServer\` with Node's own OpenSSL ${process.versions.openssl}); ` +
    `the load generator verifies it (its CA) in every handshake; negotiated: ${sessions} |`);
}
if (clusterTable.length) {
  const npmVersion = (name) => {
    try { return JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, 'utf8')).version; } catch { return '?'; }
  };
  const deb = (name) => sh(`dpkg-query -W -f='\${Version}' ${name}`);
  lines.push(`| cluster | redis-server ${sh('redis-server --version').replace(/^Redis server v=(\S+).*$/, '$1')} (one per pair, no persistence); ` +
    `sio: sioserver_redis.hpp${sh('git status --porcelain sioserver_redis.hpp') ? ' (modified)' : ''}, hiredis ${deb('libhiredis-dev')}, ` +
    `msgpack-cxx ${deb('libmsgpack-cxx-dev')}; Node: @socket.io/redis-adapter ${npmVersion('@socket.io/redis-adapter')}, ` +
    `redis ${npmVersion('redis')} |`);
}
lines.push(`| placement | ${args.pin === '1' ? 'server pinned to CPU 0, load generator to CPU 1 (taskset)' : 'not pinned: server and load generator share the 2 cores'} |`);
lines.push(`| other load on the machine | median ${fmt(other, 2)} of the 2 cores busy with other processes during the measurements (max ${fmt(otherMax, 2)}) — the figures below are what was left for server + load generator |`);
lines.push('');
lines.push('Each figure is the median of the rounds; every round started a fresh server process, and the servers ran ' +
  'alternately (sio, node, sio, node, …; in the plain WebSocket scenarios sio, node, floor A, floor B, …). ' +
  'Ratio = sio / node. Bold rows are the ones the targets are about.');
if (table.length) lines.push('');
if (table.length) lines.push('**The floor** (`floor_server.cpp`, from `../shared/floor/` beside the repository, built at each run, not part ' +
  'of the project) is a one-thread epoll relay that does the least work any server can do for this WebSocket traffic: ' +
  'a measuring stick, not a design. It ran in its two modes (A: one `send()` per recipient per message; B: gathered ' +
  'per epoll wake-up, one `send()` per recipient); its column is the better mode\'s median (the higher rate, the lower ' +
  'CPU, latency or memory; the mode in parentheses), and sio/floor, node/floor compare each server with it. It has ' +
  'no polling and no TLS: no floor in those rows, nor in the variants and the cluster.' +
  (floorRan ? '' : ' **It did not run here** (no floor source): its column says n/a.'));
lines.push('');
if (table.length) {  // (a `run.sh --cluster` report has the cluster table only)
  lines.push('| measurement | sioserver | Node socket.io 4.8 | sio/node | floor (best of A/B) | sio/floor | node/floor | note |');
  lines.push('|---|---|---|---|---|---|---|---|');
  lines.push(...table);
  lines.push('');
}
// What the model itself costs: bench/thread_cost.cpp's lines (run.sh runs it once per round, no server in it), beside
// the main table's rows that pay the same things in sioserver: a thread start per connection, a wake-up per message.
const threadCost = rows.filter((r) => r.scenario === 'thread_cost');
if (threadCost.length) {
  const tc = (k) => median(threadCost.map((r) => r[k]));
  const tcRounds = (k) => {
    const v = threadCost.map((r) => r[k]).filter(Number.isFinite);
    return v.length > 1 ? ` (${fmt(Math.min(...v), 1)}–${fmt(Math.max(...v), 1)})` : '';
  };
  const fl = ([f, mode], digits) => (Number.isNaN(f) ? 'n/a' : `${fmt(f, digits)} (${mode})`);
  const conn = { scenario: 'connections' };
  const ack = { scenario: 'ack', clients: 100 };
  const connDigits = (x) => (x < 100 ? 1 : 0);
  const sConn = med({ ...conn, server: S }, 'server_cpu_us_per_connect');
  const fConn = floorBest(conn, 'server_cpu_us_per_connect');
  const sAck = med({ ...ack, server: S }, 'server_cpu_us_per_msg');
  const fAck = floorBest(ack, 'server_cpu_us_per_msg');
  const threads = [...new Set(threadCost.map((r) => fmt(r.threads)))].join(', ');
  const stacks = [...new Set(threadCost.map((r) => r.stack_kb))].join(', ');
  lines.push('## What the model itself costs (bench/thread_cost.cpp)');
  lines.push('');
  const runs = threadCost.length > 1 ? `${threadCost.length} runs (lo–hi in parentheses)` : '1 run';
  lines.push(`\`build/thread_cost --json\` with no Socket.IO in it: ${threads} threads with ${stacks} KiB stacks ` +
    (stacks === '64' ? '(as `sio_bench`\'s) ' : '') + 'each start and sleep in `recv()` on a loopback connection, ' +
    'answer one byte at a time, and end when it closes; process CPU (user + sys) as the bench counts a server\'s, ' +
    `the median of ${runs}. These are the per-connection and per-message price of a thread per connection on this ` +
    'machine (a thread start, and its end, per connection; a wake-up per message), which an event loop (the floor, ' +
    'Node) does not pay. Beside them, the main table\'s figures for the same events (a connection set up, an ack).');
  lines.push('');
  lines.push('| a thread per connection | thread_cost (µs) | main table row | sioserver (µs) | floor, best of A/B ' +
    '(µs) |');
  lines.push('|---|---|---|---|---|');
  lines.push(`| start a thread that sleeps in \`recv()\` | ${fmt(tc('start_us'), 1)}${tcRounds('start_us')} | ` +
    `server CPU per connection set-up | ${Number.isNaN(sConn) ? 'n/a' : fmt(sConn, connDigits(sConn))} | ` +
    `${fl(fConn, connDigits(fConn[0]))} |`);
  lines.push(`| one message in and its answer out (the woken thread's CPU) | ${fmt(tc('message_us'), 1)}` +
    `${tcRounds('message_us')} | server CPU per ack | ${fmt(sAck, 2)} | ${fl(fAck, 2)} |`);
  lines.push(`| the thread's end (its connection closed) | ${fmt(tc('end_us'), 1)}${tcRounds('end_us')} | | | |`);
  lines.push('');
}
for (const [series, title, vt] of variantTables) {
  lines.push(`## Variant "${series}": ${title}`);
  lines.push('');
  const how = {
    recovery: '`BENCH_RECOVERY=1` (`opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{}`; Node: ' +
      '`connectionStateRecovery: {}`, both with the reference\'s defaults: every relayed event gets an offset as its ' +
      'last argument and is kept for 2 minutes)',
    admin: '`--admin production` (`sio::instrument(io, {auth: false, mode: "production"})`; Node: ' +
      '`instrument(io, {auth: false, mode: "production"})` from `@socket.io/admin-ui` 0.5.1), with an admin client ' +
      '(`bench/admin_watch.mjs`, as the dashboard) connected to `/admin` for the whole run',
  }[series];
  lines.push(`The same servers started with ${how || `the variant "${series}" on`}, against the same servers with it off under the same load: in each round and for ` +
    'each server the two ran back to back on fresh processes, in turn first (`bench/run.sh`: `compare`). ' +
    'Ratio = sio / node; "on/off" compares a server with itself.');
  lines.push('');
  lines.push('| measurement | sioserver | Node socket.io 4.8 | ratio | note |');
  lines.push('|---|---|---|---|---|');
  lines.push(...vt);
  lines.push('');
}
if (clusterTable.length) {
  lines.push(`## Cluster: two nodes and a Redis per pair (C = ${fmt(clusterClients)})`);
  lines.push('');
  lines.push('Two sioserver nodes (`sioserver_redis.hpp`) against two Node nodes (`@socket.io/redis-adapter`), each pair ' +
    'with its own `redis-server`, every process fresh for every case. The clients alternate between node A and node B, ' +
    'all in room `bench`; the emitter is on node A, and node A\'s relay reaches node B\'s clients only through Redis. ' +
    'Server CPU is both nodes\' together. Ratio = sio / node.');
  lines.push('');
  lines.push('| measurement | sioserver × 2 | Node socket.io 4.8 × 2 | ratio | note |');
  lines.push('|---|---|---|---|---|');
  lines.push(...clusterTable);
  lines.push('');
}
lines.push('## Targets');
lines.push('');
lines.push('| target | met? | measured |');
lines.push('|---|---|---|');
for (const [what, ok, detail] of targets)
  lines.push(`| ${what} | ${ok === null ? 'not measured' : ok ? 'yes' : '**no**'} | ${detail} |`);
lines.push('');
// chart data: offered deliveries/s, then p50 and p99 (ms) of each server
const rates = phaseParams(1000, 'websocket', 'rate');
const dat = ['# offered_deliveries_per_s sio_p50_ms sio_p99_ms node_p50_ms node_p99_ms sio_delivered node_delivered'];
if (rates.length) {
  lines.push('## Latency against offered rate (fan-out, C = 1000)');
  lines.push('');
  lines.push('![p50 and p99 latency against offered deliveries per second](results.png)');
  lines.push('');
  lines.push('| offered (deliveries/s) | sio delivered/s | sio p50 / p99 (ms) | node delivered/s | node p50 / p99 (ms) |');
  lines.push('|---|---|---|---|---|');
}
for (const r of rates) {
  const f = fan(1000, 'websocket', 'rate', r);
  const v = (srv, k) => med({ ...f, server: srv }, k);
  const offered = r * 1000;
  dat.push([offered, v(S, 'p50_us') / 1000, v(S, 'p99_us') / 1000, v(N, 'p50_us') / 1000, v(N, 'p99_us') / 1000,
    v(S, 'delivered_per_s'), v(N, 'delivered_per_s')].map((x) => (Number.isNaN(x) ? '?' : String(x))).join(' '));
  lines.push(`| ${fmt(offered)} | ${fmt(v(S, 'delivered_per_s'))} | ${ms(v(S, 'p50_us'))} / ${ms(v(S, 'p99_us'))} | ` +
    `${fmt(v(N, 'delivered_per_s'))} | ${ms(v(N, 'p50_us'))} / ${ms(v(N, 'p99_us'))} |`);
}
fs.writeFileSync(args.dat, dat.join('\n') + '\n');
lines.push('');

lines.push('## How it was measured');
lines.push('');
lines.push('- **Load generator** (`bench/loadgen.cpp`): one process, one epoll thread, speaking Engine.IO v4 / Socket.IO v5 ' +
  'itself (masked WebSocket frames on `/socket.io/?EIO=4&transport=websocket`, or HTTP/1.1 keep-alive long-polling ' +
  'with a GET and a POST connection per client). Each message carries `{"t":<CLOCK_MONOTONIC ns>,"seq":N}`; latency ' +
  'is the clock when the bytes are read minus `t` (same machine, same clock). In rate phases `t` is the *scheduled* ' +
  'send time, so a late sender counts against the latency instead of hiding it.');
lines.push('- **Fan-out**: every client joins room `bench`; client 0 emits `chat message`; the server relays it to the room ' +
  '(sender included), so one emit is C deliveries. *Saturation* keeps W broadcasts in flight (the next emit goes out ' +
  'when one has reached all C clients) and reports delivered messages per second; the *fixed rate* is a rate both ' +
  'servers sustain. Each phase has a warm-up that is not measured.');
if (variantTables.length) lines.push('- **Variants** (connection state recovery, the admin UI): the same fan-out with the servers started with the feature on ' +
  '(`BENCH_RECOVERY=1`, `--admin production`), each round running the base server and the variant back to back; the load generator ' +
  'labels the lines (`--variant`, `--series`) and counts the relayed events that carry an offset after the payload.');
if (wssRows.length) lines.push('- **Fan-out over wss**: the same fan-out with both servers on https/wss ' +
  '(`--tls-cert`/`--tls-key`, one certificate made by `openssl` into `bench/out/tls/` at each run) and the load ' +
  'generator\'s clients on TLS (`--transport wss --ca`: OpenSSL, the certificate verified for 127.0.0.1, one full ' +
  'handshake per client, no session resumption); the phases are those of the plain fan-out at the same C, and the "wss / plain ws" row ' +
  'compares each server with itself.');
lines.push('- **Ack round-trip**: 100 clients each keep one `echo` event with an ack outstanding (closed loop).');
if (floorRan) lines.push('- **The floor**: `build/floor_server --port 0 --mode A|B` under the same load generator commands as the ' +
  'servers (`--server-name floor-A|floor-B`), in the plain WebSocket fan-out, ack and connections scenarios, each ' +
  'round after sio and node, on fresh processes.');
lines.push('- **Cluster**: `loadgen --scenario cluster` opens clients alternately on node A (`--port`) and node B ' +
  '(`--port2`); client 0, the emitter, is on A; window and rate phases as in fan-out, a message counting as delivered ' +
  'when all clients of both nodes have it. Each node is started with `--redis-port` of its pair\'s Redis, and the ' +
  'load starts once both are subscribed (`PUBSUB NUMSUB socket.io-request#/#` = 2). Server CPU: both nodes\' ' +
  '`/proc/PID/stat` over the measured window; Redis CPU: the sum of `/proc/PID/task/*/schedstat` (ns resolution: a ' +
  'few ms per phase do not show in 10 ms ticks), per broadcast = over the broadcasts emitted in the window.');
lines.push('- **Connections**: at most 256 handshakes in flight; *held* = clients that received one broadcast after 2 s ' +
  'idle; RSS per connection = (RSS idle − RSS before) / connections; CPU per connection set-up = the server\'s CPU ' +
  'from before the first handshake to the idle sample (all connected, 2 s idle) / connections; then every client closes and the load generator ' +
  'waits for the server\'s threads and fds to come back.');
lines.push('- **CPU**: the server\'s utime+stime from `/proc/PID/stat`, RSS and Threads from `/proc/PID/status`, fds from ' +
  '`/proc/PID/fd`; the load generator\'s own CPU from `getrusage`. *Other load* is the machine\'s busy time ' +
  '(`/proc/stat`) minus both: this machine can be shared, and a busy neighbour shows there.');
lines.push('- Raw data: one JSON line per measured phase in `bench/out/raw-*.jsonl`.');
lines.push('');
lines.push('Commands:');
lines.push('');
lines.push('```sh');
lines.push('bash bench/run.sh            # full run: 3 rounds (~17 minutes, < 22)');
lines.push('bash bench/run.sh --quick    # 1 round, shorter phases (~3 minutes, < 4)');
lines.push('bash bench/run.sh --wss      # only the fan-out over wss (bench/out/RESULTS-wss-full.md); --cluster likewise');
lines.push('# what it runs: the builds, then per scenario and round a fresh server and one load generator run');
lines.push('g++ -std=c++17 -O2 -DNDEBUG -DSIO_BENCH_ADMIN -o build/sio_bench bench/servers/sio_bench.cpp $(pkg-config --cflags --libs cpp-httplib) -pthread -lcrypt $(pkg-config --libs openssl)');
lines.push('g++ -std=c++17 -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Werror -Ibench -o build/loadgen bench/loadgen.cpp $(pkg-config --libs openssl)');
if (wssRows.length)
  lines.push('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=sioserver bench" ' +
    '-addext "subjectAltName=IP:127.0.0.1" -keyout bench/out/tls/key.pem -out bench/out/tls/cert.pem   # for wss');
lines.push('build/sio_bench --port 0      # or: node bench/servers/node_bench.js --port 0');
if (floorSrc) {
  lines.push(`g++ -std=c++17 -O2 -DNDEBUG -o build/floor_server ${floorSrc}   # the floor, from outside the repository`);
  lines.push('build/floor_server --port 0 --mode A   # or --mode B');
}
if (clusterTable.length) {
  lines.push('g++ -std=c++17 -O2 -DNDEBUG -DMSGPACK_NO_BOOST -o build/sio_cluster_bench bench/servers/sio_cluster_bench.cpp $(pkg-config --cflags --libs cpp-httplib) -lhiredis -pthread');
  lines.push('redis-server $TMP/redis.conf  # per cluster case: bind 127.0.0.1, a free port, save "", appendonly no (bench/cluster_control.sh)');
  lines.push('build/sio_cluster_bench --redis-port REDIS_PORT --port 0   # twice; or: node bench/servers/node_cluster_bench.js --redis-port REDIS_PORT --port 0');
}
if (args.commands && fs.existsSync(args.commands)) {
  // exactly what run.sh ran: each line once per round and server, with that run's port, pid, name and round
  for (const c of fs.readFileSync(args.commands, 'utf8').split('\n').filter(Boolean)) lines.push(c);
} else {
  const cmds = [...new Set(rows.filter((r) => r.scenario !== 'thread_cost')  // (its command is run.sh's, not loadgen)
    .map((r) => r.scenario + '|' + (r.transport || '') + '|' + r.clients))];
  for (const c of cmds) {
    const [scenario, transport, clients] = c.split('|');
    const ph = [...new Set(pick({ scenario, transport, clients: Number(clients) }).map((r) => r.phase && `${r.phase}:${r.param}:${r.seconds}`).filter(Boolean))];
    lines.push(`build/loadgen --port PORT --server-pid PID --scenario ${scenario}` +
      (transport && transport !== 'websocket' ? ` --transport ${transport}` : '') + ` --clients ${clients}` +
      (ph.length ? ` --phases ${ph.join(',')}` : ''));
  }
}
lines.push('```');
lines.push('');

if (fs.existsSync('bench/where_the_time_goes.md')) {
  lines.push(fs.readFileSync('bench/where_the_time_goes.md', 'utf8').trim());
  lines.push('');
}
fs.writeFileSync(args.out, lines.join('\n'));
process.stdout.write(lines.filter((l) => l.startsWith('|')).slice(0, 0).join('\n'));
