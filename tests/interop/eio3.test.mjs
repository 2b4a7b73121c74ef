// Engine.IO v3 / Socket.IO v4 clients (EngineOptions::allowEIO3) with npm socket.io-client 2.5.0
// (`socket.io-client-v2`), on both transports and the upgrade, against the same test server as the v4 tests and
// side by side with v4 clients (rooms, broadcasts, acks, binary); the reversed heartbeat; custom namespaces with
// the query as auth and a middleware error; and a raw v3 polling client for what the official one never sends
// (no pings, a binary XHR2 payload, malformed payloads). Runs against the npm reference too:
//
//   SIO_SERVER="node tests/interop/ref_sio_server.mjs" node --test tests/interop/eio3.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import io2 from 'socket.io-client-v2';
import { WebSocket } from 'ws';

import { T, connect, closeSocket, disconnectReason, eventually, once, startSioFor, withTimeout } from './sio_harness.mjs';

const EIO3 = ['--allow-eio3', '1'];
// polling only; websocket only; polling, then the upgrade
const MODES = [
  { name: 'polling', transports: ['polling'], final: 'polling' },
  { name: 'websocket', transports: ['websocket'], final: 'websocket' },
  { name: 'polling→websocket', transports: ['polling', 'websocket'], final: 'websocket' },
];

/** A socket.io-client 2.x socket with a log of its events, closed when `t` ends. */
function v2(t, srv, { nsp = '/', transports, query } = {}) {
  const q = query ? `?${new URLSearchParams(query)}` : '';
  const socket = io2(`${srv.origin}${nsp}${q}`, { path: srv.path, transports, forceNew: true, reconnection: false });
  const log = [];
  const waiters = new Set();
  const record = (event) => (...args) => {
    log.push({ event, args });
    for (const w of [...waiters]) w();
  };
  for (const event of ['welcome', 'news', 'binary-nested', 'echo', 'tick']) socket.on(event, record(event));
  t.after(() => socket.close());
  const client = {
    socket,
    log,
    received: (event) => log.filter((e) => e.event === event).map((e) => e.args),
    async waitEvent(event, count = 1) {
      if (client.received(event).length < count) {
        await withTimeout(new Promise((resolve) => {
          const check = () => {
            if (client.received(event).length < count) return;
            waiters.delete(check);
            resolve();
          };
          waiters.add(check);
        }), T, `v2 event "${event}" #${count}`).catch((e) => {
          throw new Error(`${e.message}; events so far: ${JSON.stringify(log.map((x) => x.event))}`);
        });
      }
      return client.received(event)[count - 1];
    },
    ack: (event, ...args) => withTimeout(new Promise((resolve) => socket.emit(event, ...args, (...r) => resolve(r))),
      T, `ack of "${event}"`),
  };
  return client;
}

async function v2Connected(t, srv, opts) {
  const c = v2(t, srv, opts);
  await once(c.socket, 'connect', T, { failOn: ['connect_error', 'error'] });
  await c.waitEvent('welcome');
  return c;
}

// ---- a raw Engine.IO v3 polling client ---------------------------------------------------------------------------

function decodeTextPayload(text) {  // "<length>:<packet>"..., the length in UTF-16 code units (a JS string's)
  const out = [];
  for (let i = 0; i < text.length;) {
    const colon = text.indexOf(':', i);
    assert.ok(colon > i, `bad payload ${JSON.stringify(text)}`);
    const n = Number(text.slice(i, colon));
    out.push(text.slice(colon + 1, colon + 1 + n));
    i = colon + 1 + n;
  }
  return out;
}

function decodeBinaryPayload(buf) {  // [0|1][digits as bytes][255][data]...
  const out = [];
  for (let i = 0; i < buf.length;) {
    const isString = buf[i] === 0;
    let j = i + 1;
    let len = '';
    while (buf[j] !== 255) len += String(buf[j++]);
    const data = buf.subarray(j + 1, j + 1 + Number(len));
    out.push(isString ? data.toString('utf8') : { type: data[0], bytes: Buffer.from(data.subarray(1)) });
    i = j + 1 + Number(len);
  }
  return out;
}

function encodeBinaryRecord(isString, data) {
  const digits = [...String(data.length)].map(Number);
  return Buffer.concat([Buffer.from([isString ? 0 : 1, ...digits, 255]), data]);
}

