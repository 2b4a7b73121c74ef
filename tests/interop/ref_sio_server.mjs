#!/usr/bin/env node
// Reference twin of tests/servers/sio_test_server.cpp, built on the npm
// `socket.io` 4.8 server. Same flags, namespaces, middlewares, events, ack
// payload shapes and "listening on" line, so that the Socket.IO interop suite
// (tests/interop/sio_*.test.mjs) can be validated against the reference:
//
//   SIO_SERVER="node tests/interop/ref_sio_server.mjs" node --test tests/interop/sio_*.test.mjs
//
// Flags: --host H --port N|0 --path P --ping-interval MS --ping-timeout MS
//        --connect-timeout MS --max-payload BYTES --transports polling,websocket
//        --serialize-handlers 0|1 (accepted for the C++ server's sake: Node's handlers always run one at a time)
//        --recovery MS (connectionStateRecovery, maxDisconnectionDuration MS) --recovery-skip-middlewares 0|1
//        --recovery-max-session-bytes BYTES (accepted: Node has no such bound)
//        --allow-eio3 0|1 (allowEIO3: Engine.IO v3 / socket.io-client 2.x clients)
// GET /close calls io.close(); so does the "close-server" event. Once io.close() is done (every connection
// ended) it prints "server closed" on stderr and exits, as the C++ server does once wait() has returned.

import http from 'node:http';
import { Server } from 'socket.io';

function usage(msg) {
  if (msg) process.stderr.write(`ref_sio_server: ${msg}\n`);
  process.stderr.write(
    'usage: ref_sio_server.mjs [--host H] [--port N] [--path P] [--ping-interval MS]\n' +
      '         [--ping-timeout MS] [--connect-timeout MS] [--max-payload BYTES]\n' +
      '         [--transports polling,websocket]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    host: '0.0.0.0',
    port: 3000,
    path: '/socket.io/',
    pingInterval: 25000,
    pingTimeout: 20000,
    connectTimeout: 45000,
    maxHttpBufferSize: 1000000,
    transports: ['polling', 'websocket'],
  };
  const int = (flag, v) => {
    if (!/^\d+$/.test(v ?? '')) usage(`${flag} expects a non-negative integer, got ${v}`);
    return Number(v);
  };
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--host': opts.host = value; break;
      case '--port': opts.port = int(flag, value); break;
      case '--path': opts.path = value; break;
      case '--ping-interval': opts.pingInterval = int(flag, value); break;
      case '--ping-timeout': opts.pingTimeout = int(flag, value); break;
      case '--connect-timeout': opts.connectTimeout = int(flag, value); break;
      case '--max-payload': opts.maxHttpBufferSize = int(flag, value); break;
      case '--transports': opts.transports = value.split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--serialize-handlers': int(flag, value); break;
      case '--allow-eio3': opts.allowEIO3 = int(flag, value) !== 0; break;
      case '--recovery':
        opts.recovery = { ...(opts.recovery || {}), maxDisconnectionDuration: int(flag, value) };
        break;
      case '--recovery-skip-middlewares':
        opts.recovery = { ...(opts.recovery || {}), skipMiddlewares: int(flag, value) !== 0 };
        break;
      case '--recovery-max-session-bytes': int(flag, value); opts.recovery = opts.recovery || {}; break;
      case '--max-connections-per-address': int(flag, value); break;  // not in the reference: no such cap
      default: usage(`unknown flag ${flag}`);
    }
  }
  if (argv.length % 2 !== 0) usage(`missing value for ${argv[argv.length - 1]}`);
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// "room" or ["a", "b"] -> list of room names (anything else: no room)
const strings = (v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.map(String) : []);
const sorted = (iterable) => [...iterable].sort();
// Split the trailing acknowledgement callback (if any) off an argument list.
function splitAck(args) {
  if (args.length && typeof args[args.length - 1] === 'function') return [args.slice(0, -1), args[args.length - 1]];
  return [args, () => {}];
}
// A handler `fn(args, ack)` for an event whose client may or may not ask for an ack.
const handler = (fn) => (...raw) => {
  const [args, ack] = splitAck(raw);
  fn(args, ack);
};
const refuse = (message, data) => Object.assign(new Error(message), data === undefined ? {} : { data });

