// TLS (opt.tls): https and wss with the official socket.io-client 4.8, which trusts a test CA made here with
// openssl (verification stays on); a client that sends garbage instead of a ClientHello and one that stalls its
// handshake are each dropped (the stall by headersTimeout) while another TLS client goes on chatting.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startSio, connect, connectMany, emitAck, once, withTimeout, eventually, sync, closeSocket, io, T,
  IS_REFERENCE } from './sio_harness.mjs';

const SKIP = IS_REFERENCE ? 'the reference server under test serves plain http' : false;
// A server built without OpenSSL (the upstream single headers of test-compat, without CPPHTTPLIB_OPENSSL_SUPPORT)
// refuses opt.tls at start with this line; the tests then check that line and skip the rest.
const NO_OPENSSL = '[sio] TLS: this program was built without OpenSSL';

// A CA, and a certificate for 127.0.0.1 that it signed, in a temp dir (removed when the file's tests end).
function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-tls-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sioserver test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  return {
    dir,
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server.key'),
    ca: fs.readFileSync(path.join(dir, 'ca.pem')),
  };
}

// GET a route of the test server over https, trusting the test CA.
function httpsJson(srv, ca, route) {
  return withTimeout(new Promise((resolve, reject) => {
    https.get(`${srv.origin}${route}`, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  }), T, `GET ${route}`);
}

// A raw TCP connection to the server; `closed` resolves (with ms since it opened) when the server hangs up.
function rawConnection(srv) {
  const socket = net.connect(srv.port, '127.0.0.1');
  const opened = Date.now();
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  const connected = once(socket, 'connect', T);
  return { socket, closed, connected };
}

describe('TLS: https and wss (opt.tls)', { skip: SKIP }, () => {
  let certs;
  let srv;
  let noTls = false;  // why the TLS tests skip: the server under test has no TLS code
  const HEADERS_TIMEOUT = 1000;

  before(async () => {
    certs = makeCertificates();
    try {
      srv = await startSio(['--tls-cert', certs.cert, '--tls-key', certs.key, '--headers-timeout', HEADERS_TIMEOUT]);
    } catch (err) {
      if (!err.message.includes(NO_OPENSSL)) throw err;
      noTls = 'the server under test was built without OpenSSL';
    }
  });
  after(async () => {
    if (srv) await srv.stop();
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  const modes = [
    { name: 'https long-polling only', transport: 'polling', expect: 'polling' },
    { name: 'wss WebSocket only', transport: 'websocket', expect: 'websocket' },
    { name: 'https polling upgraded to wss', transport: null, expect: 'websocket' },
  ];
  for (const mode of modes) {
    test(`${mode.name}: events, acks, binary and a broadcast`, async (t) => {
      if (noTls) return t.skip(noTls);
      assert.match(srv.origin, /^https:/);
      const extra = { ca: certs.ca };
      const [a, b] = await connectMany(t, srv, 2, { transport: mode.transport, extra, label: mode.name });
      for (const c of [a, b]) {
        const engine = c.socket.io.engine;
        if (mode.expect === 'websocket' && engine.transport.name !== 'websocket') await once(engine, 'upgrade', T);
        assert.equal(engine.transport.name, mode.expect);
      }

      // socket.handshake.secure, as the server reports it: true over https and wss, as Node sets it
      const [hs] = await a.ack('handshake');
      assert.equal(hs.secure, true, `handshake.secure over ${mode.name}`);

      // an event and its echo
      a.socket.emit('echo', 'hello over TLS', { n: 1 });
      const echo = await a.waitEvent('echo');
      assert.deepEqual(echo, ['hello over TLS', { n: 1 }]);

      // an ack with binary both ways, larger than one TLS record (16 KiB)
      const blob = Buffer.alloc(100_000);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
      const [bin, text] = await emitAck(a.socket, 'echo-ack', blob, 'x'.repeat(40_000));
      assert.ok(Buffer.isBuffer(bin) && bin.equals(blob), 'the binary attachment came back intact');
      assert.equal(text, 'x'.repeat(40_000));

      // a broadcast from a to b
      await emitAck(a.socket, 'broadcast', 'news', 'for b', Buffer.from([1, 2, 3]));
      const news = await b.waitEvent('news');
      assert.equal(news[0], 'for b');
      assert.deepEqual([...news[1]], [1, 2, 3]);
      assert.equal(a.received('news').length, 0, 'a broadcast leaves out its sender');
    });
  }

  test('wss to a client that stops reading: the backlog waits, then drains through the same TLS session', async (t) => {
    if (noTls) return t.skip(noTls);
    const extra = { ca: certs.ca };
    const a = await connect(t, srv, { transport: 'websocket', extra, label: 'sender' });
    const b = await connect(t, srv, { transport: 'websocket', extra, label: 'slow reader' });
    await b.ack('join', 'slow');
    const tcp = b.socket.io.engine.transport.ws._socket;  // ws's TLSSocket
    assert.ok(tcp && typeof tcp.pause === 'function', 'the client WebSocket has its TLS socket');
    tcp.pause();
    const BIG = 12;
    const chunk = (i) => String.fromCharCode(97 + i).repeat(512 * 1024);
    for (let i = 0; i < BIG; i++) await a.ack('to', 'slow', 'big', i, chunk(i));  // ~6 MB waits for b
    // and 2000 more from a server thread of its own (not a handler), while the backlog is still there
    const TICKS = 2000;
    const [count] = await withTimeout(a.ack('ticker', 'slow', TICKS), 4 * T, 'the ticker thread');
    assert.equal(count, TICKS);
    assert.equal(b.received('big').length, 0, 'nothing was read while paused');
    tcp.resume();
    await b.until(() => b.received('big').length === BIG && b.received('tick').length === TICKS, 6 * T,
      'the backlog to drain');
    b.received('big').forEach(([i, data], k) => {
      assert.equal(i, k, 'in order');
      assert.ok(data === chunk(k), `message ${k} intact`);
    });
    assert.deepEqual(b.received('tick').map(([n]) => n), Array.from({ length: TICKS }, (_, i) => i));
  });

  test('a client that does not trust the certificate cannot connect (verification is on)', async (t) => {
    if (noTls) return t.skip(noTls);
    for (const transport of ['polling', 'websocket']) {
      const socket = io(srv.origin, { path: srv.path, forceNew: true, reconnection: false, timeout: T, transports: [transport] });
      t.after(() => closeSocket(socket));
      const [err] = await once(socket, 'connect_error', T, { failOn: ['connect'] });
      assert.ok(err instanceof Error, `${transport}: refused (${err.message})`);
    }
  });

  test('garbage instead of a ClientHello: that connection is dropped, a TLS client goes on', async (t) => {
    if (noTls) return t.skip(noTls);
    const chat = await connect(t, srv, { transport: 'websocket', extra: { ca: certs.ca } });
    const raw = rawConnection(srv);
    t.after(() => raw.socket.destroy());
    await raw.connected;
    raw.socket.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
    raw.socket.write(Buffer.alloc(4096, 0x5a));
    const ms = await withTimeout(raw.closed, T, 'the server to drop the garbage connection');
    assert.ok(ms < HEADERS_TIMEOUT, `dropped at once (${ms} ms), not by the headers time-out`);
    await sync(chat);
    const [back] = await chat.ack('echo-ack', 'still here');
    assert.equal(back, 'still here');
  });

  test('a handshake that stalls is dropped by headersTimeout while a TLS client keeps chatting', async (t) => {
    if (noTls) return t.skip(noTls);
    const chat = await connect(t, srv, { transport: 'websocket', extra: { ca: certs.ca } });
    const silent = rawConnection(srv);  // opens TCP and never says a word
    const partial = rawConnection(srv);  // the first bytes of a TLS record, then nothing
    t.after(() => { silent.socket.destroy(); partial.socket.destroy(); });
    await Promise.all([silent.connected, partial.connected]);
    partial.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const stats = await eventually(async () => {
      const s = await httpsJson(srv, certs.ca, '/stats');
      return s.connections >= 3 ? s : null;  // the two stalled ones, the chat's WebSocket (and this GET)
    }, T, 'the stalled connections to be open');
    assert.ok(stats.connections >= 3);
    // While both stall, the chat goes on: round trips within a fraction of the time-out.
    let rounds = 0;
    const started = Date.now();
    while (Date.now() - started < HEADERS_TIMEOUT / 2 && rounds < 50) {
      const t0 = Date.now();
      const [back] = await chat.ack('echo-ack', rounds);
      assert.equal(back, rounds);
      assert.ok(Date.now() - t0 < HEADERS_TIMEOUT / 2, 'a round trip is not held up by the stalled handshakes');
      rounds++;
    }
    assert.ok(rounds > 0);
    const [silentMs, partialMs] = await withTimeout(Promise.all([silent.closed, partial.closed]),
      HEADERS_TIMEOUT + T, 'the stalled handshakes to be dropped');
    for (const ms of [silentMs, partialMs]) {
      assert.ok(ms >= HEADERS_TIMEOUT - 100 && ms < HEADERS_TIMEOUT + 1500,
        `dropped after ${ms} ms (headersTimeout ${HEADERS_TIMEOUT} ms)`);
    }
    const [back] = await chat.ack('echo-ack', 'after');
    assert.equal(back, 'after');
  });
});

describe('TLS: a certificate or key that cannot be used fails at start', { skip: SKIP }, () => {
  test('a missing certificate file: start() fails with one line on stderr', async () => {
    const missing = path.join(os.tmpdir(), `sio-no-such-${process.pid}.pem`);
    await assert.rejects(startSio(['--tls-cert', missing, '--tls-key', missing]),
      (err) => /server exited early \(code 1/.test(err.message) &&
        (err.message.includes(`[sio] TLS: cannot load the certificate ${missing}`) || err.message.includes(NO_OPENSSL)));
  });

  test('a key that does not belong to the certificate: start() fails', async () => {
    const a = makeCertificates();
    const b = makeCertificates();
    try {
      await assert.rejects(startSio(['--tls-cert', a.cert, '--tls-key', b.key]),
        (err) => /server exited early \(code 1/.test(err.message) && err.message.includes('[sio] TLS: '));
    } finally {
      fs.rmSync(a.dir, { recursive: true, force: true });
      fs.rmSync(b.dir, { recursive: true, force: true });
    }
  });
});
