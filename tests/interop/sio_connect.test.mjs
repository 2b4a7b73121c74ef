// Socket.IO v5: connection, handshake, namespaces (static, dynamic, multiplexed) and middlewares.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import {
  TRANSPORTS, T, startSio, connect, connectError, manager, managerSocket, disconnectReason, once, withTimeout,
} from './sio_harness.mjs';
import { RawWsClient, buildFrame, OP, httpRequest } from './harness.mjs';

describe('Socket.IO default transports (polling then upgrade)', () => {
  let srv;
  before(async () => { srv = await startSio(); });
  after(() => srv?.stop());

  test('connects over polling, upgrades to websocket and still exchanges events', async (t) => {
    const c = await connect(t, srv, { auth: { token: 'ok' } });
    const engine = c.socket.io.engine;
    if (engine.transport.name !== 'websocket') {
      await withTimeout(once(engine, 'upgrade', T), T, 'the Engine.IO upgrade to websocket');
    }
    assert.equal(engine.transport.name, 'websocket', 'the client should have upgraded to websocket');
    const [welcome] = c.received('welcome')[0];
    assert.equal(welcome.id, c.id);
    c.socket.emit('echo', 'after upgrade', 42);
    assert.deepEqual(await c.waitEvent('echo'), ['after upgrade', 42]);
    assert.deepEqual(await c.ack('echo-ack', { x: 1 }), [{ x: 1 }]);
    const [hs] = await c.ack('handshake');
    assert.equal(hs.query.transport, 'polling', 'the handshake request was a polling request');
  });
});

