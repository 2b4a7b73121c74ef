// Socket.IO v5: events, acknowledgements (both ways, with timeouts, broadcast acks), binary payloads,
// once/off/onAny/prependAny/offAny/onAnyOutgoing, socket.data and volatile emits.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORTS, T, startSio, connect, connectMany, sync } from './sio_harness.mjs';

/** Deep copy where every ArrayBuffer / typed array becomes a Buffer (what the node client may hand out). */
function normalize(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

/** JSON-ish dump that shows buffers as hex, for failure messages. */
function show(v) {
  return JSON.stringify(normalize(v), (k, x) => (x && x.type === 'Buffer' && Array.isArray(x.data)
    ? `<Buffer ${Buffer.from(x.data).toString('hex')}>` : x));
}

function assertSameData(actual, expected, what) {
  assert.deepEqual(normalize(actual), normalize(expected), `${what}: got ${show(actual)}, expected ${show(expected)}`);
}

for (const transport of TRANSPORTS) {
  describe(`Socket.IO events and acks (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('echo with many argument types keeps values and order', async (t) => {
      const c = await connect(t, srv, { transport });
      const args = [1, 'two', { a: [1, 2, { b: null }] }, [true, false], null, 3.5, '你好 🎉'];
      c.socket.emit('echo', ...args);
      assert.deepEqual(await c.waitEvent('echo'), args);
    });

    test('echo with edge values (escapes, big and small numbers, empty containers)', async (t) => {
      const c = await connect(t, srv, { transport });
      const args = [
        0, -17, 9007199254740991, -2.5e-7, 1e21, '', {}, [],
        'quote " backslash \\ slash / newline \n tab \t cr \r',
        '\u0001\u001f\u007f \u2028\u2029 é 𝄞',
        { 'key with spaces': { 'ü': [[], [{}]] }, emptyStr: '' },
        false, true,
      ];
      c.socket.emit('echo', ...args);
      assert.deepEqual(await c.waitEvent('echo'), args);
      // no argument at all
      c.socket.emit('echo');
      assert.deepEqual(await c.waitEvent('echo', { count: 2 }), []);
    });

    test('client acks: echo-ack returns every argument (emit callback and emitWithAck)', async (t) => {
      const c = await connect(t, srv, { transport });
      const args = [1, 'two', { a: [1, 2, { b: null }] }, [true, false], null, 3.5, '你好 🎉'];
      assert.deepEqual(await c.ack('echo-ack', ...args), args);
      assert.deepEqual(await c.ack('echo-ack'), []);
      assert.deepEqual(await c.socket.timeout(T).emitWithAck('echo-ack', { single: true }), { single: true });
      // many acks in flight at once are matched to the right callbacks
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => c.ack('echo-ack', i, `n${i}`)));
      many.forEach((r, i) => assert.deepEqual(r, [i, `n${i}`], `ack #${i}`));
    });

    test('server acks: the client answers the server (server-ack with timeout 2000)', async (t) => {
      const c = await connect(t, srv, { transport });
      const got = [];
      c.socket.on('ask-client', (...args) => {
        const cb = args.pop();
        got.push(args);
        cb('answer', ...args);
      });
      const [res] = await c.ack('server-ack', 'ask-client', 2000, 'x', { y: 2 }, [3]);
      assert.deepEqual(got, [['x', { y: 2 }, [3]]], 'arguments of the server emit seen by the client');
      assert.deepEqual(res, { err: null, response: ['answer', 'x', { y: 2 }, [3]] });

      // an answer with no argument
      c.socket.on('ask-empty', (cb) => cb());
      const [res2] = await c.ack('server-ack', 'ask-empty', 2000);
      assert.deepEqual(res2, { err: null, response: [] });
    });

    test('server acks: a client that never answers → "operation has timed out"', async (t) => {
      const c = await connect(t, srv, { transport });
      let asked = 0;
      c.socket.on('ask-silent', () => { asked++; });
      const t0 = Date.now();
      const [res] = await c.ack('server-ack', 'ask-silent', 200, 'q');
      const ms = Date.now() - t0;
      assert.equal(asked, 1, 'the client received the event');
      assert.equal(res.err, 'operation has timed out', `result: ${JSON.stringify(res)}`);
      assert.deepEqual(res.response, []);
      assert.ok(ms >= 150, `the timeout fired after ${ms} ms, before the 200 ms it was given`);
      // the socket is still fine
      assert.deepEqual(await c.ack('echo-ack', 'alive'), ['alive']);
    });

    test('broadcast acks: every client in the room answers / one does not', async (t) => {
      const [a, b, cSilent, d] = await connectMany(t, srv, 4, { transport, label: 'bcast-ack' });
      const room1 = `ack-room-${transport}-1`;
      const room2 = `ack-room-${transport}-2`;
      a.socket.on('ask', (cb) => cb('from-a'));
      b.socket.on('ask', (cb) => cb({ from: 'b' }));
      let silentAsked = 0;
      cSilent.socket.on('ask', () => { silentAsked++; });
      let dAsked = 0;
      d.socket.on('ask', (cb) => { dAsked++; cb('from-d'); });
      await a.ack('join', room1);
      await b.ack('join', room1);
      await a.ack('join', room2);
      await cSilent.ack('join', room2);

      const [all] = await d.ack('broadcast-ack', room1, 2000);
      assert.equal(all.err, null, `result: ${JSON.stringify(all)}`);
      assert.equal(all.responses.length, 2, `responses: ${JSON.stringify(all.responses)}`);
      const sorted = [...all.responses].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      assert.deepEqual(sorted, ['from-a', { from: 'b' }]);

      const [partial] = await d.ack('broadcast-ack', room2, 300);
      assert.equal(partial.err, 'operation has timed out', `result: ${JSON.stringify(partial)}`);
      assert.deepEqual(partial.responses, ['from-a']);
      assert.equal(silentAsked, 1, 'the silent client got the "ask" event');
      assert.equal(dAsked, 0, 'd is in no room: it must not be asked');

      const [none] = await d.ack('broadcast-ack', `empty-room-${transport}`, 2000);
      assert.deepEqual(none, { err: null, responses: [] }, 'a broadcast ack to nobody completes at once');
    });

    test('binary: buffers nested in objects and arrays come back identical (echo and echo-ack)', async (t) => {
      const c = await connect(t, srv, { transport });
      const big = Buffer.alloc(70000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      const args = [
        Buffer.from([1, 2, 3]),
        { file: Buffer.from('hello'), nested: { arr: [Buffer.from([0, 255]), 'x', { b: Buffer.from([]) }] } },
        'text',
        [big, 7],
      ];
      c.socket.emit('echo', ...args);
      const echoed = await c.waitEvent('echo');
      assert.ok(Buffer.isBuffer(echoed[0]) || echoed[0] instanceof ArrayBuffer, `first arg should be binary: ${show(echoed[0])}`);
      assertSameData(echoed, args, 'binary echo');

      const acked = await c.ack('echo-ack', ...args);
      assertSameData(acked, args, 'binary echo-ack');

      const single = await c.socket.timeout(T).emitWithAck('echo-ack', Buffer.from([9, 8, 7]));
      assertSameData(single, Buffer.from([9, 8, 7]), 'emitWithAck with a Buffer');
    });

    test('binary: server-side nested buffers (binary-nested) and a binary ack', async (t) => {
      const c = await connect(t, srv, { transport });
      const ack = await c.ack('binary-nested');
      assertSameData(ack, [Buffer.from('ack-bytes')], 'binary-nested ack');
      const [payload] = await c.waitEvent('binary-nested');
      assertSameData(payload, { deep: { buf: Buffer.from([0, 1, 255]) }, list: [Buffer.from('ab'), 1, 'x'] },
        'binary-nested event');

      // the client answers a server emit with binary
      c.socket.on('ask-bin', (buf, cb) => cb(Buffer.concat([normalize(buf), Buffer.from([0xff])]), { ok: true }));
      const [res] = await c.ack('server-ack', 'ask-bin', 2000, Buffer.from([1, 2]));
      assertSameData(res, { err: null, response: [Buffer.from([1, 2, 0xff]), { ok: true }] }, 'binary client ack');
    });

    test('once / off / onAny / prependAny / offAny / onAnyOutgoing bookkeeping', async (t) => {
      const c = await connect(t, srv, { transport });
      c.socket.emit('echo', 'e1');
      await c.waitEvent('echo');
      await c.ack('binary-nested');
      await c.waitEvent('binary-nested');
      c.socket.emit('ping-once');
      c.socket.emit('ping-once');
      c.socket.emit('ping-off');
      await c.ack('remove-ping-off');
      c.socket.emit('ping-off');
      c.socket.emit('prepend-check');
      await c.ack('off-any');
      c.socket.emit('after-off-any');
      const [counts] = await c.ack('counts');
      assert.equal(counts.once, 1, `once handler count (counts: ${JSON.stringify(counts)})`);
      assert.equal(counts.off, 1, `ping-off handler count after off() (counts: ${JSON.stringify(counts)})`);
      assert.deepEqual(counts.any, [
        'echo', 'binary-nested', 'ping-once', 'ping-once', 'ping-off', 'remove-ping-off', 'ping-off',
        'first', 'prepend-check', 'off-any',
      ], 'onAny log: every incoming event in order, prependAny first, nothing after offAny');
      // onAnyOutgoing was registered after "welcome" was emitted (see sio_test_server.cpp): like the
      // reference server, only the later emits are seen; acknowledgements are not events.
      assert.deepEqual(counts.outgoing, ['echo', 'binary-nested'], 'onAnyOutgoing log');
    });

    test('onAnyOutgoing sees every broadcast a socket gets: io.emit, io.to(room).emit, socket.broadcast, socket.to(room), with acks', async (t) => {
      const [a, b, c] = await connectMany(t, srv, 3, { transport, label: 'outgoing' });
      for (const x of [a, b, c]) x.socket.on('ask', (cb) => cb(x.label));
      await a.ack('join', 'ro');
      await b.ack('join', 'ro');
      await c.ack('io-emit', 'o-all', 1, { k: 'v' });  // io.emit: a, b, c
      await a.ack('to-except', 'ro', [], 'o-room', 2);  // io.to("ro").emit: a, b
      await a.ack('broadcast', 'o-others', 3);          // socket.broadcast.emit from a: b, c
      await c.ack('to', 'ro', 'o-to-room', 4);          // socket.to("ro").emit from c: a, b
      await a.ack('broadcast-ack', 'ro', 2000);         // io.to("ro").timeout(2000).emit("ask", cb): a, b
      const logs = await Promise.all([a, b, c].map(async (x) => {
        const [log] = await x.ack('outgoing-log');
        return log.filter(([event]) => event.startsWith('o-') || event === 'ask');
      }));
      assert.deepEqual(logs, [
        [['o-all', 1, { k: 'v' }], ['o-room', 2], ['o-to-room', 4], ['ask']],
        [['o-all', 1, { k: 'v' }], ['o-room', 2], ['o-others', 3], ['o-to-room', 4], ['ask']],
        [['o-all', 1, { k: 'v' }], ['o-others', 3]],
      ], 'each socket\'s onAnyOutgoing log: the broadcasts it was sent, with their arguments, in order');
      // and those are what the clients got
      await sync(a, b, c);
      assert.deepEqual([a, b, c].map((x) => x.log.filter((e) => e.event.startsWith('o-')).map((e) => [e.event, ...e.args])),
        logs.map((log) => log.filter(([event]) => event !== 'ask')));
    });

    test('socket.data: data-set then data-get, per socket', async (t) => {
      const [c, other] = await connectMany(t, srv, 2, { transport, label: 'data' });
      const value = { name: 'x', list: [1, { y: null }], n: 2.5 };
      assert.deepEqual(await c.ack('data-set', 'k', value), []);
      assert.deepEqual(await c.ack('data-get', 'k'), [value]);
      await c.ack('data-set', 'k', 'replaced');
      assert.deepEqual(await c.ack('data-get', 'k'), ['replaced']);
      assert.deepEqual(await c.ack('data-get', 'missing'), [null]);
      assert.deepEqual(await other.ack('data-get', 'k'), [null], 'socket.data is per socket');
    });

    if (transport === 'websocket') {
      test('volatile emit reaches a connected (writable) websocket client', async (t) => {
        const c = await connect(t, srv, { transport });
        assert.deepEqual(await c.ack('volatile', { v: 1 }), []);
        assert.deepEqual(await c.waitEvent('volatile'), [{ v: 1 }]);
        await sync(c);
        assert.equal(c.received('volatile').length, 1);
      });
    }
  });
}
