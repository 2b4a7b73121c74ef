// Hardening: size limits and protocol violations on the Engine.IO server (build/engine_echo).
// Every test ends by checking that the server still serves a fresh engine.io-client.
//
// Against the npm reference server (ENGINE_ECHO=... ref_engine_echo.mjs) the /stats checks are left out.
//
// Already covered elsewhere (not repeated here): unmasked text frame → 1002 and invalid UTF-8 in a
// single text frame → 1007 (websocket_frames.test.mjs), fragmented message over the limit → 1009.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startServerFor, RawPolling, RawWsClient, buildFrame, OP, closeCode, assertSessionGone, PT, IS_REFERENCE,
  skipForReference,
} from './harness.mjs';
import {
  rawHttp, assertEngineServes, watchExit, waitStats, procStats, within,
} from './hardening_util.mjs';

const MAX_PAYLOAD = 1000;

/** Raw WebSocket session (no sid) with the open packet consumed. */
async function openRawWs(srv) {
  const c = new RawWsClient(srv);
  srv.defer(() => c.destroy());
  await c.connect();
  assert.equal(c.status, 101, `websocket handshake: ${c.statusLine}`);
  const open = await c.nextFrame(3000);
  assert.equal(open.opcode, OP.text);
  assert.equal(open.payload.toString()[0], PT.open, 'first frame is the open packet');
  return c;
}

/**
 * The server must answer with a close frame carrying one of `codes`, then close TCP.
 * Data frames the server sends before (none expected) fail the test with what they were.
 */
async function expectCloseFrame(c, codes, what) {
  let f;
  try {
    f = await c.nextFrame(3000);
  } catch (err) {
    assert.fail(`${what}: expected a close frame with code ${codes.join(' or ')}, got none (${err.message})`);
  }
  assert.equal(f.opcode, OP.close,
    `${what}: expected a close frame (code ${codes.join('/')}), got opcode ${f.opcode} ${JSON.stringify(f.payload.toString().slice(0, 60))}`);
  const code = closeCode(f);
  assert.ok(codes.includes(code), `${what}: close code ${code} (reason ${JSON.stringify(f.payload.subarray(2).toString())}), expected ${codes.join(' or ')}`);
  assert.equal(f.payload.subarray(2).toString(), '', `${what}: a frame-level error's close frame carries no reason (as ws)`);
  try {
    await c.waitTcpClose(3000);
  } catch {
    assert.fail(`${what}: the server sent close ${code} but did not close the TCP connection within 3 s`);
  }
  return code;
}

/** A frame header announcing a 64-bit payload length (masked), followed by `tail` bytes of payload. */
function frameHeader64(length, tail = 16) {
  const h = Buffer.alloc(14 + tail);
  h[0] = 0x80 | OP.text;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(length, 2);
  // mask key 0: the tail bytes are sent as is
  h.fill(0x61, 14);
  return h;
}

function assertAlive(life, srv) {
  assert.ok(!life.dead, `the server process died: ${JSON.stringify(life.exit)}; stderr: ${srv.stderr.slice(-2000)}`);
}

