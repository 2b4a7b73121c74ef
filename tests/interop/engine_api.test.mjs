// The engine's API that engine.io users reach for (issue 19 §2): the "initial_headers" / "headers" events on every
// answer a transport gives, and an asynchronous allowRequest that holds no lock while it is pending. engine_echo's
// --initial-header / --header / --allow-async flags turn them on.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  startServerFor, httpRequest, RawPolling, openWs, eioWsUrl, withTimeout, nextText,
} from './harness.mjs';

// The 101 of a WebSocket to `url`: its headers, and the open socket (closed by the caller).
function upgradeHeaders(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('upgrade', (res) => resolve({ headers: res.headers, ws }));
    ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

// GET /allow-pending until `n` handshakes wait for their allowRequest callback (bounded).
async function pendingReaches(srv, n) {
  for (let i = 0; i < 200; i++) {
    const res = await httpRequest(`${srv.origin}/allow-pending`);
    if (Number(res.body) === n) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never ${n} pending allowRequest callbacks`);
}

describe('initial_headers and headers', () => {
  const flags = ['--initial-header', 'X-Initial=first', '--header', 'X-Every=each', '--header', 'Set-Cookie=lb=a1'];

  test('polling: the handshake gets both, every later GET and POST the "headers" ones, a refusal none', async (t) => {
    const srv = await startServerFor(t, flags);
    const poll = new RawPolling(srv);
    const { res } = await poll.handshake();
    assert.equal(res.headers['x-initial'], 'first');
    assert.equal(res.headers['x-every'], 'each');
    assert.deepEqual(res.headers['set-cookie'], ['lb=a1']);
    const post = await poll.post('4hello');
    assert.equal(post.status, 200);
    assert.equal(post.headers['x-every'], 'each');
    assert.equal(post.headers['x-initial'], undefined);
    const get = await poll.get();
    assert.equal(get.status, 200);
    assert.equal(get.body, '4hello');
    assert.equal(get.headers['x-every'], 'each');
    assert.equal(get.headers['x-initial'], undefined);
    const refused = await httpRequest(`${srv.url}?EIO=4&transport=polling&sid=nope`);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers['x-every'], undefined);
  });

  test('with the cookie option, initial_headers sees the session cookie and keeps it beside its own', async (t) => {
    const srv = await startServerFor(t, [...flags, '--cookie', 'true']);
    const poll = new RawPolling(srv);
    const { res } = await poll.handshake();
    const cookies = res.headers['set-cookie'];
    assert.ok(cookies.includes('lb=a1'), JSON.stringify(cookies));
    assert.ok(cookies.some((c) => c.startsWith(`io=${poll.sid};`)), JSON.stringify(cookies));
  });

  test('websocket: a 101 that opens a session gets both, an upgrade\'s 101 the "headers" ones', async (t) => {
    const srv = await startServerFor(t, flags);
    const direct = await upgradeHeaders(eioWsUrl(srv));
    t.after(() => direct.ws.terminate());
    assert.equal(direct.headers['x-initial'], 'first');
    assert.equal(direct.headers['x-every'], 'each');
    const poll = new RawPolling(srv);
    await poll.handshake();
    const upgrade = await upgradeHeaders(eioWsUrl(srv, poll.sid));
    t.after(() => upgrade.ws.terminate());
    assert.equal(upgrade.headers['x-every'], 'each');
    assert.equal(upgrade.headers['x-initial'], undefined);
  });

  test('a header value with a line break is left out of the 101, the answer intact', async (t) => {
    const srv = await startServerFor(t, ['--header', 'X-Bad=a\r\nX-Injected: yes', '--header', 'X-Good=ok']);
    const direct = await upgradeHeaders(eioWsUrl(srv));
    t.after(() => direct.ws.terminate());
    assert.equal(direct.headers['x-good'], 'ok');
    assert.equal(direct.headers['x-injected'], undefined);
    assert.equal(direct.headers['x-bad'], undefined);
  });
});

describe('asynchronous allowRequest', () => {
  test('the answer comes later from another thread; while one waits, other sessions\' handlers run', async (t) => {
    const srv = await startServerFor(t, ['--allow-async', '1']);
    // A: allowed once its callback is called.
    const first = new RawPolling(srv);
    const firstHandshake = first.handshake();
    await pendingReaches(srv, 1);
    assert.equal((await httpRequest(`${srv.origin}/allow-release?ok=1`)).body, '1');
    await firstHandshake;
    // B waits for its answer; meanwhile A's messages are echoed by a handler: no lock is held for B.
    const second = httpRequest(`${srv.url}?EIO=4&transport=polling`, { timeout: 10000 });
    await pendingReaches(srv, 1);
    assert.equal((await first.post('4while B waits')).status, 200);
    assert.equal((await first.get()).body, '4while B waits');
    await httpRequest(`${srv.origin}/allow-release?ok=0&message=${encodeURIComponent('not today')}`);
    const refused = await second;
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body), { code: 4, message: 'not today' });
  });

  test('over WebSocket: allowed later, the session opens', async (t) => {
    const srv = await startServerFor(t, ['--allow-async', '1']);
    const sock = openWs(eioWsUrl(srv));
    t.after(() => sock.ws.terminate());
    await pendingReaches(srv, 1);
    await httpRequest(`${srv.origin}/allow-release?ok=1`);
    await withTimeout(sock.opened, 5000, 'websocket open');
    assert.equal((await nextText(sock.messages, 3000)).data[0], '0');
  });

  test('an answer that never comes: 403 "allowRequest timed out" after allowRequestTimeout', async (t) => {
    const srv = await startServerFor(t, ['--allow-async', '1', '--allow-request-timeout', '200']);
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`, { timeout: 5000 });
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { code: 4, message: 'allowRequest timed out' });
    // the late answer is dropped, harmlessly
    assert.equal((await httpRequest(`${srv.origin}/allow-release?ok=1`)).body, '1');
  });
});
