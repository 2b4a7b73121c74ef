// Compressed polling responses (engine.io's `httpCompression`: a response of 1024 bytes or more is compressed when the
// request's Accept-Encoding allows it), with raw HTTP clients that do and do not accept gzip, and the official client.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { Socket, Fetch, NodeXHR } from 'engine.io-client';
import { startServerFor, RawPolling, decodePayload, skipForReference, waitFor, closeClient } from './harness.mjs';

const BIG = 'x'.repeat(600) + 'é✓日本語🎉'.repeat(100);  // well over 1024 bytes of UTF-8
const SMALL = 'y'.repeat(200);

/** A session that has echoed `message` back; returns the GET that carries the echo, asked with `headers`. */
async function echoed(srv, message, headers) {
  const poll = new RawPolling(srv);
  await poll.handshake();
  assert.equal((await poll.post(`4${message}`)).body, 'ok');
  const res = await poll.get({ headers });
  assert.equal(res.status, 200);
  return res;
}

function bodyOf(res) {
  const enc = res.headers['content-encoding'];
  if (enc === 'gzip') return zlib.gunzipSync(res.raw).toString('utf8');
  if (enc === 'deflate') return zlib.inflateSync(res.raw).toString('utf8');
  assert.equal(enc, undefined, `unexpected Content-Encoding ${enc}`);
  return res.body;
}

describe('httpCompression (polling responses)', () => {
  test('a client that accepts gzip gets a large response gzipped, and it decodes to the payload', async (t) => {
    const srv = await startServerFor(t);
    const res = await echoed(srv, BIG, { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.ok(res.raw.length < Buffer.byteLength(BIG), `gzipped ${res.raw.length} bytes, plain ${Buffer.byteLength(BIG)}`);
    if (res.headers['content-length'] !== undefined) assert.equal(Number(res.headers['content-length']), res.raw.length);
    assert.match(res.headers['content-type'], /^text\/plain; charset=UTF-8/);
    assert.equal(bodyOf(res), `4${BIG}`);
  });

  test('a client that sends no Accept-Encoding gets it as it is', async (t) => {
    const srv = await startServerFor(t);
    const res = await echoed(srv, BIG, {});
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body, `4${BIG}`);
  });

  test('a client that accepts only br, or refuses gzip with q=0, gets it as it is (never br)', async (t) => {
    const srv = await startServerFor(t);
    for (const accept of ['br', 'gzip;q=0, br', 'identity', 'gzip;q=0, *;q=1, deflate;q=0']) {
      const res = await echoed(srv, BIG, { 'Accept-Encoding': accept });
      assert.equal(res.headers['content-encoding'], undefined, `Accept-Encoding: ${accept}`);
      assert.equal(res.body, `4${BIG}`, `Accept-Encoding: ${accept}`);
    }
  });

  test('"*" and q-values that still allow gzip get gzip', async (t) => {
    const srv = await startServerFor(t);
    for (const accept of ['*', 'GZIP', 'br;q=1, gzip;q=0.5', 'x-custom, gzip ;q=0.1']) {
      const res = await echoed(srv, BIG, { 'Accept-Encoding': accept });
      assert.equal(res.headers['content-encoding'], 'gzip', `Accept-Encoding: ${accept}`);
      assert.equal(bodyOf(res), `4${BIG}`, `Accept-Encoding: ${accept}`);
    }
  });

  test('a response under the threshold is not compressed', async (t) => {
    const srv = await startServerFor(t);
    const res = await echoed(srv, SMALL, { 'Accept-Encoding': 'gzip, br' });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body, `4${SMALL}`);
  });

  test('the handshake and the POST answer are never compressed, even for a client that accepts br', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    const { res } = await poll.handshake({ 'Accept-Encoding': 'br, gzip' });
    assert.equal(res.headers['content-encoding'], undefined);
    const post = await poll.post('4hi', { headers: { 'Accept-Encoding': 'br, gzip', 'Content-Type': 'text/plain' } });
    assert.equal(post.headers['content-encoding'], undefined);
    assert.equal(post.body, 'ok');
  });

  test('a threshold of our own, and httpCompression off', async (t) => {
    const low = await startServerFor(t, ['--http-compression', '100']);
    const res = await echoed(low, SMALL, { 'Accept-Encoding': 'gzip' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(bodyOf(res), `4${SMALL}`);
    const off = await startServerFor(t, ['--http-compression', 'off']);
    const plain = await echoed(off, BIG, { 'Accept-Encoding': 'gzip' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, `4${BIG}`);
  });

  test('several packets, binary among them, in one gzipped payload', async (t) => {
    const srv = await startServerFor(t);
    const poll = new RawPolling(srv);
    await poll.handshake();
    const bin = Buffer.alloc(900, 7).toString('base64');
    assert.equal((await poll.post(`4${BIG}\x1eb${bin}\x1e4end`)).body, 'ok');
    const got = [];
    for (let i = 0; i < 5 && got.length < 3; i++) {
      const res = await poll.get({ headers: { 'Accept-Encoding': 'gzip' } });
      for (const p of decodePayload(bodyOf(res))) if (p.type === '4' || p.type === 'b') got.push(p);
    }
    assert.equal(got.length, 3);
    assert.equal(got[0].data, BIG);
    assert.equal(got[2].data, 'end');
  });

  // Against the reference only: it picks deflate here, and this header writes gzip only (layer 2g).
  test('deflate for a client that prefers it', { skip: !skipForReference('') && 'sioserver sends gzip only' }, async (t) => {
    const srv = await startServerFor(t);
    const res = await echoed(srv, BIG, { 'Accept-Encoding': 'deflate' });
    assert.equal(res.headers['content-encoding'], 'deflate');
    assert.equal(bodyOf(res), `4${BIG}`);
  });

  // Node's fetch asks for gzip and decodes it; NodeXHR (xmlhttprequest-ssl) may not set Accept-Encoding at all.
  for (const [name, transport] of [['Fetch (accepts gzip)', Fetch], ['NodeXHR', NodeXHR]]) {
    test(`the official client, polling with ${name}, sends and receives large messages`, async (t) => {
      const srv = await startServerFor(t);
      const socket = new Socket(`http://${srv.host}:${srv.port}`, { path: srv.path, transports: [transport] });
      srv.defer(() => closeClient(socket));
      await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
      for (const message of [BIG, SMALL, BIG + BIG]) {
        const got = waitFor(socket, 'message', 5000, { failOn: ['close'] });
        socket.send(message);
        assert.equal((await got)[0], message);
      }
    });
  }
});
