// Socket.IO v5: reserved event names and malformed packets. A bad packet must close the offending
// Engine.IO connection only: a separate healthy client keeps working and new clients still connect.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORTS, T, startSio, connect, RawSio, assertAlive } from './sio_harness.mjs';

const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/**
 * Malformed Socket.IO packets (the Engine.IO message payloads, text or Buffer), each sent on its own raw
 * connection right after a successful CONNECT to "/".
 */
const BAD_PACKETS = [
  { name: 'unknown packet type 9', send: ['9'] },
  { name: 'invalid JSON', send: ['2["a"'] },
  { name: 'event payload is an object, not an array', send: ['2{"a":1}'] },
  { name: 'event payload is an empty array', send: ['2[]'] },
  { name: 'event name is an object', send: ['2[{"a":1}]'] },
  { name: 'event named "disconnect" (reserved)', send: ['2["disconnect"]'] },
  { name: 'event named "connect" (reserved)', send: ['2["connect"]'] },
  { name: 'binary event with attachment count mismatch', send: ['51-["a",{"_placeholder":true,"num":3}]', Buffer.from([1, 2, 3])] },
  { name: 'binary event with a non-numeric attachment count', send: ['5x-["a",{"_placeholder":true,"num":0}]'] },
  { name: 'text packet while binary attachments are expected', send: ['51-["a",{"_placeholder":true,"num":0}]', '2["b"]'] },
  { name: 'binary message with no pending packet', send: [Buffer.from([1, 2, 3])] },
  { name: 'second CONNECT to an already connected namespace', send: ['0'] },
  { name: 'event for a namespace that was never connected', send: ['2/custom,["echo","x"]'] },
];

for (const transport of TRANSPORTS) {
  describe(`Socket.IO reserved names and bad packets (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    async function assertHealthy(t, healthy, what) {
      assertAlive(srv);
      const n = healthy.received('echo').length + 1;
      healthy.socket.emit('echo', 'healthy', n);
      assert.deepEqual(await healthy.waitEvent('echo', { count: n }), ['healthy', n],
        `the healthy client must still get its echo after ${what}`);
      assert.equal(healthy.disconnects.length, 0, `the healthy client was disconnected after ${what}`);
      const fresh = await connect(t, srv, { transport, label: 'fresh client' });
      assert.deepEqual(await fresh.ack('echo-ack', 'fresh'), ['fresh'], `a new client works after ${what}`);
    }

    test('emit of a reserved event name on the server throws (emit-reserved)', async (t) => {
      const c = await connect(t, srv, { transport });
      for (const name of RESERVED) {
        const [msg] = await c.ack('emit-reserved', name);
        assert.equal(typeof msg, 'string', `emit("${name}") should fail, ack was ${JSON.stringify(msg)}`);
        assert.ok(msg.includes(name) && /reserved/i.test(msg), `error message for "${name}": ${JSON.stringify(msg)}`);
      }
      // a normal name goes out
      const [ok] = await c.ack('emit-reserved', 'not-reserved-name');
      assert.equal(ok, null);
      assert.deepEqual(await c.waitEvent('not-reserved-name'), []);
    });

    test('raw Socket.IO over engine.io-client: CONNECT answer and a valid event (control case)', async (t) => {
      const raw = new RawSio(t, srv, transport);
      const connected = await raw.connectNsp('/');
      assert.equal(typeof connected.sid, 'string', `CONNECT answer: ${JSON.stringify(connected)}`);
      const welcome = JSON.parse((await raw.waitMessage('2["welcome"', T, 'the welcome event')).slice(1));
      assert.deepEqual(welcome, ['welcome', { id: connected.sid, nsp: '/', auth: {} }]);
      raw.send('2["echo","raw",1]');
      assert.equal(await raw.waitMessage('2["echo"', T, 'the echo'), '2["echo","raw",1]');
      raw.send('27["echo-ack",{"k":[1]}]');
      assert.equal(await raw.waitMessage('37', T, 'the ack with id 7'), '37[{"k":[1]}]');
      raw.send('51-["echo",{"_placeholder":true,"num":0}]');
      raw.send(Buffer.from([0xde, 0xad]));
      const text = await raw.waitMessage('51-', T, 'the binary echo header');
      assert.equal(text, '51-["echo",{"_placeholder":true,"num":0}]');
      const bin = await raw.waitMessage((m) => typeof m !== 'string', T, 'the binary attachment');
      assert.deepEqual(Buffer.from(bin), Buffer.from([0xde, 0xad]));
      assert.equal(raw.closeReason, null, 'the connection must stay open');
    });

    test('each malformed packet closes only its own connection', async (t) => {
      const healthy = await connect(t, srv, { transport, label: 'healthy client' });
      const raws = [];
      t.after(() => Promise.all(raws.map((r) => r.close())));
      const results = await Promise.allSettled(BAD_PACKETS.map(async (bad) => {
        const raw = new RawSio(t, srv, transport);
        raws.push(raw);
        await raw.connectNsp('/');
        await raw.waitMessage('2["welcome"', T, 'the welcome event');
        for (const m of bad.send) raw.send(m);
        try {
          await raw.waitClose(T);
        } catch {
          throw new Error(`${bad.name}: the server did not close the connection within ${T} ms ` +
            `(sent ${JSON.stringify(bad.send.map((m) => (typeof m === 'string' ? m : `<binary ${m.toString('hex')}>`)))}; ` +
            `messages received: ${JSON.stringify(raw.messages.filter((x) => typeof x === 'string'))})`);
        }
      }));
      const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
      assert.deepEqual(failures, [], `${failures.length}/${BAD_PACKETS.length} malformed packets were not handled:\n  ` +
        failures.join('\n  '));
      await assertHealthy(t, healthy, 'the malformed packets');
    });

    test('an ACK without an id is ignored (or the connection is closed); the server keeps working', async (t) => {
      const healthy = await connect(t, srv, { transport, label: 'healthy client' });
      const raw = new RawSio(t, srv, transport);
      await raw.connectNsp('/');
      raw.send('3["x"]');
      raw.send('21["echo-ack","after"]');
      // either the ack of the next event arrives (ignored, like the reference server) or the connection closes
      const outcome = await raw.waitMessage('31', T, 'the ack for the event sent after the id-less ACK')
        .then((m) => ({ ack: m }), (err) => (raw.closeReason ? { closed: raw.closeReason } : Promise.reject(new Error(
          `the server neither closed the connection nor answered the next event after an ACK without id: ${err.message}`))));
      if (outcome.ack !== undefined) {
        assert.equal(outcome.ack, '31["after"]', 'the connection stayed usable (like the reference server)');
      } else {
        assert.ok(outcome.closed, 'closed');
      }
      await assertHealthy(t, healthy, 'an ACK without id');
    });
  });
}
