// Hardening: abusive clients against the Engine.IO server (build/engine_echo) — slowloris, a client
// that never reads, a flood of abandoned handshakes, and the --max-connections cap. Each test ends by
// checking that the server still serves a fresh engine.io-client, and resource checks read the server
// process's threads and fds from /proc.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Socket as EioSocket } from 'engine.io-client';
import {
  startServerFor, RawWsClient, buildFrame, OP, PT, httpRequest, parseJsonBody, openWs, eioWsUrl, closeClient,
  waitFor, skipForReference,
} from './harness.mjs';
import {
  procStats, formatProc, settleResources, getStats, waitStats, watchExit, assertEngineServes, within, pollUntil,
  quiescentBaseline,
} from './hardening_util.mjs';

// --headers-timeout, --max-buffered, --max-connections and /stats exist only in sioserver's engine_echo
const skip = skipForReference('uses sioserver-only flags and the /stats route');

function assertAlive(life, srv) {
  assert.ok(!life.dead, `the server process died: ${JSON.stringify(life.exit)}; stderr: ${srv.stderr.slice(-2000)}`);
}

/** An engine.io-client that echoes through `srv`; closed before the server stops. */
function eioClient(srv, opts = {}) {
  const socket = new EioSocket(`http://127.0.0.1:${srv.port}`, { path: srv.path, reconnection: false, ...opts });
  socket.on('error', () => {});
  srv.defer(() => closeClient(socket));
  return socket;
}

/** One echo round trip on an open engine.io-client socket; resolves with its latency (ms). */
function echoOnce(socket, text, ms = 3000) {
  const t0 = Date.now();
  const got = waitFor(socket, 'message', ms, { filter: (m) => m === text, failOn: ['close'] });
  socket.send(text);
  return got.then(() => Date.now() - t0);
}

/**
 * A client echoing sequentially in the background until stop(); stop() resolves with
 * {count, failures, maxLatency}.
 */
function startWitness(socket, label) {
  let stopped = false;
  const result = { count: 0, failures: [], maxLatency: 0 };
  const loop = (async () => {
    for (let i = 0; i < 100000 && !stopped; i++) {
      try {
        const lat = await echoOnce(socket, `${label}-${i}`, 3000);
        result.count++;
        result.maxLatency = Math.max(result.maxLatency, lat);
      } catch (err) {
        result.failures.push(`#${i}: ${err.message}`);
        if (socket.readyState !== 'open') return;
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await within(loop, 5000, `${label} to finish its last round trip`);
      return result;
    },
  };
}

describe('abuse: slowloris (--headers-timeout 1000)', () => {
  const REQUEST = (srv) => `GET ${srv.path}?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n`;

  /**
   * Send `text` one byte every `every` ms on a raw TCP connection until the server closes it.
   * Resolves with {closedAfterMs (from the first byte), sent, response}. Bounded by the text length.
   */
  function trickle(srv, text, every = 100) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: srv.port });
      let sent = 0;
      let first = 0;
      let response = '';
      let timer = null;
      let closed = false;
      sock.on('error', () => {});
      sock.on('data', (d) => {
        response += d.toString('latin1');
      });
      sock.on('close', () => {
        closed = true;
        clearTimeout(timer);
        resolve({ closedAfterMs: first ? Date.now() - first : 0, sent, response });
      });
      const step = () => {
        if (closed) return;
        if (sent >= text.length) {
          sock.destroy();
          reject(new Error(`the server never closed the connection: the whole ${sent}-byte request head was ` +
            `trickled in over ${Date.now() - first} ms; response: ${JSON.stringify(response.slice(0, 200))}`));
          return;
        }
        if (!first) first = Date.now();
        sock.write(text[sent++]);
        timer = setTimeout(step, every);
      };
      sock.once('connect', step);
    });
  }

  test('a request head sent one byte every 100 ms is cut off after ~1 s; the thread is freed', { skip }, async (t) => {
    const srv = await startServerFor(t, ['--headers-timeout', '1000']);
    const life = watchExit(srv);
    const base = await quiescentBaseline(srv);
    const slow = trickle(srv, REQUEST(srv), 100);
    // while it trickles, the server holds it (its fd; the thread may be one that waited for a connection, so the
    // thread count need not rise) ...
    const during = await pollUntil(async () => procStats(srv.pid), (p) => p.fds > base.fds,
      { ms: 1000, every: 20, what: 'the slow connection to be held', describe: formatProc });
    // ... and others are served
    await assertEngineServes(srv, { label: 'engine.io-client during the slowloris' });
    const r = await slow;
    assert.ok(r.closedAfterMs <= 1000 + 1200,
      `the slow connection was closed ${r.closedAfterMs} ms after its first byte (headers-timeout 1000 ms), ${r.sent} bytes sent`);
    assert.ok(!/^HTTP\/1\.1 200/.test(r.response), `the trickled request was served: ${r.response.slice(0, 120)}`);
    const after = await settleResources(srv.pid, base, { slack: 0, ms: 3000, what: 'threads/fds after the slow connection' });
    t.diagnostic(`closed after ${r.closedAfterMs} ms (${r.sent} bytes); before ${formatProc(base)}, during ` +
      `${formatProc(during)}, after ${formatProc(after)}`);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });

  test('40 slowloris connections at once are all cut off; threads return to the baseline', { skip }, async (t) => {
    const srv = await startServerFor(t, ['--headers-timeout', '1000']);
    const life = watchExit(srv);
    const base = await quiescentBaseline(srv);
    const results = await Promise.all(Array.from({ length: 40 }, () => trickle(srv, REQUEST(srv), 100)));
    const worst = Math.max(...results.map((r) => r.closedAfterMs));
    assert.ok(worst <= 1000 + 1500, `the slowest of 40 slow connections was closed after ${worst} ms (headers-timeout 1000 ms)`);
    await settleResources(srv.pid, base, { slack: 0, ms: 3000, what: 'threads/fds after 40 slow connections' });
    await waitStats(srv, (s) => s.clients === 0, 2000, 'no session from the slow connections');
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });
});

