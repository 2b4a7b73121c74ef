// The load balancers in front of the cluster. Long-polling needs every request of a session to reach the node that
// made it: nginx does it by client address (`hash $remote_addr consistent`; on one machine the clients take
// different loopback source addresses), HAProxy by the "io" cookie the node sets at the handshake
// (`cookie io prefix indirect nocache`). Without stickiness polling fails, which the control tests show.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, startNginx, startHaproxy, connect, httpGet, withTimeout, T } from './harness.mjs';

/** `rounds` acknowledged round trips (each one a POST and a long-poll GET when polling). */
async function roundTrips(c, rounds) {
  for (let i = 0; i < rounds; i++) {
    const rooms = await c.ask('rooms');
    assert.deepEqual(rooms, [c.id]);
  }
}

/** Whether a polling client through `url` fails (it is refused, or loses its session) within `ms`. */
async function pollingFails(url, opts, ms = 3000) {
  let client;
  try {
    client = await connect(url, { transport: 'polling', ...opts });
  } catch {
    return true;  // the CONNECT after the handshake went to another node
  }
  try {
    await withTimeout((async () => { for (let i = 0; i < 6; i++) await client.ask('rooms'); })(), ms, 'round trips');
    return false;
  } catch {
    return true;
  } finally {
    await client.close();
  }
}

describe('nginx, sticky by source address', () => {
  let cluster;
  before(async () => { cluster = await startCluster(null); });
  after(() => cluster && cluster.stop());

  it('each source address always reaches the same node, and the addresses cover every node', async () => {
    const names = Object.values(cluster.nodes).map((nd) => nd.name).sort();
    assert.deepEqual(Object.keys(cluster.addresses).sort(), names);
    for (const [name, address] of Object.entries(cluster.addresses)) {
      for (let i = 0; i < 5; i++) {
        assert.equal((await httpGet(`${cluster.nginx.url}/name`, { localAddress: address })).body, name, address);
      }
    }
  });

  it('polling sessions keep to their node through many requests', async () => {
    for (const key of Object.keys(cluster.nodes)) {
      const c = await cluster.client(key, { transport: 'polling' });
      await roundTrips(c, 15);
      assert.equal(c.socket.io.engine.transport.name, 'polling');
      assert.deepEqual(c.disconnects, []);
      await cluster.drop(c);
    }
  });

  it('polling upgrades to WebSocket through nginx (the Upgrade headers)', async () => {
    for (const [key, nd] of Object.entries(cluster.nodes)) {
      const c = await connect(cluster.nginx.url, { transport: 'both', localAddress: cluster.addresses[nd.name] });
      cluster.clients.add(c);
      assert.equal(c.welcome.node, nd.name, key);
      const engine = c.socket.io.engine;
      if (engine.transport.name !== 'websocket') {
        await withTimeout(new Promise((r) => engine.once('upgrade', r)), T, `${key}: upgrade`);
      }
      await roundTrips(c, 3);
      await cluster.drop(c);
    }
  });

  it('control: round-robin nginx without the hash breaks polling sessions', async () => {
    const ports = Object.values(cluster.nodes).map((nd) => nd.port);
    const rr = await startNginx(ports, { balance: '' });
    try {
      assert.equal(await pollingFails(rr.url, {}), true);
    } finally {
      await rr.stop();
    }
  });
});

describe('HAProxy, sticky by the io cookie', () => {
  let cluster;
  before(async () => { cluster = await startCluster(null, { nodeFlags: ['--cookie', '1'], haproxy: true }); });
  after(() => cluster && cluster.stop());

  it('the handshake sets the io cookie: path /, HttpOnly, SameSite=Lax', async () => {
    for (const nd of Object.values(cluster.nodes)) {
      const res = await httpGet(`${nd.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(res.status, 200, nd.name);
      const sid = JSON.parse(res.body.slice(1)).sid;
      const cookies = [].concat(res.headers['set-cookie'] || []);
      assert.deepEqual(cookies, [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`], nd.name);
    }
  });

  it('polling clients spread round-robin over the nodes and keep to theirs', async () => {
    const landed = [];
    for (let i = 0; i < 6; i++) {
      const c = await connect(cluster.haproxy.url, { transport: 'polling', withCredentials: true, label: `haproxy-${i}` });
      cluster.clients.add(c);
      landed.push(c.welcome.node);
      await roundTrips(c, 10);
      assert.deepEqual(c.disconnects, []);
    }
    assert.deepEqual([...new Set(landed)].sort(), Object.values(cluster.nodes).map((nd) => nd.name).sort());
    for (const c of [...cluster.clients]) await cluster.drop(c);
  });

  it('polling upgrades to WebSocket through HAProxy', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await connect(cluster.haproxy.url, { transport: 'both', withCredentials: true });
      cluster.clients.add(c);
      const engine = c.socket.io.engine;
      if (engine.transport.name !== 'websocket') {
        await withTimeout(new Promise((r) => engine.once('upgrade', r)), T, 'upgrade');
      }
      await roundTrips(c, 3);
      await cluster.drop(c);
    }
  });

  it('control: without a cookie jar the polling session is lost', async () => {
    assert.equal(await pollingFails(cluster.haproxy.url, { withCredentials: false }), true);
  });
});

describe('HAProxy with nodes that set no cookie (control)', () => {
  it('polling sessions break', async (t) => {
    const cluster = await startCluster(t, {});
    const hap = await startHaproxy(Object.values(cluster.nodes).map((nd) => ({ name: nd.name, port: nd.port })));
    t.after(() => hap.stop());
    assert.equal(await pollingFails(hap.url, { withCredentials: true }), true);
  });
});
