// Fault: garbage published on every channel the nodes listen to: bytes that decode to nothing, truncated or
// absurdly nested msgpack and JSON, and well-formed messages of the wrong shape. No node crashes or stalls, no
// client gets anything from it, the C++ nodes count what they dropped (GET /stats: malformed), and traffic goes on
// in every direction, each message once.
//
// Node's @socket.io/redis-adapter 8.3 decodes broadcast messages without a try (onmessage), so one bad message on a
// broadcast channel it decodes (the base channel, or a room it has) ends the Node process, and it hands a broadcast
// whose data is not [name, ...] to its clients, whose parser then drops the connection. So with the Node node in the
// cluster the garbage goes everywhere except where Node decodes broadcasts; a second cluster of C++ nodes alone gets
// the base channels too.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, barrier, httpGet, CPP_IS_NODE } from './harness.mjs';

const hex = (h) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const str = (s) => Buffer.from(s);
function pseudoRandom(n, seed = 7) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; out[i] = seed >>> 24; }
  return out;
}

// Bytes no decoder can read (each must count as malformed where it is decoded).
const UNDECODABLE = [
  Buffer.alloc(0),
  hex('c1'),                              // the one byte msgpack never uses
  hex('ff00'),                            // a value and a trailing byte
  str('{'),                               // JSON cut short
  str('{"uid":"x","type":'),
  hex('93a178'),                          // an array of 3 with 1 element
  hex('d9ff6162'),                        // a str8 of 255 bytes with 2
  hex('dfffffffff'),                      // a map of 2^32-1 entries with none
  hex('ddffffffff'),                      // an array of 2^32-1 elements with none
  Buffer.concat([Buffer.alloc(100000, 0x91), hex('c0')]),  // 100000 nested arrays
  str('{"a":'.repeat(100000)),            // 100000 nested JSON objects, unterminated
  pseudoRandom(256),
];
// Well-formed, but no message of the protocol.
const WRONG_SHAPE = [
  str('{}'),
  str('{"type":5}'),
  str('{"uid":"x","requestId":"r1","type":5,"opts":{"rooms":5,"except":"y"}}'),
  str('{"uid":"x","type":2,"opts":{"rooms":"a"},"rooms":7}'),
  str('{"uid":"x","type":3,"opts":null,"rooms":[[]]}'),
  str('{"uid":"x","type":4,"opts":{"rooms":[{}]},"close":"yes"}'),
  str('{"uid":"x","type":6,"data":"not an array"}'),
  str('{"uid":"x","requestId":"r2","type":6,"data":[]}'),
  str('{"uid":"x","requestId":"r2b","type":6,"data":[5]}'),
  str('{"uid":"x","requestId":"r3","type":7}'),
  str('{"uid":"x","requestId":"r4","type":99}'),
  str('{"requestId":"nope","sockets":[1,2]}'),
  str('{"type":8,"requestId":"nope","clientCount":"x"}'),
  str('{"type":6,"requestId":"nope","data":1}'),
  str(`{"uid":"x","type":1,"requestId":"${'z'.repeat(5000)}"}`),
  hex('93010203'),                        // [1, 2, 3]
  hex('93a178c0c0'),                      // ["x", nil, nil]
  hex('82a474797065 07 a3756964 a178'),   // {type: 7, uid: "x"}: a broadcast with acks without packet
  hex('83a474797065 09 a9726571756573744964 a46e6f7065 a67061636b6574 c0'),  // a type-9 answer nobody asked for
];
// Broadcasts Node passes on to its clients as they are (so only for channels Node does not decode).
const BAD_BROADCASTS = [
  // ["x", {type: 2, data: "str", nsp: "/"}, {rooms: [], except: []}]
  hex('93 a178 83 a474797065 02 a464617461 a3737472 a36e7370 a12f 82 a5726f6f6d73 90 a6657863657074 90'),
  // ["x", {type: 2, data: [], nsp: "/"}, {rooms: [], except: []}]
  hex('93 a178 83 a474797065 02 a464617461 90 a36e7370 a12f 82 a5726f6f6d73 90 a6657863657074 90'),
  // ["x", {type: 2, data: [5], nsp: "/"}, {rooms: 5}]
  hex('93 a178 83 a474797065 02 a464617461 91 05 a36e7370 a12f 81 a5726f6f6d73 05'),
  // ["x", {type: 2, data: ["connect"], nsp: "/"}, {}]: a reserved event name
  hex('93 a178 83 a474797065 02 a464617461 91 a7636f6e6e656374 a36e7370 a12f 80'),
  // ["x", {type: 2, data: ["e"], nsp: "/"}, 7]
  hex('93 a178 83 a474797065 02 a464617461 91 a165 a36e7370 a12f 07'),
];

const stats = async (nd) => JSON.parse((await httpGet(`${nd.url}/stats`)).body);
const cppNodes = (cluster) => Object.values(cluster.nodes).filter((nd) => nd.kind === 'cpp' && !CPP_IS_NODE);