describe('abuse: a client that never reads (--max-buffered 262144)', () => {
  test('only its session is closed; another client keeps echoing throughout', { skip }, async (t) => {
    const srv = await startServerFor(t, ['--max-buffered', '262144']);
    const life = watchExit(srv);

    const good = eioClient(srv, { transports: ['websocket'] });
    await waitFor(good, 'open', 3000, { failOn: ['close'] });
    const witness = startWitness(good, 'witness');

    const bad = new RawWsClient(srv);
    srv.defer(() => bad.destroy());
    await bad.connect();
    assert.equal(bad.status, 101);
    const open = await bad.nextFrame(3000);
    assert.equal(open.payload.toString()[0], PT.open);
    bad.sock.pause(); // never read again (until the end)
    await waitStats(srv, (s) => s.clients === 2, 2000, 'both sessions to be open');

    // 64 KB text messages, each echoed by the server into a socket nobody reads
    const frame = buildFrame(OP.text, `4${'z'.repeat(64 * 1024 - 1)}`);
    let written = 0;
    let writeError = null;
    let tcpClosed = false;
    bad.sock.on('error', (e) => {
      writeError = writeError || e;
    });
    bad.tcpClosed.then(() => {
      tcpClosed = true;
    });
    const deadline = Date.now() + 20000;
    let stats = null;
    for (let i = 0; i < 4000 && Date.now() < deadline && !tcpClosed && !writeError; i++) {
      const ok = bad.sock.write(frame, () => {});
      written++;
      if (!ok) {
        // the server stopped reading for now: wait (bounded) for drain or for the connection to end
        await Promise.race([
          new Promise((r) => bad.sock.once('drain', r)),
          bad.tcpClosed,
          new Promise((r) => setTimeout(r, 250)),
        ]);
      }
      if (i % 8 === 7) {
        stats = await getStats(srv);
        if (stats.clients < 2) break;
      }
    }
    const closedStats = await waitStats(srv, (s) => s.clients === 1, 5000,
      `the non-reading session to be closed (written ${written} × 64 KB)`).catch((err) => {
      assert.fail(`the server did not drop the client that never reads after ${written} messages of 64 KB ` +
        `(${(written / 16).toFixed(1)} MB echoed into an unread socket, --max-buffered 262144): ${err.message}`);
    });

    // read again: what was buffered arrives, then the close (frame or not) and EOF, bounded
    bad.sock.resume();
    await bad.waitTcpClose(5000).catch(() => {
      assert.fail('after its session was closed, the non-reading client\'s TCP connection stays open once it reads again');
    });

    const w = await witness.stop();
    assert.deepEqual(w.failures, [], `the other client was disturbed: ${w.failures.join('; ')}`);
    assert.ok(w.count > 0, 'the other client made no round trip');
    assert.equal(good.readyState, 'open', 'the other client is still open');
    assert.ok(w.maxLatency < 2000, `the other client's slowest echo took ${w.maxLatency} ms`);
    await echoOnce(good, 'after the abuse');
    t.diagnostic(`non-reading client dropped after ${written} × 64 KB written; stats ${JSON.stringify(closedStats)}; ` +
      `witness: ${w.count} round trips, slowest ${w.maxLatency} ms`);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });
});

