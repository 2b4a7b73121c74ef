// Socket.IO: emitting from a thread that is not a handler (the seeds' "live figures pushed to a room"): every tick
// reaches every socket in the room exactly once and in order, on both transports, while handlers keep running.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORTS, startSio, connect } from './sio_harness.mjs';

const TICKS = 300;

for (const transport of TRANSPORTS) {
  describe(`Socket.IO emit from a thread of the server's own (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('a background thread broadcasting to a room: all ticks, in order, only to the room', async (t) => {
      const a = await connect(t, srv, { transport, label: 'a' });
      const b = await connect(t, srv, { transport, label: 'b' });
      const outsider = await connect(t, srv, { transport, label: 'outsider' });
      await a.ack('join', 'feed');
      await b.ack('join', 'feed');
      // handlers keep being served while the thread emits
      const [done, echoed] = await Promise.all([a.ack('ticker', 'feed', TICKS), b.ack('echo-ack', 'still here')]);
      assert.deepEqual(done, [TICKS]);
      assert.deepEqual(echoed, ['still here']);
      for (const c of [a, b]) {
        await c.waitEvent('tick', { count: TICKS, ms: 10000 });
        assert.deepEqual(c.received('tick').map((args) => args[0]), Array.from({ length: TICKS }, (_, i) => i),
          `${c.label}: every tick once, in order`);
      }
      await outsider.ack('echo-ack', 'sync');  // a round trip: anything sent to it before has arrived
      assert.equal(outsider.received('tick').length, 0, 'a socket outside the room gets no tick');
    });
  });
}
