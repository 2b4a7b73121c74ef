// One node of the cluster benchmark on npm socket.io 4.8 + @socket.io/redis-adapter 8.3 + the npm redis 4.7 client;
// bench/servers/sio_cluster_bench.cpp is its twin on sioserver.hpp + sioserver_redis.hpp.
//   node bench/servers/node_cluster_bench.js --port 0 --redis-port 6379
//     -> prints "listening on http://127.0.0.1:<port>/socket.io/" once Redis is connected; SIGINT/SIGTERM stop it
// The handlers are bench/servers/node_bench.js's: every client joins room "bench" and "chat message" is relayed to
// the room, which through the adapter also reaches the room's clients on the other node.
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';

let host = '127.0.0.1';
let port = 0;
let redisPort = 6379;
let streams = false;  // --adapter streams: @socket.io/redis-streams-adapter 0.3.1 (no connection state recovery)
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) {
  if (argv[i] === '--port') port = Number(argv[i + 1]);
  else if (argv[i] === '--host') host = argv[i + 1];
  else if (argv[i] === '--redis-port') redisPort = Number(argv[i + 1]);
  else if (argv[i] === '--adapter') streams = argv[i + 1] === 'streams';
  else {
    process.stderr.write('usage: node_cluster_bench.js [--host 127.0.0.1] [--port 0] [--redis-port 6379] ' +
      '[--adapter classic|streams]\n');
    process.exit(2);
  }
}

const pubClient = createClient({ socket: { host: '127.0.0.1', port: redisPort } });
const subClient = pubClient.duplicate();
// Without a listener an error event would end the process; the benchmark sees a lost node as lost messages.
pubClient.on('error', (err) => process.stderr.write(`redis pub: ${err.message}\n`));
subClient.on('error', (err) => process.stderr.write(`redis sub: ${err.message}\n`));
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  serveClient: false,
  adapter: streams ? createStreamsAdapter(pubClient) : createAdapter(pubClient, subClient),
});

io.on('connection', (socket) => {
  socket.join('bench');
  socket.on('chat message', (payload) => io.to('bench').emit('chat message', payload));
  socket.on('echo', (payload, ack) => {
    if (typeof ack === 'function') ack(payload);
  });
});

httpServer.listen(port, host, () => {
  process.stdout.write(`listening on http://${host}:${httpServer.address().port}/socket.io/\n`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
