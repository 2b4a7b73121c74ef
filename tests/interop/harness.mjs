// Shared helpers for the Engine.IO v4 interop suite.
//
// The server under test is started from the command line in $ENGINE_ECHO
// (split on spaces), default `build/engine_echo`, with the repository root
// as working directory. Set ENGINE_ECHO_IS_REFERENCE=1 when ENGINE_ECHO runs
// the npm reference server (this is also assumed automatically when the
// command mentions ref_engine_echo): a few tests assert required behaviour
// that the reference server does not have and are skipped for it.

import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';

import { REPO_ROOT, startServerProcess } from './server_process.mjs';

export { REPO_ROOT };

const ENGINE_ECHO = (process.env.ENGINE_ECHO || 'build/engine_echo').trim();

export const IS_REFERENCE =
  process.env.ENGINE_ECHO_IS_REFERENCE === '1' ||
  (process.env.ENGINE_ECHO_IS_REFERENCE === undefined && ENGINE_ECHO.includes('ref_engine_echo'));

/** Value for the `skip` option of tests that the reference server cannot pass. */
export function skipForReference(why) {
  return IS_REFERENCE ? `reference engine.io differs: ${why}` : false;
}

/**
 * Start the server under test with `--host 127.0.0.1 --port 0` plus `flags`.
 * Resolves once the `listening on` line has been printed with
 * {url, wsUrl, host, port, path, line, pid, stop(), defer(fn), exited,
 * stdout, stderr} (see server_process.mjs).
 */
export function startServer(flags = []) {
  return startServerProcess(ENGINE_ECHO, flags);
}

/** Start a server and register its stop() with the node:test context. */
export async function startServerFor(t, flags = []) {
  const srv = await startServer(flags);
  t.after(() => srv.stop());
  return srv;
}

/**
 * Close an engine.io-client Socket for test cleanup; also drops the
 * underlying TCP connection of a websocket transport so that the server's
 * shutdown never waits on it.
 */
export function closeClient(socket) {
  const ws = socket.transport && socket.transport.ws;
  socket.close();
  if (ws && typeof ws.terminate === 'function') ws.terminate();
}

// ---------------------------------------------------------------------------
// Generic waiting helpers

/** Reject with `what` after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function offFn(emitter) {
  return (emitter.off || emitter.removeListener).bind(emitter);
}

/**
 * Wait for `event` on an EventEmitter-like object (node EventEmitter or the
 * component-emitter used by engine.io-client). Resolves with the array of
 * event arguments. Options: `filter(...args)` to ignore some emissions,
 * `failOn` event names that reject.
 */
export function waitFor(emitter, event, ms, { filter, failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const off = offFn(emitter);
    const failers = [];
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout after ${ms} ms waiting for "${event}"`));
    }, ms);
    const onEvent = (...args) => {
      if (filter && !filter(...args)) return;
      cleanup();
      resolve(args);
    };
    const cleanup = () => {
      clearTimeout(timer);
      off(event, onEvent);
      for (const [name, fn] of failers) off(name, fn);
    };
    emitter.on(event, onEvent);
    for (const name of failOn) {
      const fn = (...args) => {
        cleanup();
        const detail = args.map((a) => (a instanceof Error ? a.message : String(a))).join(', ');
        reject(new Error(`"${name}" (${detail}) while waiting for "${event}"`));
      };
      failers.push([name, fn]);
      emitter.on(name, fn);
    }
  });
}

/** A small async queue fed by callbacks; next(ms) is bounded in time. */
export class AsyncQueue {
  constructor(name = 'item') {
    this.name = name;
    this.items = [];
    this.waiters = [];
    this.ended = null;
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) w.resolve(item);
    else this.items.push(item);
  }

  /** No more items will come; pending and future next() calls reject. */
  end(reason) {
    if (this.ended) return;
    this.ended = reason || new Error(`${this.name} stream ended`);
    for (const w of this.waiters.splice(0)) w.reject(this.ended);
  }

  next(ms) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timeout after ${ms} ms waiting for ${this.name}`));
      }, ms);
      this.waiters.push(w);
    });
  }
}

