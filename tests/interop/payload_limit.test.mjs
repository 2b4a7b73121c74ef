// A POST over maxHttpBufferSize: engine.io answers 413 and keeps the session. The client hears of the 413 as its
// transport's error and closes the session itself; until then the waiting GET and the session go on.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { startServerFor, RawPolling, decodePayload, waitFor, closeClient } from './harness.mjs';

const FLAGS = ['--max-payload', '1000'];

describe('polling POST over maxHttpBufferSize', () => {
  test('413; the pending GET stays pending and answers the next POST; the session lives on', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const pending = poll.get({ timeout: 5000 }); // nothing queued: it waits (pingInterval 25 s)
    const big = await poll.post(`4${'y'.repeat(1500)}`);
    assert.equal(big.status, 413, `over-size POST: ${big.status} ${big.body}`);
    // Whether the GET reached the server before or after the 413, it is answered by what comes next.
    const small = await poll.post('4after the 413');
    assert.equal(small.status, 200, `POST after the 413: ${small.status} ${small.body}`);
    assert.equal(small.body, 'ok');
    const res = await pending;
    assert.equal(res.status, 200, `pending GET: ${res.status} ${res.body}`);
    assert.deepEqual(decodePayload(res.body).map((p) => p.raw), ['4after the 413'], 'the pending GET');
    // and again, on a new GET
    const again = await poll.post('4once more');
    assert.equal(again.status, 200);
    const [msg] = await poll.collect(1, 3000);
    assert.equal(msg.raw, '4once more');
  });

  test('engine.io-client (polling): closed with "transport error", the xhr post error of status 413', async (t) => {
    const srv = await startServerFor(t, FLAGS);
    const socket = new Socket(`http://${srv.host}:${srv.port}`, { path: srv.path, transports: ['polling'] });
    srv.defer(() => closeClient(socket));
    await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
    const closed = waitFor(socket, 'close', 5000);
    socket.send('z'.repeat(1500));
    const [reason, details] = await closed;
    assert.equal(reason, 'transport error', `close reason ${reason} ${details && details.message}`);
    assert.equal(details.message, 'xhr post error');
    assert.equal(details.description, 413);
  });
});
