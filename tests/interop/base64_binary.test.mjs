// Binary as base64 text over WebSocket (engine.io-client's forceBase64, b64=1 in the WebSocket's request).
// The reference decodes a "b" + base64 packet on every transport, and answers a b64 client's WebSocket with
// "b" + base64 text frames (Engine.IO v4; v3's "b4" form is in eio3.test.mjs).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { WebSocket } from 'ws';
import { startServerFor, waitFor, collectMessages, closeClient, openWs, nextText, withTimeout } from './harness.mjs';
import { startSioFor, connect, once, T } from './sio_harness.mjs';

const MODES = {
  websocket: { transports: ['websocket'] },
  upgrade: { transports: ['polling', 'websocket'], upgrade: true },
};

/** Every frame the client's WebSocket receives and sends, as {dir, text|binary}. */
function tapFrames(ws) {
  const frames = [];
  ws.on('message', (data, isBinary) => frames.push({ dir: 'in', isBinary, data: Buffer.from(data) }));
  const send = ws.send.bind(ws);
  ws.send = (data, ...rest) => {
    frames.push({ dir: 'out', isBinary: typeof data !== 'string', data: Buffer.from(data) });
    return send(data, ...rest);
  };
  return frames;
}

async function openEio(t, srv, mode) {
  const socket = new Socket(`http://${srv.host}:${srv.port}`, { path: srv.path, forceBase64: true, ...MODES[mode] });
  srv.defer(() => closeClient(socket));
  const closed = [];
  socket.on('close', (reason, details) => closed.push(reason + (details ? ` ${details.message || ''}` : '')));
  if (mode === 'upgrade') await waitFor(socket, 'upgrade', 5000, { failOn: ['close', 'upgradeError'] });
  else await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
  assert.equal(socket.transport.name, 'websocket');
  return { socket, closed };
}

for (const mode of Object.keys(MODES)) {
  describe(`engine.io-client forceBase64, ${mode}`, () => {
    test('binary both ways as "b" + base64 text frames; the session stays open', async (t) => {
      const srv = await startServerFor(t);
      const { socket, closed } = await openEio(t, srv, mode);
      const frames = tapFrames(socket.transport.ws);
      const sent = [Buffer.from([1, 2, 3, 0, 255]), 'text between', Uint8Array.from([9, 8, 7])];
      const echoes = collectMessages(socket, sent.length, 5000);
      for (const m of sent) socket.send(m);
      const got = await echoes;
      assert.deepEqual(closed, [], 'the client was closed');
      assert.deepEqual(Buffer.from(got[0]), Buffer.from([1, 2, 3, 0, 255]));
      assert.equal(got[1], 'text between');
      assert.deepEqual(Buffer.from(got[2]), Buffer.from([9, 8, 7]));
      const out = frames.filter((f) => f.dir === 'out' && f.data.toString() !== '3');
      assert.deepEqual(out.map((f) => [f.isBinary, f.data.toString()]),
        [[false, 'bAQIDAP8='], [false, '4text between'], [false, 'bCQgH']], 'what the client sent');
      const inData = frames.filter((f) => f.dir === 'in' && f.data.toString() !== '2');
      assert.deepEqual(inData.map((f) => [f.isBinary, f.data.toString()]),
        [[false, 'bAQIDAP8='], [false, '4text between'], [false, 'bCQgH']], 'what the server sent');
      // and the session still echoes
      const again = collectMessages(socket, 1, 3000);
      socket.send(Buffer.from([42]));
      assert.deepEqual(Buffer.from((await again)[0]), Buffer.from([42]));
      assert.equal(socket.readyState, 'open');
    });
  });
}

test('raw WebSocket without b64: a "b" + base64 text frame is decoded, binary is answered in binary frames',
  async (t) => {
    const srv = await startServerFor(t);
    const sock = openWs(`ws://${srv.host}:${srv.port}${srv.path}?EIO=4&transport=websocket`);
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    assert.match((await nextText(sock.messages, 3000)).data, /^0\{/);
    sock.ws.send('bAQID');
    const echo = await sock.messages.next(3000);
    assert.equal(echo.isBinary, true, `echo of "bAQID": ${JSON.stringify(echo)}`);
    assert.deepEqual([...echo.data], [1, 2, 3]);
    sock.ws.send('4still open');
    assert.deepEqual(await nextText(sock.messages, 3000, { skipPings: true }), { data: '4still open', isBinary: false });
  });

describe('socket.io-client forceBase64', () => {
  for (const transport of ['websocket', null]) {
    test(`binary events and acks over ${transport || 'polling upgraded to websocket'}`, async (t) => {
      const srv = await startSioFor(t);
      const c = await connect(t, srv, { transport, extra: { forceBase64: true } });
      const engine = c.socket.io.engine;
      if (engine.transport.name !== 'websocket') {
        await withTimeout(new Promise((resolve) => engine.once('upgrade', resolve)), T, 'the upgrade');
      }
      const frames = tapFrames(engine.transport.ws);
      const sent = { top: Buffer.from([1, 2, 3]), file: Buffer.from('hello'), nested: [Buffer.from([0, 255])] };
      const acked = await c.socket.timeout(T).emitWithAck('echo-ack', sent);
      assert.deepEqual(Buffer.from(acked.top), sent.top);
      assert.deepEqual(Buffer.from(acked.file), sent.file);
      assert.deepEqual(Buffer.from(acked.nested[0]), sent.nested[0]);
      assert.ok(c.socket.connected, 'still connected');
      assert.ok(frames.length > 0 && frames.every((f) => !f.isBinary),
        `only text frames: ${JSON.stringify(frames.map((f) => [f.dir, f.isBinary, f.data.toString().slice(0, 20)]))}`);
      assert.ok(frames.some((f) => f.dir === 'in' && f.data.toString().startsWith('b')), 'binary came as "b" text');
    });
  }
});

test('Engine.IO v3 (allowEIO3), WebSocket with b64=1: a "b4" + base64 attachment is decoded and echoed as "b4" text',
  async (t) => {
    const srv = await startSioFor(t, ['--allow-eio3', '1']);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${srv.path}?EIO=3&transport=websocket&b64=1`);
    t.after(() => ws.terminate());
    const frames = [];
    let wake = () => {};
    ws.on('message', (data, isBinary) => {
      frames.push({ isBinary, text: String(data) });
      wake();
    });
    const until = (what, cond) => withTimeout(new Promise((resolve) => {
      wake = () => cond() && resolve();
      wake();
    }), T, what);
    await once(ws, 'open');
    await until('welcome', () => frames.some((f) => f.text.startsWith('42["welcome"')));
    ws.send('451-["echo",{"_placeholder":true,"num":0}]');
    ws.send('b4AQID');
    await until('the echo\'s attachment', () => frames.some((f) => f.text === 'b4AQID'));
    assert.ok(frames.some((f) => f.text === '451-["echo",{"_placeholder":true,"num":0}]'), JSON.stringify(frames));
    assert.ok(frames.every((f) => !f.isBinary), 'no binary frames for a b64 client');
  });
