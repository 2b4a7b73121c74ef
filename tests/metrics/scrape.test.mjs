// sioserver_metrics.hpp with the real thing: `promtool check metrics` on what the server serves, and a real
// Prometheus (Debian's) that scrapes sio_test_server (--metrics /metrics) while official clients connect, emit,
// get refused by a middleware and leave; the values read back through Prometheus's HTTP API must be what the
// clients did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrometheus, promtoolCheck } from './prometheus.mjs';
import { startSioFor, connect, io, clientOptions, once, T } from '../interop/sio_harness.mjs';
import { httpRequest } from '../interop/harness.mjs';

// The single value of an instant query's result (a vector of one sample), or undefined.
const only = (result) => (result.length === 1 ? Number(result[0].value[1]) : undefined);

test('promtool finds nothing to say about the exposition, before and after traffic', async (t) => {
  const srv = await startSioFor(t, ['--metrics', '/metrics', '--event-rate', '100:100:10000']);
  const fresh = await httpRequest(`${srv.origin}/metrics`);
  assert.equal(fresh.status, 200);
  assert.match(fresh.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const clean = await promtoolCheck(fresh.body);
  assert.ok(clean.ok, clean.output);
  assert.equal(clean.output.trim(), '', `promtool's lint: ${clean.output}`);

  const c = await connect(t, srv, { transport: 'websocket' });
  await c.ack('echo-ack', 'x');
  const busy = await httpRequest(`${srv.origin}/metrics`);
  const checked = await promtoolCheck(busy.body);
  assert.ok(checked.ok && checked.output.trim() === '', checked.output);

  // The check can fail: a counter without _total, and a sample line with no value, are reported.
  const broken = await promtoolCheck(`${busy.body}# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n`);
  assert.ok(!broken.ok || broken.output.trim() !== '', 'promtool accepted a counter without _total');
});

test('a real Prometheus scrapes it while official clients come, emit and go, and reads back what they did',
  async (t) => {
    const srv = await startSioFor(t, ['--metrics', '/metrics']);
    const prom = await startPrometheus({ targets: [`127.0.0.1:${srv.port}`], metricsPath: '/metrics',
      scrapeInterval: '1s' });
    t.after(() => prom.stop());
    await prom.waitFor('up{job="sioserver"}', (r) => only(r) === 1, 20000);

    const ws = await connect(t, srv, { transport: 'websocket', label: 'ws' });
    const leaving = await connect(t, srv, { transport: 'websocket', label: 'leaving' });
    const polling = await connect(t, srv, { transport: 'polling', label: 'polling' });
    for (const c of [ws, leaving, polling]) for (let i = 0; i < 4; i++) await c.ack('echo-ack', i);
    const refused = io(srv.origin, { ...clientOptions(srv, 'websocket'), auth: { token: 'bad' } });
    t.after(() => refused.close());
    await once(refused, 'connect_error', T);
    refused.close();
    leaving.socket.disconnect();

    const expect = async (query, value) => {
      const r = await prom.waitFor(query, (res) => only(res) === value, 15000);
      assert.equal(only(r), value, query);
    };
    await expect('sioserver_sockets{namespace="/"}', 2);
    await expect('sioserver_engine_sessions{transport="websocket"}', 1);
    await expect('sioserver_engine_sessions{transport="polling"}', 1);
    await expect('sioserver_engine_handshakes_total', 4);
    await expect('sioserver_events_received_total', 12);
    await expect('sioserver_acks_sent_total', 12);
    await expect('sioserver_middleware_refusals_total', 1);
    await expect('sum(sioserver_engine_closes_total)', 2);
    await expect('sioserver_engine_connection_errors_total{code="3"}', 0);
    // Handlers ran (the connection handler, the acks, the middleware): the histograms saw them.
    const handled = await prom.waitFor('sioserver_handler_duration_seconds_count', (r) => only(r) >= 12, 15000);
    assert.ok(only(handled) >= 12);
    // The process: resident memory, and a start time within the last minute.
    const started = only(await prom.query('process_start_time_seconds'));
    assert.ok(Math.abs(started - Date.now() / 1000) < 60, `process_start_time_seconds ${started}`);
    assert.ok(only(await prom.query('process_resident_memory_bytes')) > 1e6);
    assert.ok(only(await prom.query('process_threads')) >= 3);
  });