// "/gated" (auth {key: K}): the connection handler waits, at most 5 s, for GET /open-gate?key=K, then emits
// ("auth", auth). Requests outside the Socket.IO path come here (socket.io hands them on).
const openGates = new Set();
const gateWaiters = new Map(); // key -> resolve functions
function gateOpened(key) {
  if (openGates.has(key)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    const list = gateWaiters.get(key) || [];
    list.push(() => {
      clearTimeout(timer);
      resolve();
    });
    gateWaiters.set(key, list);
  });
}
const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/open-gate') {
    const key = url.searchParams.get('key') ?? '';
    openGates.add(key);
    for (const resolve of gateWaiters.get(key) || []) resolve();
    gateWaiters.delete(key);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not Found');
});
const io = new Server(httpServer, {
  path: opts.path,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  connectTimeout: opts.connectTimeout,
  maxHttpBufferSize: opts.maxHttpBufferSize,
  transports: opts.transports,
  allowEIO3: opts.allowEIO3 === true,
  cors: { origin: true, credentials: true },
  ...(opts.recovery ? { connectionStateRecovery: opts.recovery } : {}),
});

// What the tests ask about afterwards.
const disconnectReasons = new Map(); // socket id -> reason
const roomsWhenDisconnecting = new Map(); // socket id -> rooms seen in "disconnecting"

io.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 'bad') {
    return next(refuse('not authorized', { code: 401 }));
  }
  next();
});

function common(socket) {
  socket.emit('welcome', { id: socket.id, nsp: socket.nsp.name, auth: socket.handshake.auth });
  socket.on('echo', handler((args) => socket.emit('echo', ...args)));
  socket.on('echo-ack', handler((args, ack) => ack(...args)));
  socket.on('disconnect', (reason) => disconnectReasons.set(socket.id, reason));
}

// Connection state recovery (--recovery): the last socket of each id, for "emit-to".
const socketsById = new Map();
io.on('connection', (socket) => {
  socketsById.set(socket.id, socket);
  socket.on('recovered', handler((_, ack) => ack(socket.recovered)));
  // ("stream", room, count, everyMs): "seq" 0..count-1 from timers, even ones to the room, odd ones on this socket.
  socket.on('stream', handler(([room, count, every], ack) => {
    let i = 0;
    const step = () => {
      if (i >= count) return;
      if (i % 2 === 0) io.to(room).emit('seq', i);
      else socket.emit('seq', i);
      i++;
      setTimeout(step, every);
    };
    step();
    ack();
  }));
  // ("emit-to", id, kind, value): as the C++ server does.
  socket.on('emit-to', handler(([id, kind, value], ack) => {
    const target = socketsById.get(id);
    const ignore = () => {};
    if (kind === 'room') io.to(id).emit('got', value);
    else if (kind === 'volatile') io.to(id).volatile.emit('got', value);
    else if (kind === 'ack') io.to(id).timeout(200).emit('got', value, ignore);
    else if (!target) return ack(false);
    else if (kind === 'direct') target.emit('got', value);
    else if (kind === 'direct-volatile') target.volatile.emit('got', value);
    else if (kind === 'direct-ack') target.timeout(200).emit('got', value, ignore);
    ack(true);
  }));
  socket.on('recovery-stats', handler((_, ack) => ack(null)));
});

