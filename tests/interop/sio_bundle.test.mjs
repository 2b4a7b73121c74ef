// serveClient: the server answers <path>socket.io.js (and .min.js, .map) from the socket.io-client package; when the
// bundle is missing it says so on its console and answers a clear 404 text, and goes on serving Socket.IO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSioFor, connect, eventually } from './sio_harness.mjs';

test('the bundle and its source map are served with the right types and caching headers', async (t) => {
  const srv = await startSioFor(t);
  const js = await fetch(`${srv.origin}/socket.io/socket.io.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^application\/javascript/);
  assert.match(js.headers.get('etag'), /^"[0-9a-f]{16}"$/);
  assert.match(await js.text(), /sourceMappingURL=socket\.io\.min\.js\.map/, 'the minified bundle');
  const map = await fetch(`${srv.origin}/socket.io/socket.io.min.js.map`);
  assert.equal(map.status, 200);
  assert.equal(JSON.parse(await map.text()).version, 3, 'a source map');
});

test('a missing bundle: a console message, a clear 404, and Socket.IO keeps working', async (t) => {
  const srv = await startSioFor(t, ['--client-dir', '/nonexistent/socket.io-client/dist']);
  const res = await fetch(`${srv.origin}/socket.io/socket.io.js`);
  assert.equal(res.status, 404);
  const text = await res.text();
  assert.match(text, /socket\.io client bundle not found: \/nonexistent\/socket\.io-client\/dist\/socket\.io\.min\.js/);
  // the console line and the response travel on different pipes: wait (bounded) for the line
  await eventually(() => /cannot serve the client bundle.*\/nonexistent\/socket\.io-client\/dist\/socket\.io\.min\.js/
    .test(srv.stderr), 3000, 'the console message about the missing bundle');
  const c = await connect(t, srv, { transport: 'websocket' });
  assert.deepEqual(await c.ack('echo-ack', 'still serving'), ['still serving']);
  assert.ok(srv.alive, 'the server is still running');
});
