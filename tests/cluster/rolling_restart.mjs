// The rolling restart, measured (issue 20): three nodes on the Redis Streams adapter with connection state
// recovery (two C++, one Node) behind HAProxy sticking by the io cookie, N official clients on both transports in R
// rooms, and a steady RATE messages/s to rooms from a few senders. Then each node in turn is drained (SIGTERM) and
// started again on its port, then one C++ node is SIGKILLed and started again. Every client counts, by message
// id, what it got of what was sent to its room: lost and duplicated, per phase.
//
//   node tests/cluster/rolling_restart.mjs [N=300] [R=10] [RATE=50] [EAGER=1] [KILL=cppA|node]
//
// prints one JSON line (the summary); tests/cluster/rolling_restart.test.mjs runs it small and asserts on it.
// A message counts as sent once its sender's ack came back; the ack may come before the node's XADD, so a message
// counts for a client only if it was sent after the client's first join was acknowledged. Unacknowledged ones (a
// sender's node went away under it) are reported apart, never as lost.
import { fileURLToPath } from 'node:url';
import { startRedis, startNode, startHaproxy, connect, freePort, withTimeout } from './harness.mjs';

const percentile = (list, p) => {
  if (!list.length) return null;
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function rollingRestart({ clients: N = 300, rooms: R = 10, rate = 50, eager = true, kill = 'cppA',
  log = () => {} } = {}) {
  const redis = await startRedis();
  const cli = await redis.client();
  const kinds = { cppA: ['cpp', 'cpp-a'], cppB: ['cpp', 'cpp-b'], node: ['node', 'node-a'] };
  const ports = {};
  const nodes = {};
  const flags = (key) => ['--adapter', 'streams', '--recovery', '60000', '--cookie', '1',
    ...(kinds[key][0] === 'cpp' ? ['--eager', eager ? '1' : '0'] : []), '--port', String(ports[key])];
  const start = async (key) => { nodes[key] = await startNode(kinds[key][0], kinds[key][1], redis.port, flags(key)); };
  let haproxy;
  const all = [];
  const senders = [];
  let sending = false;
  try {
    for (const key of Object.keys(kinds)) ports[key] = await freePort();
    await Promise.all(Object.keys(kinds).map(start));
    haproxy = await startHaproxy(Object.keys(kinds).map((k) => ({ name: kinds[k][1], port: ports[k] })),
      { checks: true });
    const stats0 = await commandStats(cli);

    // ---- the clients, each in one room, through HAProxy
    const join = async (c) => {
      await c.ask('join', [c.room]);
      if (c.firstJoin === undefined) c.firstJoin = performance.now();
    };
    for (let i = 0; i < N; ++i) {
      const transport = i % 2 ? 'polling' : 'websocket';
      const c = await connect(haproxy.url, { transport, withCredentials: true, reconnection: true,
        label: `c${i}/${transport}` });
      c.room = `room-${i % R}`;
      c.got = new Map();  // id -> times received
      c.gaps = [];
      c.recoveries = 0;
      c.renewals = 0;
      c.history = [];  // [{at, node}]: node null while away
      c.duplicateTimes = [];
      c.socket.on('welcome', (w) => { c.node = w.node; c.history.push({ at: performance.now(), node: w.node }); });
      c.socket.on('msg', (m, offset) => {
        c.got.set(m.id, (c.got.get(m.id) || 0) + 1);
        (c.offsets ||= new Map()).set(m.id, [...(c.offsets.get(m.id) || []), offset]);
        if (c.got.get(m.id) > 1) c.duplicateTimes.push(performance.now());
        c.latencies.push(performance.now() - m.at);
      });
      c.latencies = [];
      c.socket.on('disconnect', () => { c.lostAt = performance.now(); c.history.push({ at: c.lostAt, node: null }); });
      c.socket.on('connect', () => {
        if (c.lostAt === undefined) return;
        c.gaps.push(performance.now() - c.lostAt);
        c.lostAt = undefined;
        if (c.socket.recovered) ++c.recoveries;
        else {
          ++c.renewals;
          join(c).catch(() => {});  // a new socket: back into its room (what was sent meanwhile is lost to it)
        }
      });
      c.history.push({ at: performance.now(), node: c.welcome.node });
      await join(c);
      all.push(c);
    }
    log(`${N} clients in ${R} rooms`);

    // ---- the senders: RATE messages/s in all, each to a room, through HAProxy too
    const sent = [];  // {id, room, at, phase}
    let unacked = 0;
    let phase = 'steady';
    for (let s = 0; s < 5; ++s)
      senders.push(await connect(haproxy.url, { withCredentials: true, reconnection: true, label: `sender${s}` }));
    sending = true;
    let seq = 0;
    const loops = senders.map((sender, s) => (async () => {
      const every = (1000 * senders.length) / rate;
      while (sending) {
        const m = { id: `${s}-${++seq}`, room: `room-${seq % R}`, at: performance.now() };
        const p = phase;
        const answered = await withTimeout(sender.socket.emitWithAck('broadcast',
          { rooms: [m.room], event: 'msg', args: [m] }), 3000, 'ack').then(() => true, () => false);
        if (answered) sent.push({ ...m, phase: p });
        else ++unacked;
        await sleep(Math.max(0, every - (performance.now() - m.at)));
      }
    })());

    const allConnected = async (what) => {
      const until = Date.now() + 30000;
      while (![...all, ...senders].every((c) => c.socket.connected)) {
        if (Date.now() > until) throw new Error(`not every client came back after ${what}`);
        await sleep(50);
      }
    };
    await sleep(2000);
    // ---- the drains, one node after the other
    phase = 'drain';
    for (const key of ['cppA', 'cppB', 'node']) {
      const t0 = performance.now();
      await nodes[key].kill('SIGTERM');
      const exitMs = performance.now() - t0;
      await start(key);
      await allConnected(`draining ${key}`);
      log(`${key} drained in ${exitMs.toFixed(0)} ms and back`);
      await sleep(1500);
    }
    // ---- a SIGKILL
    phase = 'kill';
    await nodes[kill].kill('SIGKILL');
    await sleep(500);
    await start(kill);
    await allConnected(`killing ${kill}`);
    log(`${kill} killed and back`);
    await sleep(1500);
    sending = false;
    await Promise.all(loops);

    // ---- what each client should have got has had the time to arrive (bounded)
    const expected = (c) => sent.filter((m) => m.room === c.room && m.at > c.firstJoin);
    const until = Date.now() + 10000;
    while (Date.now() < until && !all.every((c) => expected(c).every((m) => c.got.has(m.id)))) await sleep(100);

    const stats1 = await commandStats(cli);
    const sessions = await cli.keys('sio:session:*');
    let sessionBytes = 0;
    for (const k of sessions) sessionBytes += Number(await cli.sendCommand(['MEMORY', 'USAGE', k])) || 0;
    // What reached the stream at all: a message a node acknowledged and then died before writing (SIGKILL between
    // the ack and its XADD) was never there for anyone to recover; it is counted apart ("neverWritten").
    const written = new Set();
    for (const e of await cli.xRange('socket.io', '-', '+')) {
      try {
        const d = JSON.parse(e.message.data || '{}');
        if (d.packet && d.packet.data && d.packet.data[0] === 'msg') written.add(d.packet.data[1].id);
      } catch { /* not a broadcast of ours */ }
    }
    const byPhase = {};
    const lostOn = {};  // "<phase>: <node when sent>-><node after>": where lost messages were lost
    for (const c of all) {
      for (const m of expected(c)) {
        const b = (byPhase[m.phase] ||= { expected: 0, received: 0, lost: 0, duplicated: 0, neverWritten: 0 });
        const n = c.got.get(m.id) || 0;
        ++b.expected;
        if (n) ++b.received;
        else if (!written.has(m.id)) ++b.neverWritten;
        else {
          ++b.lost;
          // where it was when the message was sent, and where it went next
          const i = c.history.findLastIndex((h) => h.at <= m.at);
          const was = i >= 0 ? c.history[i].node || 'away' : '?';
          const next = c.history.slice(i + 1).find((h) => h.node);
          const key = `${m.phase}: ${was}->${next ? next.node : 'none'}`;
          lostOn[key] = (lostOn[key] || 0) + 1;
        }
        if (n > 1) b.duplicated += n - 1;
      }
    }
    // A client's node at a time: where it was, or while it was away the one it came back to (a recovered socket
    // gets its missed packets before the CONNECT, so before that node's welcome).
    const nodeAt = (c, at) => {
      const i = c.history.findLastIndex((h) => h.at <= at);
      if (i >= 0 && c.history[i].node) return c.history[i].node;
      const next = c.history.slice(i + 1).find((h) => h.node);
      return next ? next.node : 'none';
    };
    const duplicatesOn = {};
    for (const c of all) for (const at of c.duplicateTimes) duplicatesOn[nodeAt(c, at)] = (duplicatesOn[nodeAt(c, at)] || 0) + 1;
    // The first few duplicates in full, to tell where they come from.
    const duplicateCases = all.filter((c) => c.duplicateTimes.length).slice(0, 5).map((c) => ({
      client: c.label, room: c.room,
      ids: [...c.got].filter(([, n]) => n > 1).map(([id]) => ({ id, offsets: c.offsets.get(id) })),
      history: c.history.map((h) => `${Math.round(h.at)}:${h.node}`),
      at: c.duplicateTimes.map(Math.round),
    }));
    const gaps = all.flatMap((c) => c.gaps);
    const latencies = all.flatMap((c) => c.latencies);
    return {
      clients: N, rooms: R, rate, eager, killed: kill, sent: sent.length, unacked,
      phases: byPhase,
      duplicatesOn,
      duplicateCases,
      lostOn,
      reconnections: gaps.length,
      recovered: all.reduce((n, c) => n + c.recoveries, 0),
      newSockets: all.reduce((n, c) => n + c.renewals, 0),
      reconnectMs: { p50: Math.round(percentile(gaps, 50)), p99: Math.round(percentile(gaps, 99)) },
      deliveryMs: { p50: +percentile(latencies, 50).toFixed(1), p99: +percentile(latencies, 99).toFixed(1) },
      redis: {
        commands: Object.fromEntries(['set', 'getdel', 'xadd', 'xrange', 'del'].map((c) => [c,
          (stats1[c] || 0) - (stats0[c] || 0)])),
        sessionKeys: sessions.length,
        sessionBytes,
      },
    };
  } finally {
    sending = false;
    await Promise.all([...all, ...senders].map((c) => c.close().catch(() => {})));
    if (haproxy) await haproxy.stop();
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    await redis.stop();
  }
}

// INFO commandstats: calls per command (lower case).
async function commandStats(cli) {
  const text = String(await cli.sendCommand(['INFO', 'commandstats']));
  const out = {};
  for (const m of text.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
  const summary = await rollingRestart({
    clients: Number(arg.N || 300), rooms: Number(arg.R || 10), rate: Number(arg.RATE || 50),
    eager: (arg.EAGER || '1') !== '0', kill: arg.KILL || 'cppA', log: (line) => console.error(line),
  });
  console.log(JSON.stringify(summary));
  process.exit(0);
}