async function garbageRun(t, nodes, { baseChannels }) {
  const cluster = await startCluster(t, { nodes });
  const keys = Object.keys(cluster.nodes);
  const clients = [];
  for (const key of keys) {
    for (const nsp of ['/', '/second']) {
      clients.push(await cluster.client(key, { nsp, transport: 'websocket' }));
      clients.push(await cluster.client(key, { nsp, transport: 'polling' }));
    }
  }
  const cppClients = clients.filter((c) => c.label.startsWith('cpp'));
  for (const c of clients) await c.ask('join', ['everyone']);
  for (const c of cppClients) await c.ask('join', ['cpp-room']);
  for (const c of clients) c.socket.on('ask', (q, cb) => cb(c.id));
  const before = Object.fromEntries(await Promise.all(cppNodes(cluster).map(async (nd) => [nd.name, await stats(nd)])));

  const pub = cluster.cli;
  let published = 0;
  const send = async (channel, payloads) => {
    for (const p of payloads) { await pub.publish(channel, p); published++; }
  };
  const all = [...UNDECODABLE, ...WRONG_SHAPE];
  // the shared response channel and each node's own, per namespace
  const responseChannels = {};
  for (const nsp of ['/', '/second']) {
    responseChannels[nsp] = (await pub.sendCommand(['PUBSUB', 'CHANNELS', `socket.io-response#${nsp}#*`])).map(String);
    assert.equal(responseChannels[nsp].length, 1 + keys.length, `response channels: ${responseChannels[nsp]}`);
  }
  for (const nsp of ['/', '/second']) {
    for (const ch of [`socket.io-request#${nsp}#`, ...responseChannels[nsp]]) await send(ch, all);
    // broadcast channels Node never decodes: a room only C++ clients are in, and their ids (not when the "C++"
    // nodes are Node nodes: this is what they cannot take)
    if (CPP_IS_NODE) continue;
    const nspCpp = cppClients.filter((c) => (c.welcome.nsp === nsp));
    for (const ch of [`socket.io#${nsp}#cpp-room#`, ...nspCpp.map((c) => `socket.io#${nsp}#${c.id}#`)]) {
      await send(ch, [...all, ...BAD_BROADCASTS]);
    }
    if (baseChannels) await send(`socket.io#${nsp}#`, [...all, ...BAD_BROADCASTS]);
  }
  // the garbage went out on the test's one connection before the barriers' broadcasts: once they are through,
  // every node has read it all
  for (const nd of Object.values(cluster.nodes)) {
    const dead = await Promise.race([nd.exited, new Promise((r) => { setTimeout(r, 100, null); })]);
    assert.equal(dead, null, `${nd.name} ended (${JSON.stringify(dead)}) after ${published} messages: ${nd.stderr}`);
  }
  for (const key of keys) {
    for (const nsp of ['/', '/second']) {
      const sender = clients.find((c) => c.label.startsWith(`${key}/`) && c.welcome.nsp === nsp);
      await barrier(sender, clients.filter((c) => c.welcome.nsp === nsp));
    }
  }
  for (const nd of Object.values(cluster.nodes)) assert.ok(nd.alive, `${nd.name} is running`);
  for (const c of clients) {
    assert.deepEqual(c.log.map((e) => e.event).filter((e) => e !== 'welcome' && e !== 'marker'), [], c.label);
    assert.deepEqual(c.disconnects, [], c.label);
  }
  // counted: every undecodable payload on the request and the shared response channel of both namespaces, at least
  for (const nd of cppNodes(cluster)) {
    const after = await stats(nd);
    const malformed = after.malformed - before[nd.name].malformed;
    assert.ok(malformed >= UNDECODABLE.length * 2 * 2, `${nd.name}: ${malformed} malformed counted (${JSON.stringify(after)})`);
    assert.ok(after.received - before[nd.name].received >= malformed, `${nd.name}: received ${JSON.stringify(after)}`);
  }

  // traffic goes on: broadcasts (each once), requests, broadcasts with acks, from every node
  const mains = clients.filter((c) => c.welcome.nsp === '/');
  const ids = mains.map((c) => c.id).sort();
  for (const key of keys) {
    const sender = mains.find((c) => c.label.startsWith(`${key}/`));
    await sender.ask('broadcast', { rooms: ['everyone'], event: 'after', args: [key, Buffer.from([1])] });
    await barrier(sender, mains);
    for (const c of mains) assert.deepEqual(c.received('after').filter((a) => a[0] === key), [[key, Buffer.from([1])]], c.label);
    const fetched = await sender.ask('fetch', { rooms: ['everyone'] });
    assert.equal(fetched.err, null);
    assert.deepEqual(fetched.sockets.map((s) => s.id), ids);
    const sse = await sender.ask('server-side-emit', { event: 'ask-server', args: [], ack: true });
    assert.deepEqual({ err: sse.err, n: sse.responses.length }, { err: null, n: keys.length - 1 });
    const bwa = await sender.ask('broadcast-with-ack', { rooms: ['everyone'], event: 'ask', args: ['q'], timeout: 3000 });
    assert.deepEqual(bwa, { err: null, responses: ids });
  }
  return published;
}

it('garbage on every channel but those Node decodes broadcasts on: C++ and Node nodes carry on', async (t) => {
  await garbageRun(t, ['cppA', 'cppB', 'node'], { baseChannels: false });
});

it('garbage on every channel, the base broadcast channels too: two C++ nodes carry on',
  { skip: CPP_IS_NODE && 'the "C++" nodes are Node nodes: Node\'s adapter exits on a bad broadcast' }, async (t) => {
    await garbageRun(t, ['cppA', 'cppB'], { baseChannels: true });
  });
