// Engine.IO v4 handshake over raw HTTP long-polling and raw WebSocket.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServerFor, httpRequest, decodePayload, openWs, eioWsUrl, withTimeout,
} from './harness.mjs';

const FLAGS = ['--ping-interval', '12345', '--ping-timeout', '6789', '--max-payload', '54321'];

function checkOpenData(data, upgrades) {
  assert.equal(typeof data.sid, 'string');
  assert.ok(data.sid.length >= 16, `sid too short: ${data.sid}`);
  assert.deepEqual(data.upgrades, upgrades);
  assert.equal(data.pingInterval, 12345);
  assert.equal(data.pingTimeout, 6789);
  assert.equal(data.maxPayload, 54321);
}

describe('handshake', () => {
  test('polling handshake: 200 text/plain, open packet with sid/upgrades/ping*/maxPayload', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['content-type'] || '', /^text\/plain/);
    const packets = decodePayload(res.body);
    assert.equal(packets.length, 1, `expected only the open packet, got ${JSON.stringify(res.body)}`);
    assert.equal(packets[0].type, '0');
    const data = JSON.parse(packets[0].data);
    checkOpenData(data, ['websocket']);
  });

  test('two handshakes get different sids', async (t) => {
    const srv = await startServerFor(t);
    const sids = new Set();
    for (let i = 0; i < 5; i++) {
      const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      const data = JSON.parse(res.body.slice(1));
      assert.ok(data.sid.length >= 16);
      sids.add(data.sid);
    }
    assert.equal(sids.size, 5, `sids repeat: ${[...sids].join(', ')}`);
  });

  test('the handshake query may carry extra parameters (cache buster t=...)', async (t) => {
    const srv = await startServerFor(t);
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling&t=Ozx1a2b&foo=bar`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body[0], '0');
    assert.equal(typeof JSON.parse(res.body.slice(1)).sid, 'string');
  });

  test('websocket handshake without sid: first frame is the open packet with upgrades []', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const sock = openWs(eioWsUrl(srv));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    const first = await sock.messages.next(3000);
    assert.equal(first.isBinary, false, 'open packet must be a text frame');
    assert.equal(first.data[0], '0');
    checkOpenData(JSON.parse(first.data.slice(1)), []);
    // and the session echoes right away
    sock.ws.send('4ws handshake ok');
    const echo = await sock.messages.next(3000);
    assert.deepEqual(echo, { data: '4ws handshake ok', isBinary: false });
  });

  test('websocket handshake with --transports polling is refused', async (t) => {
    const srv = await startServerFor(t, ['--transports', 'polling']);
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
    assert.deepEqual(JSON.parse(res.body.slice(1)).upgrades, []);
    const sock = openWs(eioWsUrl(srv));
    srv.defer(() => sock.ws.terminate());
    await assert.rejects(withTimeout(sock.opened, 5000, 'websocket refusal'), (err) => {
      assert.doesNotMatch(err.message, /^timeout/, 'the upgrade must be refused, not left hanging');
      return true;
    });
  });
});