// ---------------------------------------------------------------------------
// engine.io-client helpers

/**
 * Collect `count` 'message' events from an engine.io-client Socket. Rejects on
 * timeout (reporting how many arrived) or if the socket closes first.
 */
export function collectMessages(socket, count, ms) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onMessage = (data) => {
      got.push(data);
      if (got.length >= count) {
        cleanup();
        resolve(got);
      }
    };
    const onClose = (reason) => {
      cleanup();
      reject(new Error(`socket closed (${reason}) after ${got.length}/${count} messages`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout after ${ms} ms: received ${got.length}/${count} messages`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
    };
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}

// ---------------------------------------------------------------------------
// Raw HTTP helpers

/**
 * One HTTP request on a fresh connection (no keep-alive agent).
 * Resolves with {status, headers, body (utf8 string), raw (Buffer)};
 * rejects on connection errors and after `timeout` ms.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const hdrs = { ...headers };
    if (body !== undefined && hdrs['Content-Length'] === undefined && hdrs['content-length'] === undefined) {
      hdrs['Content-Length'] = Buffer.byteLength(body);
    }
    if (body !== undefined && !Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) {
      hdrs['Content-Type'] = 'text/plain;charset=UTF-8';
    }
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: hdrs, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, raw, body: raw.toString('utf8') });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timeout after ${timeout} ms: ${method} ${url}`));
    }, timeout);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Assert-friendly parse of an error response: returns {status, json}. */
export function parseJsonBody(res) {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new Error(`response body is not JSON (status ${res.status}): ${JSON.stringify(res.body)}`);
  }
}

// Engine.IO packet types
export const PT = { open: '0', close: '1', ping: '2', pong: '3', message: '4', upgrade: '5', noop: '6' };

/**
 * Decode a polling payload (packets separated by \x1e). Returns an array of
 * {type, data, binary?, raw} where binary packets ("b" + base64) get
 * type '4' and `binary` (Buffer).
 */
export function decodePayload(body) {
  if (body === '') return [];
  return body.split('\x1e').map((raw) => {
    if (raw.startsWith('b')) {
      return { type: PT.message, binary: Buffer.from(raw.slice(1), 'base64'), raw };
    }
    return { type: raw[0], data: raw.slice(1), raw };
  });
}

/** A raw long-polling session driven by hand. */
export class RawPolling {
  constructor(srv, { eio = '4' } = {}) {
    this.srv = srv;
    this.eio = eio;
    this.sid = null;
  }

  url(extra = '') {
    let q = `EIO=${this.eio}&transport=polling`;
    if (this.sid) q += `&sid=${encodeURIComponent(this.sid)}`;
    return `${this.srv.url}?${q}${extra}`;
  }

  async handshake(headers = {}) {
    const res = await httpRequest(this.url(), { headers });
    if (res.status !== 200) {
      throw new Error(`polling handshake failed: ${res.status} ${res.body}`);
    }
    if (res.body[0] !== PT.open) throw new Error(`handshake body is not an open packet: ${res.body}`);
    this.handshakeData = JSON.parse(res.body.slice(1).split('\x1e')[0]);
    this.sid = this.handshakeData.sid;
    return { res, data: this.handshakeData };
  }

  get(opts = {}) {
    return httpRequest(this.url(), { timeout: 5000, ...opts });
  }

  post(body, opts = {}) {
    return httpRequest(this.url(), { method: 'POST', body, timeout: 5000, ...opts });
  }

  /**
   * GET repeatedly until `count` message packets arrived (noop/ping packets
   * are skipped, pings are NOT answered). Bounded by `ms` and by
   * `maxRequests`. Returns the message packets.
   */
  async collect(count, ms = 3000, maxRequests = 50) {
    const deadline = Date.now() + ms;
    const got = [];
    for (let i = 0; i < maxRequests && got.length < count; i++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const res = await this.get({ timeout: left });
      if (res.status !== 200) {
        throw new Error(`GET returned ${res.status} ${res.body} after ${got.length}/${count} messages`);
      }
      for (const p of decodePayload(res.body)) {
        if (p.type === PT.message) got.push(p);
        else if (p.type === PT.close) throw new Error(`session closed after ${got.length}/${count} messages`);
      }
    }
    if (got.length < count) throw new Error(`received ${got.length}/${count} messages within ${ms} ms`);
    return got;
  }
}

