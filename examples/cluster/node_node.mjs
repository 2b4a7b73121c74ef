// The Node node of `make cluster`: the same tutorial chat as chat_node.cpp, on npm socket.io 4.8 with
// @socket.io/redis-adapter 8.3 and the npm `redis` client, so the C++ nodes and this one form one cluster.
// The page is examples/chat/index.html marked with the names of the node that served it and of the node its
// socket reached, as chat_node.cpp marks it.
//   NODE=node-1 PORT=3103 REDIS=127.0.0.1:6380 node examples/cluster/node_node.mjs
//   ADAPTER=streams: @socket.io/redis-streams-adapter 0.3.1, with connection state recovery across nodes
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';

const NODE = process.env.NODE || 'node';
const PORT = Number(process.env.PORT || 3103);
const HOST = process.env.HOST || '127.0.0.1';
const REDIS = process.env.REDIS || '127.0.0.1:6380';
const STREAMS = process.env.ADAPTER === 'streams';
const log = (line) => console.log(`[${NODE}] ${line}`);

function page() {
  const name = NODE.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return readFileSync(new URL('../chat/index.html', import.meta.url), 'utf8')
    .replace('<title>Socket.IO chat</title>', `<title>Socket.IO chat (${name})</title>`)
    .replace('<body>', '<body>\n    <p id="node" style="margin:0;padding:0.5rem 1rem;background:#333;color:#fff">' +
      `served by ${name}<span id="socket-node"></span></p>`)
    .replace('</body>', "  <script>socket.on('node', (n) => { document.getElementById('socket-node').textContent = " +
      "', connected to ' + n; });</script>\n  </body>");
}

const pubClient = createClient({ url: `redis://${REDIS}` });
const subClient = pubClient.duplicate();
// The client reconnects by itself; without a listener an 'error' event would end the process.
for (const c of [pubClient, subClient]) c.on('error', (err) => log(`redis: ${err.message}`));
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = http.createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?'))) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page());
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found');
  }
});
const io = new Server(httpServer, {
  adapter: STREAMS ? createStreamsAdapter(pubClient) : createAdapter(pubClient, subClient),
  cookie: true,
  ...(STREAMS ? { connectionStateRecovery: {} } : {}),
});

io.on('connection', (socket) => {
  log('a user connected');
  socket.emit('node', NODE);
  socket.on('chat message', (msg) => {
    log(`message: ${msg}`);
    io.emit('chat message', msg);
  });
  socket.on('disconnect', () => log('user disconnected'));
});

function shutdown() {
  io.close();
  Promise.allSettled([pubClient.quit(), subClient.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

httpServer.listen(PORT, HOST, () => log(`listening on http://127.0.0.1:${httpServer.address().port} (Redis ${REDIS})`));
