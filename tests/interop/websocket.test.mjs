// WebSocket transport with a plain `ws` client: packet framing and the
// payload limit.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServerFor, openWs, eioWsUrl, withTimeout } from './harness.mjs';

async function openEioWs(t, srv) {
  const sock = openWs(eioWsUrl(srv));
  srv.defer(() => sock.ws.terminate());
  await withTimeout(sock.opened, 3000, 'websocket open');
  const open = await sock.messages.next(3000);
  assert.equal(open.data[0], '0');
  return sock;
}

describe('websocket transport (raw ws client)', () => {
  test('text packets are text frames, binary messages are binary frames without prefix', async (t) => {
    const srv = await startServerFor(t);
    const sock = await openEioWs(t, srv);
    sock.ws.send('4text ✓');
    sock.ws.send(Buffer.from([0, 1, 2, 250]));
    sock.ws.send('4');
    assert.deepEqual(await sock.messages.next(3000), { data: '4text ✓', isBinary: false });
    const bin = await sock.messages.next(3000);
    assert.equal(bin.isBinary, true);
    assert.deepEqual([...bin.data], [0, 1, 2, 250]);
    assert.deepEqual(await sock.messages.next(3000), { data: '4', isBinary: false });
  });
});

describe('websocket payload limit (--max-payload 1000)', () => {
  const FLAGS = ['--max-payload', '1000'];

  test('message just under the limit is echoed', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = await openEioWs(t, srv);
    const text = `4${'z'.repeat(998)}`; // 999 bytes
    sock.ws.send(text);
    const echo = await sock.messages.next(3000);
    assert.equal(echo.data, text);
    const bin = Buffer.alloc(999, 7);
    sock.ws.send(bin);
    const binEcho = await sock.messages.next(3000);
    assert.equal(binEcho.isBinary, true);
    assert.ok(binEcho.data.equals(bin));
  });

  test('text message over the limit: server closes with 1009', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = await openEioWs(t, srv);
    sock.ws.send(`4${'z'.repeat(1000)}`); // 1001 bytes
    const { code, reason } = await withTimeout(sock.closed, 3000, 'server closing the websocket');
    assert.equal(code, 1009);
    assert.equal(reason, '', 'no reason in the close frame, as ws');
    assert.deepEqual(sock.messages.items, [], 'oversized message must not be echoed');
  });

  test('binary message over the limit: server closes with 1009', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = await openEioWs(t, srv);
    sock.ws.send(Buffer.alloc(5000, 1));
    const { code, reason } = await withTimeout(sock.closed, 3000, 'server closing the websocket');
    assert.equal(code, 1009);
    assert.equal(reason, '', 'no reason in the close frame, as ws');
    assert.deepEqual(sock.messages.items, []);
  });
});
