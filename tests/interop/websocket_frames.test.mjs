// WebSocket at the frame level (RFC 6455) with a raw TCP socket: the HTTP
// upgrade is done by hand and frames are built and parsed here.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServerFor, RawWsClient, buildFrame, OP, closeCode, expectedAccept,
} from './harness.mjs';

/** Connect, check the 101 response, and consume the Engine.IO open packet. */
async function connect(t, srv) {
  const c = new RawWsClient(srv);
  srv.defer(() => c.destroy());
  await c.connect();
  assert.equal(c.status, 101, `status line: ${c.statusLine}`);
  assert.equal(c.headers['upgrade']?.toLowerCase(), 'websocket');
  assert.match(c.headers['connection'] || '', /upgrade/i);
  assert.equal(c.headers['sec-websocket-accept'], expectedAccept(c.key));
  const open = await c.nextFrame(3000);
  assert.equal(open.opcode, OP.text);
  assert.equal(open.fin, true);
  assert.equal(open.masked, false, 'server frames must not be masked');
  const text = open.payload.toString('utf8');
  assert.equal(text[0], '0', `first frame must be the open packet, got ${text}`);
  assert.deepEqual(JSON.parse(text.slice(1)).upgrades, []);
  return c;
}

/** Next data frame (skips Engine.IO pings), asserting basic server-frame rules. */
async function nextData(c, ms = 3000) {
  const f = await c.nextFrame(ms);
  assert.equal(f.masked, false, 'server frames must not be masked');
  assert.equal(f.rsv, 0, 'no extension negotiated: RSV bits must be 0');
  return f;
}

// A frame-level error (1002, 1007, 1009): the code and an empty reason, as npm `ws` sends.
async function expectClose(c, code) {
  const f = await nextData(c);
  assert.equal(f.opcode, OP.close, `expected a close frame, got opcode ${f.opcode} ${f.payload.toString().slice(0, 60)}`);
  assert.equal(closeCode(f), code, `close code`);
  assert.equal(f.payload.subarray(2).toString(), '', 'the close frame carries no reason');
  await c.waitTcpClose(3000);
}

