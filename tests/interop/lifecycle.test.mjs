// Process-level behaviour of engine_echo: the stdout line, --path, and
// exiting on SIGTERM/SIGINT even with open connections.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServerFor, httpRequest, RawPolling, openWs, eioWsUrl, withTimeout,
} from './harness.mjs';

describe('process lifecycle', () => {
  test('prints exactly one "listening on" line with the real port', async (t) => {
    const srv = await startServerFor(t);
    assert.match(srv.line, /^listening on http:\/\/127\.0\.0\.1:\d+\/engine\.io\/$/);
    assert.ok(srv.port > 0 && srv.port < 65536);
    // the server is reachable on that port
    const res = await httpRequest(`${srv.url}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    await srv.stop();
    const lines = srv.stdout.split('\n').filter((l) => l.startsWith('listening on'));
    assert.equal(lines.length, 1, `stdout: ${JSON.stringify(srv.stdout)}`);
  });

  test('--path /custom/ serves Engine.IO there and not at /engine.io/', async (t) => {
    const srv = await startServerFor(t, ['--path', '/custom/']);
    assert.equal(srv.path, '/custom/');
    const res = await httpRequest(`http://${srv.host}:${srv.port}/custom/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.equal(res.body[0], '0');
    const other = await httpRequest(`http://${srv.host}:${srv.port}/engine.io/?EIO=4&transport=polling`);
    assert.ok(!(other.status === 200 && other.body.startsWith('0{')), 'default path must not be served');
  });

  // As Node's net.Server: the port is the server's alone (SO_REUSEADDR, not SO_REUSEPORT), and a new server can
  // take it at once after the old one closed its connections (which left them in TIME_WAIT on the server side).
  test('a restarted server binds its port at once; a second one on a taken port fails', async (t) => {
    const first = await startServerFor(t);
    const sock = openWs(eioWsUrl(first));
    first.defer(() => sock.ws.terminate());
    await withTimeout(sock.opened, 3000, 'websocket open');
    assert.equal((await sock.messages.next(3000)).data[0], '0');
    const poll = new RawPolling(first);
    await poll.handshake();  // its keep-alive connection is open when the server closes
    await assert.rejects(startServerFor(t, ['--port', String(first.port)]), /server exited early/,
      'a second server on a port in use must not start');
    process.kill(first.pid, 'SIGTERM');  // the server closes both connections first
    await withTimeout(first.exited, 3000, 'first server exit');
    await withTimeout(sock.closed, 3000, 'websocket closed by the exit');
    const again = await startServerFor(t, ['--port', String(first.port)]);
    assert.equal(again.port, first.port);
    const res = await httpRequest(`${again.url}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`exits on ${signal} promptly with an open websocket and a pending GET`, async (t) => {
      const srv = await startServerFor(t);
      const sock = openWs(eioWsUrl(srv));
      srv.defer(() => sock.ws.terminate());
      await withTimeout(sock.opened, 3000, 'websocket open');
      assert.equal((await sock.messages.next(3000)).data[0], '0');
      sock.ws.send('4ready');
      assert.equal((await sock.messages.next(3000)).data, '4ready');

      const poll = new RawPolling(srv);
      await poll.handshake();
      const pending = poll.get({ timeout: 5000 }).then((r) => r, (e) => e);

      const started = Date.now();
      process.kill(srv.pid, signal);
      const { code, signal: sig } = await withTimeout(srv.exited, 3000, `server exit after ${signal}`);
      assert.ok(code === 0 || sig === signal, `exit code ${code}, signal ${sig}`);
      assert.ok(Date.now() - started < 3000);
      await pending; // settles one way or the other once the process is gone
      await withTimeout(sock.closed, 3000, 'websocket closed by the exit');
    });
  }
});
