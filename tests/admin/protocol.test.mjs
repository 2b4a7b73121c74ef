// The admin UI's server protocol, sioserver against the reference: the same clients do the same things on npm
// socket.io 4.8 instrumented by @socket.io/admin-ui 0.5 and on sioserver instrumented by sio::instrument(), and an
// admin client (socket.io-client on /admin, as the UI connects) must receive the same messages from both, ids,
// dates and other per-run values aside (admin_harness.mjs normalizes them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startBoth, onBoth, Peer, normalize, shape, eventSet, T } from './admin_harness.mjs';

const require = createRequire(import.meta.url);
const bcrypt = require('bcryptjs');  // the package's own dependency: the hash a Node user would configure
const PASSWORD = 'correct horse';
const HASH = bcrypt.hashSync(PASSWORD, 4);  // cost 4: the check stays quick
const BASIC = ['--auth', 'basic', '--username', 'admin', '--password-hash', HASH];
const AUTH = { username: 'admin', password: PASSWORD };

const VERBOSE = ['socket_connected', 'socket_disconnected', 'room_joined', 'room_left', 'event_received',
  'event_sent', 'socket_updated', 'all_sockets'];

test('config and all_sockets on connecting, with basic auth: the same from both', async (t) => {
  const servers = await startBoth(t, BASIC);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { auth: AUTH, label: 'admin' }).connected();
    await admin.next('all_sockets');
    const [session] = await admin.next('session');
    return { admin, session, config: admin.received('config'), all: admin.received('all_sockets') };
  });
  for (const r of [node, ours]) assert.match(r.session, /^[0-9a-f]{16}$/, `${r.admin.label}: the session id`);
  assert.deepEqual(ours.config, node.config);
  assert.deepEqual(ours.config[0][0].supportedFeatures,
    ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS']);
  assert.deepEqual(normalize(ours.all, { admin: ours.admin }), normalize(node.all, { admin: node.admin }));
  assert.equal(ours.all[0][0].length, 1, 'the admin sees its own socket');
  // "session" comes before "config" on both (Node sends it from the middleware, sioserver first on connection).
  for (const r of [node, ours]) {
    const order = r.admin.log.map((e) => e[0]);
    assert.ok(order.indexOf('session') < order.indexOf('config'), `${r.admin.label}: ${order}`);
  }
});

test('basic auth: a wrong password or user is refused, a session id from a login is enough later', async (t) => {
  const servers = await startBoth(t, BASIC);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const wrongPassword = await new Peer(srv, '/admin', { auth: { ...AUTH, password: 'nope' } }).refused();
    const wrongUser = await new Peer(srv, '/admin', { auth: { ...AUTH, username: 'root' } }).refused();
    const noAuth = await new Peer(srv, '/admin').refused();
    const bogusSession = await new Peer(srv, '/admin', { auth: { sessionId: '0123456789abcdef' } }).refused();
    const first = await new Peer(srv, '/admin', { auth: AUTH }).connected();
    const [session] = await first.next('session');
    const again = await new Peer(srv, '/admin', { auth: { sessionId: session }, label: 'again' }).connected();
    await again.next('config');
    return { wrongPassword, wrongUser, noAuth, bogusSession, againGotSession: again.received('session').length };
  });
  assert.deepEqual(ours, node);
  assert.equal(ours.wrongPassword, 'invalid credentials');
  assert.equal(ours.againGotSession, 0, 'a login by session makes no new session');
});

