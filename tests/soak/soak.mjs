#!/usr/bin/env node
// Soak test for the Socket.IO server (build/sio_test_server, or $SIO_SERVER).
//
//   node tests/soak/soak.mjs [--cycles 500] [--concurrency 50] [--witnesses 6] [--warmup N (cycles/10, 100..1000)]
//                            [--ping-interval 300] [--ping-timeout 1000] [--seed 1] [--verbose] [--diag FILE]
//
// Cycles of connect / emit / disconnect run `concurrency` at a time with a mix of transports
// (websocket only, polling only, default = polling upgraded to websocket) and of endings: a clean
// disconnect, an abrupt drop (the TCP socket destroyed without a close frame; for polling the
// client's network is cut and the server has to time the session out), a client that stops answering
// pings, a disconnect by the server (some right after connecting), a close of the Engine.IO connection
// without a Socket.IO DISCONNECT.
// Meanwhile long-lived "witness" clients in a room receive two numbered streams (a publisher's
// "to" events, and the server's own "ticker" thread) and must get every message exactly once, in order.
// Afterwards every client is closed, /stats must come back to 0 clients, and the server's threads,
// fds and RSS (from /proc) are compared with the figures measured after a warm-up.
// Exit code 0 when everything held, 1 otherwise; a summary is printed either way.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import { startSio } from '../interop/sio_harness.mjs';
import {
  procStats, formatProc, getStats, waitStats, quiescentBaseline, pollUntil, within, assertSioServes,
} from '../interop/hardening_util.mjs';

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    cycles: 500, concurrency: 50, witnesses: 6, warmup: null, pingInterval: 300, pingTimeout: 1000, seed: 1,
    verbose: false, threadSlack: 2, fdSlack: 2, rssSlackMb: 20, diag: null,
  };
  const names = {
    '--cycles': 'cycles', '--concurrency': 'concurrency', '--witnesses': 'witnesses', '--warmup': 'warmup',
    '--ping-interval': 'pingInterval', '--ping-timeout': 'pingTimeout', '--seed': 'seed',
    '--thread-slack': 'threadSlack', '--fd-slack': 'fdSlack', '--rss-slack-mb': 'rssSlackMb',
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') o.verbose = true;
    else if (a === '--diag' && i + 1 < argv.length) o.diag = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node tests/soak/soak.mjs [--cycles N] [--concurrency C] [--witnesses W] [--warmup N] ' +
        '[--ping-interval MS] [--ping-timeout MS] [--seed S] [--verbose] [--diag FILE]\n' +
        '--diag FILE: on failure, write the server\'s sockets (ss) and thread backtraces (gdb) to FILE');
      process.exit(0);
    } else if (names[a] && i + 1 < argv.length && Number.isFinite(Number(argv[i + 1]))) o[names[a]] = Number(argv[++i]);
    else {
      console.error(`unknown or incomplete argument: ${a}`);
      process.exit(2);
    }
  }
  // the warm-up brings the server's allocator and thread-stack cache near their high-water mark
  // before the baseline: a tenth of the run, 100 to 1000 cycles
  if (o.warmup === null) o.warmup = Math.min(1000, Math.max(100, Math.round(o.cycles / 10)));
  if (!(o.cycles >= 1 && o.concurrency >= 1 && o.witnesses >= 1 && o.warmup >= 0)) {
    console.error('--cycles, --concurrency and --witnesses must be at least 1');
    process.exit(2);
  }
  return o;
}

const opt = parseArgs(process.argv);
const T = 5000; // bound of every single wait in a cycle (ms)
const HEARTBEAT = opt.pingInterval + opt.pingTimeout;

// Deterministic pseudo-random numbers (mulberry32), so a failing mix can be replayed with --seed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const log = (...a) => console.log(`[soak ${new Date().toISOString().slice(11, 23)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); // pacing only, never to wait for a result

// ---------------------------------------------------------------------------
// Client helpers