class RawV3 {
  constructor(srv, { b64 = true } = {}) {
    this.base = `${srv.origin}${srv.path}?EIO=3&transport=polling${b64 ? '&b64=1' : ''}`;
  }
  url() { return `${this.base}&sid=${this.sid}&t=${Date.now()}${Math.random()}`; }
  async handshake() {
    const res = await fetch(`${this.base}&t=${Date.now()}`, { signal: AbortSignal.timeout(T) });
    assert.equal(res.status, 200);
    const records = decodeTextPayload(await res.text());
    assert.equal(records[0][0], '0');
    this.open = JSON.parse(records[0].slice(1));
    this.sid = this.open.sid;
    return records;
  }
  async get() {
    const res = await fetch(this.url(), { signal: AbortSignal.timeout(T) });
    const type = res.headers.get('content-type') || '';
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type, body };
  }
  post(body, type = 'text/plain;charset=UTF-8') {
    return fetch(this.url(), { method: 'POST', body, headers: { 'Content-Type': type }, signal: AbortSignal.timeout(T) })
      .then(async (r) => ({ status: r.status, text: await r.text() }));
  }
  /** GETs until a text record satisfies `pred` (bounded); returns that record. */
  async getUntil(pred, what) {
    const deadline = Date.now() + T;
    while (Date.now() < deadline) {
      const r = await this.get();
      assert.equal(r.status, 200, `GET: ${r.status} ${r.body}`);
      const found = decodeTextPayload(r.body.toString('utf8')).find(pred);
      if (found !== undefined) return found;
    }
    throw new Error(`timeout waiting for ${what}`);
  }
}

// ---- the official v2 client on each transport ---------------------------------------------------------------------

for (const mode of MODES) {
  test(`eio3 (${mode.name}): socket.io-client 2.x connects, acks and binary both ways`, async (t) => {
    const srv = await startSioFor(t, EIO3);
    const c = await v2Connected(t, srv, { transports: mode.transports });
    const engine = c.socket.io.engine;
    if (mode.final === 'websocket' && engine.transport.name !== 'websocket') await once(engine, 'upgrade');
    assert.equal(engine.transport.name, mode.final);
    // The reference gives a v3 client the Engine.IO sid as its socket id, as the v2 client expects.
    assert.equal(c.socket.id, engine.id);
    assert.equal((await c.waitEvent('welcome'))[0].id, engine.id);
    // client → server binary, with an ack that carries it back
    const [text, bytes] = await c.ack('echo-ack', 'héllo €', Buffer.from([0, 1, 2, 255]));
    assert.equal(text, 'héllo €');
    assert.deepEqual(Buffer.from(bytes), Buffer.from([0, 1, 2, 255]));
    // server → client binary (nested), and a binary ack
    const [ackBytes] = await c.ack('binary-nested');
    assert.equal(Buffer.from(ackBytes).toString(), 'ack-bytes');
    const [nested] = await c.waitEvent('binary-nested');
    assert.deepEqual(Buffer.from(nested.deep.buf), Buffer.from([0, 1, 255]));
    assert.equal(Buffer.from(nested.list[0]).toString(), 'ab');
    assert.deepEqual(nested.list.slice(1), [1, 'x']);
    // server → client ack: the server emits "question" and waits for the answer
    c.socket.on('question', (a, cb) => cb({ got: a, answer: 42 }));
    const [result] = await c.ack('server-ack', 'question', 2000, 'why?');
    assert.deepEqual(result, { err: null, response: [{ got: 'why?', answer: 42 }] });
  });

  test(`eio3 (${mode.name}): a v2 client and a v4 client share rooms and broadcasts`, async (t) => {
    const srv = await startSioFor(t, EIO3);
    const old = await v2Connected(t, srv, { transports: mode.transports });
    const cur = await connect(t, srv, { transport: mode.final });
    await old.ack('join', 'mixed');
    await cur.ack('join', 'mixed');
    await cur.ack('to', 'mixed', 'news', 'from v4', Buffer.from('v4-bytes'));
    const [fromV4, v4Bytes] = await old.waitEvent('news');
    assert.equal(fromV4, 'from v4');
    assert.equal(Buffer.from(v4Bytes).toString(), 'v4-bytes');
    await old.ack('to', 'mixed', 'news', 'from v2', Buffer.from('v2-bytes'));
    const [fromV2, v2Bytes] = await cur.waitEvent('news');
    assert.equal(fromV2, 'from v2');
    assert.equal(Buffer.from(v2Bytes).toString(), 'v2-bytes');
    // io.emit reaches both, and fetchSockets sees both in the room
    await cur.ack('io-emit', 'news', 'to all');
    await old.waitEvent('news', 2);
    const [ids] = await cur.ack('fetch', ['mixed']);
    assert.deepEqual([...ids].sort(), [old.socket.id, cur.id].sort());
  });

  test(`eio3 (${mode.name}): a custom namespace takes its query as auth; its middleware's error reaches the client`,
    async (t) => {
      const srv = await startSioFor(t, EIO3);
      const ok = await v2Connected(t, srv, { nsp: '/custom', transports: mode.transports, query: { user: 'bob b' } });
      const [welcome] = await ok.waitEvent('welcome');
      assert.deepEqual(welcome.auth, { user: 'bob b' });
      assert.equal(welcome.nsp, '/custom');
      assert.equal(welcome.id, `/custom#${ok.socket.io.engine.id}`);
      assert.deepEqual((await ok.ack('rooms'))[0].sort(), [welcome.id, 'room1'].sort());

      const refused = v2(t, srv, { nsp: '/custom', transports: mode.transports });
      const [message] = await once(refused.socket, 'error', T, { failOn: ['connect'] });
      assert.equal(message, 'user required');  // v4's CONNECT_ERROR carries the message alone
      const withData = v2(t, srv, { nsp: '/refuse', transports: mode.transports });
      const [data] = await once(withData.socket, 'error', T, { failOn: ['connect'] });
      assert.deepEqual(data, { reason: 'test' });  // ... or the error's data when it has some
      const missing = v2(t, srv, { nsp: '/nowhere', transports: mode.transports });
      const [invalid] = await once(missing.socket, 'error', T, { failOn: ['connect'] });
      assert.deepEqual(invalid, { message: 'Invalid namespace' });
    });
}

