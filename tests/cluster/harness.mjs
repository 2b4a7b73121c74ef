// The cluster interop suite's parts (tests/cluster/*.test.mjs): Debian's redis-server, nginx and HAProxy started in
// the foreground from configs generated in a temp dir, on free loopback ports, and stopped by PID; C++ and Node
// nodes (tests/servers/sio_cluster_server.cpp, tests/cluster/node_node.mjs) started by PID; official
// socket.io-client clients that record what they receive. Every wait has a deadline.
//
// $CLUSTER_CPP_SERVER is the C++ node's command line (default build/sio_cluster_server). Setting it to
// "node tests/cluster/node_node.mjs" runs the whole suite on Node nodes only, which checks the tests themselves.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { createClient } from 'redis';
import { REPO_ROOT, startServerProcess } from '../interop/server_process.mjs';
import { withTimeout } from '../interop/sio_harness.mjs';

export { REPO_ROOT };

/** Default bound for a wait (ms). */
export const T = 5000;
// Which adapter every node of startCluster() runs: "classic" (@socket.io/redis-adapter's createAdapter),
// "streams" (@socket.io/redis-streams-adapter) or "sharded" (@socket.io/redis-adapter's createShardedAdapter), from
// $CLUSTER_ADAPTER; the *_streams.test.mjs and *_sharded.test.mjs files set it.
export const ADAPTER = process.env.CLUSTER_ADAPTER || 'classic';
const START_TIMEOUT_MS = 10_000;
const STOP_KILL_AFTER_MS = 5_000;

const DEFAULT_CPP = path.join(REPO_ROOT, 'build', 'sio_cluster_server');
export const CPP_SERVER = (process.env.CLUSTER_CPP_SERVER || DEFAULT_CPP).trim();
export const NODE_SERVER = 'node tests/cluster/node_node.mjs';
/** The "C++" nodes are Node nodes (suite self-check): C++-only checks are skipped. */
export const CPP_IS_NODE = CPP_SERVER.includes('node_node.mjs');

// ---------------------------------------------------------------------------------------------------------------
// Waiting

// Reject after `ms` unless a promise settles first: the interop harness's helper, for the cluster tests too.
export { withTimeout };

/** Poll `fn` (may be async) until it returns a truthy value, at most `ms`; returns that value. */
export async function eventually(fn, ms = T, what = 'condition', every = 25) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timeout after ${ms} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A port nobody listens on right now (the kernel's choice). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sio-cluster-${prefix}-`));
}

/** Resolves once a TCP connection to host:port succeeds (retrying), at most `ms`. */
export function waitTcp(port, host = '127.0.0.1', ms = START_TIMEOUT_MS) {
  return eventually(() => new Promise((resolve) => {
    const c = net.connect({ port, host });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  }), ms, `a listener on ${host}:${port}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Foreground processes, stopped by PID

const running = new Set();
process.on('exit', () => {
  // Last resort when a test process ends without stopping what it started: only these PIDs are signalled.
  for (const child of running) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Spawn `cmd args` in the foreground; returns {pid, exited, alive, output, kill(sig), stop()}.
 * stop() sends SIGTERM to this PID (SIGKILL after 5 s) and awaits the exit.
 */
export function spawnForeground(cmd, args, { cwd = REPO_ROOT, label = cmd } = {}) {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (d) => { output = (output + d).slice(-32 * 1024); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { running.delete(child); resolve({ code, signal }); });
    child.once('error', (err) => { running.delete(child); output += `\n${err.message}`; resolve({ code: -1, signal: null }); });
  });
  const alive = () => child.exitCode === null && child.signalCode === null && running.has(child);
  return {
    pid: child.pid,
    label,
    exited,
    get alive() { return alive(); },
    get output() { return output; },
    kill(sig = 'SIGKILL') {
      if (alive()) process.kill(child.pid, sig);
      return exited;
    },
    async stop() {
      if (!alive()) return exited;
      process.kill(child.pid, 'SIGTERM');
      let timer;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, STOP_KILL_AFTER_MS); })]);
      clearTimeout(timer);
      if (alive()) process.kill(child.pid, 'SIGKILL');
      return exited;
    },
  };
}

/** Fails if `proc` exits before `ready` resolves; kills it if `ready` fails. */
async function started(proc, ready, what) {
  try {
    await Promise.race([
      ready,
      proc.exited.then(({ code, signal }) => {
        throw new Error(`${what} exited early (code ${code}, signal ${signal}): ${proc.output}`);
      }),
    ]);
  } catch (err) {
    await proc.stop();
    throw new Error(`${err.message}\n--- ${what} output:\n${proc.output}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

/** Send one inline command on a fresh TCP connection and resolve with the first reply line (or null). */
function rawCommand(port, line, ms = 1000) {
  return new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (v) => { clearTimeout(timer); c.destroy(); resolve(v); };
    const timer = setTimeout(() => done(null), ms);
    c.once('connect', () => c.write(`${line}\r\n`));
    c.on('data', (d) => {
      buf += d;
      const eol = buf.indexOf('\r\n');
      if (eol >= 0) done(buf.slice(0, eol));
    });
    c.once('error', () => done(null));
  });
}