/**
 * Check that a polling session is gone: a GET either gets 400 code 1 right
 * away, or first returns a payload with the close packet and then 400 code 1.
 */
export async function assertSessionGone(poll, what = 'session') {
  for (let i = 0; i < 3; i++) {
    let res;
    try {
      res = await poll.get({ timeout: 3000 });
    } catch (err) {
      assert.fail(`${what} should be closed, but a GET with its sid got no answer (${err.message})`);
    }
    if (res.status === 400) {
      assert.deepEqual(parseJsonBody(res), { code: 1, message: 'Session ID unknown' });
      return;
    }
    assert.equal(res.status, 200, `unexpected GET status ${res.status} ${res.body}`);
    const types = decodePayload(res.body).map((p) => p.type);
    assert.ok(types.includes('1'), `${what} should be closed, GET returned ${JSON.stringify(res.body)}`);
  }
  assert.fail(`${what}: GET kept succeeding`);
}

// ---------------------------------------------------------------------------
// WebSocket helpers (ws package)

/**
 * Open a `ws` WebSocket and queue its messages. Returns {ws, messages, closed}
 * where messages.next(ms) yields {data: string|Buffer, isBinary} and
 * `closed` resolves with {code, reason} when the socket closes.
 */
export function openWs(url, opts = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  const messages = new AsyncQueue('websocket message');
  ws.on('message', (data, isBinary) => {
    messages.push({ data: isBinary ? Buffer.from(data) : data.toString('utf8'), isBinary });
  });
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      messages.end(new Error(`websocket closed (code ${code})`));
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('error', () => {});
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`unexpected response ${res.statusCode}`), { statusCode: res.statusCode }));
      res.resume();
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed before open (code ${code})`)));
  });
  opened.catch(() => {});
  return { ws, messages, closed, opened };
}

/** Engine.IO websocket URL for a server, optionally with a sid. */
export function eioWsUrl(srv, sid) {
  let u = `${srv.wsUrl}?EIO=4&transport=websocket`;
  if (sid) u += `&sid=${encodeURIComponent(sid)}`;
  return u;
}

/** Next text message from an openWs() queue, skipping pings if asked. */
export async function nextText(messages, ms, { skipPings = false } = {}) {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 100; i++) {
    const m = await messages.next(Math.max(1, deadline - Date.now()));
    if (m.isBinary) return m;
    if (skipPings && m.data === PT.ping) continue;
    return m;
  }
  throw new Error('too many ping packets');
}

/**
 * Perform a polling handshake and then upgrade it to websocket by hand.
 * Returns {poll, sock} with `sock` an openWs() result on the upgraded session.
 */
export async function rawUpgradedSession(srv) {
  const poll = new RawPolling(srv);
  await poll.handshake();
  const sock = openWs(eioWsUrl(srv, poll.sid));
  await withTimeout(sock.opened, 3000, 'websocket open');
  sock.ws.send('2probe');
  const pong = await nextText(sock.messages, 3000);
  if (pong.data !== '3probe') throw new Error(`expected 3probe, got ${JSON.stringify(pong.data)}`);
  sock.ws.send('5');
  // the upgrade is complete once the server echoes over the websocket
  sock.ws.send('4upgraded?');
  const echo = await nextText(sock.messages, 3000, { skipPings: true });
  if (echo.data !== '4upgraded?') throw new Error(`expected echo over websocket, got ${JSON.stringify(echo.data)}`);
  return { poll, sock };
}

// ---------------------------------------------------------------------------
// Raw WebSocket over net.Socket (frame level)

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function expectedAccept(key) {
  return crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** Build one client frame. */
export function buildFrame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = data.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/**
 * A WebSocket client on a raw TCP socket. `connect()` performs the HTTP
 * upgrade by hand and checks Sec-WebSocket-Accept. Server frames are parsed
 * into {fin, opcode, payload, masked, lengthForm} and queued in `frames`.
 */
export class RawWsClient {
  constructor(srv, query = 'EIO=4&transport=websocket') {
    this.srv = srv;
    this.query = query;
    this.frames = new AsyncQueue('websocket frame');
    this.buf = Buffer.alloc(0);
    this.tcpClosed = null;
  }

  async connect(ms = 3000) {
    const sock = net.connect({ host: this.srv.host, port: this.srv.port });
    this.sock = sock;
    this.tcpClosed = new Promise((resolve) => sock.once('close', resolve));
    sock.on('error', () => {});
    await withTimeout(new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    }), ms, 'TCP connect');

    this.key = crypto.randomBytes(16).toString('base64');
    sock.write(
      `GET ${this.srv.path}?${this.query} HTTP/1.1\r\n` +
        `Host: ${this.srv.host}:${this.srv.port}\r\n` +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${this.key}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n',
    );

    const head = await withTimeout(new Promise((resolve, reject) => {
      let acc = Buffer.alloc(0);
      const onData = (d) => {
        acc = Buffer.concat([acc, d]);
        const idx = acc.indexOf('\r\n\r\n');
        if (idx >= 0) {
          sock.off('data', onData);
          sock.off('close', onClose);
          this.buf = acc.subarray(idx + 4);
          resolve(acc.subarray(0, idx).toString('latin1'));
        } else if (acc.length > 16384) {
          reject(new Error('upgrade response head too large'));
        }
      };
      const onClose = () => reject(new Error(`connection closed during upgrade: ${JSON.stringify(acc.toString('latin1'))}`));
      sock.on('data', onData);
      sock.once('close', onClose);
    }), ms, 'upgrade response');

    const [statusLine, ...headerLines] = head.split('\r\n');
    this.statusLine = statusLine;
    this.headers = {};
    for (const l of headerLines) {
      const i = l.indexOf(':');
      if (i > 0) this.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    this.status = Number(statusLine.split(' ')[1]);

    sock.on('data', (d) => this._onData(d));
    sock.once('close', () => this.frames.end(new Error('TCP connection closed')));
    if (this.buf.length) this._onData(Buffer.alloc(0));
    return this;
  }

  _onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (let guard = 0; guard < 100000; guard++) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const rsv = (b[0] >> 4) & 7;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      let lengthForm = 7;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
        lengthForm = 16;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
        lengthForm = 64;
      }
      let maskKey = null;
      if (masked) {
        if (b.length < off + 4) return;
        maskKey = b.subarray(off, off + 4);
        off += 4;
      }
      if (b.length < off + len) return;
      let payload = Buffer.from(b.subarray(off, off + len));
      if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i & 3];
      this.buf = b.subarray(off + len);
      this.frames.push({ fin, rsv, opcode, masked, payload, lengthForm });
    }
  }

  send(buf) {
    this.sock.write(buf);
  }

  /** Next frame, skipping Engine.IO ping text frames ("2") if asked. */
  async nextFrame(ms = 3000, { skipEioPings = true } = {}) {
    const deadline = Date.now() + ms;
    for (let i = 0; i < 100; i++) {
      const f = await this.frames.next(Math.max(1, deadline - Date.now()));
      if (skipEioPings && f.opcode === OP.text && f.fin && f.payload.toString() === PT.ping) continue;
      return f;
    }
    throw new Error('too many frames skipped');
  }

  /** Wait until the server closes the TCP connection. */
  waitTcpClose(ms = 3000) {
    return withTimeout(this.tcpClosed, ms, 'TCP close');
  }

  destroy() {
    if (this.sock) this.sock.destroy();
  }
}

/** Close code carried by a close frame payload (or null if empty). */
export function closeCode(frame) {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
}
