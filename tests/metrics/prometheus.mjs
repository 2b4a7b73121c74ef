// Debian's Prometheus tools for the metrics tests: `promtool check metrics` on an exposition text, and a real
// Prometheus server (a child process in the foreground, in a fresh temporary directory, on a free loopback port)
// that scrapes the given loopback targets and answers instant queries through its HTTP API.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit } from '../interop/server_process.mjs';

const PROMETHEUS = process.env.PROMETHEUS || 'prometheus';
const PROMTOOL = process.env.PROMTOOL || 'promtool';
const STDERR_KEEP = 64 * 1024; // bytes of a child's stderr kept for error messages
const TAIL = 4000;

// A port that was free on 127.0.0.1 a moment ago (the kernel's pick).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// `promtool check metrics` with text on stdin: {ok: exit status 0, output: its stdout and stderr}. It exits non-zero
// on a text it cannot parse or on lint problems, and prints what it found.
export function promtoolCheck(text, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool check metrics: no exit within ${timeoutMs} ms; output: ${output}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, output, code, signal });
    });
    child.stdin.on('error', () => {}); // promtool may exit before reading all of it; the exit status says why
    child.stdin.end(text);
  });
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// fetch with a time bound.
async function get(url, timeoutMs = 5000) {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
}

// Starts Prometheus scraping `targets` (host:port strings, loopback) at metricsPath every scrapeInterval, under the
// job name jobName; resolves once /-/ready answers 200 (within readyTimeoutMs), or rejects with stderr's tail.
export async function startPrometheus({ targets, metricsPath = '/metrics', scrapeInterval = '1s', jobName = 'sioserver',
  readyTimeoutMs = 20000 } = {}) {
  if (!Array.isArray(targets) || targets.length === 0) throw new Error('startPrometheus: targets must be non-empty');
  const dir = mkdtempSync(join(tmpdir(), 'sio-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  // JSON is YAML: no quoting questions for the paths and targets.
  writeFileSync(config, JSON.stringify({
    global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval },
    scrape_configs: [{ job_name: jobName, metrics_path: metricsPath, scheme: 'http',
      static_configs: [{ targets }] }],
  }, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child); // killed (by PID) if this process exits with it still up
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  let exited = null; // {code, signal} once the child is gone
  const exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  let spawnError = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const tail = () => stderr.slice(-TAIL);
  const fail = (what) => new Error(`prometheus (${url}, pid ${child.pid}): ${what}\n--- prometheus stderr (tail):\n${tail()}`);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exited === null && spawnError === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // Readiness: /-/ready answers 200 once the TSDB is open and the config loaded.
  const deadline = Date.now() + readyTimeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (spawnError) {
      await stop();
      throw fail(`could not start: ${spawnError.message}`);
    }
    if (exited) {
      await stop();
      throw fail(`exited before ready (code ${exited.code}, signal ${exited.signal})`);
    }
    try {
      const res = await get(`${url}/-/ready`, 1000);
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastError = `/-/ready answered ${res.status}`;
    } catch (err) {
      lastError = err.message;
    }
    if (Date.now() >= deadline) {
      await stop();
      throw fail(`not ready within ${readyTimeoutMs} ms (last: ${lastError})`);
    }
    await delay(100);
  }

  // GET an API path: its `data`, or an error with the body and stderr's tail.
  const api = async (path) => {
    let res, body;
    try {
      res = await get(`${url}${path}`);
      body = await res.text();
    } catch (err) {
      throw fail(`GET ${path}: ${err.message}`);
    }
    let parsed;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw fail(`GET ${path}: ${res.status}, not JSON: ${body.slice(0, 500)}`);
    }
    if (res.status !== 200 || parsed.status !== 'success') {
      throw fail(`GET ${path}: ${res.status} ${parsed.errorType || ''} ${parsed.error || body.slice(0, 500)}`);
    }
    return parsed.data;
  };

  // An instant query: the result (for a vector expression, an array of {metric, value: [time, "string value"]}).
  const query = async (expr) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;

  // Polls query(expr) every intervalMs until predicate(result) is true, and returns that result; after timeoutMs,
  // throws with the last result (or the last error).
  const waitFor = async (expr, predicate, timeoutMs = 15000, intervalMs = 200) => {
    const until = Date.now() + timeoutMs;
    let last = 'no query answered';
    for (;;) {
      try {
        const result = await query(expr);
        if (predicate(result)) return result;
        last = JSON.stringify(result);
      } catch (err) {
        last = `error: ${err.message}`;
      }
      if (Date.now() >= until) {
        throw fail(`waitFor(${expr}): predicate not true within ${timeoutMs} ms; last result: ${last}`);
      }
      await delay(intervalMs);
    }
  };

  // The scrape targets (the data of /api/v1/targets: {activeTargets, droppedTargets}).
  const targetsInfo = () => api('/api/v1/targets');

  return { url, port, pid: child.pid, dir, query, waitFor, targets: targetsInfo, stop, stderr: tail };
}