/**
 * Debian's redis-server on a free port of 127.0.0.1, no persistence, config and dir in a temp dir.
 * Returns {port, pid, alive, kill(), restart(), stop(), client()}: restart() starts a new one on the same port.
 */
export async function startRedis() {
  const dir = tempDir('redis');
  const port = await freePort();
  const conf = path.join(dir, 'redis.conf');
  fs.writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no',
    'logfile ""', 'databases 2', '',
  ].join('\n'));
  let proc;
  const launch = async () => {
    proc = spawnForeground('redis-server', [conf], { cwd: dir, label: 'redis-server' });
    await started(proc, eventually(async () => (await rawCommand(port, 'PING')) === '+PONG',
      START_TIMEOUT_MS, `redis-server on port ${port} to answer PING`), 'redis-server');
  };
  await launch();
  const clients = new Set();
  const redis = {
    port,
    dir,
    get pid() { return proc.pid; },
    get alive() { return proc.alive; },
    get output() { return proc.output; },
    /** SIGKILL (default) this redis-server and await its exit. */
    kill(sig = 'SIGKILL') { return proc.kill(sig); },
    /** A new redis-server on the same port (after kill()). */
    async restart() {
      if (proc.alive) await proc.kill('SIGKILL');
      await launch();
    },
    /** An npm redis client for the test itself (closed by stop()); it does not reconnect. */
    async client() {
      const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
      c.on('error', () => {});
      await withTimeout(c.connect(), T, 'a redis connection');
      clients.add(c);
      return c;
    },
    async stop() {
      for (const c of clients) await c.disconnect().catch(() => {});
      clients.clear();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return redis;
}

/**
 * Per client of `redis` (CLIENT LIST), the channel and pattern subscription counts: [{sub, psub, name, addr}].
 */
export async function subscriptions(cli) {
  const text = await cli.sendCommand(['CLIENT', 'LIST']);
  return String(text).split('\n').filter(Boolean).map((line) => {
    const f = Object.fromEntries(line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    return { sub: Number(f.sub), psub: Number(f.psub), name: f.name, addr: f.addr };
  });
}

/** PUBSUB NUMSUB of one channel. */
export async function numsub(cli, channel) {
  const reply = await cli.sendCommand(['PUBSUB', 'NUMSUB', channel]);
  return Number(reply[1]);
}

/**
 * Wait until `count` servers have subscribed for every namespace in `nsps`: NUMSUB of each request channel is
 * `count`, and the connections that pattern-subscribe hold `count * nsps.length` patterns in all.
 */
export async function waitSubscribed(cli, count, { key = 'socket.io', nsps = ['/', '/second'], ms = T } = {}) {
  if (ADAPTER === 'streams') {  // the Streams adapter subscribes to <prefix>#<nsp># (and its own channel) only
    await eventually(async () => {
      for (const nsp of nsps) if ((await numsub(cli, `socket.io#${nsp}#`)) !== count) return false;
      return true;
    }, ms, `${count} servers subscribed on Redis for ${nsps.join(' and ')}`);
    return;
  }
  if (ADAPTER === 'sharded') {  // the sharded adapter SSUBSCRIBEs to <key>#<nsp># (and its own and rooms' channels)
    await eventually(async () => {
      for (const nsp of nsps) {
        const reply = await cli.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${key}#${nsp}#`]);
        if (Number(reply[1]) !== count) return false;
      }
      return true;
    }, ms, `${count} servers shard-subscribed on Redis for ${nsps.join(' and ')}`);
    return;
  }
  await eventually(async () => {
    for (const nsp of nsps) if ((await numsub(cli, `${key}-request#${nsp}#`)) !== count) return false;
    const patterns = (await subscriptions(cli)).reduce((n, c) => n + c.psub, 0);
    return patterns === count * nsps.length;
  }, ms, `${count} servers subscribed on Redis for ${nsps.join(' and ')}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Nodes

/**
 * A cluster node: kind "cpp" ($CLUSTER_CPP_SERVER) or "node" (node_node.mjs), on a free port of 127.0.0.1.
 * Returns {kind, name, port, url, pid, alive, kill(sig), stop(), stderr}.
 */
export async function startNode(kind, name, redisPort, extra = []) {
  const cmd = kind === 'cpp' ? CPP_SERVER : NODE_SERVER;
  if (cmd === DEFAULT_CPP && !fs.existsSync(DEFAULT_CPP)) {
    throw new Error(`${DEFAULT_CPP} does not exist; build it with: make build/sio_cluster_server`);
  }
  const srv = await startServerProcess(cmd, ['--redis-port', redisPort, '--name', name, ...extra]);
  return {
    kind,
    name,
    port: srv.port,
    url: `http://127.0.0.1:${srv.port}`,
    pid: srv.pid,
    exited: srv.exited,
    get alive() { return srv.alive; },
    get stderr() { return srv.stderr; },
    /** Signal this PID (SIGKILL by default) and await its exit. */
    async kill(sig = 'SIGKILL') {
      if (srv.alive) process.kill(srv.pid, sig);
      return srv.exited;
    },
    stop: () => srv.stop(),
  };
}

/** GET `url` (optionally from a given loopback source address); resolves with {status, body, headers}. */
export function httpGet(url, { localAddress, headers } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on('error', reject);
  }), T, `GET ${url}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Balancers

/**
 * Debian's nginx in the foreground (one process: `master_process off`) over `upstreams` (ports of 127.0.0.1),
 * `hash $remote_addr consistent` (`balance`: another directive, or '' for round-robin), with the WebSocket upgrade
 * headers. Returns {port, url, pid, stop(), conf}.
 */
export async function startNginx(upstreams, { readTimeout = '60s', balance = 'hash $remote_addr consistent;' } = {}) {
  const dir = tempDir('nginx');
  const port = await freePort();
  const p = (name) => path.join(dir, name);
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(p(d));
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} info;
events { worker_connections 1024; }
http {
  access_log ${p('access.log')};
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream nodes {
${balance ? `    ${balance}\n` : ''}${upstreams.map((u) => `    server 127.0.0.1:${u};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # above pingInterval + pingTimeout (25 s + 20 s): a waiting long-poll or a quiet WebSocket is not cut
      proxy_read_timeout ${readTimeout};
    }
  }
}
`;
  fs.writeFileSync(p('nginx.conf'), conf);
  const proc = spawnForeground('nginx', ['-p', dir, '-c', p('nginx.conf'), '-e', p('error.log')],
    { cwd: dir, label: 'nginx' });
  await started(proc, waitTcp(port), 'nginx');
  const b = balancer(proc, port, dir, conf);
  b.errorLog = () => fs.readFileSync(p('error.log'), 'utf8');
  return b;
}

/** What startNginx and startHaproxy return: the running balancer, stopped by PID with its temp dir removed. */
function balancer(proc, port, dir, conf) {
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    conf,
    get alive() { return proc.alive; },
    get output() { return proc.output; },
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's HAProxy in the foreground (-db) over `upstreams` [{name, port}]: balance roundrobin and
 * `cookie io prefix indirect nocache` (the server sets the "io" cookie at the handshake; HAProxy prefixes it with
 * the server's name). Returns {port, url, pid, stop(), conf}.
 */
// `checks`: HAProxy checks each node every 100 ms and sends a request whose node is down (its cookie's, say) to
// another one (option redispatch): for the restart tests.
export async function startHaproxy(upstreams, { checks = false } = {}) {
  const dir = tempDir('haproxy');
  const port = await freePort();
  const conf = `global
  maxconn 1024
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # a WebSocket is a tunnel once upgraded; above pingInterval + pingTimeout
  timeout tunnel 60s