/** Resolves on `event` of a socket.io-client socket (with its args), rejects on `failOn` events or after ms. */
function onceEvent(emitter, event, ms, what, failOn = []) {
  return new Promise((resolve, reject) => {
    const fails = [];
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout after ${ms} ms waiting for ${what}`));
    }, ms);
    const on = (...args) => {
      cleanup();
      resolve(args);
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, on);
      for (const [n, f] of fails) emitter.off(n, f);
    };
    emitter.on(event, on);
    for (const name of failOn) {
      const f = (arg) => {
        cleanup();
        reject(new Error(`"${name}" (${arg && arg.message ? arg.message : arg}) while waiting for ${what}`));
      };
      fails.push([name, f]);
      emitter.on(name, f);
    }
  });
}

function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(T).emit(event, ...args, (err, ...res) => {
      if (err) reject(new Error(`no ack for "${event}" within ${T} ms`));
      else resolve(res);
    });
  });
}

/**
 * An http.Agent that remembers every TCP connection it opens (the polling requests, and the
 * WebSocket of an upgrade, which engine.io-client opens through the same agent). cut() is a network
 * failure: every one of them is destroyed without a close frame and new connections fail at once.
 */
function cuttableAgent(keepAlive) {
  const agent = new http.Agent({ keepAlive });
  const open = new Set();
  const create = agent.createConnection;
  let cut = false;
  agent.createConnection = function createTracked(...args) {
    if (cut) {
      const dead = new net.Socket();
      process.nextTick(() => dead.destroy(new Error('network cut by the soak test')));
      return dead;
    }
    const sock = create.apply(this, args);
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    return sock;
  };
  agent.cut = () => {
    cut = true;
    for (const sock of open) sock.destroy();
    open.clear();
  };
  return agent;
}

function terminateWs(socket) {
  const eng = socket.io && socket.io.engine;
  const ws = eng && eng.transport && eng.transport.ws;
  if (ws && typeof ws.terminate === 'function') ws.terminate();
}

function newSocket(srv, transport, extra = {}) {
  const o = { path: srv.path, forceNew: true, reconnection: false, timeout: T, ...extra };
  if (transport) o.transports = [transport];
  return io(`${srv.origin}/`, o);
}

// ---------------------------------------------------------------------------
// One churn cycle

const TRANSPORTS = ['websocket', 'polling', null]; // null: default (polling, then upgrade)
const ENDINGS = [
  ['clean', 0.58], // socket.disconnect()
  ['drop', 0.22], // TCP destroyed without a close frame / polling network cut
  ['mute', 0.08], // stops answering pings: the server must time it out
  ['server', 0.06], // the server disconnects it ("disconnect-me")
  ['engine-close', 0.06], // Engine.IO close without a Socket.IO DISCONNECT
];

function planCycle(rand) {
  const r = rand();
  const transport = r < 0.35 ? 'websocket' : r < 0.65 ? 'polling' : null;
  let e = rand();
  let ending = ENDINGS[ENDINGS.length - 1][0];
  for (const [name, p] of ENDINGS) {
    if (e < p) {
      ending = name;
      break;
    }
    e -= p;
  }
  return {
    transport,
    ending,
    // a server-side kick right after the connection (an authorization check failing, say): no traffic and no
    // wait for the upgrade, so it often lands while a default client is switching to websocket
    early: ending === 'server' && rand() < 0.4,
    keepAlive: rand() < 0.35,
    waitUpgrade: transport === null && rand() < 0.7,
    emits: 1 + Math.floor(rand() * 3),
    binary: rand() < 0.25,
    room: rand() < 0.3 ? `churn-${Math.floor(rand() * 5)}` : null,
  };
}

const stats = {
  done: 0, failed: 0, errors: [], kinds: {}, failedKinds: {}, reasons: {}, transportsAtEnd: {},
};

function count(map, key) {
  map[key] = (map[key] || 0) + 1;
}

async function runCycle(srv, i, plan) {
  const agent = plan.transport !== 'websocket' ? cuttableAgent(plan.keepAlive) : undefined;
  const socket = newSocket(srv, plan.transport, agent ? { agent } : {});
  const disconnected = new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  const kind = `${plan.transport || 'default'}/${plan.ending}${plan.early ? '-early' : ''}`;
  count(stats.kinds, kind);
  let failed = false;
  try {
    await onceEvent(socket, 'connect', T + 1000, 'connect', ['connect_error']);
    const engine = socket.io.engine;
    if (plan.waitUpgrade && !plan.early && engine.transport.name !== 'websocket') {
      await onceEvent(engine, 'upgrade', T, 'the upgrade to websocket', ['close', 'upgradeError']);
    }
    for (let k = 0; k < (plan.early ? 0 : plan.emits); k++) {
      const payload = plan.binary && k === 0 ? Buffer.from([i & 0xff, (i >> 8) & 0xff, 0, 255]) : { cycle: i, k };
      const [back] = await emitAck(socket, 'echo-ack', payload);
      const ok = Buffer.isBuffer(payload) ? Buffer.isBuffer(back) && back.equals(payload)
        : JSON.stringify(back) === JSON.stringify(payload);
      if (!ok) throw new Error(`echo-ack #${k} answered ${JSON.stringify(back)} for ${JSON.stringify(payload)}`);
    }
    if (plan.room && !plan.early) {
      await emitAck(socket, 'join', plan.room);
      await emitAck(socket, 'to', plan.room, 'churn', i);
    }
    count(stats.transportsAtEnd, engine.transport.name);
    switch (plan.ending) {
      case 'clean':
        socket.disconnect();
        break;
      case 'drop': {
        // websocket only: destroy its TCP socket; polling/default: cut every connection of the client
        // (a default client may be half-way through its upgrade, with polling paused)
        if (plan.transport === 'websocket') engine.transport.ws._socket.destroy();
        else agent.cut();
        const reason = await within(disconnected, T, 'the client to notice its dropped connection');
        count(stats.reasons, `drop: ${reason}`);
        break;
      }
      case 'mute': {
        // no more pongs, and the client's own heartbeat timer is switched off: only the server can end
        // this connection (an overdue client timer after a stall of this process would race with it)
        engine._sendPacket = ((orig) => function sendButNoPong(type, ...rest) {
          if (type === 'pong') return undefined;
          return orig.call(this, type, ...rest);
        })(engine._sendPacket);
        engine.clearTimeoutFn(engine._pingTimeoutTimer);
        engine._resetPingTimeout = () => {};
        engine._pingTimeoutTime = Infinity;
        const reason = await within(disconnected, HEARTBEAT + 3000,
          `the server to drop a client that stopped answering pings (pingInterval ${opt.pingInterval} + pingTimeout ${opt.pingTimeout})`);
        count(stats.reasons, `mute: ${reason}`);
        if (reason === 'ping timeout') throw new Error('muted client: ended by a client-side ping timeout although its timer was off');
        break;
      }
      case 'server': {
        const state = `${engine.transport.name}${engine.upgrading ? ', upgrading' : ''}`;
        const t0 = Date.now();
        socket.emit('disconnect-me', true); // the server runs socket.disconnect(true)
        const reason = await within(disconnected, T, 'the server-side disconnect');
        count(stats.reasons, `server: ${reason}`);
        if (reason !== 'io server disconnect') {
          throw new Error(`socket.disconnect(true) on the server (client transport when asked: ${state}) ended with ` +
            `"${reason}" after ${Date.now() - t0} ms instead of "io server disconnect": the DISCONNECT packet was lost`);
        }
        break;
      }
      case 'engine-close': {
        engine.close();
        const reason = await within(disconnected, T, 'the engine close');
        count(stats.reasons, `engine-close: ${reason}`);
        break;
      }
      default:
        throw new Error(`unknown ending ${plan.ending}`);
    }
    stats.done++;
  } catch (err) {
    failed = true;
    stats.failed++;
    count(stats.failedKinds, kind);
    if (stats.errors.length < 30) stats.errors.push(`cycle ${i} (${kind}): ${err.message}`);
    if (opt.verbose) log(`cycle ${i} (${kind}) failed: ${err.message}`);
  } finally {
    if (socket.connected && plan.ending !== 'drop') socket.disconnect();
    if (plan.ending === 'drop' || failed) terminateWs(socket);
    if (agent && (plan.ending === 'drop' || failed)) agent.destroy();
  }
}