// ---- the reversed heartbeat ----------------------------------------------------------------------------------------

test('eio3: a v2 client that pings stays connected past many pingIntervals', async (t) => {
  const srv = await startSioFor(t, [...EIO3, '--ping-interval', '150', '--ping-timeout', '150']);
  for (const transports of [['polling'], ['websocket']]) {
    const c = await v2Connected(t, srv, { transports });
    let pongs = 0;
    c.socket.io.engine.on('pong', () => pongs++);  // the server's answers to the client's pings
    const disconnects = [];
    c.socket.on('disconnect', (r) => disconnects.push(r));
    await eventually(() => pongs >= 6, 5000, `6 pongs on ${transports}`);
    assert.deepEqual(disconnects, []);
    assert.equal(c.socket.connected, true);
    await closeSocket(c.socket);
  }
});

test('eio3: a raw v3 client that does not ping is closed with "ping timeout"', async (t) => {
  const srv = await startSioFor(t, [...EIO3, '--ping-interval', '200', '--ping-timeout', '200']);
  const asker = await connect(t, srv, {});
  const raw = new RawV3(srv);
  const records = await raw.handshake();
  assert.equal(raw.open.pingInterval, 200);
  assert.equal(raw.open.pingTimeout, 200);
  assert.deepEqual(raw.open.upgrades, ['websocket']);
  // The implicit connection to "/": the CONNECT (v4: "0", no sid) comes without being asked for.
  const start = Date.now();
  const closeRecord = await raw.getUntil((r) => r === '1', 'the close packet');
  assert.equal(closeRecord, '1');
  assert.ok(Date.now() - start >= 250, 'closed before pingInterval + pingTimeout');
  assert.ok([...records, closeRecord].length > 1);
  const { reason } = await disconnectReason(asker, raw.sid);
  assert.equal(reason, 'ping timeout');
  const after = await raw.get();
  assert.equal(after.status, 400);
});

test('eio3: the server answers each ping with a pong; a pong from the client is refused', async (t) => {
  const srv = await startSioFor(t, [...EIO3, '--ping-interval', '5000', '--ping-timeout', '5000']);
  const asker = await connect(t, srv, {});
  const raw = new RawV3(srv);
  const records = await raw.handshake();
  const first = records.length > 1 ? records.slice(1) : decodeTextPayload((await raw.get()).body.toString());
  assert.equal(first[0], '40');  // the implicit CONNECT to "/": v4's has no sid
  assert.equal((await raw.post('1:2')).text, 'ok');
  assert.equal(await raw.getUntil((r) => r[0] === '3', 'the pong'), '3');
  const other = new RawV3(srv);
  await other.handshake();
  assert.equal((await other.post('1:3')).status, 200);
  const { reason } = await disconnectReason(asker, other.sid);
  assert.equal(reason, 'transport error');
});

// ---- what the official Node client never sends --------------------------------------------------------------------

test('eio3: multi-byte UTF-8 in a v3 payload is framed by UTF-16 length, both ways', async (t) => {
  const srv = await startSioFor(t, EIO3);
  const raw = new RawV3(srv);
  if (!(await raw.handshake()).includes('40')) await raw.getUntil((r) => r === '40', 'the CONNECT');
  const text = 'é€😀 ok';  // 2-, 3- and 4-byte UTF-8: 1, 1 and 2 UTF-16 units
  const one = `42["echo",${JSON.stringify(text)}]`;
  const two = `42["echo","second"]`;
  assert.equal((await raw.post(`${one.length}:${one}${two.length}:${two}`)).text, 'ok');
  const got = [];
  const deadline = Date.now() + T;
  while (got.length < 2 && Date.now() < deadline) {
    const r = await raw.get();
    const body = r.body.toString('utf8');
    got.push(...decodeTextPayload(body).filter((x) => x.startsWith('42["echo"')));
  }
  assert.deepEqual(got.map((r) => JSON.parse(r.slice(2))), [['echo', text], ['echo', 'second']]);
});