io.on('connection', (socket) => {
  common(socket);
  socket.on('disconnecting', () => roomsWhenDisconnecting.set(socket.id, sorted(socket.rooms)));
  socket.on('join', handler(([rooms], ack) => {
    socket.join(strings(rooms));
    ack(sorted(socket.rooms));
  }));
  socket.on('leave', handler(([rooms], ack) => {
    for (const r of strings(rooms)) socket.leave(r);
    ack(sorted(socket.rooms));
  }));
  socket.on('rooms', handler((_, ack) => ack(sorted(socket.rooms))));
  // ("to", rooms, event, ...args): socket.to(rooms).emit(event, ...args)
  socket.on('to', handler(([rooms, event, ...rest], ack) => {
    socket.to(strings(rooms)).emit(event, ...rest);
    ack();
  }));
  socket.on('broadcast', handler(([event, ...rest], ack) => {
    socket.broadcast.emit(event, ...rest);
    ack();
  }));
  socket.on('io-emit', handler(([event, ...rest], ack) => {
    io.emit(event, ...rest);
    ack();
  }));
  // ("to-except", rooms, exceptRooms, event, payload): io.to(rooms).except(exceptRooms).emit(event, payload)
  socket.on('to-except', handler(([rooms, except, event, payload], ack) => {
    const op = strings(rooms).length ? io.to(strings(rooms)).except(strings(except)) : io.except(strings(except));
    op.emit(event, payload);
    ack();
  }));
  // ("server-ack", event, timeoutMs, ...args) -> the server emits with an ack and reports what came back.
  socket.on('server-ack', handler(([event, ms, ...rest], ack) => {
    socket.timeout(ms).emit(event, ...rest, (err, ...response) => {
      ack({ err: err ? err.message : null, response });
    });
  }));
  // ("broadcast-ack", room, timeoutMs) -> io.to(room).timeout(ms).emit("ask", cb(err, responses))
  socket.on('broadcast-ack', handler(([room, ms], ack) => {
    io.to(room).timeout(ms).emit('ask', (err, responses) => {
      ack({ err: err ? err.message : null, responses });
    });
  }));
  // ("ticker", room, count): emits "tick" 0..count-1 to the room from outside any handler (timers), then acks.
  socket.on('ticker', handler(([room, count], ack) => {
    let i = 0;
    const step = () => {
      for (let k = 0; k < 10 && i < count; k++, i++) io.to(room).emit('tick', i);
      if (i < count) setImmediate(step);
      else ack(count);
    };
    setImmediate(step);
  }));
  socket.on('fetch', handler(async ([rooms], ack) => {
    const sockets = rooms == null ? await io.fetchSockets() : await io.in(strings(rooms)).fetchSockets();
    ack(sorted(new Set(sockets.map((s) => s.id))));
  }));
  socket.on('fetch-remote', handler(async ([rooms], ack) => {
    const sockets = rooms == null ? await io.fetchSockets() : await io.in(strings(rooms)).fetchSockets();
    const found = sockets.map((s) => ({
      id: s.id, rooms: sorted(new Set(s.rooms)), data: s.data, address: s.handshake.address, auth: s.handshake.auth,
      local: typeof s.conn === 'object',
    }));
    ack({ err: null, sockets: found.sort((x, y) => (x.id < y.id ? -1 : 1)) });
  }));
  socket.on('server-side-emit', handler(([event], ack) => {
    io.serverSideEmit(event, (err, responses) => ack({ err: err ? err.message : null, responses }));
  }));
  socket.on('sockets-join', handler(([rooms, newRooms], ack) => {
    io.in(strings(rooms)).socketsJoin(strings(newRooms));
    ack();
  }));
  socket.on('sockets-leave', handler(([rooms, oldRooms], ack) => {
    io.in(strings(rooms)).socketsLeave(strings(oldRooms));
    ack();
  }));
  socket.on('disconnect-sockets', handler(([rooms, close]) => io.in(strings(rooms)).disconnectSockets(!!close)));
  socket.on('disconnect-me', handler(([close]) => socket.disconnect(!!close)));
  socket.on('drop-transport', handler(() => socket.conn.close()));
  socket.on('emit-reserved', handler(([name], ack) => {
    try {
      socket.emit(String(name));
      ack(null);
    } catch (e) {
      ack(e.message);
    }
  }));
  socket.on('data-set', handler(([key, value], ack) => {
    socket.data[key] = value;
    ack();
  }));
  socket.on('data-get', handler(([key], ack) => ack(socket.data[key] ?? null)));
  socket.on('handshake', handler((_, ack) => {
    const h = socket.handshake;
    ack({
      headers: h.headers,
      time: h.time,
      address: h.address,
      xdomain: h.xdomain,
      secure: h.secure,
      issued: h.issued,
      url: h.url,
      query: h.query,
      auth: h.auth,
    });
  }));
  socket.on('disconnect-reason', handler(([id], ack) => {
    ack(disconnectReasons.get(id) ?? null, roomsWhenDisconnecting.get(id) ?? null);
  }));
  // once / off / onAny / offAny / onAnyOutgoing bookkeeping
  const counts = { once: 0, off: 0 };
  socket.once('ping-once', () => counts.once++);
  const onPingOff = () => counts.off++;
  socket.on('ping-off', onPingOff);
  socket.on('remove-ping-off', handler((_, ack) => {
    socket.off('ping-off', onPingOff);
    ack();
  }));
  const anyLog = [];
  const onAnyLog = (event) => anyLog.push(event);
  socket.onAny(onAnyLog);
  socket.prependAny((event) => {
    if (event === 'prepend-check') anyLog.push('first');
  });
  socket.on('off-any', handler((_, ack) => {
    socket.offAny(onAnyLog);
    ack();
  }));
  const outgoingLog = [];
  const outgoingEvents = []; // [event, ...args] of each outgoing event
  socket.onAnyOutgoing((event, ...args) => {
    outgoingLog.push(event);
    outgoingEvents.push([event, ...args]);
  });
  socket.on('counts', handler((_, ack) => {
    ack({ once: counts.once, off: counts.off, any: [...anyLog], outgoing: [...outgoingLog] });
  }));
  socket.on('outgoing-log', handler((_, ack) => ack(outgoingEvents.map((e) => [...e]))));
  socket.on('volatile', handler(([payload], ack) => {
    socket.volatile.emit('volatile', payload);
    ack();
  }));
  socket.on('binary-nested', handler((_, ack) => {
    socket.emit('binary-nested', {
      deep: { buf: Buffer.from([0x00, 0x01, 0xff]) },
      list: [Buffer.from('ab'), 1, 'x'],
    });
    ack(Buffer.from('ack-bytes'));
  }));
});