/** Run cycles [from, to) `concurrency` at a time. */
async function runCycles(srv, from, to, rand, onProgress) {
  const plans = [];
  for (let i = from; i < to; i++) plans.push(planCycle(rand));
  let next = from;
  const worker = async () => {
    for (let guard = 0; guard < to - from && next < to; guard++) {
      const i = next++;
      await runCycle(srv, i, plans[i - from]);
      if (onProgress) onProgress(i - from + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opt.concurrency, to - from) }, worker));
}

// ---------------------------------------------------------------------------
// Witnesses and the streams they watch

class Witness {
  constructor(srv, transport, label) {
    this.label = label;
    this.socket = newSocket(srv, transport);
    this.seq = [];
    this.ticks = [];
    this.problems = [];
    this.disconnects = [];
    this.socket.on('seq', (n) => {
      if (n !== this.seq.length && this.problems.length < 10) {
        this.problems.push(`${label}: seq ${n} arrived when ${this.seq.length} was due`);
      }
      this.seq.push(n);
    });
    this.socket.on('tick', (n) => this.ticks.push(n));
    this.socket.on('disconnect', (reason) => this.disconnects.push(reason));
  }

  async start() {
    await onceEvent(this.socket, 'connect', T + 1000, `${this.label} connect`, ['connect_error']);
    const [rooms] = await emitAck(this.socket, 'join', 'witness');
    if (!rooms.includes('witness')) throw new Error(`${this.label} did not join the room: ${JSON.stringify(rooms)}`);
  }