describe('abuse: handshake flood (--ping-interval 200 --ping-timeout 200)', () => {
  test('300 polling handshakes never continued: sessions expire, threads and fds return to the baseline', { skip }, async (t) => {
    const srv = await startServerFor(t, ['--ping-interval', '200', '--ping-timeout', '200']);
    const life = watchExit(srv);
    const base = await quiescentBaseline(srv);
    const sids = new Set();
    const failures = [];
    let next = 0;
    const worker = async () => {
      for (let guard = 0; guard < 300 && next < 300; guard++) {
        next++;
        try {
          const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`, { timeout: 5000 });
          if (res.status !== 200) failures.push(`${res.status} ${res.body}`);
          else sids.add(JSON.parse(res.body.slice(1)).sid);
        } catch (err) {
          failures.push(err.message);
        }
      }
    };
    await Promise.all(Array.from({ length: 30 }, worker));
    assert.deepEqual(failures, [], `handshakes failed: ${failures.slice(0, 5).join('; ')}`);
    assert.equal(sids.size, 300, 'every handshake opened a session of its own');
    const peak = procStats(srv.pid);
    await waitStats(srv, (s) => s.clients === 0, 5000, 'every abandoned session to time out (/stats clients 0)');
    await waitStats(srv, (s) => s.connections <= 1, 5000, 'the handshake connections to be closed');
    const after = await settleResources(srv.pid, base, { slack: 2, ms: 5000, what: 'threads/fds after the flood' });
    t.diagnostic(`before ${formatProc(base)}, right after the flood ${formatProc(peak)}, settled ${formatProc(after)}`);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });
});

describe('abuse: --max-connections 5', () => {
  test('5 sessions open, the 6th handshake gets 503, the 5 keep echoing, a slot freed is reused', { skip }, async (t) => {
    const srv = await startServerFor(t, ['--max-connections', '5']);
    const life = watchExit(srv);
    const modes = [['websocket'], ['websocket'], ['polling'], ['polling'], ['polling', 'websocket']];
    const clients = modes.map((transports) => eioClient(srv, { transports }));
    await Promise.all(clients.map((c) => waitFor(c, 'open', 3000, { failOn: ['close'] })));
    await waitStats(srv, (s) => s.clients === 5, 2000, '5 sessions');

    // the 6th: a polling handshake ...
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
    assert.equal(res.status, 503, `6th polling handshake: ${res.status} ${res.body}`);
    const body = parseJsonBody(res);
    assert.match(String(body.message), /too many connections/i, `503 body: ${res.body}`);
    // ... and a websocket handshake
    const ws = openWs(eioWsUrl(srv));
    srv.defer(() => ws.ws.terminate());
    const refused = await within(ws.opened.then(() => null, (err) => err), 3000, 'the 6th websocket handshake');
    assert.ok(refused, 'the 6th websocket handshake was accepted');
    assert.equal(refused.statusCode, 503, `6th websocket handshake refused with ${refused.message}`);
    // ... and an engine.io-client
    const sixth = eioClient(srv);
    await waitFor(sixth, 'close', 3000, { failOn: ['open'] });

    // the 5 sessions are unaffected
    await Promise.all(clients.map((c, i) => echoOnce(c, `still-${i}`)));
    assert.equal((await getStats(srv)).clients, 5);

    // one leaves: its slot is free for a new one
    closeClient(clients[0]);
    await waitStats(srv, (s) => s.clients === 4, 3000, 'the closed session to be removed');
    const newcomer = eioClient(srv);
    await waitFor(newcomer, 'open', 3000, { failOn: ['close'] });
    await echoOnce(newcomer, 'newcomer');
    await Promise.all(clients.slice(1).map((c, i) => echoOnce(c, `after-${i}`)));
    // full again
    const again = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
    assert.equal(again.status, 503, `handshake with 5 sessions open again: ${again.status} ${again.body}`);
    assertAlive(life, srv);
    closeClient(newcomer);
    await waitStats(srv, (s) => s.clients === 4, 3000, 'a free slot for the serving check');
    await assertEngineServes(srv);
  });
});
