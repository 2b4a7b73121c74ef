// Socket.IO v5: disconnections and their reasons on both sides, heartbeat and connect timeouts, reconnection.
// Server-side reasons are read through 'disconnect-reason' from another, still connected socket.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, T, startSio, startSioFor, connect, manager, managerSocket, disconnectReason, once, RawSio,
} from './sio_harness.mjs';

const sortIds = (ids) => [...ids].sort();

for (const transport of TRANSPORTS) {
  describe(`Socket.IO disconnections (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('client socket.disconnect() → "client namespace disconnect", rooms still known in "disconnecting"', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const c = await connect(t, srv, { transport, label: 'leaving' });
      const id = c.id;
      await c.ack('join', ['dr-1', 'dr-2']);
      c.socket.disconnect();
      const { reason, rooms } = await disconnectReason(asker, id);
      assert.equal(reason, 'client namespace disconnect', 'server-side reason');
      assert.deepEqual(rooms, sortIds([id, 'dr-1', 'dr-2']), 'socket.rooms during "disconnecting"');
      assert.deepEqual(await asker.ack('fetch', 'dr-1'), [[]], 'the socket left its rooms after disconnecting');
      assert.deepEqual(c.disconnects, ['io client disconnect']);
    });

    test('disconnect-me false → server "server namespace disconnect", client "io server disconnect"', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const mgr = manager(t, srv, transport);
      const main = await managerSocket(t, mgr, '/', {}, 'main');
      const custom = await managerSocket(t, mgr, '/custom', { auth: { user: 'u' } }, '/custom on the same connection');
      const id = main.id;
      await main.ack('join', 'dm-1');
      main.socket.emit('disconnect-me', false);
      assert.equal(await main.waitDisconnect(), 'io server disconnect', 'client-side reason');
      const { reason, rooms } = await disconnectReason(asker, id);
      assert.equal(reason, 'server namespace disconnect', 'server-side reason');
      assert.deepEqual(rooms, sortIds([id, 'dm-1']), 'socket.rooms during "disconnecting"');
      // only the namespace was left: the other namespace on the same connection keeps working
      assert.deepEqual(await custom.ack('echo-ack', 'alive'), ['alive']);
      assert.equal(custom.disconnects.length, 0);
    });

    test('disconnect-me true → server "server namespace disconnect", client "io server disconnect", connection closed', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const mgr = manager(t, srv, transport);
      const main = await managerSocket(t, mgr, '/', {}, 'main');
      const custom = await managerSocket(t, mgr, '/custom', { auth: { user: 'u' } }, '/custom on the same connection');
      const id = main.id;
      const engine = mgr.engine;
      const engineClosed = once(engine, 'close', T);
      await main.ack('join', 'dt-1');
      main.socket.emit('disconnect-me', true);
      assert.equal(await main.waitDisconnect(), 'io server disconnect', 'client-side reason');
      const { reason, rooms } = await disconnectReason(asker, id);
      assert.equal(reason, 'server namespace disconnect', 'server-side reason');
      assert.deepEqual(rooms, sortIds([id, 'dt-1']), 'socket.rooms during "disconnecting"');
      // the whole connection goes: the /custom socket on it is disconnected too
      assert.equal(await custom.waitDisconnect(), 'io server disconnect', 'client-side reason of the /custom socket');
      await engineClosed;
      assert.deepEqual(await asker.ack('echo-ack', 'asker ok'), ['asker ok']);
    });

    test('the client connection dies abruptly → "transport close"', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const c = await connect(t, srv, { transport, label: 'abrupt' });
      const id = c.id;
      await c.ack('join', 'ab-1');
      const engine = c.socket.io.engine;
      if (transport === 'websocket') {
        engine.transport.ws.terminate(); // TCP reset-like close, no close frame
      } else {
        engine.close(); // the client sends the Engine.IO close packet and stops polling
      }
      const { reason, rooms } = await disconnectReason(asker, id);
      assert.ok(['transport close', 'transport error'].includes(reason), `server-side reason: ${reason}`);
      assert.deepEqual(rooms, sortIds([id, 'ab-1']), 'socket.rooms during "disconnecting"');
    });
  });

  test(`ping timeout: a client that stops answering pings is disconnected with "ping timeout" (${transport})`, async (t) => {
    const srv = await startSioFor(t, ['--ping-interval', '200', '--ping-timeout', '200']);
    const asker = await connect(t, srv, { transport, label: 'asker' });
    const mute = await connect(t, srv, { transport, label: 'mute' });
    const id = mute.id;
    const engine = mute.socket.io.engine;
    // drop every pong the client would send
    const send = engine._sendPacket;
    let pings = 0;
    engine.on('ping', () => { pings++; });
    engine._sendPacket = function (type, ...rest) {
      if (type === 'pong') return undefined;
      return send.call(this, type, ...rest);
    };
    const t0 = Date.now();
    const { reason } = await disconnectReason(asker, id, 5000);
    const ms = Date.now() - t0;
    assert.equal(reason, 'ping timeout', 'server-side reason');
    assert.ok(pings >= 1, 'the server sent at least one ping');
    assert.ok(ms < 3000, `detected after ${ms} ms (ping interval 200 + timeout 200)`);
    // the asker answers pings and is still connected well after several ping periods
    assert.ok(asker.socket.connected);
    assert.deepEqual(await asker.ack('echo-ack', 'alive'), ['alive']);
    assert.equal(asker.disconnects.length, 0);
  });

  test(`connect timeout: a connection that never joins a namespace is closed (${transport})`, async (t) => {
    const srv = await startSioFor(t, ['--connect-timeout', '300']);
    const good = await connect(t, srv, { transport, label: 'joined' });
    const raw = new RawSio(t, srv, transport);
    await raw.opened;
    const t0 = Date.now();
    await raw.waitClose(3000, 'the server to close a connection that sent no CONNECT (connect timeout 300 ms)');
    const ms = Date.now() - t0;
    assert.ok(ms >= 200, `closed after ${ms} ms: too early for a 300 ms connect timeout`);
    // a socket that did join stays connected past the timeout
    assert.deepEqual(await good.ack('echo-ack', 'still here'), ['still here']);
    assert.equal(good.disconnects.length, 0);
  });

  test(`reconnection: after drop-transport the client reconnects by itself (${transport})`, async (t) => {
    const srv = await startSioFor(t);
    const asker = await connect(t, srv, { transport, label: 'asker' });
    const c = await connect(t, srv, {
      transport,
      label: 'reconnecting',
      extra: { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, reconnectionAttempts: 20 },
    });
    const firstId = c.id;
    c.socket.emit('drop-transport');
    const reason = await c.waitDisconnect();
    await c.until(() => c.ids.length >= 2, 5000, 'a second "connect"');
    await c.waitEvent('welcome', { count: 2 });
    const secondId = c.id;
    assert.notEqual(secondId, firstId, 'a new socket id after reconnecting');
    assert.equal(c.received('welcome')[1][0].id, secondId);
    c.socket.emit('echo', 'again');
    assert.deepEqual(await c.waitEvent('echo'), ['again']);
    const desc = c.lastDisconnectDescription;
    assert.equal(reason, 'transport close', 'client-side reason when the server closes the Engine.IO session ' +
      `(description: ${JSON.stringify(desc && (desc.description ?? desc))}; a polling "transport error" with 400 means ` +
      'the next GET found the session already gone instead of receiving the close packet)');
    const server = await disconnectReason(asker, firstId);
    assert.equal(server.reason, 'forced close', 'server-side reason of socket.conn.close()');
  });
}
