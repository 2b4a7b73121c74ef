// Shared helpers for the Socket.IO v5 interop suite (tests/interop/sio_*.test.mjs).
//
// The server under test is the command line in $SIO_SERVER (split on spaces),
// default build/sio_test_server, run with the repository root as working
// directory. To validate the suite against the npm reference server:
//
//   SIO_SERVER="node tests/interop/ref_sio_server.mjs" node --test tests/interop/sio_*.test.mjs

import fs from 'node:fs';
import path from 'node:path';
import { io, Manager } from 'socket.io-client';
import { Socket as EioSocket } from 'engine.io-client';

export { io, Manager, EioSocket };

import { REPO_ROOT, startServerProcess } from './server_process.mjs';

export { REPO_ROOT };
const DEFAULT_SERVER = path.join(REPO_ROOT, 'build', 'sio_test_server');
const SIO_SERVER = (process.env.SIO_SERVER || DEFAULT_SERVER).trim();

/**
 * Whether $SIO_SERVER runs the npm reference server (guessed from the command line; SIO_SERVER_IS_REFERENCE=1 or 0
 * says so instead): a few tests assert behaviour that sioserver has and npm socket.io 4.8 has not.
 */
export const IS_REFERENCE =
  process.env.SIO_SERVER_IS_REFERENCE === '1' ||
  (process.env.SIO_SERVER_IS_REFERENCE === undefined && SIO_SERVER.includes('ref_sio_server'));

/** Value for the `skip` option of a test that the reference server cannot pass, saying why. */
export function skipForReference(why) {
  return IS_REFERENCE ? `npm socket.io 4.8 differs: ${why}` : false;
}

/** Transports every feature is tested on. */
export const TRANSPORTS = ['websocket', 'polling'];

/** Default bound for every wait (ms). */
export const T = 3000;

/**
 * Start the server under test with `--host 127.0.0.1 --port 0` plus `flags`.
 * Resolves with {port, path, origin, url, pid, stop(), alive, stderr} once it printed its
 * `listening on` line (see server_process.mjs).
 */
export function startSio(flags = []) {
  if (SIO_SERVER === DEFAULT_SERVER && !fs.existsSync(DEFAULT_SERVER)) {
    throw new Error(`${DEFAULT_SERVER} does not exist; build it with: make build/sio_test_server`);
  }
  return startServerProcess(SIO_SERVER, flags);
}

/** Start a server and stop it when the node:test context `t` ends. */
export async function startSioFor(t, flags = []) {
  const srv = await startSio(flags);
  t.after(() => srv.stop());
  return srv;
}

/** Fail with a clear message if the server process died (crash = server bug). */
export function assertAlive(srv) {
  if (!srv.alive) throw new Error(`the server process is not running any more; stderr: ${srv.stderr}`);
}

// ---------------------------------------------------------------------------
// Waiting helpers

/** Reject with a clear message after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Poll `fn` (async) until it returns a truthy value; bounded by `ms`. Returns that value. */
export async function eventually(fn, ms = T, what = 'condition', every = 20) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Wait once for `event` on an emitter; resolves with the event arguments array.
 * `failOn` lists events that reject the wait.
 */