  close() {
    this.socket.disconnect();
    terminateWs(this.socket);
  }
}

/** The publisher: "to" events numbered 0.. at a steady pace, a bounded number in flight. */
class Publisher {
  constructor(srv) {
    this.socket = newSocket(srv, 'websocket');
    this.sent = 0;
    this.acked = 0;
    this.errors = [];
    this.tickRuns = 0;
    this.tickErrors = [];
    this.running = false;
  }

  async start() {
    await onceEvent(this.socket, 'connect', T + 1000, 'publisher connect', ['connect_error']);
    this.running = true;
    this.seqLoop = this.runSeq();
    this.tickLoop = this.runTicks();
  }

  async runSeq() {
    const inflight = new Set();
    for (let guard = 0; guard < 10_000_000 && this.running; guard++) {
      if (inflight.size < 16) {
        const n = this.sent++;
        const p = emitAck(this.socket, 'to', ['witness'], 'seq', n).then(() => {
          this.acked++;
        }, (err) => {
          if (this.errors.length < 10) this.errors.push(`seq ${n}: ${err.message}`);
        }).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(inflight.size < 16 ? 8 : 20);
    }
    await within(Promise.all(inflight), T, 'the last publisher acks').catch((e) => this.errors.push(e.message));
  }

  async runTicks() {
    for (let guard = 0; guard < 1_000_000 && this.running; guard++) {
      try {
        const [n] = await emitAck(this.socket, 'ticker', 'witness', TICKS_PER_RUN);
        if (n !== TICKS_PER_RUN) this.tickErrors.push(`ticker acked ${n}`);
        this.tickRuns++;
      } catch (err) {
        if (this.tickErrors.length < 10) this.tickErrors.push(err.message);
      }
      // one run every ~3 s: each run is a thread of the test server's own, kept until it exits
      for (let w = 0; w < 30 && this.running; w++) await sleep(100);
    }
  }

  async stop() {
    this.running = false;
    await within(Promise.all([this.seqLoop, this.tickLoop]), 2 * T, 'the publisher to stop');
  }

  close() {
    this.socket.disconnect();
    terminateWs(this.socket);
  }
}
const TICKS_PER_RUN = 200;

function checkWitness(w, seqCount, tickRuns) {
  const problems = [...w.problems];
  if (w.disconnects.length) problems.push(`${w.label} was disconnected during the run: ${w.disconnects.join(', ')}`);
  if (w.seq.length !== seqCount) problems.push(`${w.label}: ${w.seq.length} seq events, expected ${seqCount}`);
  for (let i = 0; i < w.seq.length && problems.length < 12; i++) {
    if (w.seq[i] !== i) {
      problems.push(`${w.label}: seq #${i} is ${w.seq[i]}`);
      break;
    }
  }
  if (w.ticks.length !== tickRuns * TICKS_PER_RUN) {
    problems.push(`${w.label}: ${w.ticks.length} ticks, expected ${tickRuns} runs × ${TICKS_PER_RUN}`);
  }
  for (let i = 0; i < w.ticks.length; i++) {
    if (w.ticks[i] !== i % TICKS_PER_RUN) {
      problems.push(`${w.label}: tick #${i} is ${w.ticks[i]}, expected ${i % TICKS_PER_RUN}`);
      break;
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Main

async function waitIdle(srv, ms, what) {
  return waitStats(srv, (s) => s.clients === 0 && s.connections <= 1, ms, what);
}

async function main() {
  const started = Date.now();
  const failures = [];
  const lag = monitorEventLoopDelay({ resolution: 20 });
  const srv = await startSio(['--ping-interval', opt.pingInterval, '--ping-timeout', opt.pingTimeout]);
  let summary = {};
  try {
    log(`server pid ${srv.pid} on ${srv.origin}; cycles ${opt.cycles}, concurrency ${opt.concurrency}, ` +
      `witnesses ${opt.witnesses}, warm-up ${opt.warmup}, heartbeat ${opt.pingInterval}+${opt.pingTimeout} ms, seed ${opt.seed}`);
    const rand = rng(opt.seed);
    const initial = procStats(srv.pid);

    // warm-up with the same mix, then the baseline once everything is gone
    const w0 = Date.now();
    await runCycles(srv, 0, opt.warmup, rand);
    const warmupFailed = stats.failed;
    await waitIdle(srv, 20_000, 'the warm-up clients to be gone (/stats 0 clients, no connection)');
    const base = await quiescentBaseline(srv);
    log(`warm-up: ${opt.warmup} cycles in ${Date.now() - w0} ms (${warmupFailed} failed); baseline ${formatProc(base)} ` +
      `(initial ${formatProc(initial)})`);

    // witnesses and the publisher
    const witnessTransports = ['websocket', 'polling', null];
    const witnesses = Array.from({ length: opt.witnesses },
      (_, i) => new Witness(srv, witnessTransports[i % 3], `witness#${i}(${witnessTransports[i % 3] || 'default'})`));
    await Promise.all(witnesses.map((w) => w.start()));
    const publisher = new Publisher(srv);
    await publisher.start();

    // the churn
    lag.enable();
    const c0 = Date.now();
    const step = Math.max(1, Math.floor(opt.cycles / 10));
    let peak = procStats(srv.pid);
    await runCycles(srv, opt.warmup, opt.warmup + opt.cycles, rand, (doneCount) => {
      if (doneCount % step === 0 || doneCount === opt.cycles) {
        const p = procStats(srv.pid);
        if (p.threads > peak.threads) peak = p;
        const secs = (Date.now() - c0) / 1000;
        log(`${doneCount}/${opt.cycles} cycles, ${(doneCount / secs).toFixed(0)}/s, failed ${stats.failed - warmupFailed}, ` +
          `seq sent ${publisher.sent}, tick runs ${publisher.tickRuns}; server ${formatProc(p)}`);
      }
    });
    const churnMs = Date.now() - c0;
    lag.disable();

    // the streams: stop publishing, then every witness must have everything exactly once, in order
    await publisher.stop();
    const seqCount = publisher.sent;
    const tickRuns = publisher.tickRuns;
    await pollUntil(async () => witnesses.every((w) => w.seq.length >= seqCount && w.ticks.length >= tickRuns * TICKS_PER_RUN),
      (v) => v, { ms: 10_000, every: 50, what: 'the witnesses to receive the end of both streams' }).catch((err) => {
      failures.push(err.message);
    });
    failures.push(...publisher.errors.map((e) => `publisher: ${e}`), ...publisher.tickErrors.map((e) => `ticker: ${e}`));
    for (const w of witnesses) failures.push(...checkWitness(w, seqCount, tickRuns));

    // everyone leaves; the server must come back to its baseline
    for (const w of witnesses) w.close();
    publisher.close();
    const idleStats = await waitIdle(srv, 20_000, 'every client to be gone (/stats 0 clients, no connection)')
      .catch((err) => {
        failures.push(err.message);
        return null;
      });
    const settled = await pollUntil(async () => procStats(srv.pid),
      (p) => p.threads <= base.threads + opt.threadSlack && p.fds <= base.fds + opt.fdSlack,
      { ms: 10_000, every: 100, what: 'threads/fds back near the baseline', describe: formatProc }).catch(() => procStats(srv.pid));
    const after = procStats(srv.pid);
    if (after.threads > base.threads + opt.threadSlack) {
      failures.push(`threads: ${base.threads} after warm-up, ${after.threads} at the end (margin +${opt.threadSlack})`);
    }
    if (after.fds > base.fds + opt.fdSlack) failures.push(`fds: ${base.fds} after warm-up, ${after.fds} at the end (margin +${opt.fdSlack})`);
    if (after.rssKb > base.rssKb + opt.rssSlackMb * 1024) {
      failures.push(`RSS: ${(base.rssKb / 1024).toFixed(1)} MB after warm-up, ${(after.rssKb / 1024).toFixed(1)} MB at the end ` +
        `(margin +${opt.rssSlackMb} MB)`);
    }
    if (!srv.alive) failures.push(`the server process died; stderr: ${srv.stderr.slice(-2000)}`);
    else await assertSioServes(srv).catch((err) => failures.push(err.message));

    const churnFailed = stats.failed - warmupFailed;
    if (stats.failed) failures.push(`${stats.failed} cycles failed (${warmupFailed} in the warm-up); first: ${stats.errors.slice(0, 10).join(' | ')}`);

    summary = {
      cycles: opt.cycles, concurrency: opt.concurrency, churnMs, churnFailed, base, peak, after, settled, idleStats,
      seqCount, tickRuns, witnesses: witnesses.length,
    };
    printSummary(summary, lag, started);
  } catch (err) {
    failures.push(`soak aborted: ${err.stack || err.message}`);
  } finally {
    if (failures.length && opt.diag) writeDiagnostics(srv, failures);
    await srv.stop();
  }
  if (failures.length) {
    console.log('\nFAILED:');
    for (const f of failures) console.log(`  - ${f}`);
    process.exitCode = 1;
  } else {
    console.log('\nOK');
    process.exitCode = 0;
  }
}

/** The server's TCP sockets and every thread's backtrace, for a failed run (--diag FILE). */
function writeDiagnostics(srv, failures) {
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return `(${cmd} failed: ${err.message})\n${err.stdout || ''}`;
    }
  };
  let text = `failures:\n${failures.map((f) => `  - ${f}`).join('\n')}\n\n`;
  text += `/proc: ${formatProc(procStats(srv.pid))}\n\n`;
  text += `== ss -tnpoi (port ${srv.port}) ==\n${run('ss', ['-tnpoi', `( sport = :${srv.port} or dport = :${srv.port} )`])}\n`;
  text += `== gdb thread apply all bt ==\n${run('gdb', ['-p', String(srv.pid), '-batch', '-ex', 'thread apply all bt'])}`;
  fs.writeFileSync(opt.diag, text);
  console.log(`diagnostics written to ${opt.diag}`);
}

function printSummary(s, lag, started) {
  const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
  const line = (k, v) => console.log(`  ${k.padEnd(26)} ${v}`);
  console.log('\n=== soak summary ===');
  line('cycles', `${s.cycles} (concurrency ${s.concurrency}), ${s.churnFailed} failed`);
  line('churn duration', `${(s.churnMs / 1000).toFixed(1)} s (${(s.cycles / (s.churnMs / 1000)).toFixed(0)} cycles/s); ` +
    `total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  line('mix (transport/ending)', Object.entries(stats.kinds).sort().map(([k, v]) => `${k} ${v}`).join(', '));
  line('failed cycles by kind', Object.entries(stats.failedKinds).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none');
  line('transport at the end', Object.entries(stats.transportsAtEnd).map(([k, v]) => `${k} ${v}`).join(', '));
  line('client disconnect reasons', Object.entries(stats.reasons).sort().map(([k, v]) => `${k} ${v}`).join(', '));
  line('witness streams', `${s.witnesses} witnesses × (${s.seqCount} "to" events + ${s.tickRuns} ticker runs × ${TICKS_PER_RUN} ticks)`);
  line('event loop delay (ms)', `p50 ${(lag.percentile(50) / 1e6).toFixed(1)}, p99 ${(lag.percentile(99) / 1e6).toFixed(1)}, ` +
    `max ${(lag.max / 1e6).toFixed(1)} (a stall near pingInterval + pingTimeout = ${HEARTBEAT} ms can end sessions: ` +
    `then rerun with a larger --ping-timeout)`);
  line('machine', `${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  line('server after warm-up', `threads ${s.base.threads}, fds ${s.base.fds}, RSS ${mb(s.base.rssKb)}`);
  line('server at peak threads', `threads ${s.peak.threads}, fds ${s.peak.fds}, RSS ${mb(s.peak.rssKb)}`);
  line('server at the end', `threads ${s.after.threads}, fds ${s.after.fds}, RSS ${mb(s.after.rssKb)} ` +
    `(Δ threads ${s.after.threads - s.base.threads >= 0 ? '+' : ''}${s.after.threads - s.base.threads}, ` +
    `Δ fds ${s.after.fds - s.base.fds >= 0 ? '+' : ''}${s.after.fds - s.base.fds}, ` +
    `Δ RSS ${s.after.rssKb - s.base.rssKb >= 0 ? '+' : ''}${mb(s.after.rssKb - s.base.rssKb)})`);
  line('/stats at the end', JSON.stringify(s.idleStats));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
