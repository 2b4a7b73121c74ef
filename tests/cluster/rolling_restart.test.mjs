// The rolling restart (tests/cluster/rolling_restart.mjs), small: 60 official clients on both transports behind
// HAProxy, three nodes on the Redis Streams adapter (two C++ with persistSessionsEagerly, one Node), 50 messages/s.
// Each node is drained and started again, then a C++ node is SIGKILLed. No client that the C++ nodes served or
// restored may lose or get twice any message. The Node node's own losses are reported, not asserted: its restore
// reads the stream, then awaits once more before the socket joins its rooms, and what its reader delivers in
// between misses the socket (socket.io 4.8 with @socket.io/redis-streams-adapter 0.3.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollingRestart } from './rolling_restart.mjs';

test('a rolling restart and a SIGKILL lose and duplicate nothing on the C++ nodes', { timeout: 240000 }, async (t) => {
  const s = await rollingRestart({ clients: 60, rooms: 6, rate: 50, eager: true, kill: 'cppA' });
  t.diagnostic(JSON.stringify(s));
  assert.ok(s.sent > 300, `messages sent: ${s.sent}`);
  for (const phase of ['steady', 'drain', 'kill']) assert.ok(s.phases[phase].expected > 0, phase);
  assert.ok(s.reconnections >= 60, `every client reconnected at least once: ${s.reconnections}`);
  assert.equal(s.newSockets, 0, 'every reconnection recovered its socket');
  const cpp = (key) => /->cpp-/.test(key) || /: cpp-/.test(key) || /^cpp-/.test(key);
  assert.deepEqual(Object.keys(s.lostOn).filter(cpp), [], `lost on a C++ node: ${JSON.stringify(s.lostOn)}`);
  assert.deepEqual(Object.keys(s.duplicatesOn).filter(cpp), [],
    `duplicated on a C++ node: ${JSON.stringify(s.duplicatesOn)}`);
});
