#!/usr/bin/env node
// Reference implementation of the `engine_echo` test server, built on the
// npm `engine.io` package. It accepts the same flags and prints the same
// "listening on" line as build/engine_echo so that the interop suite can be
// validated against the reference server:
//
//   ENGINE_ECHO="node tests/interop/ref_engine_echo.mjs" node --test tests/interop/
//
// Every message received is sent back unchanged (text as text, binary as
// binary).

import http from 'node:http';
import { Server } from 'engine.io';

function usage(msg) {
  if (msg) process.stderr.write(`ref_engine_echo: ${msg}\n`);
  process.stderr.write(
    'usage: ref_engine_echo.mjs [--host H] [--port N] [--path P]\n' +
      '         [--ping-interval MS] [--ping-timeout MS] [--upgrade-timeout MS]\n' +
      '         [--max-payload BYTES] [--transports polling,websocket]\n' +
      '         [--allow-origin ORIGIN] [--cookie JSON] [--http-compression BYTES|off]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    host: '0.0.0.0',
    port: 3000,
    path: '/engine.io/',
    pingInterval: 25000,
    pingTimeout: 20000,
    upgradeTimeout: 10000,
    maxPayload: 1000000,
    transports: ['polling', 'websocket'],
    allowOrigin: null,
    cookie: false,
    httpCompression: { threshold: 1024 },
  };
  const intFlag = (name, v) => {
    if (!/^\d+$/.test(v ?? '')) usage(`${name} expects a non-negative integer, got ${v}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') usage();
    if (value === undefined) usage(`missing value for ${flag}`);
    i++;
    switch (flag) {
      case '--host': opts.host = value; break;
      case '--port': opts.port = intFlag(flag, value); break;
      case '--path': opts.path = value; break;
      case '--ping-interval': opts.pingInterval = intFlag(flag, value); break;
      case '--ping-timeout': opts.pingTimeout = intFlag(flag, value); break;
      case '--upgrade-timeout': opts.upgradeTimeout = intFlag(flag, value); break;
      case '--max-payload': opts.maxPayload = intFlag(flag, value); break;
      case '--transports': {
        const list = value.split(',').map((s) => s.trim()).filter(Boolean);
        for (const t of list) {
          if (t !== 'polling' && t !== 'websocket') usage(`unknown transport ${t}`);
        }
        if (list.length === 0) usage('--transports needs at least one transport');
        opts.transports = list;
        break;
      }
      case '--allow-origin': opts.allowOrigin = value; break;
      case '--cookie': opts.cookie = JSON.parse(value); break;
      case '--http-compression':
        opts.httpCompression = value === 'off' ? false : { threshold: intFlag(flag, value) };
        break;
      case '--max-connections-per-address': intFlag(flag, value); break;  // not in the reference: no such cap
      default: usage(`unknown flag ${flag}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

const httpServer = http.createServer((req, res) => {
  // Anything outside the engine.io path.
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not Found');
});

const engine = new Server({
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  upgradeTimeout: opts.upgradeTimeout,
  maxHttpBufferSize: opts.maxPayload,
  transports: opts.transports,
  cookie: opts.cookie,
  httpCompression: opts.httpCompression,
  cors: { origin: true, credentials: true },
  allowRequest: (req, callback) => {
    const origin = req.headers.origin;
    if (opts.allowOrigin !== null && origin !== undefined && origin !== opts.allowOrigin) {
      // A null message makes engine.io answer with its default "Forbidden".
      callback(null, false);
      return;
    }
    callback(null, true);
  },
});

// engine.io serves "<path without trailing slash>/"; report exactly that.
const servedPath = `${opts.path.replace(/\/$/, '')}/`;
engine.attach(httpServer, { path: servedPath });

engine.on('connection', (socket) => {
  socket.on('message', (data) => {
    // `data` is a string for text messages and a Buffer for binary ones;
    // engine.io sends each back with the same kind.
    socket.send(data);
  });
  socket.on('error', () => {});
});

let shuttingDown = false;
function shutdown() {
  if (shuttingDown) return;
  shuttingDown = true;
  try {
    engine.close();
  } catch {
    // ignore
  }
  httpServer.close();
  if (typeof httpServer.closeAllConnections === 'function') httpServer.closeAllConnections();
  // Do not wait for lingering connections.
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

httpServer.on('error', (err) => {
  process.stderr.write(`ref_engine_echo: ${err.stack || err}\n`);
  process.exit(1);
});

httpServer.listen(opts.port, opts.host, () => {
  const addr = httpServer.address();
  process.stdout.write(`listening on http://${opts.host}:${addr.port}${servedPath}\n`);
});