describe('limits: payload sizes (--max-payload 1000)', () => {
  test('polling POST over --max-payload: 413 and the session is kept (as engine.io)', async (t) => {
    const srv = await startServerFor(t, ['--max-payload', String(MAX_PAYLOAD)]);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const res = await poll.post(`4${'x'.repeat(MAX_PAYLOAD + 500)}`);
    assert.equal(res.status, 413, `POST of ${MAX_PAYLOAD + 501} bytes: status ${res.status} ${res.body}`);
    const ok = await poll.post('4still here');
    assert.equal(ok.status, 200, `POST after the 413: ${ok.status} ${ok.body}`);
    assert.equal((await poll.collect(1, 3000))[0].raw, '4still here');
    await assertEngineServes(srv);
  });

  test('WebSocket message over --max-payload: close 1009', async (t) => {
    const srv = await startServerFor(t, ['--max-payload', String(MAX_PAYLOAD)]);
    const c = await openRawWs(srv);
    c.send(buildFrame(OP.text, `4${'y'.repeat(MAX_PAYLOAD + 200)}`));
    await expectCloseFrame(c, [1009], 'text message of 1201 bytes');
    await assertEngineServes(srv);
  });

  for (const [label, length] of [
    ['2^63', 1n << 63n],
    ['2^64-1', (1n << 64n) - 1n],
    ['2^40 (MSB clear)', 1n << 40n],
  ]) {
    test(`WebSocket frame header claiming a 64-bit length of ${label}: close 1002/1009 and TCP closed, no allocation`, async (t) => {
      const srv = await startServerFor(t, ['--max-payload', String(MAX_PAYLOAD)]);
      const life = watchExit(srv);
      const before = procStats(srv.pid);
      const c = await openRawWs(srv);
      c.send(frameHeader64(length));
      await expectCloseFrame(c, [1002, 1009], `frame claiming ${label} bytes`);
      assertAlive(life, srv);
      const after = procStats(srv.pid);
      assert.ok(after.rssKb - before.rssKb < 64 * 1024,
        `RSS grew from ${before.rssKb} kB to ${after.rssKb} kB after a frame header claiming ${label} bytes`);
      await assertEngineServes(srv);
    });
  }
});

