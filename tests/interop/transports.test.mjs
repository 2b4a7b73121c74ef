// Echo through the official engine.io-client in the three transport modes:
// polling only, websocket only, and polling upgraded to websocket.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { startServerFor, waitFor, collectMessages, closeClient } from './harness.mjs';

const MODES = {
  polling: { transports: ['polling'], upgrade: false },
  websocket: { transports: ['websocket'] },
  upgrade: { transports: ['polling', 'websocket'], upgrade: true },
};

function newClient(t, srv, opts) {
  const socket = new Socket(`http://${srv.host}:${srv.port}`, {
    path: srv.path,
    reconnection: false,
    ...opts,
  });
  srv.defer(() => closeClient(socket));
  return socket;
}

/** Open a client in `mode`; for 'upgrade', wait until it runs on websocket. */
async function openClient(t, srv, mode) {
  const socket = newClient(t, srv, MODES[mode]);
  if (mode === 'upgrade') {
    await waitFor(socket, 'upgrade', 5000, { failOn: ['close', 'upgradeError'] });
    assert.equal(socket.transport.name, 'websocket');
  } else {
    await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
    assert.equal(socket.transport.name, mode);
  }
  return socket;
}

/** Message i of a numbered sequence: mostly text, every 7th binary. */
function seqMessage(i) {
  if (i % 7 === 3) return Buffer.from([i & 0xff, i >> 8, 0xfe, 0xff, 0x00]);
  return `msg-${i}`;
}

function assertSequence(received, count) {
  assert.equal(received.length, count, `expected ${count} echoes, got ${received.length}`);
  for (let i = 0; i < count; i++) {
    const want = seqMessage(i);
    const got = received[i];
    if (Buffer.isBuffer(want)) {
      assert.ok(Buffer.isBuffer(got), `echo #${i} should be binary, got ${JSON.stringify(got)}`);
      assert.deepEqual([...got], [...want], `binary echo #${i}`);
    } else {
      assert.equal(got, want, `echo #${i} out of order or wrong`);
    }
  }
}

for (const mode of Object.keys(MODES)) {
  describe(`engine.io-client, ${mode}`, () => {
    test('text echo (ASCII and multi-byte UTF-8)', async (t) => {
      const srv = await startServerFor(t);
      const socket = await openClient(t, srv, mode);
      const texts = ['hello', 'héllo wörld ✓ 日本語 🎉', 'with\nnewline, "quotes" and \\ backslash', '4looks like a packet'];
      const echoes = collectMessages(socket, texts.length, 5000);
      for (const s of texts) socket.send(s);
      assert.deepEqual(await echoes, texts);
      assert.equal(socket.transport.name, mode === 'upgrade' ? 'websocket' : mode);
    });

    test('binary echo (Uint8Array and Buffer in, identical bytes out)', async (t) => {
      const srv = await startServerFor(t);
      const socket = await openClient(t, srv, mode);
      const all = new Uint8Array(256).map((_, i) => i);
      const buf = Buffer.from('binary\x00payload\xff', 'latin1');
      const echoes = collectMessages(socket, 3, 5000);
      socket.send(all);
      socket.send(buf);
      socket.send('text between');
      const [a, b, c] = await echoes;
      assert.ok(Buffer.isBuffer(a) || a instanceof ArrayBuffer || ArrayBuffer.isView(a), 'first echo is binary');
      assert.deepEqual([...new Uint8Array(a)], [...all]);
      assert.ok(typeof b !== 'string', 'second echo is binary');
      assert.deepEqual([...new Uint8Array(b)], [...buf]);
      assert.equal(c, 'text between');
    });

    test('200 messages each way, exactly once and in order', async (t) => {
      const srv = await startServerFor(t);
      const socket = await openClient(t, srv, mode);
      const N = 200;
      const echoes = collectMessages(socket, N, 10000);
      // send in a few bursts so that polling uses several POSTs
      for (let burst = 0; burst < 4; burst++) {
        for (let i = burst * 50; i < (burst + 1) * 50; i++) socket.send(seqMessage(i));
        await new Promise((r) => setImmediate(r));
      }
      const received = await echoes;
      assertSequence(received, N);
      // nothing extra trickles in afterwards: round-trip one more marker
      const extra = collectMessages(socket, 1, 3000);
      socket.send('end-marker');
      assert.deepEqual(await extra, ['end-marker']);
    });
  });
}

describe('engine.io-client, polling -> websocket upgrade', () => {
  test('messages sent before, during and after the upgrade are all echoed in order', async (t) => {
    const srv = await startServerFor(t);
    const socket = newClient(t, srv, MODES.upgrade);
    const N = 210;
    const received = [];
    const phases = { open: 0, upgrading: 0, upgrade: 0 };
    let next = 0;
    const sendUpTo = (limit, phase) => {
      for (; next < limit; next++) {
        socket.send(seqMessage(next));
        phases[phase]++;
      }
    };
    socket.on('message', (m) => received.push(m));
    socket.on('open', () => {
      assert.equal(socket.transport.name, 'polling');
      sendUpTo(70, 'open');
    });
    socket.on('upgrading', () => sendUpTo(140, 'upgrading'));
    const upgraded = waitFor(socket, 'upgrade', 5000, { failOn: ['close', 'upgradeError'] });
    await upgraded;
    assert.equal(socket.transport.name, 'websocket');
    sendUpTo(N, 'upgrade');
    assert.deepEqual(phases, { open: 70, upgrading: 70, upgrade: 70 });
    // wait (bounded) for all echoes
    if (received.length < N) {
      await collectMessages(socket, N - received.length, 10000);
    }
    assertSequence(received, N);
  });
});

describe('transport restrictions', () => {
  test('--transports websocket: websocket-only client works', async (t) => {
    const srv = await startServerFor(t, ['--transports', 'websocket']);
    const socket = newClient(t, srv, { transports: ['websocket'] });
    await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
    assert.equal(socket.transport.name, 'websocket');
    const echoes = collectMessages(socket, 2, 5000);
    socket.send('ws only');
    socket.send(Buffer.from([1, 2, 3]));
    const [a, b] = await echoes;
    assert.equal(a, 'ws only');
    assert.deepEqual([...new Uint8Array(b)], [1, 2, 3]);
  });

  test('--transports polling: client stays on polling (no upgrade offered)', async (t) => {
    const srv = await startServerFor(t, ['--transports', 'polling']);
    const socket = newClient(t, srv, { transports: ['polling', 'websocket'] });
    const handshake = waitFor(socket, 'handshake', 5000, { failOn: ['close', 'error'] });
    const [data] = await handshake;
    assert.deepEqual(data.upgrades, []);
    const echoes = collectMessages(socket, 1, 5000);
    socket.send('polling only');
    assert.deepEqual(await echoes, ['polling only']);
    assert.equal(socket.transport.name, 'polling');
  });
});