frontend cluster
  bind 127.0.0.1:${port}
  default_backend nodes
backend nodes
  balance roundrobin
  cookie io prefix indirect nocache
${checks ? '  option redispatch\n  retries 3\n' : ''}${upstreams.map((u) => `  server ${u.name} 127.0.0.1:${u.port} cookie ${u.name}${
  checks ? ' check inter 100 fall 1 rise 1' : ''}`).join('\n')}
`;
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), conf);
  const proc = spawnForeground('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { cwd: dir, label: 'haproxy' });
  await started(proc, waitTcp(port), 'haproxy');
  return balancer(proc, port, dir, conf);
}

/**
 * Which node nginx sends each loopback source address to: GET /name from 127.0.0.2, 127.0.0.3, ... (at most
 * `tries` addresses) until every name in `names` has one. Returns {name: address}.
 */
export async function addressesByNode(nginxUrl, names, tries = 60) {
  const found = {};
  for (let i = 2; i < 2 + tries && Object.keys(found).length < names.length; i++) {
    const address = `127.0.0.${i}`;
    const { status, body } = await httpGet(`${nginxUrl}/name`, { localAddress: address });
    if (status === 200 && names.includes(body) && !found[body]) found[body] = address;
  }
  const missing = names.filter((n) => !found[n]);
  if (missing.length) throw new Error(`no source address among ${tries} reaches ${missing.join(', ')} through nginx`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

/**
 * An official socket.io-client socket plus a log of every event it received: {socket, id, log, received(event),
 * until(pred), close()}. Waiting helpers never poll the network: they are woken by events.
 */
export class Client {
  constructor(socket, label) {
    this.socket = socket;
    this.label = label;
    this.log = [];
    this.disconnects = [];
    this.ids = [];
    this.waiters = new Set();
    socket.on('connect', () => { this.ids.push(socket.id); this._wake(); });
    socket.onAny((event, ...args) => { this.log.push({ event, args }); this._wake(); });
    socket.on('disconnect', (reason) => { this.disconnects.push(reason); this._wake(); });
  }

  get id() { return this.socket.id ?? this.ids[this.ids.length - 1]; }

  _wake() { for (const w of [...this.waiters]) w(); }

  /** Argument lists of each received `event`. */
  received(event) { return this.log.filter((e) => e.event === event).map((e) => e.args); }

  /** Resolves once `pred()` holds (checked at each event), at most `ms`. */
  until(pred, ms = T, what = 'condition') {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.label}: timeout after ${ms} ms waiting for ${what}; got ${
          JSON.stringify(this.log.map((e) => e.event).slice(-20))}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  /** Resolves with the args of the `n`-th `event` (1-based) once it has arrived. */
  async nth(event, n = 1, ms = T) {
    await this.until(() => this.received(event).length >= n, ms, `${n} × "${event}"`);
    return this.received(event)[n - 1];
  }

  /** emit with an acknowledgement, bounded. */
  ask(event, ...args) {
    return withTimeout(this.socket.emitWithAck(event, ...args), T, `${this.label}: ack of "${event}"`);
  }

  close() {
    const ws = this.socket.io.engine && this.socket.io.engine.transport && this.socket.io.engine.transport.ws;
    this.socket.disconnect();
    if (ws && typeof ws.once === 'function' && ws.readyState !== 3) {
      return withTimeout(new Promise((r) => ws.once('close', r)), 1000, 'websocket close').catch(() => {});
    }
    return Promise.resolve();
  }
}

/**
 * Connect an official client to `url` (a node or a balancer): transport "websocket" or "polling" (no upgrade),
 * from `localAddress` (nginx stickiness) or with a cookie jar (`withCredentials`, HAProxy stickiness).
 * Resolves with a connected Client once its "welcome" arrived (so the server's connection handler has run).
 */
export async function connect(url, { nsp = '/', transport = 'websocket', localAddress, withCredentials = false,
  auth = {}, label, reconnection = false, upgrade = false, parser } = {}) {
  const opts = { forceNew: true, reconnection, timeout: T, transports: transport === 'both' ? ['polling', 'websocket']
    : [transport], upgrade: transport === 'both' ? true : upgrade, auth, withCredentials,
  reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0, ...(parser ? { parser } : {}) };
  if (localAddress) {
    // polling: xmlhttprequest-ssl takes an agent; websocket: ws takes localAddress
    opts.agent = new http.Agent({ localAddress, keepAlive: true });
    opts.localAddress = localAddress;
  }
  const socket = io(`${url}${nsp === '/' ? '' : nsp}`, opts);
  const client = new Client(socket, label || `${transport}@${url}${nsp}`);
  let refused;
  socket.on('connect_error', (err) => { refused = err; client._wake(); });
  try {
    await client.until(() => client.received('welcome').length > 0 || refused || client.disconnects.length > 0,
      T, 'welcome');
    if (refused) throw new Error(`${client.label}: connect_error ${refused.message}`);
    if (!client.received('welcome').length) throw new Error(`${client.label}: ${client.disconnects[0]} before welcome`);
  } catch (err) {
    socket.disconnect();
    throw err;
  }
  client.welcome = client.received('welcome')[0][0];
  return client;
}

// ---------------------------------------------------------------------------------------------------------------
// The cluster: one Redis, C++ nodes "cpp-a" and "cpp-b", Node node "node-a", nginx over the three

/** The three directions every cross-node feature is tested in: [sender node key, receiver node key, label]. */
export const DIRECTIONS = [
  ['cppA', 'node', 'C++ → Node'],
  ['node', 'cppA', 'Node → C++'],
  ['cppA', 'cppB', 'C++ → C++'],
];

/**
 * Start a cluster for the test context `t` (stopped in t.after). Options: nodeFlags (extra flags for every node),
 * haproxy (also start HAProxy), nodes (which of cppA, cppB, node to start; default all three), key.
 * Returns {redis, cli, nodes: {cppA, cppB, node}, nginx, haproxy, addresses, client(...), stop()}.
 */
// `parser: 'msgpack'`: every node and every client of cluster.client() uses npm socket.io-msgpack-parser's format.
export async function startCluster(t, { nodeFlags = [], haproxy = false, key = 'socket.io',
  nodes = ['cppA', 'cppB', 'node'], parser } = {}) {
  if (parser) nodeFlags = [...nodeFlags, '--parser', parser];
  if (ADAPTER !== 'classic') nodeFlags = [...nodeFlags, '--adapter', ADAPTER];
  const clientParser = parser === 'msgpack' ? createRequire(import.meta.url)('socket.io-msgpack-parser') : undefined;
  const redis = await startRedis();
  const cluster = { redis, nodes: {}, clients: new Set() };
  const stop = async () => {
    await Promise.all([...cluster.clients].map((c) => c.close()));
    if (cluster.haproxy) await cluster.haproxy.stop();
    if (cluster.nginx) await cluster.nginx.stop();
    await Promise.all(Object.values(cluster.nodes).map((n) => n.stop()));
    await redis.stop();
  };
  if (t) t.after(stop);
  cluster.stop = stop;
  try {
    const flags = ['--key', key, ...nodeFlags];
    const kinds = { cppA: ['cpp', 'cpp-a'], cppB: ['cpp', 'cpp-b'], node: ['node', 'node-a'] };
    const started = await Promise.all(nodes.map((k) => startNode(kinds[k][0], kinds[k][1], redis.port, flags)));
    nodes.forEach((k, i) => { cluster.nodes[k] = started[i]; });
    cluster.cli = await redis.client();
    await waitSubscribed(cluster.cli, nodes.length, { key });
    cluster.nginx = await startNginx(started.map((n) => n.port));
    cluster.addresses = await addressesByNode(cluster.nginx.url, started.map((n) => n.name));
    if (haproxy) cluster.haproxy = await startHaproxy(started.map((n) => ({ name: n.name, port: n.port })));
  } catch (err) {
    await stop();
    throw err;
  }

  /**
   * A client of node `key` ("cppA", "cppB", "node"): "websocket" connects straight to the node (unless via is
   * "nginx"), "polling" (and "both") goes through nginx from a source address nginx sends to that node. Checks it
   * landed on that node.
   */
  cluster.client = async (nodeKey, { transport = 'websocket', nsp = '/', auth, label, via, reconnection } = {}) => {
    const n = cluster.nodes[nodeKey];
    const viaNginx = via === 'nginx' || transport !== 'websocket';
    const c = await connect(viaNginx ? cluster.nginx.url : n.url, {
      nsp, transport, auth, reconnection, localAddress: viaNginx ? cluster.addresses[n.name] : undefined,
      parser: clientParser,
      label: label || `${nodeKey}/${transport}${viaNginx ? '/nginx' : ''}${nsp === '/' ? '' : nsp}`,
    });
    cluster.clients.add(c);
    if (c.welcome.node !== n.name) throw new Error(`${c.label} landed on ${c.welcome.node}, not ${n.name}`);
    return c;
  };
  /** Two receivers on `nodeKey`: a WebSocket straight to it, a polling client through nginx. */
  cluster.receivers = (nodeKey, opts = {}) => Promise.all([cluster.client(nodeKey, { ...opts, transport: 'websocket' }),
    cluster.client(nodeKey, { ...opts, transport: 'polling' })]);
  /** Close a client made by cluster.client(). */
  cluster.drop = async (c) => { cluster.clients.delete(c); await c.close(); };
  return cluster;
}

/**
 * A barrier for "did NOT receive": `sender` broadcasts `marker` to the whole namespace after what was sent
 * before; each client in `clients` waits for it. Broadcasts from one node go out in order on one Redis
 * connection and each node delivers them in order, so a client that got the marker has got everything before it.
 */
export async function barrier(sender, clients, marker = `marker-${Math.random().toString(36).slice(2)}`) {
  await sender.ask('broadcast', { event: 'marker', args: [marker] });
  await Promise.all(clients.map((c) => c.until(() => c.received('marker').some((a) => a[0] === marker),
    T, `marker ${marker}`)));
}

/** The names of the events `c` received (for compact assertions). */
export const eventsOf = (c, event) => c.received(event).map((a) => a[0]);
