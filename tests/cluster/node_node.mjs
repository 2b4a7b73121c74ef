// A Node node of the test cluster: npm socket.io 4.8 with @socket.io/redis-adapter 8.3 over two npm redis 4.7
// clients. Its test behaviour is the same as tests/servers/sio_cluster_server.cpp's, section by section (keep
// the two parallel): GET /name answers the node's name; namespaces "/" and "/second" take the same control events.
// Flags: --host H --port N|0 --redis-port N --name NAME --key PREFIX --requests-timeout MS --cookie 0|1
//        --parser json|msgpack (npm socket.io-msgpack-parser) --adapter classic|streams|sharded
//        (streams: @socket.io/redis-streams-adapter 0.3.1; sharded: @socket.io/redis-adapter's createShardedAdapter,
//        channelPrefix --key) --subscription-mode static|dynamic|dynamic-private (sharded) --recovery MS
//        (connectionStateRecovery's maxDisconnectionDuration; 0: off) --stream-name NAME --max-len N --eager 0 (the C++ node's persistSessionsEagerly; Node has none)
// SIGTERM drains: io.close() closes every session with "server shutting down" (persisted by the Streams adapter),
// then the Redis clients QUIT once what they queued is written.
// Prints "listening on http://<host>:<port>/socket.io/" once its adapters have subscribed; SIGTERM/SIGINT stop it.
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { createRequire } from 'node:module';

const flags = { host: '127.0.0.1', port: '0', 'redis-port': '6379', name: 'node', key: 'socket.io',
  'requests-timeout': '5000', cookie: '0', parser: 'json', adapter: 'classic', recovery: '0',
  'stream-name': 'socket.io', 'max-len': '10000', eager: '0', 'subscription-mode': 'dynamic' };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const flag = process.argv[i].replace(/^--/, '');
  if (!(flag in flags)) {
    console.error(`unknown flag ${process.argv[i]}`);
    process.exit(2);
  }
  flags[flag] = process.argv[i + 1];
}
const NAME = flags.name;
// When its connection drops, npm redis 4 rejects promises nobody holds (its resubscribing); Node 20 would exit on
// them. A Node node in production needs this too to survive a Redis restart.
process.on('unhandledRejection', (e) => console.error(`unhandled rejection: ${e && e.message}`));

// ---- the adapter: Redis clients that reconnect on their own (the fault tests restart Redis)
const redisOptions = { socket: { host: '127.0.0.1', port: Number(flags['redis-port']),
  reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) } };
const pub = createClient(redisOptions);
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', () => {});  // reconnection is the client's job; errors are expected
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = http.createServer((req, res) => {
  if (req.url === '/name') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(NAME);
  }
  // everything else under /socket.io/ belongs to socket.io; other paths get socket.io's default 400
});
if (flags.eager !== '0') {
  console.error('--eager: the Node node has no eager session persistence');
  process.exit(2);
}
const adapters = {
  classic: () => createAdapter(pub, sub, { key: flags.key, requestsTimeout: Number(flags['requests-timeout']) }),
  streams: () => createStreamsAdapter(pub, { streamName: flags['stream-name'], maxLen: Number(flags['max-len']) }),
  sharded: () => createShardedAdapter(pub, sub, { channelPrefix: flags.key,
    subscriptionMode: flags['subscription-mode'] }),
};
if (!(flags.adapter in adapters)) {
  console.error(`unknown adapter ${flags.adapter}`);
  process.exit(2);
}
const adapter = adapters[flags.adapter]();
const recovery = Number(flags.recovery);
const io = new Server(httpServer, {
  adapter,
  ...(recovery > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recovery, skipMiddlewares: true } } : {}),
  cookie: flags.cookie === '1' ? { name: 'io', path: '/', httpOnly: true, sameSite: 'lax' } : false,
  ...(flags.parser === 'msgpack' ? { parser: createRequire(import.meta.url)('socket.io-msgpack-parser') } : {}),
});

// ---- helpers
const sortByJson = (list) => [...list].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const errorText = (err) => (err ? err.message : null);
// {rooms, except, local} → a broadcast operator of `nsp` (or of `base`, e.g. socket.broadcast)
function select(base, o = {}) {
  let op = base;
  if (o.rooms && o.rooms.length) op = op.to(o.rooms);
  if (o.except && o.except.length) op = op.except(o.except);
  if (o.local) op = op.local;
  return op;
}
const describe = (s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data });

