// The metrics tests' own harness (prometheus.mjs) against a hand-written exposition: promtool accepts a clean text
// and reports bad ones, and a real Prometheus scrapes a tiny node server and reads back the counter it serves, then
// the new value after the test changes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startPrometheus, promtoolCheck } from './prometheus.mjs';

const exposition = (value) =>
  '# HELP harness_events_total Events the harness test counted.\n' +
  '# TYPE harness_events_total counter\n' +
  `harness_events_total{kind="test"} ${value}\n`;

test('promtool accepts a clean exposition and reports a counter without _total and a line without a value',
  async () => {
    const good = await promtoolCheck(exposition(3));
    assert.ok(good.ok, good.output);
    assert.equal(good.output.trim(), '');

    const unsuffixed = await promtoolCheck('# HELP harness_events x\n# TYPE harness_events counter\nharness_events 1\n');
    assert.ok(!unsuffixed.ok, `promtool accepted a counter without _total: ${unsuffixed.output}`);
    assert.match(unsuffixed.output, /_total/);

    const malformed = await promtoolCheck(`${exposition(3)}harness_broken_total\n`);
    assert.ok(!malformed.ok, `promtool accepted a sample line without a value: ${malformed.output}`);
    assert.match(malformed.output, /parsing error/);
  });

test('Prometheus scrapes a node server and sees its counter change', async (t) => {
  let value = 7;
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/custom-metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(exposition(value));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  t.after(() => {
    server.closeAllConnections(); // Prometheus keeps its scrape connection open
    return new Promise((resolve) => server.close(resolve));
  });
  const target = `127.0.0.1:${server.address().port}`;

  const prom = await startPrometheus({ targets: [target], metricsPath: '/custom-metrics', scrapeInterval: '1s',
    jobName: 'harness' });
  t.after(() => prom.stop());
  assert.match(prom.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const one = (r) => (r.length === 1 ? Number(r[0].value[1]) : undefined);
  await prom.waitFor(`up{job="harness",instance="${target}"}`, (r) => one(r) === 1, 20000);
  const targets = await prom.targets();
  const active = targets.activeTargets.filter((a) => a.labels.instance === target);
  assert.equal(active.length, 1, JSON.stringify(targets));
  assert.equal(active[0].health, 'up');
  assert.equal(active[0].scrapeUrl, `http://${target}/custom-metrics`);

  const seen = await prom.waitFor('harness_events_total{kind="test"}', (r) => one(r) === 7, 15000);
  assert.equal(one(seen), 7);
  assert.equal(seen[0].metric.job, 'harness');
  assert.ok(scrapes >= 1);

  value = 42;
  const changed = await prom.waitFor('harness_events_total{kind="test"}', (r) => one(r) === 42, 15000);
  assert.equal(one(changed), 42);

  // waitFor gives up with the last result when the predicate never holds.
  await assert.rejects(prom.waitFor('harness_events_total', (r) => one(r) === -1, 1000),
    /predicate not true within 1000 ms; last result: .*"42"/s);
});
