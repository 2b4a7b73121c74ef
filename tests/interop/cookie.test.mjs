// The `cookie` option, against npm engine.io 6.6 itself: the reference (tests/interop/ref_engine_echo.mjs) runs beside
// the server under test with the same option, and each answer's Set-Cookie must be the reference's byte for byte
// (the sid aside). Then the official engine.io-client, which keeps cookies when withCredentials is on.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import {
  startServerFor, httpRequest, openWs, eioWsUrl, withTimeout, waitFor, collectMessages, closeClient,
} from './harness.mjs';
import { startServerProcess } from './server_process.mjs';

const REFERENCE = 'node tests/interop/ref_engine_echo.mjs';

// The server under test and the reference, both with `--cookie <json>` (none for undefined).
async function startBoth(t, cookie) {
  const flags = cookie === undefined ? [] : ['--cookie', JSON.stringify(cookie)];
  const [ours, ref] = await Promise.all([startServerFor(t, flags), startServerProcess(REFERENCE, flags)]);
  t.after(() => ref.stop());
  return { ours, ref };
}

// The Set-Cookie headers of an answer with the session's sid written <sid>, or null when there is none.
function setCookies(res, sid) {
  const values = res.headers['set-cookie'];
  if (values === undefined) return null;
  return values.map((v) => (sid ? v.split(sid).join('<sid>') : v));
}

async function pollingHandshake(srv) {
  const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
  assert.equal(res.status, 200, res.body);
  return { res, sid: JSON.parse(res.body.slice(1)).sid };
}

const CASES = [
  { cookie: true, expect: 'io=<sid>; Path=/; HttpOnly; SameSite=Lax' },
  { cookie: { name: 'woot' }, expect: 'woot=<sid>; Path=/; HttpOnly; SameSite=Lax' },
  { cookie: { path: '/custom' }, expect: 'io=<sid>; Path=/custom; HttpOnly; SameSite=Lax' },
  { cookie: { path: false }, expect: 'io=<sid>; HttpOnly; SameSite=Lax' },
  { cookie: { httpOnly: false }, expect: 'io=<sid>; Path=/; SameSite=Lax' },
  { cookie: { sameSite: 'strict' }, expect: 'io=<sid>; Path=/; HttpOnly; SameSite=Strict' },
  { cookie: { sameSite: false }, expect: 'io=<sid>; Path=/; HttpOnly' },
  {
    cookie: { maxAge: 3600, domain: 'example.com', secure: true, sameSite: 'none' },
    expect: 'io=<sid>; Max-Age=3600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=None',
  },
  { cookie: false, expect: null },
  { cookie: undefined, expect: null },
];

describe('cookie option: the handshake answer, as npm engine.io 6.6 writes it', () => {
  for (const { cookie, expect } of CASES) {
    test(`cookie: ${JSON.stringify(cookie) ?? '(not set)'} -> ${expect ?? 'no Set-Cookie'}`, async (t) => {
      const { ours, ref } = await startBoth(t, cookie);
      const [a, b] = await Promise.all([pollingHandshake(ours), pollingHandshake(ref)]);
      const got = setCookies(a.res, a.sid);
      assert.deepEqual(got, setCookies(b.res, b.sid), 'the reference answers otherwise');
      assert.deepEqual(got, expect === null ? null : [expect]);
    });
  }
});

describe('cookie option: which answers carry it', () => {
  test('only the handshake: the session\'s later POST and GET carry none (as the reference)', async (t) => {
    const { ours, ref } = await startBoth(t, true);
    for (const srv of [ours, ref]) {
      const { sid } = await pollingHandshake(srv);
      const url = `${srv.url}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      const post = await httpRequest(url, { method: 'POST', body: '4hello' });
      assert.equal(post.status, 200, post.body);
      const get = await httpRequest(url);
      assert.equal(get.body, '4hello');
      assert.equal(setCookies(post), null, `${srv.line}: POST`);
      assert.equal(setCookies(get), null, `${srv.line}: GET`);
    }
  });

  test('a WebSocket opened directly: its 101 carries none (as the reference)', async (t) => {
    const { ours, ref } = await startBoth(t, true);
    for (const srv of [ours, ref]) {
      const sock = openWs(eioWsUrl(srv));
      srv.defer(() => sock.ws.terminate());
      const upgrade = new Promise((resolve) => sock.ws.once('upgrade', resolve));
      await withTimeout(sock.opened, 3000, 'websocket open');
      const res = await withTimeout(upgrade, 1000, 'the 101 response');
      assert.equal(res.headers['set-cookie'], undefined, `${srv.line}: ${JSON.stringify(res.headers)}`);
      const open = await sock.messages.next(3000);
      assert.equal(open.data[0], '0');
    }
  });

  test('a refused handshake carries none', async (t) => {
    const { ours } = await startBoth(t, true);
    const res = await httpRequest(`${ours.url}?EIO=3&transport=polling`);
    assert.equal(res.status, 400);
    assert.equal(setCookies(res), null);
  });
});

describe('cookie option: the official engine.io-client (withCredentials keeps cookies in Node)', () => {
  for (const upgrade of [false, true]) {
    test(`polling${upgrade ? ' upgraded to websocket' : ''}: the client holds io=<its sid> and echoes work`,
      async (t) => {
        const srv = await startServerFor(t, ['--cookie', 'true']);
        const socket = new Socket(`http://${srv.host}:${srv.port}`, {
          path: srv.path, transports: upgrade ? ['polling', 'websocket'] : ['polling'], upgrade,
          withCredentials: true,
        });
        srv.defer(() => closeClient(socket));
        await waitFor(socket, upgrade ? 'upgrade' : 'open', 5000, { failOn: ['close', 'error', 'upgradeError'] });
        const jar = new Map([...socket._cookieJar.cookies].map(([name, c]) => [name, c.value]));
        assert.equal(jar.get('io'), socket.id);
        const echoes = collectMessages(socket, 2, 5000);
        socket.send('one');
        socket.send('two');
        assert.deepEqual(await echoes, ['one', 'two']);
        assert.equal(socket.transport.name, upgrade ? 'websocket' : 'polling');
      });
  }
});
