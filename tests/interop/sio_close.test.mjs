// io.close() called from inside the server — in an event handler (handlers serialized or not), in an
// acknowledgement's time-out callback (the timer thread in C++), in an HTTP route — returns there, as it does in
// Node: every session ends, and the program's main thread (wait() in C++, io.close()'s callback in Node) goes on,
// so the server process exits by itself with status 0. The server prints "close() returned ..." from where close()
// was called and "server closed" once the main thread is past it (see sio_test_server.cpp / ref_sio_server.mjs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { TRANSPORTS, T, startSioFor, connect, withTimeout, eventually, skipForReference } from './sio_harness.mjs';
import { RawWsClient, OP } from './harness.mjs';

const EXIT_MS = 5000;
// What a client reports when the server ends its connection (both servers give the same, by transport).
const GONE = ['transport close', 'transport error'];

/** The server process exits on its own (no signal from the test) with status 0, having printed `lines`. */
async function exitsByItself(srv, what, lines) {
  const exit = await withTimeout(srv.exited, EXIT_MS, `the server to exit by itself after ${what}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after ${what}; stderr: ${srv.stderr}`);
  for (const line of lines) {
    // 'exit' may come before the last stderr data is read: bounded wait for it
    await eventually(() => srv.stderr.includes(line), 1000, `"${line}" on the server's stderr (got: ${srv.stderr})`);
  }
}

function httpGet(srv, path) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  }), T, `GET ${path}`);
}

const other = (transport) => (transport === 'websocket' ? 'polling' : 'websocket');

for (const transport of TRANSPORTS) {
  describe(`Socket.IO io.close() from inside the server (${transport})`, () => {
    test('io.close() in an event handler returns; every session ends; wait() returns and the server exits', async (t) => {
      const srv = await startSioFor(t);
      const a = await connect(t, srv, { transport, label: 'closer' });
      const b = await connect(t, srv, { transport: other(transport), label: 'bystander' });
      a.socket.emit('close-server');
      const [reasonA, reasonB] = await Promise.all([a.waitDisconnect({ ms: T }), b.waitDisconnect({ ms: T })]);
      for (const reason of [reasonA, reasonB]) assert.ok(GONE.includes(reason), `disconnect reason ${reason}`);
      await exitsByItself(srv, 'io.close() in a handler', ['close() returned in a handler', 'server closed']);
    });

    test('io.close() in a handler with --serialize-handlers 0 returns too', async (t) => {
      const srv = await startSioFor(t, ['--serialize-handlers', '0']);
      const a = await connect(t, srv, { transport, label: 'closer' });
      const b = await connect(t, srv, { transport, label: 'bystander' });
      a.socket.emit('close-server');
      const reasons = await Promise.all([a.waitDisconnect({ ms: T }), b.waitDisconnect({ ms: T })]);
      for (const reason of reasons) assert.ok(GONE.includes(reason), `disconnect reason ${reason}`);
      await exitsByItself(srv, 'io.close() in a parallel handler', ['close() returned in a handler', 'server closed']);
    });
  });
}

describe('Socket.IO io.close() from inside the server (other threads)', () => {
  test('io.close() twice in a handler, then again by the stopper and the destructor: one shutdown, a clean exit', async (t) => {
    const srv = await startSioFor(t);
    const a = await connect(t, srv, { transport: 'websocket', label: 'closer' });
    a.socket.emit('close-server', 2);
    assert.ok(GONE.includes(await a.waitDisconnect({ ms: T })));
    await exitsByItself(srv, 'io.close() twice in a handler', ['close() returned in a handler', 'server closed']);
  });

  test('io.close() in an acknowledgement time-out callback returns; the server exits', async (t) => {
    const srv = await startSioFor(t);
    const a = await connect(t, srv, { transport: 'websocket', label: 'closer' });
    // the client has no listener for "never-answered": the ack times out after 100 ms on the server
    a.socket.emit('close-server-from-timer', 100);
    assert.ok(GONE.includes(await a.waitDisconnect({ ms: T })));
    await exitsByItself(srv, 'io.close() in an ack time-out callback',
      ['close() returned in an ack time-out (operation has timed out)', 'server closed']);
  });

  // The server hangs up on a WebSocket client that does not answer its close frame after a grace time, by a timer
  // (an idle WebSocket's thread sleeps in recv() with no time-out): a close() in a handler must leave the timers
  // running until the connections have ended. The first ping comes after the idle time-out (1 s, see
  // SIOSERVER_IDLE_STACK_TRIM_MS): once it is in, the raw connection's thread sleeps for good.
  test('io.close() in a handler: a WebSocket client that never answers the close frame is still hung up on; the server exits',
    { skip: skipForReference("ws waits 30 s (its closeTimeout) for the answer to a close frame") }, async (t) => {
      const srv = await startSioFor(t, ['--ping-interval', '1500', '--ping-timeout', '10000']);
      const raw = await new RawWsClient(srv).connect();
      t.after(() => raw.destroy());
      assert.equal(raw.status, 101);
      const open = await raw.nextFrame();
      assert.equal(open.payload.toString()[0], '0', 'the Engine.IO open packet');
      const ping = await raw.nextFrame(T, { skipEioPings: false });
      assert.equal(ping.payload.toString(), '2', 'the first ping (not answered)');
      const a = await connect(t, srv, { transport: 'websocket', label: 'closer' });
      a.socket.emit('close-server');
      let frame;
      do frame = await raw.nextFrame(T); while (frame.opcode !== OP.close);
      await raw.waitTcpClose(T);  // never answered: the server hangs up (after about a second)
      await exitsByItself(srv, 'io.close() in a handler with an unanswered close frame',
        ['close() returned in a handler', 'server closed']);
    });

  test('io.close() in an HTTP route returns: the route answers, the sessions end, the server exits', async (t) => {
    const srv = await startSioFor(t);
    const a = await connect(t, srv, { transport: 'polling', label: 'bystander' });
    const res = await httpGet(srv, '/close');
    assert.deepEqual(res, { status: 200, body: 'closing\n' });
    assert.ok(GONE.includes(await a.waitDisconnect({ ms: T })));
    await exitsByItself(srv, 'io.close() in an HTTP route', ['server closed']);
  });
});