// ---- one namespace's behaviour
function serve(nsp) {
  const notes = [];  // server-side events received without an ack: [{event, args}]
  // A server-side listener: answers serverSideEmit with this node's name.
  nsp.on('ask-server', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack({ name: NAME, nsp: nsp.name, args });
    else notes.push({ event: 'ask-server', args });
  });
  nsp.on('note', (...args) => notes.push({ event: 'note', args }));

  nsp.on('connection', (socket) => {
    if (!socket.recovered) socket.data = { node: NAME, user: socket.handshake.auth.user ?? null };
    socket.emit('welcome', { node: NAME, id: socket.id, nsp: nsp.name });
    socket.on('join', (rooms, ack) => { socket.join(rooms); ack([...socket.rooms].sort()); });
    socket.on('leave', (rooms, ack) => {
      for (const r of [].concat(rooms)) socket.leave(r);
      ack([...socket.rooms].sort());
    });
    socket.on('rooms', (ack) => ack([...socket.rooms].sort()));
    // {rooms, except, local, via: "nsp"|"socket", event, args}: nsp.to(rooms).except(except).emit(event, ...args);
    // via "socket": socket.broadcast.to(rooms)... (the sender left out)
    socket.on('broadcast', (o, ack) => {
      select(o.via === 'socket' ? socket.broadcast : nsp, o).emit(o.event, ...(o.args || []));
      ack();
    });
    // binary made by the server itself
    socket.on('emit-binary', (o, ack) => {
      select(nsp, o).emit('binary', Buffer.from([0, 1, 2, 255]), { nested: Buffer.from('xyz'), n: 1 });
      ack();
    });
    socket.on('fetch', async (o, ack) => {
      try {
        const sockets = await select(nsp, o).fetchSockets();
        ack({ err: null, sockets: sockets.map(describe).sort((a, b) => (a.id < b.id ? -1 : 1)) });
      } catch (err) {
        ack({ err: errorText(err), sockets: [] });  // Node gives no partial result
      }
    });
    // {rooms, except, action: "emit"|"join"|"leave"|"disconnect", event, args, room, close}: on each fetched socket
    socket.on('remote', async (o, ack) => {
      try {
        const sockets = await select(nsp, o).fetchSockets();
        for (const s of sockets) {
          if (o.action === 'emit') s.emit(o.event, ...(o.args || []));
          else if (o.action === 'join') s.join(o.room);
          else if (o.action === 'leave') s.leave(o.room);
          else if (o.action === 'disconnect') s.disconnect(!!o.close);
        }
        ack({ err: null, ids: sockets.map((s) => s.id).sort() });
      } catch (err) {
        ack({ err: errorText(err), ids: [] });
      }
    });
    socket.on('sockets-join', (o, ack) => { select(nsp, o).socketsJoin(o.join); ack(); });
    socket.on('sockets-leave', (o, ack) => { select(nsp, o).socketsLeave(o.leave); ack(); });
    socket.on('disconnect-sockets', (o, ack) => { select(nsp, o).disconnectSockets(!!o.close); ack(); });
    // {event, args, ack: bool}: nsp.serverSideEmit(event, ...args[, cb(err, responses)])
    socket.on('server-side-emit', (o, ack) => {
      if (!o.ack) {
        nsp.serverSideEmit(o.event, ...(o.args || []));
        return ack({ err: null, responses: [] });
      }
      nsp.serverSideEmit(o.event, ...(o.args || []), (err, responses) =>
        ack({ err: errorText(err), responses: sortByJson(responses || []) }));
    });
    socket.on('notes', (ack) => ack(notes));
    // {rooms, except, event, args, timeout}: nsp.to(rooms).timeout(ms).emit(event, ...args, cb(err, responses))
    socket.on('broadcast-with-ack', (o, ack) => {
      select(nsp, o).timeout(o.timeout).emit(o.event, ...(o.args || []), (err, responses) =>
        ack({ err: errorText(err), responses: sortByJson(responses || []) }));
    });
    // {rooms, event, count, every}: `count` numbered broadcasts {seq, from}, one every `every` ms; acks when done
    socket.on('stream', (o, ack) => {
      let seq = 0;
      const timer = setInterval(() => {
        select(nsp, o).emit(o.event, { seq, from: NAME });
        if (++seq >= o.count) {
          clearInterval(timer);
          ack(seq);
        }
      }, o.every);
    });
  });
}
serve(io.of('/'));
serve(io.of('/second'));

// The adapters subscribe asynchronously (their constructors do not wait); the test harness waits for the cluster
// to be complete by asking Redis, so listening first is fine.
httpServer.listen(Number(flags.port), flags.host, () => {
  const { port } = httpServer.address();
  console.log(`listening on http://${flags.host}:${port}/socket.io/`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  io.close();
  Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
