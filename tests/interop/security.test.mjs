// Hardening: session ids, session hijacking after an upgrade, the client bundle route, CORS and
// allowRequest. Engine.IO checks run against build/engine_echo, Socket.IO ones against
// build/sio_test_server; each test ends by checking that the server still serves a fresh client.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServerFor, httpRequest, parseJsonBody, openWs, eioWsUrl, nextText, rawUpgradedSession, withTimeout,
  RawPolling, REPO_ROOT, skipForReference,
} from './harness.mjs';
import { startSioFor } from './sio_harness.mjs';
import { rawHttp, assertEngineServes, assertSioServes, within } from './hardening_util.mjs';

// sio_test_server's --cors-origin has no counterpart in the reference server (SIO_SERVER=... ref_sio_server.mjs)
const SIO_IS_REFERENCE = (process.env.SIO_SERVER || '').includes('ref_sio_server');
const skipCorsForReference = SIO_IS_REFERENCE ? 'reference socket.io server: no --cors-origin flag' : false;

/** GET the Engine.IO handshake (polling) with extra headers. */
function handshake(srv, headers = {}) {
  return httpRequest(`${srv.url}?EIO=4&transport=polling`, { headers });
}

/** Resolves with the refusal (Error with statusCode) of a websocket handshake, or null if it opened. */
async function wsRefusal(url, opts = {}) {
  const s = openWs(url, opts);
  try {
    return await within(s.opened.then(() => null, (err) => err), 3000, `websocket handshake to ${url}`);
  } finally {
    s.ws.terminate();
  }
}

/**
 * A second websocket with the sid of a session that already has (or is probing) one must not get
 * anywhere: refused with a 4xx, or — as npm engine.io does — given a 101 and closed at once, without
 * an answer to a probe nor any message.
 */
async function assertNoSecondSession(srv, sid, what) {
  const second = openWs(eioWsUrl(srv, sid));
  srv.defer(() => second.ws.terminate());
  const refused = await within(second.opened.then(() => null, (err) => err), 3000, `${what}: the handshake`);
  if (refused) {
    assert.ok(refused.statusCode >= 400 && refused.statusCode < 500, `${what}: refused with ${refused.message}`);
    return;
  }
  second.ws.send('2probe');
  second.ws.send('5');
  second.ws.send('4from the intruder');
  const got = [];
  const closed = await within((async () => {
    for (let i = 0; i < 20; i++) {
      try {
        got.push((await second.messages.next(3000)).data);
      } catch {
        return true; // the stream ended: the server closed it
      }
    }
    return false;
  })(), 4000, `${what}: the server to close it`).catch(() => false);
  assert.deepEqual(got, [], `${what} was accepted and received ${JSON.stringify(got)}`);
  assert.ok(closed, `${what} was accepted (101) and left open`);
}

