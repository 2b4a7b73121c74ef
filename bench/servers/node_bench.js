// The benchmark server on npm socket.io 4.8; bench/servers/sio_bench.cpp is its twin on sioserver.hpp.
//   node bench/servers/node_bench.js --port 0   -> prints "listening on http://127.0.0.1:<port>/socket.io/"
// Every client joins room "bench"; "chat message" is relayed to the room (sender included); "echo" is acknowledged
// with its payload. Options are the defaults written out (pingInterval 25000, maxHttpBufferSize 1e6, no CORS) and
// the client bundle is not served. (ESM: the repository's package.json says "type": "module".)
// `--admin production|development` instruments it with @socket.io/admin-ui (auth false); bench/admin_watch.mjs <url>
// is an admin client to keep connected meanwhile.
//   BENCH_RECOVERY=1 node bench/servers/node_bench.js --port 0   -> the same with connectionStateRecovery: {} (the
//                                                                  defaults; sio_bench.cpp reads the same variable)
//   node bench/servers/node_bench.js --port 0 --tls-cert cert.pem --tls-key key.pem   -> https and wss
//                                       (https.createServer({cert, key})), "listening on https://..."
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { Server } from 'socket.io';

let host = '127.0.0.1';
let port = 0;
let admin = '';
let tlsCert = '';
let tlsKey = '';
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) {
  if (argv[i] === '--port') port = Number(argv[i + 1]);
  else if (argv[i] === '--host') host = argv[i + 1];
  else if (argv[i] === '--admin') admin = argv[i + 1];
  else if (argv[i] === '--tls-cert') tlsCert = argv[i + 1];
  else if (argv[i] === '--tls-key') tlsKey = argv[i + 1];
  else {
    process.stderr.write('usage: node_bench.js [--host 127.0.0.1] [--port 0] [--tls-cert F --tls-key F]\n');
    process.exit(2);
  }
}

const recovery = process.env.BENCH_RECOVERY === '1';
if (!tlsCert !== !tlsKey) {
  process.stderr.write('node_bench.js: --tls-cert and --tls-key go together\n');
  process.exit(2);
}
const httpServer = tlsCert
  ? https.createServer({ cert: fs.readFileSync(tlsCert), key: fs.readFileSync(tlsKey) })
  : http.createServer();
const io = new Server(httpServer, {
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  serveClient: false,
  ...(recovery ? { connectionStateRecovery: {} } : {}),
});

if (admin) createRequire(import.meta.url)('@socket.io/admin-ui').instrument(io, { auth: false, mode: admin });

io.on('connection', (socket) => {
  socket.join('bench');
  socket.on('chat message', (payload) => io.to('bench').emit('chat message', payload));
  socket.on('echo', (payload, ack) => {
    if (typeof ack === 'function') ack(payload);
  });
});

httpServer.listen(port, host, () => {
  if (recovery) process.stdout.write('connection state recovery on\n');
  process.stdout.write(`listening on http${tlsCert ? 's' : ''}://${host}:${httpServer.address().port}/socket.io/\n`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
