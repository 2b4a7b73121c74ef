// HTTP error responses ({"code":N,"message":"..."}) and CORS.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServerFor, httpRequest, parseJsonBody, RawPolling, rawUpgradedSession,
} from './harness.mjs';

const MESSAGES = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

function assertError(res, code) {
  assert.equal(res.status, code === 4 ? 403 : 400, `status for code ${code}; body ${res.body}`);
  // exactly these two keys, exactly these values
  assert.deepEqual(parseJsonBody(res), { code, message: MESSAGES[code] });
}

describe('HTTP errors', () => {
  test('code 0 "Transport unknown": transport=foo', async (t) => {
    const srv = await startServerFor(t);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=foo`), 0);
  });

  test('code 0: missing transport', async (t) => {
    const srv = await startServerFor(t);
    assertError(await httpRequest(`${srv.url}?EIO=4`), 0);
  });

  test('code 1 "Session ID unknown": sid=nope (GET and POST)', async (t) => {
    const srv = await startServerFor(t);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=polling&sid=nope`), 1);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=polling&sid=nope`, { method: 'POST', body: '4x' }), 1);
  });

  test('code 2 "Bad handshake method": POST without sid', async (t) => {
    const srv = await startServerFor(t);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=polling`, { method: 'POST', body: '4hi' }), 2);
  });

  test('code 3 "Bad request": polling GET/POST with the sid of a session upgraded to websocket', async (t) => {
    const srv = await startServerFor(t);
    const { poll, sock } = await rawUpgradedSession(srv);
    srv.defer(() => sock.ws.terminate());
    assertError(await poll.get(), 3);
    assertError(await poll.post('4nope'), 3);
    // the websocket session itself is unaffected
    sock.ws.send('4still there');
    const m = await sock.messages.next(3000);
    assert.equal(m.data, '4still there');
  });

  test('code 4 "Forbidden" (403): --allow-origin with a different Origin', async (t) => {
    const srv = await startServerFor(t, ['--allow-origin', 'http://good.example']);
    const url = `${srv.url}?EIO=4&transport=polling`;
    assertError(await httpRequest(url, { headers: { Origin: 'http://evil.example' } }), 4);
    const good = await httpRequest(url, { headers: { Origin: 'http://good.example' } });
    assert.equal(good.status, 200, good.body);
    assert.equal(good.body[0], '0');
    const none = await httpRequest(url);
    assert.equal(none.status, 200, none.body);
    assert.equal(none.body[0], '0');
  });

  test('code 5 "Unsupported protocol version": EIO=3 and missing EIO', async (t) => {
    const srv = await startServerFor(t);
    assertError(await httpRequest(`${srv.url}?EIO=3&transport=polling`), 5);
    assertError(await httpRequest(`${srv.url}?transport=polling`), 5);
  });

  test('--transports websocket: polling handshake gets code 0', async (t) => {
    const srv = await startServerFor(t, ['--transports', 'websocket']);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=polling`), 0);
  });

  test('errors do not disturb an existing session', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=polling&sid=nope`), 1);
    assertError(await httpRequest(`${srv.url}?EIO=4&transport=foo&sid=${poll.sid}`), 0);
    assert.equal((await poll.post('4alive')).body, 'ok');
    const [m] = await poll.collect(1);
    assert.equal(m.raw, '4alive');
  });
});

describe('CORS', () => {
  test('OPTIONS preflight with Origin: 204/200, Allow-Origin and Allow-Methods GET, POST', async (t) => {
    const srv = await startServerFor(t);
    const origin = 'http://client.example';
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    const acao = res.headers['access-control-allow-origin'];
    assert.ok(acao === origin || acao === '*', `Access-Control-Allow-Origin: ${acao}`);
    const methods = (res.headers['access-control-allow-methods'] || '').split(',').map((s) => s.trim().toUpperCase());
    assert.ok(methods.includes('GET') && methods.includes('POST'), `Access-Control-Allow-Methods: ${methods}`);
  });

  test('handshake GET with Origin: Allow-Origin echoes it, Allow-Credentials: true', async (t) => {
    const srv = await startServerFor(t);
    const origin = 'http://client.example';
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`, { headers: { Origin: origin } });
    assert.equal(res.status, 200);
    // with credentials allowed, "*" is not valid: the origin must be echoed
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
  });

  test('POST and later GET of a session with Origin carry Allow-Origin', async (t) => {
    const srv = await startServerFor(t);
    const origin = 'http://client.example';
    const poll = new RawPolling(srv);
    await poll.handshake({ Origin: origin });
    const post = await poll.post('4cors', { headers: { Origin: origin } });
    assert.equal(post.body, 'ok');
    assert.equal(post.headers['access-control-allow-origin'], origin);
    const get = await poll.get({ headers: { Origin: origin } });
    assert.equal(get.body, '4cors');
    assert.equal(get.headers['access-control-allow-origin'], origin);
  });
});
