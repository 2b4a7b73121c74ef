// The polling -> websocket upgrade driven by hand (raw HTTP + ws).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServerFor, RawPolling, openWs, eioWsUrl, nextText, withTimeout, decodePayload,
  parseJsonBody, rawUpgradedSession, skipForReference, httpRequest,
} from './harness.mjs';
import { pollUntil } from './hardening_util.mjs';

// The server closed `dup` with a close frame that carries no status code (1005), having sent nothing on it.
async function expectClosedWithoutCode(dup, what) {
  const closed = await withTimeout(dup.closed, 3000, 'the server to close the second websocket');
  assert.equal(closed.code, 1005, 'the close frame carries no status code');
  assert.deepEqual(dup.messages.items, [], what);
}

// The session's own websocket still echoes a message.
async function expectEcho(sock) {
  sock.ws.send('4hello');
  const echo = await nextText(sock.messages, 3000, { skipPings: true });
  assert.deepEqual(echo, { data: '4hello', isBinary: false });
}

describe('upgrade by hand', () => {
  test('probe, noop release of the pending GET, upgrade; then polling refused and second websocket refused', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();

    // a GET is pending while the upgrade starts
    const pending = poll.get({ timeout: 5000 });

    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    sock.ws.send('2probe');
    const pong = await nextText(sock.messages, 3000);
    assert.deepEqual(pong, { data: '3probe', isBinary: false });

    // the pending GET is released with a noop
    const released = await pending;
    assert.equal(released.status, 200);
    const types = decodePayload(released.body).map((p) => p.type);
    assert.ok(types.length >= 1 && types.every((x) => x === '6'),
      `pending GET should be released with noop "6", got ${JSON.stringify(released.body)}`);

    sock.ws.send('5');
    sock.ws.send('4after upgrade');
    const echo = await nextText(sock.messages, 3000, { skipPings: true });
    assert.deepEqual(echo, { data: '4after upgrade', isBinary: false });
    sock.ws.send(Buffer.from([9, 8, 7]));
    const binEcho = await sock.messages.next(3000);
    assert.equal(binEcho.isBinary, true);
    assert.deepEqual([...binEcho.data], [9, 8, 7]);

    // polling with that sid is now a bad request
    const get = await poll.get();
    assert.equal(get.status, 400);
    assert.deepEqual(parseJsonBody(get), { code: 3, message: 'Bad request' });

    // a second websocket for the same sid is refused: no 101, or closed
    // right away without ever echoing anything
    const dup = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => dup.ws.terminate());
    let dupOpened = false;
    try {
      await withTimeout(dup.opened, 3000, 'second websocket');
      dupOpened = true;
    } catch (err) {
      assert.doesNotMatch(err.message, /^timeout/, 'second websocket must be refused, not left hanging');
    }
    if (dupOpened) {
      dup.ws.send('4dup');
      const closed = await withTimeout(dup.closed, 3000, 'server closing the duplicate websocket');
      assert.ok(closed, 'duplicate closed');
      const leftovers = [];
      while (dup.messages.items.length) leftovers.push(dup.messages.items.shift());
      assert.deepEqual(leftovers.filter((m) => m.data === '4dup'), [], 'duplicate websocket must not echo');
    }

    // the upgraded websocket still works
    sock.ws.send('4still upgraded');
    const again = await nextText(sock.messages, 3000, { skipPings: true });
    assert.equal(again.data, '4still upgraded');
  });

  test('a second websocket for an upgraded sid is accepted (101), then closed without a code; the first still echoes', async (t) => {
    const srv = await startServerFor(t);
    const { poll, sock } = await rawUpgradedSession(srv);
    srv.defer(() => sock.ws.terminate());

    const dup = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => dup.ws.terminate());
    // a refusal (HTTP 400) would reject `opened`: clients report it as an error event
    await withTimeout(dup.opened, 3000, 'the second websocket to open');
    await expectClosedWithoutCode(dup, 'nothing is sent on the second websocket before it is closed');

    // the session and its websocket are untouched
    await expectEcho(sock);
    const get = await poll.get();
    assert.equal(get.status, 400, 'polling stays refused after the upgrade');
  });

  test('a second websocket for a sid opened over websocket is accepted (101), then closed without a code; the first still echoes',
    { skip: skipForReference('engine.io takes it for an upgrade probe: it answers 3probe and "5" moves the session') },
    async (t) => {
      const srv = await startServerFor(t);
      const first = openWs(eioWsUrl(srv));
      srv.defer(() => first.ws.terminate());
      await withTimeout(first.opened, 3000, 'the first websocket to open');
      const open = await nextText(first.messages, 3000);
      assert.equal(open.data[0], '0', `expected the open packet, got ${JSON.stringify(open.data)}`);
      const { sid } = JSON.parse(open.data.slice(1));

      const dup = openWs(eioWsUrl(srv, sid));
      srv.defer(() => dup.ws.terminate());
      await withTimeout(dup.opened, 3000, 'the second websocket to open');
      dup.ws.send('2probe');
      await expectClosedWithoutCode(dup, 'no "3probe" or anything else on the second websocket');

      await expectEcho(first);
    });

  test('messages queued on the polling side before the upgrade are not lost', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    // Echoes of these are queued for polling (no GET in flight)
    assert.equal((await poll.post(['4q1', '4q2', '4q3'].join('\x1e'))).body, 'ok');

    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    sock.ws.send('2probe');
    assert.equal((await nextText(sock.messages, 3000)).data, '3probe');

    // drain polling until a noop shows up; collect messages seen meanwhile
    const seen = [];
    let sawNoop = false;
    for (let i = 0; i < 10 && !sawNoop; i++) {
      const res = await poll.get({ timeout: 3000 });
      assert.equal(res.status, 200, res.body);
      for (const p of decodePayload(res.body)) {
        if (p.type === '4') seen.push(p.raw);
        if (p.type === '6') sawNoop = true;
      }
    }
    assert.ok(sawNoop, 'polling was never released with a noop during the upgrade');
    sock.ws.send('5');
    sock.ws.send('4q4');
    // whatever was not delivered over polling must come over the websocket
    for (let i = 0; i < 10 && !seen.includes('4q4'); i++) {
      const m = await nextText(sock.messages, 3000, { skipPings: true });
      seen.push(m.data);
    }
    assert.deepEqual(seen, ['4q1', '4q2', '4q3', '4q4']);
  });

  test('--upgrade-timeout 500: a websocket that never sends "5" is closed, polling keeps working', async (t) => {
    const srv = await startServerFor(t, ['--upgrade-timeout', '500']);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    const started = Date.now();
    sock.ws.send('2probe');
    assert.equal((await nextText(sock.messages, 3000)).data, '3probe');

    const closed = await withTimeout(sock.closed, 500 + 3000, 'server closing the unfinished upgrade');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 300, `websocket closed after only ${elapsed} ms (upgrade timeout is 500 ms)`);
    assert.ok(closed);

    // polling session still alive and echoing
    const post = await poll.post('4still polling');
    assert.equal(post.status, 200, post.body);
    assert.equal(post.body, 'ok');
    const [m] = await poll.collect(1, 3000);
    assert.equal(m.raw, '4still polling');
  });

  test('a probe on a session id that does not exist is refused', async (t) => {
    const srv = await startServerFor(t);
    const sock = openWs(eioWsUrl(srv, 'doesnotexist123456'));
    srv.defer(() => sock.ws.terminate());
    try {
      await withTimeout(sock.opened, 3000, 'websocket with unknown sid');
    } catch (err) {
      assert.doesNotMatch(err.message, /^timeout/, 'must be refused, not left hanging');
      return;
    }
    // opened: it must be closed without any echo
    sock.ws.send('2probe');
    await withTimeout(sock.closed, 3000, 'server closing the websocket');
    assert.deepEqual(sock.messages.items, []);
  });
});