test('sockets, rooms and events as they happen (development mode): the same from both', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { label: 'admin' }).connected();
    await admin.next('all_sockets');
    const a = await new Peer(srv, '/', { label: 'a' }).connected();
    await admin.next('socket_connected', (s) => s.id === a.id);
    await a.socket.emitWithAck('join', 'r1');
    await admin.next('room_joined', (nsp, room, id) => room === 'r1' && id === a.id);
    a.socket.emit('echo', 1, 'two', { three: [true, null] });
    await admin.next('event_sent', (nsp, id, args) => id === a.id && args[0] === 'echo');
    await a.socket.emitWithAck('set-data', 'nick', 'ann');
    await a.socket.emitWithAck('leave', 'r1');
    await admin.next('room_left', (nsp, room, id) => room === 'r1' && id === a.id);
    const b = await new Peer(srv, '/chat', { transports: ['polling'], label: 'b' }).connected();
    await admin.next('socket_connected', (s) => s.id === b.id);
    await b.socket.emitWithAck('join', 'r2');
    a.socket.emit('broadcast', 'r2', 'hi');  // a's namespace has no r2: nobody gets it
    await admin.next('event_received', (nsp, id, args) => args[0] === 'broadcast');
    // A second admin now: its all_sockets has a's data and both namespaces' sockets.
    const admin2 = await new Peer(srv, '/admin', { label: 'admin2' }).connected();
    const [all2] = await admin2.next('all_sockets');
    a.close();
    b.close();
    await admin.next('room_left', (nsp, room, id) => room === a.id);
    await admin.next('room_left', (nsp, room, id) => room === b.id);
    await admin.next('room_left', (nsp, room, id) => room === 'r2' && id === b.id);
    await admin.next('socket_disconnected', (nsp, id) => id === a.id);
    await admin.next('socket_disconnected', (nsp, id) => id === b.id);
    const peers = { admin, admin2, a, b };
    return { admin, peers, events: eventSet(admin, peers, VERBOSE), all2: normalize(all2, peers) };
  });
  // Node also tells changes of socket.data (it proxies the object): sioserver does not, its all_sockets has them.
  const dataUpdate = (e) => e.startsWith('["socket_updated"') && e.includes('"data":');
  assert.ok(node.events.some(dataUpdate));
  assert.deepEqual(ours.events, node.events.filter((e) => !dataUpdate(e)));
  const byId = (list) => [...list].sort((x, y) => (x.id < y.id ? -1 : 1));
  assert.deepEqual(byId(ours.all2), byId(node.all2));
  assert.deepEqual(ours.all2.find((s) => s.id === 'a').data, { nick: 'ann' });
  for (const r of [node, ours]) {
    const log = r.admin.log.map((e) => normalize(e, r.peers));
    const at = (pred) => log.findIndex(pred);
    // The own room is joined before socket_connected, and left after socket_disconnected, in both.
    assert.ok(at((e) => e[0] === 'room_joined' && e[2] === 'a') < at((e) => e[0] === 'socket_connected' && e[1].id === 'a'));
    assert.ok(at((e) => e[0] === 'socket_disconnected' && e[2] === 'a') < at((e) => e[0] === 'room_left' && e[2] === 'a'));
  }
});

test('an upgrade from polling is told as socket_updated', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { label: 'admin' }).connected();
    await admin.next('all_sockets');
    const c = await new Peer(srv, '/chat', { transports: ['polling', 'websocket'], label: 'c' }).connected();
    const [connected] = await admin.next('socket_connected', (s) => s.id === c.id);
    const [updated] = await admin.next('socket_updated', (u) => u.id === c.id);
    return { connected: connected.transport, updated: normalize(updated, { c }) };
  });
  assert.deepEqual(ours, node);
  assert.deepEqual(ours.updated, { id: 'c', nsp: '/chat', transport: 'websocket' });
});

test('the UI\'s actions: emit, join, leave, _disconnect (one socket, a room, the whole connection)', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { label: 'admin' }).connected();
    await admin.next('all_sockets');
    const a = await new Peer(srv, '/', { label: 'a' }).connected();
    const b = await new Peer(srv, '/', { label: 'b' }).connected();
    const c = await new Peer(srv, '/chat', { label: 'c' }).connected();
    const rooms = async (p) => p.socket.emitWithAck('rooms');
    const sorted = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]));
    admin.socket.emit('join', '/', 'team', a.id);      // one socket (the UI's "join" on a socket's page)
    await admin.next('room_joined', (nsp, room, id) => room === 'team' && id === a.id);
    admin.socket.emit('join', '/', 'all');             // the whole namespace (MJOIN)
    await admin.next('room_joined', (nsp, room, id) => room === 'all' && id === b.id);
    const joined = { a: await rooms(a), b: await rooms(b), c: await rooms(c) };
    admin.socket.emit('emit', '/', 'team', 'note', 1, { two: 2 });  // to a room
    admin.socket.emit('emit', '/', undefined, 'note', 'everyone');  // to the namespace
    await b.next('note');
    await a.until(() => a.received('note').length === 2, 'two notes');
    admin.socket.emit('leave', '/', 'all', b.id);
    await admin.next('room_left', (nsp, room, id) => room === 'all' && id === b.id);
    admin.socket.emit('leave', '/', 'team');            // the room for everyone (MLEAVE)
    await admin.next('room_left', (nsp, room, id) => room === 'team' && id === a.id);
    const left = { a: await rooms(a), b: await rooms(b) };
    admin.socket.emit('_disconnect', '/', false, 'all'); // every socket of a room: a only now
    const aReason = await a.disconnected();
    admin.socket.emit('_disconnect', '/chat', true, c.id); // closing the connection
    const cReason = await c.disconnected();
    await admin.next('socket_disconnected', (nsp, id) => id === c.id);
    const peers = { admin, a, b, c };
    return {
      joined: sorted(normalize(joined, peers)), left: sorted(normalize(left, peers)), aReason, cReason,
      notes: { a: a.received('note'), b: b.received('note') },
      bConnected: b.socket.connected,
      disconnects: admin.received('socket_disconnected').map((e) => normalize(e, peers)).sort(),
    };
  });
  assert.deepEqual(ours, node);
  assert.deepEqual(ours.notes.b, [['everyone']]);
  assert.equal(ours.aReason, 'io server disconnect');
  assert.equal(ours.bConnected, true);
});

