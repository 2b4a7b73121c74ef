// `make cluster` in a real browser: examples/cluster/cluster.sh on free ports (Redis, the sioserver nodes cpp-1 and
// cpp-2, the Node node node-1, and nginx or HAProxy from the templates), one page through the balancer and one on
// each other node's own port. A message typed on any page shows once on every page: it crossed nodes through Redis,
// C++ to C++, C++ to Node and Node to C++. Long-polling only through the balancer works only if it is sticky (nginx
// by address, HAProxy by the io cookie). Ctrl-C (SIGINT to the script) stops every process and frees every port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, SHOTS, controlTransports, waitForTransport } from './browser.mjs';

const NODES = ['cpp-1', 'cpp-2', 'node-1'];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portRefuses(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

// Runs the cluster script in a process group of its own; resolves once it printed "cluster ready".
async function startCluster(t, balancer) {
  const ports = { balancer: await freePort(), redis: await freePort(), nodes: [] };
  for (let i = 0; i < NODES.length; i++) ports.nodes.push(await freePort());
  const child = spawn('bash', ['examples/cluster/cluster.sh', join(ROOT, 'build', 'chat_node')], {
    cwd: ROOT,
    detached: true,  // its own process group: the last resort below ends the script and what it started, only
    env: {
      ...process.env, PORT: String(ports.balancer), REDIS_PORT: String(ports.redis),
      NODE_PORTS: ports.nodes.join(' '), BALANCER: balancer, LISTEN_HOST: '127.0.0.1',
    },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const cluster = { ports, output: () => out, exited, child };
  cluster.stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGINT');  // what Ctrl-C sends: the script stops what it started, by PID
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, 15000, 'late'); });
    if (await Promise.race([exited, late]) === 'late') {
      process.kill(-child.pid, 'SIGKILL');
      await exited;
      throw new Error(`the cluster script did not stop within 15 s:\n${out}`);
    }
    clearTimeout(timer);
    return exited;
  };
  t.after(() => cluster.stop().catch(() => {}));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "cluster ready" within 60 s:\n${out}`)), 60000);
    const check = () => {
      if (out.includes('cluster ready')) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', check);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`the script exited (${code}):\n${out}`)); });
  });
  return cluster;
}

// Each page in a browser context of its own: its own cookies, like a browser of its own (with one cookie jar, a
// node's io cookie for 127.0.0.1 would replace HAProxy's).
async function launch(t) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  return browser;
}

async function openPage(browser, url, transports) {
  const context = await browser.newContext({ viewport: { width: 700, height: 400 } });
  await controlTransports(context, transports);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

// 'served by X' and, once its socket is connected, 'connected to Y'.
async function nodesOf(page) {
  await page.waitForFunction(() => document.getElementById('socket-node').textContent !== '', null,
    { timeout: 10000 });
  const text = await page.locator('#node').textContent();
  const m = text.match(/^served by (\S+), connected to (\S+)$/);
  assert.ok(m, `banner: ${text}`);
  return { served: m[1], socket: m[2] };
}

for (const balancer of ['nginx', 'haproxy']) {
  for (const mode of ['websocket', 'polling']) {
    test(`make cluster (${balancer}, ${mode}): pages on three nodes chat through Redis`, async (t) => {
      const cluster = await startCluster(t, balancer);
      const browser = await launch(t);
      const transports = mode === 'polling' ? ['polling'] : null;

      const front = await openPage(browser, `http://127.0.0.1:${cluster.ports.balancer}/`, transports);
      await waitForTransport(front, mode);  // polling: every request of the session reached one node
      const { served, socket } = await nodesOf(front);
      assert.ok(NODES.includes(socket), socket);
      // nginx hashes the address: the page and its socket come from one address, so from one node
      if (balancer === 'nginx') assert.equal(served, socket, 'page and socket on one node');

      const pages = [{ node: socket, page: front }];
      for (const [i, node] of NODES.entries()) {
        if (node === socket) continue;
        const page = await openPage(browser, `http://127.0.0.1:${cluster.ports.nodes[i]}/`, transports);
        await waitForTransport(page, mode);
        assert.deepEqual(await nodesOf(page), { served: node, socket: node });
        pages.push({ node, page });
      }
      assert.deepEqual(pages.map((p) => p.node).sort(), [...NODES].sort(), 'one page per node');

      const sent = [];
      for (const { node, page } of pages) {
        const text = `hello from a page on ${node} (${balancer}, ${mode})`;
        sent.push(text);
        await page.fill('#input', text);
        await page.press('#input', 'Enter');
        for (const other of pages) {
          await other.page.locator('#messages li', { hasText: text }).waitFor({ timeout: 10000 });
        }
      }
      for (const { node, page } of pages) {
        assert.deepEqual(await page.locator('#messages li').allTextContents(), sent, `the messages on ${node}`);
      }
      await front.screenshot({ path: join(SHOTS, `cluster-${balancer}-${mode}.png`) });

      for (const node of NODES) assert.match(cluster.output(), new RegExp(`\\[${node}\\] a user connected`));
      const { code } = await cluster.stop();
      assert.equal(code, 130, `the script ends as on Ctrl-C:\n${cluster.output()}`);
      assert.match(cluster.output(), /cluster: stopped/);
      for (const port of [cluster.ports.balancer, cluster.ports.redis, ...cluster.ports.nodes]) {
        assert.ok(await portRefuses(port), `port ${port} is free again`);
      }
    });
  }
}