export function once(emitter, event, ms = T, { failOn = [], filter } = {}) {
  return new Promise((resolve, reject) => {
    const fails = [];
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout after ${ms} ms waiting for "${event}"`));
    }, ms);
    const on = (...args) => {
      if (filter && !filter(...args)) return;
      cleanup();
      resolve(args);
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, on);
      for (const [name, fn] of fails) emitter.off(name, fn);
    };
    emitter.on(event, on);
    for (const name of failOn) {
      const fn = (...args) => {
        cleanup();
        const detail = args.map((a) => (a instanceof Error ? `${a.message} ${JSON.stringify(a.data ?? null)}` : String(a)));
        reject(new Error(`got "${name}" (${detail.join(', ')}) while waiting for "${event}"`));
      };
      fails.push([name, fn]);
      emitter.on(name, fn);
    }
  });
}

// ---------------------------------------------------------------------------
// socket.io-client wrappers

/**
 * Run `closeFn` (which closes the Engine.IO connection of `engine`) and, when
 * that connection is a WebSocket, wait (bounded) until its TCP connection is
 * really closed, so that stopping the server afterwards does not race with it.
 */
export async function closeAndSettle(engine, closeFn) {
  const ws = engine && engine.transport && engine.transport.ws;
  closeFn();
  if (ws && typeof ws.once === 'function' && ws.readyState !== 3) {
    await withTimeout(new Promise((resolve) => ws.once('close', resolve)), 500, 'websocket close').catch(() => {});
  }
}

/** Disconnect a socket.io-client socket (and its forceNew Manager's connection). */
export function closeSocket(socket) {
  return closeAndSettle(socket.io && socket.io.engine, () => socket.disconnect());
}

/** socket.io-client options for a transport ('websocket', 'polling' or null for the default). */
export function clientOptions(srv, transport, extra = {}) {
  const o = { path: srv.path, forceNew: true, reconnection: false, timeout: T, ...extra };
  if (transport) o.transports = [transport];
  return o;
}

/**
 * A socket.io-client socket plus a log of every event it received
 * (`log` = [{event, args}]) and of its disconnections.
 */
export class Client {
  constructor(socket, label = 'client') {
    this.socket = socket;
    this.label = label;
    this.log = [];
    this.disconnects = [];
    this.waiters = new Set();
    this.ids = []; // one per "connect" (socket.id is undefined once disconnected)
    socket.on('connect', () => {
      this.ids.push(socket.id);
      this._wake();
    });
    socket.onAny((event, ...args) => {
      this.log.push({ event, args });
      this._wake();
    });
    socket.on('disconnect', (reason, description) => {
      this.disconnects.push(reason);
      this.lastDisconnectDescription = description;
      this._wake();
    });
  }

  /** The socket id (the last one it had once disconnected). */
  get id() {
    return this.socket.id ?? this.ids[this.ids.length - 1];
  }

  _wake() {
    for (const w of [...this.waiters]) w();
  }

  /** Argument lists of every received `event`. */
  received(event) {
    return this.log.filter((e) => e.event === event).map((e) => e.args);
  }

  /** Wait until `pred()` holds (checked on each received event). */
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
        reject(new Error(`${this.label}: timeout after ${ms} ms waiting for ${what}; events so far: ` +
          JSON.stringify(this.log.map((e) => e.event))));
      }, ms);
      this.waiters.add(check);
    });
  }

  /** Wait for the `count`-th reception of `event`; returns its arguments. */
  async waitEvent(event, { count = 1, ms = T } = {}) {
    await this.until(() => this.received(event).length >= count, ms, `event "${event}" #${count}`);
    return this.received(event)[count - 1];
  }

  /** Wait for the `count`-th "disconnect" of this socket; returns its reason. */
  async waitDisconnect({ count = 1, ms = T } = {}) {
    await this.until(() => this.disconnects.length >= count, ms, `"disconnect" #${count}`);
    return this.disconnects[count - 1];
  }

  /** emit with an acknowledgement; resolves with the ack's argument list. */
  ack(event, ...args) {
    return emitAck(this.socket, event, ...args);
  }

  close() {
    this.socket.disconnect();
  }
}

/** socket.emit(event, ...args, cb) bounded by a timeout; resolves with the ack's arguments array. */
export function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(T).emit(event, ...args, (err, ...response) => {
      if (err) reject(new Error(`no acknowledgement for "${event}" within ${T} ms (socket ${socket.nsp} ${socket.id})`));
      else resolve(response);
    });
  });
}

/**
 * Connect a socket.io-client to `nsp` and wait for "connect" and the
 * server's "welcome". The socket is disconnected when `t` ends.
 */
export async function connect(t, srv, { transport = null, nsp = '/', auth, query, label, extra = {} } = {}) {
  const opts = clientOptions(srv, transport, extra);
  if (auth !== undefined) opts.auth = auth;
  if (query !== undefined) opts.query = query;
  const socket = io(`${srv.origin}${nsp}`, opts);
  const client = new Client(socket, label || `client(${nsp}, ${transport || 'default'})`);
  t.after(() => closeSocket(socket));
  await once(socket, 'connect', T, { failOn: ['connect_error'] });
  await client.waitEvent('welcome');
  return client;
}

/** Connect several clients in parallel (same options). */
export function connectMany(t, srv, n, opts = {}) {
  return Promise.all(Array.from({ length: n }, (_, i) => connect(t, srv, { ...opts, label: `${opts.label || 'client'}#${i}` })));
}

/** Attempt a connection that must be refused; resolves with the connect_error Error. */
export async function connectError(t, srv, { transport = null, nsp = '/', auth } = {}) {
  const opts = clientOptions(srv, transport);
  if (auth !== undefined) opts.auth = auth;
  const socket = io(`${srv.origin}${nsp}`, opts);
  t.after(() => closeSocket(socket));
  const [err] = await once(socket, 'connect_error', T, { failOn: ['connect'] });
  return err;
}

