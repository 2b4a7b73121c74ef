// `make run EXAMPLE=chatroom` exposes the metrics: the example serves /metrics on its own port, promtool finds it
// clean, and it counts what an official client does there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { startExample } from '../browser/browser.mjs';
import { promtoolCheck } from './prometheus.mjs';
import { httpRequest } from '../interop/harness.mjs';
import { once, T } from '../interop/sio_harness.mjs';

test('the chat room serves /metrics: clean for promtool, counting a login and a message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sioserver-chatroom-metrics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = await startExample(t, 'chatroom', { CHATROOM_DB: join(dir, 'chat.db') });
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  t.after(() => socket.close());
  await once(socket, 'connect', T);
  const login = await socket.timeout(T).emitWithAck('login', { nick: 'metrics', room: 'lobby' });
  assert.equal(login.ok, true, JSON.stringify(login));
  const sent = await socket.timeout(T).emitWithAck('chat message', 'counted');
  assert.equal(sent.ok, true, JSON.stringify(sent));

  const res = await httpRequest(`${url}/metrics`);
  assert.equal(res.status, 200);
  const check = await promtoolCheck(res.body);
  assert.ok(check.ok && check.output.trim() === '', check.output);
  const value = (series) => {
    const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  assert.equal(value('sioserver_sockets{namespace="/"}'), 1);
  assert.equal(value('sioserver_events_received_total'), 2);
  assert.equal(value('sioserver_acks_sent_total'), 2);
});