for (const transport of TRANSPORTS) {
  describe(`Socket.IO connection and namespaces (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('main namespace with auth: welcome matches the socket, handshake details', async (t) => {
      const auth = { token: 'good', n: 1, nested: { a: [1, 'b'] } };
      const before = Date.now();
      const c = await connect(t, srv, { transport, auth, query: { foo: 'bar' } });
      const after = Date.now();
      assert.equal(c.socket.io.engine.transport.name, transport);
      const [welcome] = c.received('welcome')[0];
      assert.equal(typeof c.id, 'string');
      assert.deepEqual(welcome, { id: c.id, nsp: '/', auth }, 'welcome event payload');

      const [hs] = await c.ack('handshake');
      assert.equal(typeof hs, 'object', `handshake ack: ${JSON.stringify(hs)}`);
      for (const name of Object.keys(hs.headers)) {
        assert.equal(name, name.toLowerCase(), `header names must be lower case: ${name}`);
      }
      assert.equal(hs.headers.host, `127.0.0.1:${srv.port}`, `headers.host (headers: ${JSON.stringify(hs.headers)})`);
      assert.ok(['127.0.0.1', '::ffff:127.0.0.1'].includes(hs.address), `address: ${JSON.stringify(hs.address)}`);
      assert.equal(hs.xdomain, false, 'xdomain without an Origin header');
      assert.equal(hs.secure, false, 'secure over plain http');
      assert.equal(typeof hs.issued, 'number', `issued should be a number: ${JSON.stringify(hs.issued)}`);
      assert.ok(hs.issued >= before - 2000 && hs.issued <= after + 2000,
        `issued ${hs.issued} should be close to Date.now() (${before}..${after})`);
      assert.equal(typeof hs.time, 'string');
      assert.ok(hs.time.length > 0, 'handshake.time should not be empty');
      assert.equal(typeof hs.url, 'string');
      assert.ok(hs.url.startsWith(srv.path), `url ${JSON.stringify(hs.url)} should start with the path ${srv.path}`);
      assert.ok(hs.url.includes('EIO=4'), `url ${JSON.stringify(hs.url)} should contain EIO=4`);
      assert.ok(hs.url.includes('foo=bar'), `url ${JSON.stringify(hs.url)} should contain foo=bar`);
      assert.equal(hs.query.EIO, '4', `query: ${JSON.stringify(hs.query)}`);
      assert.equal(hs.query.foo, 'bar', `query: ${JSON.stringify(hs.query)}`);
      assert.equal(hs.query.transport, transport, `query: ${JSON.stringify(hs.query)}`);
      assert.deepEqual(hs.auth, auth, 'handshake.auth');
    });

    test('main namespace without auth gets auth {}', async (t) => {
      const c = await connect(t, srv, { transport });
      const [welcome] = c.received('welcome')[0];
      assert.deepEqual(welcome, { id: c.id, nsp: '/', auth: {} });
      const [hs] = await c.ack('handshake');
      assert.deepEqual(hs.auth, {});
    });

    test('/custom with auth {user} connects, joins room1; without auth: connect_error "user required"', async (t) => {
      const c = await connect(t, srv, { transport, nsp: '/custom', auth: { user: 'x' } });
      const [welcome] = c.received('welcome')[0];
      assert.deepEqual(welcome, { id: c.id, nsp: '/custom', auth: { user: 'x' } });
      const [rooms] = await c.ack('rooms');
      assert.deepEqual(rooms, [c.id, 'room1'].sort(), 'rooms of a /custom socket');
      c.socket.emit('echo', 'in custom');
      assert.deepEqual(await c.waitEvent('echo'), ['in custom']);

      const err = await connectError(t, srv, { transport, nsp: '/custom' });
      assert.equal(err.message, 'user required');
      assert.equal(err.data ?? null, null, `connect_error data: ${JSON.stringify(err.data)}`);
      const err2 = await connectError(t, srv, { transport, nsp: '/custom', auth: { name: 'x' } });
      assert.equal(err2.message, 'user required');
    });

    test('several namespaces multiplexed on one Manager; disconnecting one leaves the other working', async (t) => {
      const mgr = manager(t, srv, transport);
      const main = await managerSocket(t, mgr, '/', {}, 'mux /');
      const engineId = mgr.engine.id;
      const custom = await managerSocket(t, mgr, '/custom', { auth: { user: 'x' } }, 'mux /custom');
      assert.ok(engineId, 'engine id');
      assert.equal(mgr.engine.id, engineId, 'the second namespace must reuse the same Engine.IO connection');
      assert.equal(main.socket.io.engine, custom.socket.io.engine);
      assert.notEqual(main.id, custom.id, 'each namespace socket has its own id');
      assert.equal(main.received('welcome')[0][0].nsp, '/');
      assert.equal(custom.received('welcome')[0][0].nsp, '/custom');
      assert.equal(main.received('welcome')[0][0].id, main.id);
      assert.equal(custom.received('welcome')[0][0].id, custom.id);

      main.socket.emit('echo', 'main');
      custom.socket.emit('echo', 'custom');
      assert.deepEqual(await main.waitEvent('echo'), ['main']);
      assert.deepEqual(await custom.waitEvent('echo'), ['custom']);
      assert.equal(main.received('echo').length, 1, 'echo must be delivered to its own namespace only');
      assert.equal(custom.received('echo').length, 1, 'echo must be delivered to its own namespace only');

      custom.socket.disconnect();
      const { reason } = await disconnectReason(main, custom.id);
      assert.equal(reason, 'client namespace disconnect', 'server-side reason of the /custom socket');
      assert.ok(main.socket.connected, 'the main namespace socket stays connected');
      assert.equal(mgr.engine.id, engineId, 'same Engine.IO connection after leaving /custom');
      main.socket.emit('echo', 'still here');
      assert.deepEqual(await main.waitEvent('echo', { count: 2 }), ['still here']);
      assert.equal(main.disconnects.length, 0, 'the main socket must not be disconnected');

      // re-joining /custom on the same connection works
      const again = await managerSocket(t, mgr, '/custom', { auth: { user: 'y' } }, 'mux /custom again');
      assert.equal(mgr.engine.id, engineId);
      assert.deepEqual(await again.ack('echo-ack', 'back'), ['back']);
    });

    test('dynamic namespace /dyn-42 connects; /dyn-x and /nope are "Invalid namespace"', async (t) => {
      const c = await connect(t, srv, { transport, nsp: '/dyn-42', auth: { k: 'v' } });
      const [welcome] = c.received('welcome')[0];
      assert.deepEqual(welcome, { id: c.id, nsp: '/dyn-42', auth: { k: 'v' } });
      assert.deepEqual(await c.ack('echo-ack', 'dyn'), ['dyn']);

      const c2 = await connect(t, srv, { transport, nsp: '/dyn-7' });
      assert.equal(c2.received('welcome')[0][0].nsp, '/dyn-7');

      for (const nsp of ['/dyn-x', '/nope', '/dyn-', '/dyn-42x']) {
        const err = await connectError(t, srv, { transport, nsp });
        assert.equal(err.message, 'Invalid namespace', `connect_error for ${nsp}`);
      }
    });

    test('middleware refusals: main auth.token "bad" and /refuse', async (t) => {
      const err = await connectError(t, srv, { transport, auth: { token: 'bad' } });
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });

      const err2 = await connectError(t, srv, { transport, nsp: '/refuse', auth: { user: 'x' } });
      assert.equal(err2.message, 'refused');
      assert.deepEqual(err2.data, { reason: 'test' });

      // a refused namespace on a multiplexed connection does not hurt the other namespace
      const mgr = manager(t, srv, transport);
      const main = await managerSocket(t, mgr, '/', {}, 'mux /');
      const refused = mgr.socket('/refuse');
      t.after(() => refused.disconnect());
      const [err3] = await once(refused, 'connect_error', T, { failOn: ['connect'] });
      assert.equal(err3.message, 'refused');
      assert.deepEqual(await main.ack('echo-ack', 'ok'), ['ok']);
      assert.ok(main.socket.connected);

      // and a good token still connects
      const ok = await connect(t, srv, { transport, auth: { token: 'fine' } });
      assert.equal(ok.received('welcome')[0][0].auth.token, 'fine');
    });
  });
}

for (const transport of TRANSPORTS) {
  test(`server process exits on SIGTERM while a ${transport} client is still connected`, async (t) => {
    const srv = await startSio();
    t.after(() => srv?.stop());
    const c = await connect(t, srv, { transport });
    assert.deepEqual(await c.ack('echo-ack', 1), [1]);
    const t0 = Date.now();
    const exit = await srv.stop(); // SIGTERM, then SIGKILL after 5 s
    const ms = Date.now() - t0;
    assert.notEqual(exit.signal, 'SIGKILL',
      `the server ignored SIGTERM for 5 s with a connected ${transport} client and had to be SIGKILLed`);
    assert.ok(ms < 3000, `the server took ${ms} ms to exit after SIGTERM`);
    await c.waitDisconnect();
  });
}

// The namespace "/gated" holds its connection handler until GET /open-gate?key=K (K from the auth); whatever the
// client gets meanwhile was written before the handler ran. Node writes the answer to a CONNECT before the
// connection handler runs; a server that gathers it into one write with the handler's first emit loses that emit
// for a client that takes one message per read event.
describe('the answer to a CONNECT is written before the handlers that come after it run', () => {
  let srv;
  before(async () => { srv = await startSio(); });
  after(() => srv?.stop());

  let keys = 0;
  const newKey = (what) => `${what}-${process.pid}-${++keys}`;
  const openGate = async (key) => {
    const res = await httpRequest(`${srv.origin}/open-gate?key=${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, `GET /open-gate: ${res.status} ${res.body}`);
  };

  test('websocket, a client taking one message per event (ws once): the CONNECT answer, then the handler\'s emit', async (t) => {
    const key = newKey('once');
    const ws = new WebSocket(`${srv.wsUrl}?EIO=4&transport=websocket`, { perMessageDeflate: false });
    ws.on('error', () => {});
    t.after(async () => {
      ws.terminate();
      await openGate(key).catch(() => {});
    });
    // one `once` listener at a time, attached after the previous one fired
    const nextMessage = (what) => withTimeout(new Promise((resolve) => {
      ws.once('message', (data) => resolve(data.toString('utf8')));
    }), T, what);
    const first = nextMessage('the Engine.IO open packet');
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), T, 'the websocket to open');
    assert.match(await first, /^0\{/);

    const answer = nextMessage('the CONNECT answer while the connection handler waits');
    ws.send(`40/gated,${JSON.stringify({ key })}`);
    const connectAnswer = await answer;
    assert.match(connectAnswer, /^40\/gated,/);
    assert.equal(typeof JSON.parse(connectAnswer.slice('40/gated,'.length)).sid, 'string');

    const emitted = nextMessage("the connection handler's emit");
    await openGate(key);
    assert.deepEqual(JSON.parse((await emitted).replace(/^42\/gated,/, '')), ['auth', { key }]);
  });

  test('websocket: a refused CONNECT is answered before the handler of a CONNECT in the same read runs', async (t) => {
    const key = newKey('refused');
    const raw = new RawWsClient(srv, 'EIO=4&transport=websocket');
    t.after(async () => {
      raw.destroy();
      await openGate(key).catch(() => {});
    });
    await raw.connect(T);
    assert.equal(raw.status, 101);
    const text = async (what) => {
      const f = await raw.nextFrame(T).catch((err) => assert.fail(`${what}: ${err.message}`));
      assert.equal(f.opcode, OP.text, `${what}: a text frame`);
      return f.payload.toString('utf8');
    };
    assert.match(await text('the Engine.IO open packet'), /^0\{/);

    // both CONNECT packets in one write, so that the server handles them in one read
    raw.send(Buffer.concat([
      buildFrame(OP.text, '40/refuse,'),
      buildFrame(OP.text, `40/gated,${JSON.stringify({ key })}`),
    ]));
    const refused = await text('the CONNECT_ERROR of /refuse while the /gated connection handler waits');
    assert.match(refused, /^44\/refuse,/);
    assert.deepEqual(JSON.parse(refused.slice('44/refuse,'.length)), { message: 'refused', data: { reason: 'test' } });
    const accepted = await text('the CONNECT answer of /gated while its connection handler waits');
    assert.match(accepted, /^40\/gated,\{"sid":"[^"]+"\}$/);

    await openGate(key);
    const emitted = await text("the /gated connection handler's emit");
    assert.deepEqual(JSON.parse(emitted.replace(/^42\/gated,/, '')), ['auth', { key }]);
  });
});