test('readonly: no action is offered or done', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none', '--readonly', '1']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const watcher = await new Peer(srv, '/admin', { label: 'watcher' }).connected();
    await watcher.next('all_sockets');
    const a = await new Peer(srv, '/', { label: 'a' }).connected();
    const actor = await new Peer(srv, '/admin', { label: 'actor' }).connected();
    await actor.next('config');
    actor.socket.emit('join', '/', 'nope', a.id);
    actor.socket.emit('emit', '/', a.id, 'note', 'x');
    actor.socket.emit('_disconnect', '/', false, a.id);
    actor.close();  // its packets are handled in order: once the watcher sees it go, they all were
    await watcher.next('socket_disconnected', (nsp, id) => id === actor.id);
    return {
      config: actor.received('config'), rooms: normalize(await a.socket.emitWithAck('rooms'), { a }),
      connected: a.socket.connected, notes: a.received('note').length,
    };
  });
  assert.deepEqual(ours, node);
  assert.deepEqual(ours.config, [[{ supportedFeatures: ['AGGREGATED_EVENTS', 'ALL_EVENTS'] }]]);
  assert.deepEqual(ours.rooms, ['a']);
  assert.equal(ours.connected, true);
});

test('server_stats: the same fields, counts and kinds of aggregated events', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { label: 'admin' }).connected();
    const a = await new Peer(srv, '/', { label: 'a' }).connected();
    const p = await new Peer(srv, '/chat', { transports: ['polling'], label: 'p' }).connected();
    const gone = await new Peer(srv, '/chat', { label: 'gone' }).connected();
    gone.close();
    a.socket.emit('echo', 'x'.repeat(100));
    await a.next('echo');
    // A tick after all of that: the counts have settled (Node's stats come every 2 s).
    const [settled] = await admin.next('server_stats', (s) => s.clientsCount === 3 && s.pollingClientsCount === 1 &&
      s.namespaces.find((n) => n.name === '/chat').socketsCount === 1);
    await admin.until(() => admin.received('server_stats').length >= 2, 'a second server_stats');
    const events = admin.received('server_stats').flatMap(([s]) => s.aggregatedEvents);
    const total = (type, subType) => events.filter((e) => e.type === type && e.subType === subType)
      .reduce((n, e) => n + e.count, 0);
    return {
      shape: shape(settled),
      namespaces: [...settled.namespaces].sort((x, y) => (x.name < y.name ? -1 : 1)),
      counts: { clients: settled.clientsCount, polling: settled.pollingClientsCount },
      eventShapes: shape(events),
      connections: total('rawConnection', undefined),
      closedByClient: total('rawDisconnection', 'transport close'),
      bytesIn: total('bytesIn') > 100, bytesOut: total('bytesOut') > 100,
      packetsIn: total('packetsIn') > 0, packetsOut: total('packetsOut') > 0,
      whole: events.every((e) => e.timestamp % 1000 === 0 && Number.isInteger(e.count) && e.count > 0),
      ids: { pid: typeof settled.pid, serverId: settled.serverId === settled.hostname, uptime: settled.uptime > 0 },
    };
  });
  assert.deepEqual(ours, node);
  assert.deepEqual(ours.namespaces, [{ name: '/', socketsCount: 1 }, { name: '/admin', socketsCount: 1 },
    { name: '/chat', socketsCount: 1 }]);
  assert.equal(ours.connections, 4);
  assert.equal(ours.closedByClient, 1);
});

test('production mode: config and stats only, no socket or event is mirrored', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none', '--mode', 'production']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/admin', { label: 'admin' }).connected();
    await admin.next('config');
    const a = await new Peer(srv, '/', { label: 'a' }).connected();
    await a.socket.emitWithAck('join', 'r1');
    a.socket.emit('echo', 1);
    await a.next('echo');
    await admin.next('server_stats', (s) => s.clientsCount === 2);
    return { config: admin.received('config'), verbose: admin.log.filter((e) => VERBOSE.includes(e[0])).length };
  });
  assert.deepEqual(ours, node);
  assert.deepEqual(ours.config, [[{ supportedFeatures: ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE',
    'MDISCONNECT', 'AGGREGATED_EVENTS'] }]]);
  assert.equal(ours.verbose, 0);
});

test('another namespace name (--namespace /ops), and /admin is then an ordinary namespace', async (t) => {
  const servers = await startBoth(t, ['--auth', 'none', '--namespace', '/ops']);
  const [node, ours] = await onBoth(servers, async (srv) => {
    const admin = await new Peer(srv, '/ops', { label: 'admin' }).connected();
    const [features] = await admin.next('config');
    const stray = await new Peer(srv, '/admin').refused();
    return { features, stray };
  });
  assert.deepEqual(ours, node);
  assert.equal(ours.stray, 'Invalid namespace');
  void T;
});