let closing = false;
function closeServer() {
  if (closing) return;
  closing = true;
  io.close(() => {
    process.stderr.write('server closed\n');
    process.exit(0);
  });
}

io.on('connection', (socket) => {
  // io.close() in a handler (several times: only the first one does anything).
  socket.on('close-server', handler(([times]) => {
    for (let i = 0; i < Math.max(1, Number(times) || 0); i++) closeServer();
    process.stderr.write('close() returned in a handler\n');
  }));
  // ("close-server-from-timer", ms): io.close() in an acknowledgement's time-out callback.
  socket.on('close-server-from-timer', handler(([ms]) => {
    socket.timeout(ms).emit('never-answered', (err) => {
      closeServer();
      process.stderr.write(`close() returned in an ack time-out (${err.message})\n`);
    });
  }));
});

const custom = io.of('/custom');
custom.use((socket, next) => {
  const auth = socket.handshake.auth;
  if (!auth || typeof auth !== 'object' || !Object.prototype.hasOwnProperty.call(auth, 'user')) {
    return next(refuse('user required'));
  }
  next();
});
custom.on('connection', (socket) => {
  common(socket);
  socket.join('room1');
  socket.on('rooms', handler((_, ack) => ack(sorted(socket.rooms))));
});

// The dynamic namespace's sockets can join rooms; the main namespace's events below drive the parent's
// broadcast operator.
const dyn = io.of(/^\/dyn-\d+$/);
dyn.on('connection', (socket) => {
  common(socket);
  socket.on('join', handler(([rooms], ack) => {
    socket.join(strings(rooms));
    ack(sorted(socket.rooms));
  }));
  socket.on('rooms', handler((_, ack) => ack(sorted(socket.rooms))));
});
// dyn.to(rooms).except(except) for ("dyn-...", rooms|null, except|null, ...): null leaves the operator out.
const dynOp = (rooms, except) => {
  const op = dyn.except(strings(except));
  return rooms == null ? op : op.to(strings(rooms));
};
const jsonOrder = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0);

io.on('connection', (socket) => {
  // ("dyn-emit", rooms, except, event, ...args)
  socket.on('dyn-emit', handler(([rooms, except, event, ...rest], ack) => {
    if (rooms == null && except == null) dyn.emit(event, ...rest);
    else dynOp(rooms, except).emit(event, ...rest);
    ack();
  }));
  // ("dyn-broadcast-ack", rooms, timeoutMs) -> dyn.to(rooms).timeout(ms).emit("ask", cb(err, responses))
  socket.on('dyn-broadcast-ack', handler(([rooms, ms], ack) => {
    dynOp(rooms, null).timeout(ms).emit('ask', (err, responses) => {
      ack({ err: err ? err.message : null, responses: [...responses].sort(jsonOrder) });
    });
  }));
  socket.on('dyn-fetch', handler(async ([rooms], ack) => {
    try {
      const sockets = rooms == null ? await dyn.fetchSockets() : await dynOp(rooms, null).fetchSockets();
      const out = {};
      for (const s of sockets) (out[s.nsp.name] ??= []).push(s.id);
      ack(out);
    } catch (e) {
      ack({ error: e.message });
    }
  }));
  socket.on('dyn-sockets-join', handler(([rooms, newRooms], ack) => {
    dynOp(rooms, null).socketsJoin(strings(newRooms));
    ack();
  }));
  socket.on('dyn-sockets-leave', handler(([rooms, oldRooms], ack) => {
    dynOp(rooms, null).socketsLeave(strings(oldRooms));
    ack();
  }));
  socket.on('dyn-disconnect-sockets', handler(([rooms, close], ack) => {
    dynOp(rooms, null).disconnectSockets(!!close);
    ack();
  }));
});

io.of('/gated').on('connection', async (socket) => {
  const auth = socket.handshake.auth;
  await gateOpened(auth && typeof auth.key === 'string' ? auth.key : '');
  socket.emit('auth', auth);
});

io.of('/refuse').use((socket, next) => next(refuse('refused', { reason: 'test' })));

httpServer.on('request', (req, res) => {
  if (req.url !== '/close') return; // everything else is socket.io's (or unanswered, as before)
  res.end('closing\n');
  closeServer();
});

let shuttingDown = false;
function shutdown() {
  if (shuttingDown) return;
  shuttingDown = true;
  if (!closing) io.close();
  if (typeof httpServer.closeAllConnections === 'function') httpServer.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

httpServer.on('error', (err) => {
  process.stderr.write(`cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
  process.exit(1);
});
httpServer.listen(opts.port, opts.host, () => {
  process.stdout.write(`listening on http://${opts.host}:${httpServer.address().port}${opts.path}\n`);
});
