// The reference for tests/admin/: npm socket.io 4.8 instrumented by npm @socket.io/admin-ui 0.5, doing what
// tests/servers/sio_admin_server.cpp does (same flags, same namespaces and events; see its first lines).
// Prints "listening on http://<host>:<port>/socket.io/" when ready; SIGTERM closes it.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { Server } from 'socket.io';

const require = createRequire(import.meta.url);
const { instrument } = require('@socket.io/admin-ui');

const flags = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) flags[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const httpServer = createServer();
const io = new Server(httpServer, { cors: { origin: true, credentials: true } });

const options = {
  auth: flags.auth === 'basic' ? { type: 'basic', username: flags.username, password: flags['password-hash'] } : false,
  readonly: flags.readonly === '1',
  mode: flags.mode || 'development',
};
if (flags.namespace) options.namespaceName = flags.namespace;
instrument(io, options);

function handlers(nsp) {
  nsp.on('connection', (socket) => {
    socket.on('join', (room, ack) => { socket.join(room); if (typeof ack === 'function') ack(); });
    socket.on('leave', (room, ack) => { socket.leave(room); if (typeof ack === 'function') ack(); });
    socket.on('echo', (...args) => socket.emit('echo', ...args));
    socket.on('rooms', (ack) => ack([...socket.rooms].sort()));
    socket.on('broadcast', (room, msg) => nsp.to(room).emit('news', msg));
    socket.on('set-data', (key, value, ack) => { socket.data[key] = value; if (typeof ack === 'function') ack(); });
  });
}
handlers(io.of('/'));
handlers(io.of('/chat'));

httpServer.listen(Number(flags.port || 3000), flags.host || '0.0.0.0', () => {
  console.log(`listening on http://${flags.host || '0.0.0.0'}:${httpServer.address().port}/socket.io/`);
});
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
