// Heartbeat: the server pings every pingInterval and drops clients that do
// not answer within pingTimeout. Small intervals keep these tests fast.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import {
  startServerFor, waitFor, collectMessages, closeClient, RawPolling, openWs, eioWsUrl, withTimeout,
  decodePayload, parseJsonBody,
} from './harness.mjs';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const FLAGS = ['--ping-interval', PING_INTERVAL, '--ping-timeout', PING_TIMEOUT];
// a silent client must be gone within pingInterval + pingTimeout + margin
const DROP_DEADLINE = PING_INTERVAL + PING_TIMEOUT + 1500;

describe('heartbeat with engine.io-client (answers pings automatically)', () => {
  for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
    test(`${transports.join('+')}: stays open across several ping intervals`, async (t) => {
      const srv = await startServerFor(t, FLAGS);
      const socket = new Socket(`http://${srv.host}:${srv.port}`, { path: srv.path, transports });
      srv.defer(() => closeClient(socket));
      let closed = null;
      socket.on('close', (reason) => { closed = reason; });
      await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
      let pings = 0;
      // 4 intervals = 1.2 s; generous bound
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${pings} pings within 6000 ms`)), 6000);
        socket.on('ping', () => {
          if (++pings === 4) {
            clearTimeout(timer);
            resolve();
          }
        });
        socket.on('close', (reason) => {
          clearTimeout(timer);
          reject(new Error(`client closed (${reason}) after ${pings} pings`));
        });
      });
      assert.equal(closed, null, `closed: ${closed}`);
      assert.equal(socket.readyState, 'open');
      const echo = collectMessages(socket, 1, 3000);
      socket.send('alive after pings');
      assert.deepEqual(await echo, ['alive after pings']);
    });
  }
});

describe('heartbeat with raw clients', () => {
  test('raw websocket that answers "3" stays open; pings are "2" text frames', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = openWs(eioWsUrl(srv));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    const open = await sock.messages.next(3000);
    assert.equal(open.data[0], '0');
    const started = Date.now();
    let pings = 0;
    for (let i = 0; i < 20 && pings < 4; i++) {
      const m = await sock.messages.next(3000);
      assert.deepEqual(m, { data: '2', isBinary: false }, 'only pings are expected here');
      pings++;
      sock.ws.send('3');
    }
    assert.equal(pings, 4);
    const elapsed = Date.now() - started;
    // 4 pings cannot come faster than ~4 intervals
    assert.ok(elapsed >= 3 * PING_INTERVAL, `4 pings within ${elapsed} ms: interval not respected`);
    sock.ws.send('4ok');
    const echo = await sock.messages.next(3000);
    assert.equal(echo.data, '4ok');
  });

  test('raw websocket that never answers is closed by the server', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = openWs(eioWsUrl(srv));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    const opened = Date.now();
    const open = await sock.messages.next(3000);
    assert.equal(open.data[0], '0');
    await withTimeout(sock.closed, DROP_DEADLINE, 'server dropping the silent websocket');
    const elapsed = Date.now() - opened;
    const received = sock.messages.items.map((m) => m.data);
    assert.ok(received.includes('2'), `a ping must be sent before dropping, got ${JSON.stringify(received)}`);
    assert.ok(elapsed >= PING_INTERVAL - 50, `dropped after ${elapsed} ms, before the first ping was due`);
  });

  test('raw polling client that never answers loses its session', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const started = Date.now();
    let sawPing = false;
    let gone = null;
    for (let i = 0; i < 20 && !gone; i++) {
      const left = started + DROP_DEADLINE - Date.now();
      assert.ok(left > 0, `session still alive after ${DROP_DEADLINE} ms`);
      const res = await poll.get({ timeout: left });
      if (res.status === 400) {
        assert.deepEqual(parseJsonBody(res), { code: 1, message: 'Session ID unknown' });
        gone = '400';
        break;
      }
      assert.equal(res.status, 200, res.body);
      const types = decodePayload(res.body).map((p) => p.type);
      if (types.includes('2')) sawPing = true;
      if (types.includes('1')) gone = 'close packet';
    }
    assert.ok(gone, 'session was not dropped');
    assert.ok(sawPing, 'a ping must be sent before dropping');
    if (gone === 'close packet') {
      const res = await poll.get({ timeout: 3000 });
      assert.equal(res.status, 400);
      assert.deepEqual(parseJsonBody(res), { code: 1, message: 'Session ID unknown' });
    }
  });

  test('raw polling client that answers "3" keeps its session', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const poll = new RawPolling(srv);
    await poll.handshake();
    let pings = 0;
    for (let i = 0; i < 20 && pings < 3; i++) {
      const res = await poll.get({ timeout: 3000 });
      assert.equal(res.status, 200, res.body);
      for (const p of decodePayload(res.body)) {
        assert.notEqual(p.type, '1', 'session closed although pongs were sent');
        if (p.type === '2') {
          pings++;
          assert.equal((await poll.post('3')).body, 'ok');
        }
      }
    }
    assert.equal(pings, 3);
    assert.equal((await poll.post('4still here')).body, 'ok');
    const [m] = await poll.collect(1, 3000);
    assert.equal(m.raw, '4still here');
  });
});
