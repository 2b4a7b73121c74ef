// Helpers shared by the hardening suites (limits, abuse, security) and the soak script:
// reading the server process's resources from /proc, its /stats route, raw TCP HTTP exchanges
// (bytes exactly as written, no URL normalisation), bounded polling of a condition, and the
// "does the server still serve others?" round trips every abuse test ends with.

import fs from 'node:fs';
import net from 'node:net';
import { Socket as EioSocket } from 'engine.io-client';
import { io } from 'socket.io-client';

// ---------------------------------------------------------------------------
// Bounded waiting

/** Reject with `what` after `ms` unless `promise` settles first. */
export function within(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Poll the (async) `probe` until `accept(value)` holds; bounded in time (`ms`) and in the number of
 * probes. Resolves with the accepted value; rejects with the last value seen otherwise.
 */
export async function pollUntil(probe, accept, { ms = 5000, every = 25, what = 'condition', describe = JSON.stringify } = {}) {
  const deadline = Date.now() + ms;
  const maxProbes = Math.ceil(ms / every) + 10;
  let last;
  let lastErr;
  for (let i = 0; i < maxProbes; i++) {
    try {
      last = await probe();
      lastErr = undefined;
      if (accept(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(every, Math.max(1, deadline - Date.now()))));
  }
  const seen = lastErr ? `error ${lastErr.message}` : describe(last);
  throw new Error(`timeout after ${ms} ms waiting for ${what}; last seen: ${seen}`);
}

// ---------------------------------------------------------------------------
// The server process: /proc and /stats

/** {threads, rssKb, fds} of a process, from /proc/<pid>/status and /proc/<pid>/fd. */
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
    return m ? Number(m[1]) : NaN;
  };
  return { threads: field('Threads'), rssKb: field('VmRSS'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

export function formatProc(p) {
  return `threads=${p.threads} fds=${p.fds} rss=${(p.rssKb / 1024).toFixed(1)}MB`;
}

/**
 * Resource baseline of a freshly started (or idle) server: waits until /stats shows at most
 * `clients` sessions and no connection but the /stats one, and /proc gives the same thread and fd
 * counts on 3 readings in a row (a server may still be starting a helper thread right after its
 * "listening on" line).
 */
export async function quiescentBaseline(srv, { clients = 0, ms = 3000 } = {}) {
  await waitStats(srv, (s) => s.clients <= clients && s.connections <= 1, ms, 'an idle server for the baseline');
  let prev = null;
  let same = 0;
  return pollUntil(async () => {
    const p = procStats(srv.pid);
    same = prev && prev.threads === p.threads && prev.fds === p.fds ? same + 1 : 0;
    prev = p;
    return p;
  }, () => same >= 2, { ms, every: 30, what: 'stable thread/fd counts for the baseline', describe: formatProc });
}

/**
 * Wait (bounded) until the process's threads and fds are back within `slack` of `base`.
 * Returns the last figures; throws with before/after figures otherwise.
 */
export async function settleResources(pid, base, { slack = 2, ms = 5000, what = 'resources' } = {}) {
  return pollUntil(
    async () => procStats(pid),
    (p) => p.threads <= base.threads + slack && p.fds <= base.fds + slack,
    { ms, every: 50, what: `${what} back near the baseline (${formatProc(base)}, slack ${slack})`, describe: formatProc },
  );
}

/** GET /stats on a raw TCP connection → {clients, connections}. */
export async function getStats(srv, ms = 3000) {
  const res = await rawHttp(srv, `GET /stats HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: close\r\n\r\n`, { ms });
  if (res.status !== 200) throw new Error(`/stats answered ${res.status} ${res.body.toString().slice(0, 200)}`);
  return JSON.parse(res.body.toString('utf8'));
}

/** Wait until /stats satisfies `accept(stats)`. */
export function waitStats(srv, accept, ms = 5000, what = '/stats condition') {
  return pollUntil(() => getStats(srv), accept, { ms, every: 30, what });
}

/** Tracks whether a harness server process is still alive ({dead, exit}). */
export function watchExit(srv) {
  const state = { dead: false, exit: null };
  Promise.resolve(srv.exited).then((e) => {
    state.dead = true;
    state.exit = e;
  }, () => {});
  return state;
}

// ---------------------------------------------------------------------------
// Raw HTTP over TCP

/**
 * Write `data` (string or Buffer, sent as is) on a fresh TCP connection and read the first HTTP
 * response. Resolves with {status, statusLine, headers, body (Buffer), closed, reset, elapsed, extra}:
 * `status` is null when the server closed without answering; `closed` tells whether the server
 * closed the connection (within `closeWaitMs` after the response; 0 = do not wait for it).
 * Never rejects on connection errors (a reset is a legitimate way to refuse); rejects only when
 * neither a response nor a close came within `ms`.
 */
export function rawHttp(srv, data, { ms = 5000, closeWaitMs = 0, chunkWrite = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect({ host: srv.host || '127.0.0.1', port: srv.port });
    let buf = Buffer.alloc(0);
    let parsed = null;
    let done = false;
    let reset = false;
    let closeTimer = null;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(closeTimer);
      sock.destroy();
      const r = parsed || { status: null, statusLine: null, headers: {}, body: Buffer.alloc(0) };
      resolve({ ...r, closed, reset, elapsed: Date.now() - t0, raw: buf });
    };
    const timer = setTimeout(() => {
      if (parsed) finish(false);
      else {
        done = true;
        sock.destroy();
        reject(new Error(`no HTTP response and no close within ${ms} ms; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
      }
    }, ms);
    sock.on('error', (err) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
    });
    sock.on('close', () => finish(true));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (parsed) return;
      parsed = parseResponse(buf);
      if (parsed) {
        if (closeWaitMs > 0) closeTimer = setTimeout(() => finish(false), closeWaitMs);
        else finish(false);
      }
    });
    sock.once('connect', () => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
      if (!chunkWrite) {
        sock.write(bytes, () => {});
        return;
      }
      // large requests: write in chunks, stop as soon as the server answered or hung up
      let off = 0;
      const pump = () => {
        for (let i = 0; i < 100000 && off < bytes.length && !done && !parsed; i++) {
          const chunk = bytes.subarray(off, off + 16384);
          off += chunk.length;
          if (!sock.write(chunk, () => {})) {
            sock.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

/** Parse one complete HTTP/1.1 response at the start of `buf` (Content-Length or no body); null if incomplete. */
export function parseResponse(buf) {
  const idx = buf.indexOf('\r\n\r\n');
  if (idx < 0) return null;
  const head = buf.subarray(0, idx).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(statusLine.split(' ')[1]);
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : 0;
  if (headers['transfer-encoding']) {
    // chunked: decode enough to get the whole body (only used for small error bodies)
    let off = idx + 4;
    const parts = [];
    for (let i = 0; i < 10000; i++) {
      const e = buf.indexOf('\r\n', off);
      if (e < 0) return null;
      const size = parseInt(buf.subarray(off, e).toString('latin1'), 16);
      if (Number.isNaN(size)) return null;
      if (size === 0) return { status, statusLine, headers, body: Buffer.concat(parts) };
      if (buf.length < e + 2 + size + 2) return null;
      parts.push(buf.subarray(e + 2, e + 2 + size));
      off = e + 2 + size + 2;
    }
    return null;
  }
  if (buf.length < idx + 4 + len) return null;
  return { status, statusLine, headers, body: Buffer.from(buf.subarray(idx + 4, idx + 4 + len)) };
}

// ---------------------------------------------------------------------------
// "The server still serves others"

/**
 * A fresh engine.io-client (polling, upgraded to websocket when possible) opens a session on an
 * Engine.IO echo server and gets one text and one binary message echoed. Throws with details otherwise.
 */
export async function assertEngineServes(srv, { ms = 5000, label = 'fresh engine.io-client', clientOpts = {} } = {}) {
  const socket = new EioSocket(`http://127.0.0.1:${srv.port}`, { path: srv.path, reconnection: false, ...clientOpts });
  const events = [];
  try {
    await within(new Promise((resolve, reject) => {
      const text = `still-serving-${Date.now()}`;
      const bin = Buffer.from([0, 1, 254, 255]);
      let gotText = false;
      let gotBin = false;
      socket.on('open', () => {
        events.push('open');
        socket.send(text);
        socket.send(bin);
      });
      socket.on('message', (m) => {
        if (m === text) gotText = true;
        else if (Buffer.isBuffer(m) && m.equals(bin)) gotBin = true;
        else events.push(`unexpected message ${JSON.stringify(String(m)).slice(0, 80)}`);
        if (gotText && gotBin) resolve();
      });
      socket.on('error', (e) => events.push(`error ${e && e.message}`));
      socket.on('close', (reason, desc) => {
        events.push(`close ${reason}`);
        reject(new Error(`closed (${reason}${desc && desc.message ? `: ${desc.message}` : ''})`));
      });
    }), ms, 'the echo round trip');
  } catch (err) {
    throw new Error(`${label}: the server no longer serves a new client: ${err.message}; events: ${events.join(', ')}`);
  } finally {
    const ws = socket.transport && socket.transport.ws;
    socket.close();
    if (ws && typeof ws.terminate === 'function') ws.terminate();
  }
}

/**
 * A fresh socket.io-client connects to a sio_test_server (main namespace) and gets an "echo-ack"
 * answered. Throws with details otherwise.
 */
export async function assertSioServes(srv, { ms = 5000, transport = null, label = 'fresh socket.io-client' } = {}) {
  const opts = { path: srv.path, forceNew: true, reconnection: false, timeout: ms };
  if (transport) opts.transports = [transport];
  const socket = io(`http://127.0.0.1:${srv.port}/`, opts);
  try {
    const answer = await within(new Promise((resolve, reject) => {
      socket.on('connect_error', (e) => reject(new Error(`connect_error ${e.message}`)));
      socket.on('connect', () => {
        socket.timeout(ms).emit('echo-ack', 'serving?', (err, ...res) => (err ? reject(err) : resolve(res)));
      });
    }), ms, 'connect + echo-ack');
    if (JSON.stringify(answer) !== JSON.stringify(['serving?'])) throw new Error(`echo-ack answered ${JSON.stringify(answer)}`);
  } catch (err) {
    throw new Error(`${label}: the server no longer serves a new client: ${err.message}`);
  } finally {
    const ws = socket.io.engine && socket.io.engine.transport && socket.io.engine.transport.ws;
    socket.disconnect();
    if (ws && typeof ws.terminate === 'function') ws.terminate();
  }
}