/** A Manager (one Engine.IO connection for several namespaces), closed when `t` ends. */
export function manager(t, srv, transport, extra = {}) {
  const m = new Manager(srv.origin, clientOptions(srv, transport, extra));
  t.after(() => closeAndSettle(m.engine, () => m.disconnect()));
  return m;
}

/** Open a namespace socket on a Manager and wait for connect + welcome. */
export async function managerSocket(t, mgr, nsp, opts = {}, label) {
  const socket = mgr.socket(nsp, opts);
  const client = new Client(socket, label || `manager socket ${nsp}`);
  t.after(() => socket.disconnect());
  if (!socket.active) socket.connect();
  await once(socket, 'connect', T, { failOn: ['connect_error'] });
  await client.waitEvent('welcome');
  return client;
}

/**
 * Ask the server (through `asker`, a connected main-namespace Client) how the
 * socket `id` was disconnected; waits until the reason is known.
 * Returns {reason, rooms} (rooms = what "disconnecting" saw).
 */
export async function disconnectReason(asker, id, ms = T) {
  const result = await eventually(async () => {
    const [reason, rooms] = await asker.ack('disconnect-reason', id);
    return reason == null ? null : { reason, rooms };
  }, ms, `the server to record a disconnect reason for socket ${id}`);
  return result;
}

/**
 * Round trip on every client (an acknowledged "echo-ack"): once it returns,
 * every packet the server sent to these sockets before has been received.
 */
export async function sync(...clients) {
  await Promise.all(clients.map((c) => c.ack('echo-ack', 'sync')));
}

// ---------------------------------------------------------------------------
// Raw Engine.IO connection speaking Socket.IO by hand

/**
 * An engine.io-client connection on which the test writes raw Socket.IO
 * packets. Messages are queued in `messages`; `closed` resolves with the
 * close reason. connectNsp() sends CONNECT and waits for the server's answer.
 */
export class RawSio {
  constructor(t, srv, transport) {
    this.messages = [];
    this.waiters = new Set();
    this.closeReason = null;
    this.engine = new EioSocket(srv.origin, { path: srv.path, transports: [transport] });
    this.engine.on('message', (data) => {
      this.messages.push(data);
      this._wake();
    });
    this.engine.on('error', () => {});
    this.closed = new Promise((resolve) => {
      this.engine.on('close', (reason, desc) => {
        this.closeReason = reason;
        this.closeDescription = desc;
        this._wake();
        resolve(reason);
      });
    });
    this.opened = once(this.engine, 'open', T, { failOn: ['close'] });
    this.opened.catch(() => {});
    t.after(() => this.close());
  }

  _wake() {
    for (const w of [...this.waiters]) w();
  }

  /** Wait for a message matching `pred` (string test or function). */
  waitMessage(pred, ms = T, what = 'message') {
    const test = typeof pred === 'function' ? pred : (m) => typeof m === 'string' && m.startsWith(pred);
    const find = () => this.messages.find(test);
    if (find() !== undefined) return Promise.resolve(find());
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = find();
        if (m !== undefined) {
          done();
          resolve(m);
        } else if (this.closeReason) {
          done();
          reject(new Error(`connection closed (${this.closeReason}) while waiting for ${what}; ` +
            `messages: ${JSON.stringify(this.messages)}`));
        }
      };
      const done = () => {
        this.waiters.delete(check);
        clearTimeout(timer);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout after ${ms} ms waiting for ${what}; messages: ${JSON.stringify(this.messages)}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  send(data) {
    this.engine.send(data);
  }

  /** Close the connection from the client side (once; later calls return the same promise). */
  close() {
    if (!this.closing) this.closing = closeAndSettle(this.engine, () => this.engine.close());
    return this.closing;
  }

  /** Open the engine connection, send CONNECT to `nsp`, return the CONNECT answer's payload ({sid}). */
  async connectNsp(nsp = '/') {
    await this.opened;
    const prefix = nsp === '/' ? '' : `${nsp},`;
    this.send(`0${prefix}`);
    const m = await this.waitMessage(`0${prefix}`, T, `the CONNECT answer for ${nsp}`);
    return JSON.parse(m.slice(1 + prefix.length));
  }

  /** Wait for the server to close the engine connection. */
  waitClose(ms = T, what = 'the server to close the connection') {
    return withTimeout(this.closed, ms, what);
  }
}