describe('security: session ids', () => {
  test('2000 handshakes: distinct 20-character base64url sids with well-spread characters and balanced bits',
    { skip: skipForReference('base64id ends its ids with a counter (positions 16-18 barely vary)') }, async (t) => {
    const srv = await startServerFor(t, ['--max-connections-per-address', '0']);  // 2000 sessions from one address
    const url = `${srv.url}?EIO=4&transport=polling`;
    const sids = [];
    const failures = [];
    let next = 0;
    const worker = async () => {
      for (let guard = 0; guard < 2000 && next < 2000; guard++) {
        next++;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          const body = await res.text();
          if (res.status !== 200 || body[0] !== '0') failures.push(`${res.status} ${body.slice(0, 80)}`);
          else sids.push(JSON.parse(body.slice(1)).sid);
        } catch (err) {
          failures.push(err.message);
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} handshakes failed`);
    assert.equal(sids.length, 2000);
    assert.equal(new Set(sids).size, 2000, 'every sid is distinct');
    const bad = sids.filter((s) => !/^[A-Za-z0-9_-]{20}$/.test(s));
    assert.deepEqual(bad.slice(0, 5), [], 'sids are 20 characters of [A-Za-z0-9_-]');

    // each of the 20 positions carries 6 random bits: over 2000 sids nearly all 64 characters show up
    const perPosition = Array.from({ length: 20 }, (_, i) => new Set(sids.map((s) => s[i])).size);
    const poor = perPosition.map((n, i) => [i, n]).filter(([, n]) => n < 56);
    assert.deepEqual(poor, [], `positions using few distinct characters ([position, count]): ${JSON.stringify(poor)}; ` +
      `all: ${perPosition.join(',')}`);
    // each of the 120 bits is set in about half of the sids (binomial: 1000 ± 22.4 per sigma)
    const ones = new Array(120).fill(0);
    for (const s of sids) {
      const bytes = Buffer.from(s, 'base64url');
      assert.equal(bytes.length, 15, `sid ${s} decodes to ${bytes.length} bytes`);
      for (let b = 0; b < 120; b++) if (bytes[b >> 3] & (0x80 >> (b & 7))) ones[b]++;
    }
    const skewed = ones.map((n, b) => [b, n]).filter(([, n]) => Math.abs(n - 1000) > 150);
    assert.deepEqual(skewed, [], `bits set far from half the time ([bit, count of 2000]): ${JSON.stringify(skewed)}`);
    t.diagnostic(`distinct characters per position: min ${Math.min(...perPosition)}; bit counts ${Math.min(...ones)}..${Math.max(...ones)}`);
    await assertEngineServes(srv);
  });
});

describe('security: a session upgraded to websocket cannot be taken over', () => {
  test('after the upgrade neither polling with the sid nor a second websocket with it works; the owner keeps working', async (t) => {
    const srv = await startServerFor(t);
    const { poll, sock } = await rawUpgradedSession(srv);
    srv.defer(() => sock.ws.terminate());

    const get = await poll.get();
    assert.equal(get.status, 400, `polling GET with the upgraded sid: ${get.status} ${get.body}`);
    assert.equal(parseJsonBody(get).code, 3);
    const post = await poll.post('4hijacked');
    assert.equal(post.status, 400, `polling POST with the upgraded sid: ${post.status} ${post.body}`);

    await assertNoSecondSession(srv, poll.sid, 'a second websocket with the upgraded sid');

    // the owner's session is intact and nobody else received its traffic
    sock.ws.send('4still mine');
    const echo = await nextText(sock.messages, 3000, { skipPings: true });
    assert.equal(echo.data, '4still mine');
    await assertEngineServes(srv);
  });

  test('a second websocket during the upgrade (probe answered, before "5") is refused; the upgrade completes', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const first = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => first.ws.terminate());
    await withTimeout(first.opened, 3000, 'first websocket');
    first.ws.send('2probe');
    assert.equal((await nextText(first.messages, 3000)).data, '3probe');

    await assertNoSecondSession(srv, poll.sid, 'a second websocket during the upgrade');

    first.ws.send('5');
    first.ws.send('4upgraded');
    assert.equal((await nextText(first.messages, 3000, { skipPings: true })).data, '4upgraded');
    await assertEngineServes(srv);
  });
});

describe('security: the client bundle route (sio_test_server)', () => {
  const DIST = path.join(REPO_ROOT, 'node_modules', 'socket.io-client', 'dist');
  const distFiles = ['socket.io.js', 'socket.io.min.js', 'socket.io.js.map', 'socket.io.min.js.map']
    .filter((f) => fs.existsSync(path.join(DIST, f))).map((f) => fs.readFileSync(path.join(DIST, f)));
  const isBundle = (body) => distFiles.some((f) => f.equals(body));
  const get = (srv, target, extra = '') =>
    rawHttp(srv, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n${extra}Connection: close\r\n\r\n`, { ms: 5000 });

  test('the bundle: 200 with an ETag, 304 on If-None-Match, 200 on another tag', async (t) => {
    const srv = await startSioFor(t);
    const res = await get(srv, '/socket.io/socket.io.js');
    assert.equal(res.status, 200, res.statusLine);
    assert.ok(isBundle(res.body), `the body (${res.body.length} bytes) is a file of socket.io-client/dist`);
    assert.match(res.headers['content-type'] || '', /javascript/);
    const etag = res.headers.etag;
    assert.ok(etag, 'an ETag header');
    const min = await get(srv, '/socket.io/socket.io.min.js');
    assert.equal(min.status, 200);
    assert.ok(isBundle(min.body) && min.headers.etag, 'socket.io.min.js: a dist file with an ETag');
    const cached = await get(srv, '/socket.io/socket.io.js', `If-None-Match: ${etag}\r\n`);
    assert.equal(cached.status, 304, `If-None-Match with the ETag: ${cached.statusLine}`);
    assert.equal(cached.body.length, 0, '304 has no body');
    const stale = await get(srv, '/socket.io/socket.io.js', 'If-None-Match: "0000000000000000"\r\n');
    assert.equal(stale.status, 200, `If-None-Match with another tag: ${stale.statusLine}`);
    await assertSioServes(srv);
  });

  const targets = [
    '/socket.io/../package.json',
    '/socket.io/%2e%2e/package.json',
    '/socket.io/%2e%2e%2fpackage.json',
    '/socket.io/%2E%2E%2F%2E%2E%2Fpackage.json',
    '/socket.io/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/socket.io//etc/passwd',
    '/socket.io/socket.io.js/../../../etc/passwd',
    '/socket.io/socket.io.min.js%00.map',
    '/socket.io/socket.io.js%2f..%2f..%2fpackage.json',
    '/socket.io/..\\..\\package.json',
    '/socket.io/%252e%252e/package.json',
    '/etc/passwd',
    '/package.json',
    '/node_modules/socket.io-client/package.json',
  ];
  test('paths that try to walk out of the bundle folder never return another file', async (t) => {
    const srv = await startSioFor(t);
    const leaks = [];
    const seen = [];
    for (const target of targets) {
      let res;
      try {
        res = await rawHttp(srv, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: close\r\n\r\n`, { ms: 3000 });
      } catch (err) {
        seen.push(`${target} → no answer`); // nothing served
        continue;
      }
      seen.push(`${target} → ${res.status ?? 'closed'}`);
      const text = res.body.toString('latin1');
      if (res.status === 200 && !isBundle(res.body)) {
        leaks.push(`${target} → 200 with ${res.body.length} bytes: ${JSON.stringify(text.slice(0, 120))}`);
      } else if (/root:.*:0:0:/.test(text) || /"name":\s*"(socket\.io-client|sioserver-tests)"/.test(text)) {
        leaks.push(`${target} → ${res.status} with file contents: ${JSON.stringify(text.slice(0, 120))}`);
      }
    }
    assert.deepEqual(leaks, [], `files served outside the bundle: ${leaks.join('; ')}`);
    t.diagnostic(seen.join('; '));
    await assertSioServes(srv);
  });
});

describe('security: CORS (sio_test_server --cors-origin http://good.example)', () => {
  const hsPath = (srv) => `${srv.path}?EIO=4&transport=polling`;
  const preflight = (srv, origin) => httpRequest(`${srv.origin}${hsPath(srv)}`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  const hs = (srv, origin) => httpRequest(`${srv.origin}${hsPath(srv)}`, { headers: { Origin: origin } });

  test('the allowed origin gets Access-Control-Allow-Origin on the preflight, the handshake and later requests', { skip: skipCorsForReference }, async (t) => {
    const srv = await startSioFor(t, ['--cors-origin', 'http://good.example']);
    const pre = await preflight(srv, 'http://good.example');
    assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://good.example');
    assert.match(pre.headers['access-control-allow-methods'] || '', /POST/);
    const res = await hs(srv, 'http://good.example');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], 'http://good.example');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const sid = JSON.parse(res.body.slice(1)).sid;
    const post = await httpRequest(`${srv.origin}${hsPath(srv)}&sid=${sid}`, {
      method: 'POST', body: '40', headers: { Origin: 'http://good.example' },
    });
    assert.equal(post.status, 200, post.body);
    assert.equal(post.headers['access-control-allow-origin'], 'http://good.example');
    await assertSioServes(srv);
  });

  for (const origin of [
    'http://evil.example',
    'http://good.example.evil.example',
    'http://evil.example/http://good.example',
    'https://good.example',
    'http://good.example:8080',
    'null',
  ]) {
    test(`origin ${origin}: no Access-Control-Allow-Origin on the preflight, the handshake or a POST`, { skip: skipCorsForReference }, async (t) => {
      const srv = await startSioFor(t, ['--cors-origin', 'http://good.example']);
      const pre = await preflight(srv, origin);
      assert.equal(pre.headers['access-control-allow-origin'], undefined,
        `preflight from ${origin} got Access-Control-Allow-Origin: ${pre.headers['access-control-allow-origin']}`);
      assert.equal(pre.headers['access-control-allow-credentials'], undefined, 'no Allow-Credentials either');
      const res = await hs(srv, origin);
      assert.equal(res.headers['access-control-allow-origin'], undefined,
        `handshake from ${origin} got Access-Control-Allow-Origin: ${res.headers['access-control-allow-origin']}`);
      if (res.status === 200) {
        const sid = JSON.parse(res.body.slice(1)).sid;
        const post = await httpRequest(`${srv.origin}${hsPath(srv)}&sid=${sid}`, {
          method: 'POST', body: '40', headers: { Origin: origin },
        });
        assert.equal(post.headers['access-control-allow-origin'], undefined, `POST from ${origin} got Allow-Origin`);
      }
      await assertSioServes(srv);
    });
  }
});

describe('security: allowRequest (engine_echo --allow-origin / --allow-cookie)', () => {
  test('by Origin: another origin gets 403 {"code":4,"message":"Forbidden"} on polling and websocket', async (t) => {
    const srv = await startServerFor(t, ['--allow-origin', 'http://good.example']);
    for (const origin of ['http://evil.example', 'http://good.example.evil.example', 'https://good.example']) {
      const res = await handshake(srv, { Origin: origin });
      assert.equal(res.status, 403, `polling handshake from ${origin}: ${res.status} ${res.body}`);
      assert.deepEqual(parseJsonBody(res), { code: 4, message: 'Forbidden' });
      const refused = await wsRefusal(eioWsUrl(srv), { origin });
      assert.ok(refused, `websocket handshake from ${origin} was accepted`);
      // sioserver answers 403 like polling; npm engine.io refuses websocket upgrades with 400
      assert.ok([400, 403].includes(refused.statusCode), `websocket handshake from ${origin}: ${refused.message}`);
    }
    const ok = await handshake(srv, { Origin: 'http://good.example' });
    assert.equal(ok.status, 200, `handshake from the allowed origin: ${ok.status} ${ok.body}`);
    assert.equal(await wsRefusal(eioWsUrl(srv), { origin: 'http://good.example' }), null,
      'websocket handshake from the allowed origin is accepted');
    await assertEngineServes(srv); // engine.io-client in Node sends no Origin
  });

  test('by cookie token=abc: refused without it or with a look-alike, accepted with it among others',
    { skip: skipForReference('no --allow-cookie flag') }, async (t) => {
    const srv = await startServerFor(t, ['--allow-cookie', 'token=abc']);
    const forbidden = [undefined, 'token=abcd', 'token=ab', 'xtoken=abc', 'a=token=abc', 'token=ABC'];
    for (const cookie of forbidden) {
      const res = await handshake(srv, cookie === undefined ? {} : { Cookie: cookie });
      assert.equal(res.status, 403, `handshake with Cookie ${JSON.stringify(cookie)}: ${res.status} ${res.body}`);
      assert.deepEqual(parseJsonBody(res), { code: 4, message: 'Forbidden' });
    }
    const refused = await wsRefusal(eioWsUrl(srv));
    assert.ok(refused, 'websocket handshake without the cookie was accepted');
    assert.equal(refused.statusCode, 403, `websocket handshake without the cookie: ${refused.message}`);
    for (const cookie of ['a=1; token=abc', 'token=abc', 'token=abc; b=2']) {
      const res = await handshake(srv, { Cookie: cookie });
      assert.equal(res.status, 200, `handshake with Cookie ${JSON.stringify(cookie)}: ${res.status} ${res.body}`);
    }
    assert.equal(await wsRefusal(eioWsUrl(srv), { headers: { Cookie: 'a=1; token=abc' } }), null,
      'websocket handshake with the cookie is accepted');
    await assertEngineServes(srv, { clientOpts: { extraHeaders: { Cookie: 'a=1; token=abc' } } });
  });
});
