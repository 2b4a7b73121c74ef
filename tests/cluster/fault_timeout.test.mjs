// Fault: a node that never answers. A bare Redis connection subscribed to the request channel counts as one more
// server in PUBSUB NUMSUB, so every request waits for an answer that never comes: fetchSockets, serverSideEmit and
// broadcasts with acks end at their time-out (requestsTimeout = 600 ms here) with the error, and (C++: all three;
// Node: serverSideEmit and broadcasts) the partial results. Once it unsubscribes, requests complete again; the
// clients lose no message meanwhile.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, numsub, barrier, httpGet, CPP_IS_NODE } from './harness.mjs';

const TIMEOUT = 600;

it('requests to a node that never answers end at their time-out with partial results and an error', async (t) => {
  const cluster = await startCluster(t, { nodeFlags: ['--requests-timeout', String(TIMEOUT)] });
  const clients = {};
  for (const key of Object.keys(cluster.nodes)) clients[key] = await cluster.client(key);
  const ids = Object.values(clients).map((c) => c.id).sort();
  for (const c of Object.values(clients)) {
    await c.ask('join', ['all']);
    c.socket.on('ask', (q, cb) => cb(c.id));
  }

  const mute = (await cluster.redis.client()).duplicate();
  mute.on('error', () => {});
  await mute.connect();
  t.after(() => mute.disconnect().catch(() => {}));
  await mute.subscribe('socket.io-request#/#', () => {});
  assert.equal(await numsub(cluster.cli, 'socket.io-request#/#'), 4);

  // the three nodes ask at the same time (each its own requests, one after the other)
  await Promise.all(Object.entries(clients).map(async ([key, asker]) => {
    const nd = cluster.nodes[key];
    const isCpp = nd.kind === 'cpp' && !CPP_IS_NODE;
    const others = Object.values(cluster.nodes).map((x) => x.name).filter((x) => x !== nd.name).sort();

    let started = Date.now();
    const fetched = await asker.ask('fetch', {});
    let took = Date.now() - started;
    assert.ok(took >= TIMEOUT - 50 && took < TIMEOUT + 1500, `${nd.name}: fetch took ${took} ms`);
    assert.match(fetched.err, /timeout/, nd.name);
    // Node rejects without the sockets it got; the C++ node gives them with the error
    assert.deepEqual(fetched.sockets.map((s) => s.id), isCpp ? ids : [], nd.name);

    started = Date.now();
    const sse = await asker.ask('server-side-emit', { event: 'ask-server', args: [1], ack: true });
    took = Date.now() - started;
    assert.ok(took >= TIMEOUT - 50 && took < TIMEOUT + 1500, `${nd.name}: serverSideEmit took ${took} ms`);
    assert.match(sse.err, /timeout/, nd.name);
    if (!isCpp) assert.equal(sse.err, 'timeout reached: only 2 responses received out of 3');
    assert.deepEqual(sse.responses, others.map((name) => ({ name, nsp: '/', args: [1] })), nd.name);

    // a broadcast with acks waits for the client count of 4 servers: it ends at its own time-out with every answer
    started = Date.now();
    const bwa = await asker.ask('broadcast-with-ack', { rooms: ['all'], event: 'ask', args: ['q'], timeout: TIMEOUT });
    took = Date.now() - started;
    assert.ok(took >= TIMEOUT - 50 && took < TIMEOUT + 1500, `${nd.name}: broadcast with acks took ${took} ms`);
    assert.equal(bwa.err, 'operation has timed out', nd.name);
    assert.deepEqual(bwa.responses.sort(), ids, nd.name);
  }));

  // the C++ nodes count their requests that ended at the time-out (the fetch and the serverSideEmit at least)
  for (const nd of Object.values(cluster.nodes).filter((x) => x.kind === 'cpp' && !CPP_IS_NODE)) {
    const stats = JSON.parse((await httpGet(`${nd.url}/stats`)).body);
    assert.ok(stats.requestsTimedOut >= 2, `${nd.name}: ${JSON.stringify(stats)}`);
  }
  // Meanwhile broadcasts flowed as ever, and once the mute subscriber leaves, requests complete at once.
  for (const asker of Object.values(clients)) await barrier(asker, Object.values(clients));
  await mute.unsubscribe('socket.io-request#/#');
  assert.equal(await numsub(cluster.cli, 'socket.io-request#/#'), 3);
  for (const asker of Object.values(clients)) {
    const started = Date.now();
    const fetched = await asker.ask('fetch', {});
    assert.equal(fetched.err, null);
    assert.deepEqual(fetched.sockets.map((s) => s.id), ids);
    const sse = await asker.ask('server-side-emit', { event: 'ask-server', args: [], ack: true });
    assert.equal(sse.err, null);
    assert.equal(sse.responses.length, 2);
    const bwa = await asker.ask('broadcast-with-ack', { rooms: ['all'], event: 'ask', args: ['q'], timeout: 3000 });
    assert.deepEqual(bwa, { err: null, responses: ids });
    assert.ok(Date.now() - started < TIMEOUT, 'no time-out any more');
  }
  for (const c of Object.values(clients)) assert.deepEqual(c.disconnects, []);
});
