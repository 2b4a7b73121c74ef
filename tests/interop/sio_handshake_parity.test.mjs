// socket.handshake side by side: the server under test and npm socket.io 4.8 (ref_sio_server.mjs) get the same raw
// requests (a repeated query key, repeated headers, cookies in two lines) and must describe them the same way. Only
// what cannot match is normalized: the port in Host, and the instants in time and issued (their forms are compared).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSioFor } from './sio_harness.mjs';
import { startServerProcess } from './server_process.mjs';

const REFERENCE = 'node tests/interop/ref_sio_server.mjs';

// One raw HTTP request; `headers` may hold arrays (each value its own line).
function request(srv, method, query, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: srv.host, port: srv.port, method, path: `${srv.path}?${query}`, agent: false,
      headers: body === undefined ? headers
        : { ...headers, 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A Socket.IO session over raw polling whose handshake request carries `query` and `headers`; returns what the
// server's "handshake" event acknowledges (socket.handshake).
async function handshakeOf(srv, query, headers) {
  const open = await request(srv, 'GET', `EIO=4&transport=polling&${query}`, { headers });
  assert.equal(open.status, 200, open.body);
  const { sid } = JSON.parse(open.body.slice(1));
  const q = `EIO=4&transport=polling&sid=${sid}`;
  assert.equal((await request(srv, 'POST', q, { body: '40' })).status, 200);
  // Packets come in order: the CONNECT answer, then (after the event is posted) the ack.
  let got = '';
  for (let i = 0; i < 5 && !got.includes('40{'); i++) got += (await request(srv, 'GET', q)).body;
  assert.match(got, /40\{"sid"/);
  assert.equal((await request(srv, 'POST', q, { body: '421["handshake"]' })).status, 200);
  let ack = null;
  for (let i = 0; i < 10 && !ack; i++) {
    for (const p of (await request(srv, 'GET', q)).body.split('\x1e')) if (p.startsWith('431')) ack = p;
  }
  assert.ok(ack, 'the handshake event was acknowledged');
  await request(srv, 'POST', q, { body: '1' });
  return JSON.parse(ack.slice(3))[0];
}

// What may differ between two servers: the port (in Host), the instants. Their forms must still agree.
const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)$/;
function normalized(hs) {
  assert.match(hs.time, DATE, `time: ${hs.time}`);
  assert.equal(typeof hs.issued, 'number');
  assert.ok(Math.abs(hs.issued - Date.now()) < 60_000, `issued: ${hs.issued}`);
  const headers = { ...hs.headers, host: hs.headers.host?.replace(/:\d+$/, ':<port>') };
  return { ...hs, headers, time: '<time>', issued: '<issued>' };
}

describe('socket.handshake as Node writes it', () => {
  test('repeated query keys and headers, cookies, time: the same as npm socket.io 4.8', async (t) => {
    const ours = await startSioFor(t);
    const ref = await startServerProcess(REFERENCE);
    t.after(() => ref.stop());
    const query = 'room=a&room=b&name=x%20y&empty=';
    const headers = {
      'X-Trace': ['one', 'two', 'three'],
      Cookie: ['a=1', 'b=2'],
      'User-Agent': ['first-agent', 'second-agent'],
      Origin: 'http://example.test',
    };
    const [a, b] = [await handshakeOf(ours, query, headers), await handshakeOf(ref, query, headers)];
    // The explicit expectations first (a failure names the field), then everything.
    assert.equal(a.query.room, b.query.room, 'a repeated query key');
    assert.equal(a.headers['x-trace'], b.headers['x-trace'], 'a repeated header');
    assert.equal(a.headers.cookie, b.headers.cookie, 'cookies in two lines');
    assert.equal(a.headers['user-agent'], b.headers['user-agent'], 'a header that cannot repeat');
    assert.equal(a.time.replace(/\d\d:\d\d:\d\d/, '').slice(16), b.time.replace(/\d\d:\d\d:\d\d/, '').slice(16),
      `the zone part of time: ${a.time} / ${b.time}`);
    const [na, nb] = [normalized(a), normalized(b)];
    // Node's client-less raw request sends Connection: close; both got the same bytes, so the same headers.
    assert.deepEqual(na, { ...nb, url: nb.url }, 'the whole handshake');
  });
});