describe('upgrade: when the pending GET is released, and a GET sent with the "5"', () => {
  test('the pending GET is released by the upgrade\'s 100 ms check, not with "3probe"; the upgrade completes',
    async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    let answeredAt = null;
    const pending = poll.get({ timeout: 5000 }).then((res) => {
      answeredAt = performance.now();
      return res;
    });
    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    // The server reads "2probe" after this instant and starts its check then: a noop from the check cannot reach
    // the client sooner than 100 ms after it (a lower bound, which load cannot break).
    const probeSentAt = performance.now();
    sock.ws.send('2probe');
    assert.deepEqual(await nextText(sock.messages, 3000), { data: '3probe', isBinary: false });
    const released = await pending;
    assert.equal(released.status, 200, released.body);
    assert.equal(released.body, '6', 'the pending GET is released with a noop');
    const waited = answeredAt - probeSentAt;
    assert.ok(waited >= 99, `the GET was released ${waited.toFixed(1)} ms after "2probe": not by the check`);
    sock.ws.send('5');
    await expectEcho(sock);
    const after = await poll.get();
    assert.equal(after.status, 400, after.body);
  });

  // The official Socket.IO protocol suite: "2probe" and "5" sent back to back, then a GET. Whichever of the two
  // connections the server reads first, the GET came with or after the "5": 400.
  test('"2probe" and "5" back to back, then a GET: 400 "Bad request"; the upgrade completes', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    sock.ws.send('2probe');
    sock.ws.send('5');
    const get = await poll.get({ timeout: 5000 });
    assert.equal(get.status, 400, get.body);
    assert.deepEqual(parseJsonBody(get), { code: 3, message: 'Bad request' });
    assert.equal((await nextText(sock.messages, 3000)).data, '3probe');
    await expectEcho(sock);
  });

  test('a GET waiting when "2probe" and "5" come back to back is answered 400, as one after the upgrade',
    { skip: skipForReference('uses the /waiting route of sioserver\'s engine_echo') },
    async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const pending = poll.get({ timeout: 5000 });
    // The gate: the GET waits at the server before the probe comes (the order that used to answer it "6").
    const waiting = `http://${srv.host}:${srv.port}/waiting?sid=${encodeURIComponent(poll.sid)}`;
    await pollUntil(async () => (await httpRequest(waiting)).body, (body) => body === 'true',
      { what: 'the GET to wait at the server (/waiting)' });
    const sock = openWs(eioWsUrl(srv, poll.sid));
    srv.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    sock.ws.send('2probe');
    sock.ws.send('5');
    const res = await pending;
    assert.equal(res.status, 400, res.body);
    assert.deepEqual(parseJsonBody(res), { code: 3, message: 'Bad request' });
    assert.equal((await nextText(sock.messages, 3000)).data, '3probe');
    await expectEcho(sock);
  });
});
