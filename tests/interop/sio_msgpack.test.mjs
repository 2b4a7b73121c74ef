// The msgpack parser (opt.parser = sio::msgpack_parser()) with the official socket.io-client 4.8 and npm
// socket.io-msgpack-parser 3.0.2, on polling, WebSocket and the upgrade: events, acks both ways, binary at any
// depth, namespaces, rooms and broadcasts, middleware errors with data, and what a JSON-parser client gets.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { io, startSio, connect, once, T, REPO_ROOT } from './sio_harness.mjs';

const execFileAsync = promisify(execFile);

const require = createRequire(import.meta.url);
const msgpackParser = require('socket.io-msgpack-parser');

const extra = { parser: msgpackParser };

for (const transport of ['polling', 'websocket', null]) {
  const label = transport || 'polling, then the upgrade';
  describe(`msgpack parser (${label})`, () => {
    let srv;
    before(async () => { srv = await startSio(['--parser', 'msgpack']); });
    after(() => srv?.stop());

    test('events and acks both ways, numbers and strings as sent', async (t) => {
      const c = await connect(t, srv, { transport, extra, auth: { token: 'good', n: 1.5 } });
      const [welcome] = c.received('welcome')[0];
      assert.deepEqual(welcome, { id: c.id, nsp: '/', auth: { token: 'good', n: 1.5 } });
      const args = ['é', 0, -1, 127, 128, -33, 65536, 2 ** 40, -(2 ** 40), 0.25, true, false, null, { a: [1, { b: 'c' }] }];
      c.socket.emit('echo', ...args);
      assert.deepEqual(await c.waitEvent('echo'), args);
      assert.deepEqual(await c.ack('echo-ack', { x: [1, 2] }, 'y'), [{ x: [1, 2] }, 'y']);
      c.socket.on('ask-client', (...a) => a.pop()('answer', ...a));
      const [res] = await c.ack('server-ack', 'ask-client', 2000, 'x', { y: 2 });
      assert.deepEqual(res, { err: null, response: ['answer', 'x', { y: 2 }] });
      if (transport === null) assert.equal(c.socket.io.engine.transport.name, 'websocket', 'upgraded');
    });

    test('binary at any depth, both ways, as msgpack bin', async (t) => {
      const c = await connect(t, srv, { transport, extra });
      const payload = { deep: { buf: Buffer.from([0, 1, 255]) }, list: [Buffer.from('ab'), 1, 'x'] };
      c.socket.emit('echo', payload, Buffer.from('top'));
      const [back, top] = await c.waitEvent('echo');
      assert.deepEqual(Buffer.from(back.deep.buf), Buffer.from([0, 1, 255]));
      assert.deepEqual(Buffer.from(back.list[0]), Buffer.from('ab'));
      assert.deepEqual(back.list.slice(1), [1, 'x']);
      assert.deepEqual(Buffer.from(top), Buffer.from('top'));
      const [ackBytes] = await c.ack('binary-nested');
      assert.deepEqual(Buffer.from(ackBytes), Buffer.from('ack-bytes'));
      const [nested] = await c.waitEvent('binary-nested');
      assert.deepEqual(Buffer.from(nested.deep.buf), Buffer.from([0, 1, 255]));
      // an ArrayBuffer (msgpack ext 0, as browsers send it) comes back as binary too
      c.socket.emit('echo', new Uint8Array([9, 8, 7]).buffer);
      const [ab] = await c.waitEvent('echo', { count: 2 });
      assert.deepEqual(Buffer.from(ab), Buffer.from([9, 8, 7]));
    });

    test('namespaces, rooms and broadcasts reach msgpack clients', async (t) => {
      const a = await connect(t, srv, { transport, extra, label: 'a' });
      const b = await connect(t, srv, { transport, extra, label: 'b' });
      await a.ack('join', 'room-m');
      await b.ack('join', 'room-m');
      await a.ack('to', 'room-m', 'in-room', { n: 1 }, Buffer.from([5]));
      const [n, buf] = await b.waitEvent('in-room');
      assert.deepEqual(n, { n: 1 });
      assert.deepEqual(Buffer.from(buf), Buffer.from([5]));
      await a.ack('broadcast', 'to-others', 'hi');
      assert.deepEqual(await b.waitEvent('to-others'), ['hi']);
      const custom = await connect(t, srv, { transport, extra, nsp: '/custom', auth: { user: 'u' } });
      assert.equal(custom.socket.nsp, '/custom');
    });

    test('a middleware error with data, and a refused namespace', async (t) => {
      const bad = io(`${srv.origin}/`, {
        path: srv.path, forceNew: true, reconnection: false, timeout: T, parser: msgpackParser,
        auth: { token: 'bad' }, ...(transport ? { transports: [transport] } : {}),
      });
      t.after(() => bad.disconnect());
      const [err] = await once(bad, 'connect_error', T, { failOn: ['connect'] });
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });
      const custom = io(`${srv.origin}/custom`, {
        path: srv.path, forceNew: true, reconnection: false, timeout: T, parser: msgpackParser,
        ...(transport ? { transports: [transport] } : {}),
      });
      t.after(() => custom.disconnect());
      const [err2] = await once(custom, 'connect_error', T, { failOn: ['connect'] });
      assert.equal(err2.message, 'user required');
    });
  });
}

describe('msgpack parser: the wrong parser on the other side', () => {
  test('a JSON-parser client gets its session closed (parse error), others are untouched', async (t) => {
    const srv = await startSio(['--parser', 'msgpack']);
    t.after(() => srv.stop());
    const good = await connect(t, srv, { transport: 'websocket', extra });
    const json = io(`${srv.origin}/`, { path: srv.path, forceNew: true, reconnection: false, timeout: T,
      transports: ['websocket'] });
    t.after(() => json.disconnect());
    // Its CONNECT ("0", a text message) is no msgpack: the server closes its Engine.IO session.
    const [reason] = await once(json.io, 'close', T);
    assert.equal(reason, 'transport close');
    assert.equal(json.connected, false);
    assert.deepEqual(await good.ack('echo-ack', 'still here'), ['still here']);
  });
});

describe('msgpack parser: python-socketio (serializer="msgpack")', () => {
  let srv;
  // A short ping interval: python-engineio 4.3's disconnect() races its own write loop, which may stop before it
  // has posted the close packet (1 run in a few hundred, seen in CI). Its polling read loop then ends only when the
  // server's GET answers, at the next ping; with the default 25 s the script outlived its time-out. Node's server
  // would wait just the same: the client never said goodbye.
  before(async () => { srv = await startSio(['--parser', 'msgpack', '--ping-interval', '1000']); });
  after(() => srv?.stop());

  for (const transport of ['polling', 'websocket']) {
    test(`Debian's python3-socketio over ${transport}: welcome, binary acks, an echoed event`, async () => {
      const script = path.join(REPO_ROOT, 'tests/interop/python_msgpack_client.py');
      const { stdout } = await execFileAsync('/usr/bin/python3', [script, srv.origin, srv.path, transport],
        { timeout: 20000 });
      const seen = JSON.parse(stdout.trim().split('\n').pop());
      assert.deepEqual(seen, {
        welcome_auth: { token: 'py' },
        sid_matches: true,
        echo_binary: ['0001ff', '6162'],
        echo_numbers: [-33, 0.5],
        echo: ['text', 2 ** 40, '07'],
        transport,
      });
    });
  }
});
