// Shared pieces of the admin UI protocol tests: start the reference (npm socket.io 4.8 + @socket.io/admin-ui 0.5,
// node_admin_server.mjs) and sioserver (build/sio_admin_server, or $ADMIN_SERVER) side by side with the same flags,
// drive both the same way, and bring what an admin client received into a form where the two compare: socket ids
// become the names the test gave them, dates and times become their kind, values that differ by nature (ports,
// random keys, the host name, pids) become placeholders.
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { REPO_ROOT, startServerProcess } from '../interop/server_process.mjs';

export { io };
export const T = 5000;  // every wait is bounded by this (server_stats comes every 2 s)

const OURS = (process.env.ADMIN_SERVER || path.join(REPO_ROOT, 'build', 'sio_admin_server')).trim();
const REFERENCE = `node ${path.join('tests', 'admin', 'node_admin_server.mjs')}`;

/** Starts both servers with `flags`; each is stopped when the test ends. Resolves with {node, ours}. */
export async function startBoth(t, flags = []) {
  if (!process.env.ADMIN_SERVER && !fs.existsSync(OURS)) throw new Error(`${OURS} is missing: make build/sio_admin_server`);
  const [node, ours] = await Promise.all([startServerProcess(REFERENCE, flags), startServerProcess(OURS, flags)]);
  node.label = 'node';
  ours.label = 'sioserver';
  t.after(() => Promise.all([node.stop(), ours.stop()]));
  return { node, ours };
}

/** Runs `scenario(srv)` on both servers at once; resolves with [nodeResult, oursResult]. */
export function onBoth(servers, scenario) {
  return Promise.all([scenario(servers.node), scenario(servers.ours)]);
}

/** Waits (bounded) for `pred()` to hold, re-checked whenever `emitter` wakes it. */
function waitFor(holder, pred, ms, what) {
  if (pred()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred()) return;
      holder.waiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      holder.waiters.delete(check);
      reject(new Error(`${holder.label}: timeout after ${ms} ms waiting for ${what}; got ${holder.describe()}`));
    }, ms);
    holder.waiters.add(check);
  });
}

/** A socket.io-client socket with a log of what it received: admin UIs and ordinary clients alike. */
export class Peer {
  constructor(srv, nsp, { auth, transports = ['websocket'], label } = {}) {
    this.srv = srv;
    this.label = `${srv.label} ${label || nsp}`;
    this.log = [];
    this.disconnects = [];
    this.errors = [];
    this.waiters = new Set();
    this.socket = io(srv.origin + nsp, { forceNew: true, reconnection: false, timeout: T, auth, transports });
    this.socket.onAny((event, ...args) => { this.log.push([event, ...args]); this.wake(); });
    this.socket.on('disconnect', (reason) => { this.disconnects.push(reason); this.wake(); });
    this.socket.on('connect_error', (err) => { this.errors.push(err.message); this.wake(); });
    this.socket.on('connect', () => { this.id = this.socket.id; this.wake(); });
    srv.defer(() => this.socket.disconnect());
  }
  wake() { for (const w of [...this.waiters]) w(); }
  describe() { return JSON.stringify(this.log.map((e) => e[0])) + ` errors ${JSON.stringify(this.errors)}`; }
  /** The Engine.IO session id's first 12 characters: what the UI calls the socket's client. */
  get clientId() { return this.engineId.substring(0, 12); }
  async connected() {
    await waitFor(this, () => this.socket.connected || this.errors.length > 0, T, 'connect');
    if (!this.socket.connected) throw new Error(`${this.label}: connect_error ${this.errors.join(', ')}`);
    this.engineId = this.socket.io.engine.id;
    return this;
  }
  refused() { return waitFor(this, () => this.errors.length > 0, T, 'connect_error').then(() => this.errors[0]); }
  until(pred, what = 'condition') { return waitFor(this, pred, T, what); }
  /** Waits for an event `name` whose arguments satisfy `pred`; resolves with its arguments. */
  async next(name, pred = () => true) {
    let found;
    await this.until(() => (found = this.log.find((e) => e[0] === name && pred(...e.slice(1)))), `"${name}"`);
    return found.slice(1);
  }
  received(name) { return this.log.filter((e) => e[0] === name).map((e) => e.slice(1)); }
  disconnected() { return this.until(() => this.disconnects.length > 0, 'disconnect').then(() => this.disconnects[0]); }
  close() { this.socket.disconnect(); }
}

const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * `value` with every id of `peers` ({name: Peer}) replaced by that name (its client id by "<name>.client"), dates
 * by "<date>", and a socket's handshake made comparable; object keys sorted.
 */
export function normalize(value, peers) {
  const names = new Map();
  for (const [name, peer] of Object.entries(peers)) {
    if (peer.id) names.set(peer.id, name);
    if (peer.engineId) names.set(peer.clientId, `${name}.client`);
  }
  const walk = (v, key) => {
    if (typeof v === 'string') return names.get(v) ?? (ISO_DATE.test(v) ? '<date>' : v);
    if (Array.isArray(v)) {
      const items = v.map((x) => walk(x));
      return key === 'rooms' ? items.sort() : items;  // a set: its order is the ids' (random) one on both servers
    }
    if (v && typeof v === 'object') {
      if (key === 'handshake') v = handshake(v);
      const out = {};
      for (const k of Object.keys(v).sort()) out[k] = walk(v[k], k);
      return out;
    }
    return v;
  };
  return walk(value);
}

function handshake(h) {
  const headers = {};
  for (const [k, v] of Object.entries(h.headers || {})) {
    headers[k] = k === 'host' || k === 'sec-websocket-key' ? `<${k}>` : v;
  }
  const query = { ...h.query };
  if ('t' in query) query.t = '<t>';
  return {
    ...h,
    headers,
    query,
    address: /^(::ffff:)?127\.0\.0\.1$/.test(h.address) ? '<loopback>' : h.address,
    time: typeof h.time,
    issued: typeof h.issued,
    url: String(h.url).replace(/([?&]t=)[^&]*/, '$1<t>'),
  };
}

/** The structure of a value: the same keys and the same kinds of values all the way down. */
export function shape(v) {
  if (Array.isArray(v)) return [...new Set(v.map((x) => JSON.stringify(shape(x))))].sort().map((s) => JSON.parse(s));
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = shape(v[k]);
    return out;
  }
  return v === null ? 'null' : typeof v;
}

/** The admin events of a log, normalized, one JSON text each, sorted (the order is checked apart). */
export function eventSet(peer, peers, names) {
  return peer.log.filter((e) => names.includes(e[0])).map((e) => JSON.stringify(normalize(e, peers))).sort();
}
