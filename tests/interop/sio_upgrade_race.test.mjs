// Socket.IO: a server-side disconnect(true) that lands while the client upgrades from polling to WebSocket (after
// "3probe", before "5") must still reach the client as "io server disconnect" — not as a lost DISCONNECT followed by
// "transport close" (which makes socket.io-client reconnect). Timing-dependent, so it is tried many times; each try
// must give the right reason (a regression test: about one in five tries used to fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io, startSioFor } from './sio_harness.mjs';

const TRIES = 150;
const PARALLEL = 10;

test('disconnect(true) during the polling→websocket upgrade is "io server disconnect" every time', async (t) => {
  const srv = await startSioFor(t, ['--ping-interval', '300', '--ping-timeout', '1000']);
  const reasons = {};
  let next = 0;
  let upgrading = 0;
  const one = async (i) => {
    const s = io(srv.origin, { path: srv.path, forceNew: true, reconnection: false });
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no connect within 5 s')), 5000);
        s.once('connect', () => { clearTimeout(timer); resolve(); });
        s.once('connect_error', (e) => { clearTimeout(timer); reject(e); });
      });
      // 0, 1 or 2 round trips first, to land the kick at different points of the upgrade
      for (let k = 0; k < i % 3; k++) await s.timeout(5000).emitWithAck('echo-ack', k);
      if (s.io.engine.upgrading) upgrading++;
      const reason = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve('no disconnect within 5 s'), 5000);
        s.once('disconnect', (r) => { clearTimeout(timer); resolve(r); });
        s.emit('disconnect-me', true);
      });
      reasons[reason] = (reasons[reason] || 0) + 1;
    } finally {
      s.disconnect();
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < TRIES) await one(next++);
  }));
  assert.deepEqual(reasons, { 'io server disconnect': TRIES },
    `every try must end with "io server disconnect" (${upgrading} kicked mid-upgrade)`);
});