test('eio3: a client without b64 may POST a binary payload and is answered with one', async (t) => {
  const srv = await startSioFor(t, EIO3);
  const raw = new RawV3(srv, { b64: false });
  if (!(await raw.handshake()).includes('40')) await raw.getUntil((r) => r === '40', 'the CONNECT');
  const head = '451-["echo",{"_placeholder":true,"num":0}]';
  const body = Buffer.concat([encodeBinaryRecord(true, Buffer.from(head)),
    encodeBinaryRecord(false, Buffer.from([4, 9, 8, 7]))]);
  assert.equal((await raw.post(body, 'application/octet-stream')).text, 'ok');
  const deadline = Date.now() + T;
  let records = [];
  while (records.length < 2 && Date.now() < deadline) {
    const r = await raw.get();
    if (r.type.startsWith('application/octet-stream')) records.push(...decodeBinaryPayload(r.body));
    else records.push(...decodeTextPayload(r.body.toString()).filter((x) => x !== '6' && !x.startsWith('42')));
  }
  assert.equal(records[0].replaceAll('\\/', '/'), head);  // a JSON encoder may write "/" as "\/"
  assert.deepEqual(records[1], { type: 4, bytes: Buffer.from([9, 8, 7]) });
});

test('eio3: over WebSocket binary goes with its type byte, or as "b4" + base64 text when asked for (b64)', async (t) => {
  const srv = await startSioFor(t, EIO3);
  for (const b64 of [false, true]) {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${srv.path}?EIO=3&transport=websocket${b64 ? '&b64=1' : ''}`);
    t.after(() => ws.terminate());
    const texts = [];
    const binaries = [];
    let wake = () => {};
    ws.on('message', (data, isBinary) => {
      if (isBinary) binaries.push(Buffer.from(data));
      else texts.push(String(data));
      wake();
    });
    await once(ws, 'open');
    await withTimeout(new Promise((resolve) => {
      wake = () => texts.some((m) => m.startsWith('42["welcome"')) && resolve();
      wake();
    }), T, 'welcome');
    ws.send('421["binary-nested"]');  // an event with 2 attachments, and an ack with 1
    const expected = b64 ? () => texts.filter((m) => m.startsWith('b4')).length >= 3 : () => binaries.length >= 3;
    await withTimeout(new Promise((resolve) => {
      wake = () => expected() && resolve();
      wake();
    }), T, `3 attachments (b64 ${b64})`);
    if (b64) {
      assert.deepEqual(binaries, []);
      assert.ok(texts.includes('b4AAH/'), JSON.stringify(texts));  // the bytes 00 01 ff
    } else {
      assert.ok(binaries.every((b) => b[0] === 4), 'every binary frame starts with the type byte 4');
      assert.ok(binaries.some((b) => b.equals(Buffer.from([4, 0, 1, 255]))));
    }
    ws.close();
  }
});

test('eio3: a malformed v3 payload closes that session only, with "parse error"', async (t) => {
  const srv = await startSioFor(t, EIO3);
  const asker = await connect(t, srv, {});
  const bystander = await v2Connected(t, srv, { transports: ['polling'] });
  // '1:😀' cuts a surrogate pair in half; '1:2é' leaves a record without a length
  for (const bad of ['5:42', 'x:2', '3:abc', ':', '1:\u{1F600}', '1:2\u00e9', '1:']) {
    const raw = new RawV3(srv);
    await raw.handshake();
    const res = await raw.post(bad);
    // 400 here; the reference answers "ok" and closes the session all the same
    assert.ok(res.status === 400 || res.status === 200, `payload ${JSON.stringify(bad)}: ${res.status}`);
    const { reason } = await disconnectReason(asker, raw.sid).catch((e) => {
      throw new Error(`payload ${JSON.stringify(bad)}: ${e.message}`);
    });
    assert.equal(reason, 'parse error', `payload ${JSON.stringify(bad)}`);
  }
  assert.equal(bystander.socket.connected, true);
  const [echoed] = await bystander.ack('echo-ack', 'still here');
  assert.equal(echoed, 'still here');
});

// ---- allowEIO3 off -------------------------------------------------------------------------------------------------

test('eio3: without allowEIO3 a v3 client is refused (400, code 5)', async (t) => {
  const srv = await startSioFor(t);
  const res = await fetch(`${srv.origin}${srv.path}?EIO=3&transport=polling`, { signal: AbortSignal.timeout(T) });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 5, message: 'Unsupported protocol version' });
  for (const transports of [['polling'], ['websocket']]) {
    const c = v2(t, srv, { transports });
    await once(c.socket, 'connect_error', T, { failOn: ['connect'] });
  }
});