describe('websocket frames (raw TCP)', () => {
  test('handshake: 101, Sec-WebSocket-Accept, open packet; single-frame echo', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.text, '4single'));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.text);
    assert.equal(f.fin, true);
    assert.equal(f.payload.toString(), '4single');
  });

  test('text message fragmented into 3 frames is echoed as one message', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(Buffer.concat([
      buildFrame(OP.text, '4hello ', { fin: false }),
      buildFrame(OP.cont, 'fragmented ', { fin: false }),
      buildFrame(OP.cont, 'wörld', { fin: true }),
    ]));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.text);
    assert.equal(f.fin, true, 'echo should be a single frame');
    assert.equal(f.payload.toString('utf8'), '4hello fragmented wörld');
  });

  test('binary message fragmented into 3 frames is echoed as one binary message', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.binary, Buffer.from([1, 2]), { fin: false }));
    c.send(buildFrame(OP.cont, Buffer.from([3, 4]), { fin: false }));
    c.send(buildFrame(OP.cont, Buffer.from([5]), { fin: true }));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.binary);
    assert.deepEqual([...f.payload], [1, 2, 3, 4, 5]);
  });

  test('a multi-byte UTF-8 character split across fragments is accepted', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    const bytes = Buffer.from('4€uro', 'utf8'); // € = e2 82 ac
    c.send(buildFrame(OP.text, bytes.subarray(0, 2), { fin: false }));
    c.send(buildFrame(OP.cont, bytes.subarray(2, 3), { fin: false }));
    c.send(buildFrame(OP.cont, bytes.subarray(3), { fin: true }));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.text);
    assert.equal(f.payload.toString('utf8'), '4€uro');
  });

  test('ping between fragments gets a pong with the same payload; message still reassembled', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.text, '4ab', { fin: false }));
    c.send(buildFrame(OP.ping, 'ping-payload'));
    c.send(buildFrame(OP.cont, 'cd', { fin: false }));
    c.send(buildFrame(OP.cont, 'ef', { fin: true }));
    const frames = [await nextData(c), await nextData(c)];
    const pong = frames.find((f) => f.opcode === OP.pong);
    const text = frames.find((f) => f.opcode === OP.text);
    assert.ok(pong, `expected a pong, got opcodes ${frames.map((f) => f.opcode)}`);
    assert.equal(pong.payload.toString(), 'ping-payload');
    assert.ok(text, 'expected the echoed text message');
    assert.equal(text.payload.toString(), '4abcdef');
    assert.ok(frames.indexOf(pong) < frames.indexOf(text), 'pong must not wait for the end of the message');
  });

  test('standalone ping (empty and with payload) gets matching pongs', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.ping, Buffer.alloc(0)));
    c.send(buildFrame(OP.ping, Buffer.from([0, 255, 1])));
    const a = await nextData(c);
    const b = await nextData(c);
    assert.equal(a.opcode, OP.pong);
    assert.equal(a.payload.length, 0);
    assert.equal(b.opcode, OP.pong);
    assert.deepEqual([...b.payload], [0, 255, 1]);
  });

  test('frame delivered in small TCP chunks is parsed correctly', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.sock.setNoDelay(true);
    const frame = buildFrame(OP.text, `4${'chunked '.repeat(40)}`); // 16-bit length
    for (let i = 0; i < frame.length; i += 7) {
      await new Promise((resolve) => c.sock.write(frame.subarray(i, i + 7), resolve));
    }
    const f = await nextData(c);
    assert.equal(f.payload.toString(), `4${'chunked '.repeat(40)}`);
  });

  test('unmasked client frame: close frame with code 1002', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.text, '4unmasked', { mask: false }));
    await expectClose(c, 1002);
  });

  test('invalid UTF-8 in a text frame: close frame with code 1007', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.text, Buffer.from([0x34, 0x61, 0xff, 0xfe, 0x62])));
    await expectClose(c, 1007);
  });

  test('close frame from the client gets a close frame back, then TCP closes', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000);
    c.send(buildFrame(OP.close, Buffer.concat([payload, Buffer.from('bye')])));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.close);
    const code = closeCode(f);
    assert.ok(code === null || code === 1000, `close reply code ${code}`);
    await c.waitTcpClose(3000);
  });

  for (const fin of [false, true]) {
    test(`server-initiated close (heartbeat timeout): close reply${fin ? ' + FIN' : ''} from the client, then TCP closes`, async (t) => {
      const srv = await startServerFor(t, ['--ping-interval', '300', '--ping-timeout', '200']);
      const c = await connect(t, srv);
      // never answer the Engine.IO ping: the server closes the websocket
      let f;
      for (let i = 0; i < 10; i++) {
        f = await c.nextFrame(3000, { skipEioPings: true });
        if (f.opcode === OP.close) break;
      }
      assert.equal(f.opcode, OP.close, 'expected a close frame after the ping timeout');
      const code = closeCode(f);
      // reply like `ws` and browsers do: echo the close frame, then half-close
      const reply = Buffer.alloc(code === null ? 0 : 2);
      if (code !== null) reply.writeUInt16BE(code);
      c.send(buildFrame(OP.close, reply));
      if (fin) c.sock.end();
      await c.waitTcpClose(2000);
    });
  }

  test('300-byte message (16-bit length) echoes correctly', async (t) => {
    const srv = await startServerFor(t);
    const c = await connect(t, srv);
    const text = `4${'0123456789'.repeat(30)}`.slice(0, 300);
    c.send(buildFrame(OP.text, text));
    const f = await nextData(c);
    assert.equal(f.opcode, OP.text);
    assert.equal(f.lengthForm, 16, 'server must use the 16-bit length form for 300 bytes');
    assert.equal(f.payload.toString(), text);
  });

  test('70000-byte messages (64-bit length) echo correctly with --max-payload 100000', async (t) => {
    const srv = await startServerFor(t, ['--max-payload', '100000']);
    const c = await connect(t, srv);
    const text = `4${'abcdefghij'.repeat(7000)}`.slice(0, 70000);
    const bin = Buffer.alloc(70000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 31) & 0xff;
    c.send(buildFrame(OP.text, text));
    c.send(buildFrame(OP.binary, bin));
    const a = await nextData(c, 5000);
    assert.equal(a.opcode, OP.text);
    assert.equal(a.lengthForm, 64);
    assert.equal(a.payload.length, 70000);
    assert.equal(a.payload.toString(), text);
    const b = await nextData(c, 5000);
    assert.equal(b.opcode, OP.binary);
    assert.equal(b.lengthForm, 64);
    assert.ok(b.payload.equals(bin), 'binary payload differs');
  });

  test('message over the limit split into fragments: close 1009', async (t) => {
    const srv = await startServerFor(t, ['--max-payload', '1000']);
    const c = await connect(t, srv);
    c.send(buildFrame(OP.text, `4${'a'.repeat(599)}`, { fin: false }));
    c.send(buildFrame(OP.cont, 'b'.repeat(600), { fin: true }));
    await expectClose(c, 1009);
  });
});