describe('limits: HTTP request size', () => {
  const handshakePath = (srv) => `${srv.path}?EIO=4&transport=polling`;

  /** The request must get a 4xx/5xx or have its connection closed; the server must live on. */
  function assertRefused(res, what) {
    if (res.status === null) {
      assert.ok(res.closed, `${what}: neither a response nor a close`);
      return;
    }
    assert.ok(res.status >= 400 && res.status < 600,
      `${what}: expected an HTTP error status (4xx/5xx) or the connection closed; got ${res.statusLine} ` +
      `with body ${JSON.stringify(res.body.toString().slice(0, 200))}`);
  }

  test('one request header of 100 KB: error status or connection closed', async (t) => {
    const srv = await startServerFor(t);
    const life = watchExit(srv);
    const req = `GET ${handshakePath(srv)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n` +
      'Connection: close\r\n\r\n';
    const res = await rawHttp(srv, req, { chunkWrite: true, ms: 5000 });
    assertRefused(res, 'a 100 KB header');
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });

  test('500 request headers (~55 KB header section): error status or connection closed', async (t) => {
    // Node's http server refuses a header section over 16 KB with 431; an unbounded header section
    // lets one request make the server hold any amount of memory.
    const srv = await startServerFor(t);
    const life = watchExit(srv);
    let headers = '';
    for (let i = 0; i < 500; i++) headers += `X-Header-${i}: ${'v'.repeat(96)}\r\n`;
    const req = `GET ${handshakePath(srv)} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;
    const res = await rawHttp(srv, req, { chunkWrite: true, ms: 5000 });
    assertRefused(res, `500 headers (${req.length} bytes of request head)`);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });

  test('16 MB of header lines in one request: refused without the server holding the memory', async (t) => {
    const srv = await startServerFor(t);
    const life = watchExit(srv);
    const before = procStats(srv.pid);
    const line = `X-Filler: ${'v'.repeat(1000)}\r\n`;
    const req = `GET ${handshakePath(srv)} HTTP/1.1\r\nHost: 127.0.0.1\r\n${line.repeat(16000)}Connection: close\r\n\r\n`;
    const res = await rawHttp(srv, req, { chunkWrite: true, ms: 10000 });
    assertRefused(res, `a ${(req.length / 1e6).toFixed(1)} MB request head`);
    const after = procStats(srv.pid);
    assert.ok(after.rssKb - before.rssKb < 8 * 1024,
      `the server's RSS grew from ${(before.rssKb / 1024).toFixed(1)} MB to ${(after.rssKb / 1024).toFixed(1)} MB ` +
      `while it was sent a ${(req.length / 1e6).toFixed(1)} MB request head (status ${res.status})`);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });

  // After refusing a request whose head it could not parse, the server no longer knows where that
  // request ends: it must not read the rest of the connection as further requests (HTTP desync /
  // request smuggling behind a proxy that accepts what this server refuses).
  for (const [label, head] of [
    ['header line over 8 KB (400)', (p) => `POST ${p}?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(9000)}\r\n`],
    ['URI over 8 KB (414)', (p) => `POST ${p}?EIO=4&transport=polling&pad=${'q'.repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n`],
    ['malformed request line (400)', () => 'GARBAGE\r\nHost: 127.0.0.1\r\n'],
  ]) {
    test(`a request refused for its head (${label}): its body is never run as another request`, async (t) => {
      const srv = await startServerFor(t);
      const life = watchExit(srv);
      const smuggled = 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
      const req = `${head(srv.path)}Content-Type: text/plain\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
      // read until the server closes, or until the smuggled request's answer shows up (bounded)
      const { text, closed } = await new Promise((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: srv.port });
        let buf = '';
        const finish = (c) => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ text: buf, closed: c });
        };
        const timer = setTimeout(() => finish(false), 3000);
        sock.on('error', () => {});
        sock.on('data', (d) => {
          buf += d.toString('latin1');
          if (buf.includes('"clients"')) finish(false);
        });
        sock.on('close', () => finish(true));
        sock.write(req);
      });
      const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      assert.ok(statuses.length >= 1 && statuses[0] >= 400,
        `the request with a ${label} should be refused; responses: ${JSON.stringify(statuses)}`);
      assert.ok(!text.includes('"clients"'),
        `HTTP desync: after refusing a request with a ${label} (status ${statuses[0]}), the server read the rest of ` +
        `the connection as new requests and ran the refused request's body "GET /stats" (answered 200 ` +
        `${JSON.stringify((/\{"clients".*\}/.exec(text) || [''])[0])}); all statuses on the connection: ` +
        `${JSON.stringify(statuses)}; connection closed by the server: ${closed}. Expected: close the connection ` +
        'after an unparseable request head.');
      assertAlive(life, srv);
      await assertEngineServes(srv);
    });
  }

  test('a query string of 100 KB: 414 (or 431) or connection closed', async (t) => {
    const srv = await startServerFor(t);
    const life = watchExit(srv);
    const req = `GET ${handshakePath(srv)}&pad=${'q'.repeat(100 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    const res = await rawHttp(srv, req, { chunkWrite: true, ms: 5000 });
    // 414 URI Too Long; Node's http server counts the request line in its header limit and answers 431
    if (res.status !== null) assert.ok([414, 431].includes(res.status), `100 KB query: ${res.statusLine}`);
    else assert.ok(res.closed);
    assertAlive(life, srv);
    await assertEngineServes(srv);
  });
});

describe('limits: WebSocket protocol violations (RFC 6455)', () => {
  const violations = [
    ['RSV1 bit set (no extension negotiated)', () => [buildFrame(OP.text, '4rsv1', { rsv: 4 })], [1002]],
    ['RSV2 bit set', () => [buildFrame(OP.text, '4rsv2', { rsv: 2 })], [1002]],
    ['RSV3 bit set', () => [buildFrame(OP.binary, Buffer.from([1, 2]), { rsv: 1 })], [1002]],
    ['reserved data opcode 3', () => [buildFrame(3, '4op3')], [1002]],
    ['reserved control opcode 0xB', () => [buildFrame(0xb, 'opB')], [1002]],
    ['ping with a 126-byte payload (control frame over 125)', () => [buildFrame(OP.ping, Buffer.alloc(126, 0x70))], [1002]],
    ['pong with a 200-byte payload', () => [buildFrame(OP.pong, Buffer.alloc(200, 0x70))], [1002]],
    ['fragmented ping (FIN clear on a control frame)', () => [buildFrame(OP.ping, 'frag', { fin: false })], [1002]],
    ['continuation frame without a started message', () => [buildFrame(OP.cont, '4orphan')], [1002]],
    ['new text frame while a fragmented message is open', () => [
      buildFrame(OP.text, '4first', { fin: false }), buildFrame(OP.text, '4second')], [1002]],
    ['unmasked ping frame from the client', () => [buildFrame(OP.ping, 'x', { mask: false })], [1002]],
    ['invalid UTF-8 split over fragments (bad continuation byte)', () => [
      buildFrame(OP.text, Buffer.from([0x34, 0xe2, 0x82]), { fin: false }),
      buildFrame(OP.cont, Buffer.from([0x41]), { fin: true })], [1007]],
    ['overlong UTF-8 encoding (C0 AF)', () => [buildFrame(OP.text, Buffer.from([0x34, 0xc0, 0xaf]))], [1007]],
    ['UTF-16 surrogate encoded in UTF-8 (ED A0 80)', () => [buildFrame(OP.text, Buffer.from([0x34, 0xed, 0xa0, 0x80]))], [1007]],
    ['code point over U+10FFFF (F4 90 80 80)', () => [buildFrame(OP.text, Buffer.from([0x34, 0xf4, 0x90, 0x80, 0x80]))], [1007]],
  ];

  for (const [label, frames, codes] of violations) {
    test(`${label}: close ${codes.join('/')}`, async (t) => {
      const srv = await startServerFor(t);
      const life = watchExit(srv);
      const c = await openRawWs(srv);
      c.send(Buffer.concat(frames()));
      await expectCloseFrame(c, codes, label);
      assertAlive(life, srv);
      if (!IS_REFERENCE) await waitStats(srv, (s) => s.clients === 0, 3000, 'the violating session to be removed (/stats clients 0)');
      await assertEngineServes(srv);
    });
  }
});

describe('limits: malformed Engine.IO packets', () => {
  for (const [label, body, skip] of [
    ['unknown packet type "9x"', '9x', false],
    ['binary packet with invalid base64 "b!!!"', 'b!!!', skipForReference('Node decodes invalid base64 leniently')],
    ['empty record between separators "4a\\x1e\\x1e4b"', '4a\x1e\x1e4b', false],
  ]) {
    test(`polling POST ${label}: the session is closed`, { skip }, async (t) => {
      const srv = await startServerFor(t);
      const life = watchExit(srv);
      const poll = new RawPolling(srv);
      await poll.handshake();
      await poll.post(body); // 400 here, "ok" from the reference: either way the session must be gone
      await assertSessionGone(poll, `session after POST ${JSON.stringify(body)}`);
      assertAlive(life, srv);
      await assertEngineServes(srv);
    });
  }

  for (const [label, text, skip] of [
    ['text frame "9" (unknown packet type)', '9', false],
    ['text frame "b!!!" (bad base64)', 'b!!!', skipForReference('Node decodes invalid base64 leniently')],
  ]) {
    test(`WebSocket ${label}: the session is closed`, { skip }, async (t) => {
      const srv = await startServerFor(t);
      const life = watchExit(srv);
      const c = await openRawWs(srv);
      c.send(buildFrame(OP.text, text));
      // a close frame (any code) and then TCP close, or TCP close straight away
      const seen = [];
      await within((async () => {
        for (let i = 0; i < 20; i++) {
          let f;
          try {
            f = await c.nextFrame(3000);
          } catch {
            return; // TCP closed
          }
          seen.push(f.opcode === OP.close ? `close(${closeCode(f)})` : `opcode ${f.opcode} ${f.payload.toString().slice(0, 40)}`);
          if (f.opcode === OP.close) {
            // answer like a client does (RFC 6455 §5.5.1); the server then closes TCP
            c.send(buildFrame(OP.close, f.payload.subarray(0, 2)));
            break;
          }
          if (f.opcode === OP.text && f.payload.toString() === `4${text}`) assert.fail(`malformed ${JSON.stringify(text)} was processed as a message`);
        }
        await c.waitTcpClose(3000);
      })(), 4000, `the server to close the websocket after ${JSON.stringify(text)}`).catch((err) => {
        assert.fail(`${err.message}; frames seen: ${seen.join(', ')}`);
      });
      if (!IS_REFERENCE) await waitStats(srv, (s) => s.clients === 0, 3000, 'the session to be removed (/stats clients 0)');
      assertAlive(life, srv);
      await assertEngineServes(srv);
    });
  }
});
