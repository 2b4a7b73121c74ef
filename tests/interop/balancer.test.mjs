// The balancer configs of examples/cluster/ (nginx.conf, haproxy.cfg), filled in as `make cluster` fills them and
// run by Debian's nginx and HAProxy in front of two servers under test, with the official engine.io-client:
// - nginx (hash $remote_addr): long-polling clients from different loopback addresses (localAddress) keep every
//   request of their session on one node and spread over both; the Upgrade headers reach the node.
// - HAProxy (cookie io prefix, roundrobin): the nodes' `io` cookie keeps a polling session on one node.
// - Controls, so that a test can fail: without the hash (round robin) or without the cookie, long-polling breaks;
//   with proxy_read_timeout below pingInterval + pingTimeout, nginx cuts quiet WebSockets (the trap in nginx.conf).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'engine.io-client';
import { REPO_ROOT, startServerFor, waitFor, collectMessages, closeClient, httpRequest } from './harness.mjs';

const TEMPLATES = join(REPO_ROOT, 'examples', 'cluster');

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

// Fills a template's @PLACEHOLDERS@ (never those of its comment lines, as cluster.sh).
function fill(template, values) {
  return readFileSync(join(TEMPLATES, template), 'utf8').split('\n').map((line) => {
    if (/^\s*#/.test(line)) return line;
    return line.replace(/@([A-Z_]+)@/g, (m, name) => (name in values ? values[name] : m));
  }).join('\n');
}

// Starts nginx or HAProxy in the foreground from `config` (a function of the run directory), on `port`; stopped
// by PID after the test.
async function startBalancer(t, kind, port, config) {
  const dir = mkdtempSync(join(tmpdir(), `sioserver-${kind}-`));
  chmodSync(dir, 0o755);  // nginx's workers may run as another user
  const file = join(dir, kind === 'nginx' ? 'nginx.conf' : 'haproxy.cfg');
  writeFileSync(file, config(dir));
  const args = kind === 'nginx'
    ? ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', file, '-g', 'daemon off;']
    : ['-db', '-f', file];
  const child = spawn(kind, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // ready once it accepts a connection (bounded: 100 tries, 10 s)
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${kind} exited: ${stderr}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i >= 100) throw new Error(`${kind} does not accept connections on ${port}: ${stderr}`);
    await new Promise((resolve) => { setTimeout(resolve, 100); });
  }
  return { port, stderr: () => stderr };
}

async function startNginx(t, nodes, edit = (conf) => conf) {
  const port = await freePort();
  return startBalancer(t, 'nginx', port, (dir) => edit(fill('nginx.conf', {
    LISTEN: `listen 127.0.0.1:${port};`,
    SERVERS: nodes.map((n) => `server 127.0.0.1:${n.port};`).join('\n        '),
    RUN_DIR: dir,
  })));
}

async function startHaproxy(t, nodes) {
  const port = await freePort();
  return startBalancer(t, 'haproxy', port, () => fill('haproxy.cfg', {
    BIND: `bind 127.0.0.1:${port}`,
    SERVERS: nodes.map((n, i) => `server n${i} 127.0.0.1:${n.port} check cookie n${i}`).join('\n    '),
  }));
}

// An engine.io-client through the balancer, its TCP connections from `localAddress`.
function client(srv, balancer, { localAddress = '127.0.0.1', transports = ['polling'], ...opts } = {}) {
  const agent = new http.Agent({ localAddress });
  const socket = new Socket(`http://127.0.0.1:${balancer.port}`, {
    path: srv.path, transports, upgrade: transports.length > 1, agent, localAddress, ...opts,
  });
  srv.defer(() => { closeClient(socket); agent.destroy(); });
  return socket;
}

// Opens `socket` and checks that three messages come back in order: every request reached the session's node.
async function echoes(socket, what) {
  await waitFor(socket, 'open', 5000, { failOn: ['close', 'error'] });
  const got = collectMessages(socket, 3, 5000);
  for (const m of ['one', 'two', 'three']) socket.send(`${m} ${what}`);
  assert.deepEqual(await got, ['one', 'two', 'three'].map((m) => `${m} ${what}`));
}

// How many of `sockets` have their session on each node, asked directly: a noop packet POSTed with the sid is
// answered 200 by the node that holds it and 400 "Session ID unknown" by the other.
async function sessionsPerNode(nodes, sockets) {
  const counts = nodes.map(() => 0);
  for (const s of sockets) {
    const held = [];
    for (const [i, node] of nodes.entries()) {
      const url = `${node.url}?EIO=4&transport=polling&sid=${encodeURIComponent(s.id)}`;
      if ((await httpRequest(url, { method: 'POST', body: '6' })).status === 200) held.push(i);
    }
    assert.equal(held.length, 1, `session ${s.id} is held by nodes ${held}`);
    counts[held[0]]++;
  }
  return counts;
}

async function twoNodes(t, flags = []) {
  return Promise.all([startServerFor(t, flags), startServerFor(t, flags)]);
}

describe('nginx.conf: sticky by client address', () => {
  test('polling clients from 16 loopback addresses: each session stays on its node; both nodes get some',
    async (t) => {
      const nodes = await twoNodes(t);
      const nginx = await startNginx(t, nodes);
      const sockets = [];
      for (let i = 2; i < 18; i++) sockets.push(client(nodes[0], nginx, { localAddress: `127.0.0.${i}` }));
      await Promise.all(sockets.map((s, i) => echoes(s, `from 127.0.0.${i + 2}`)));
      const counts = await sessionsPerNode(nodes, sockets);
      assert.ok(counts[0] > 0 && counts[1] > 0, `one node got every address: ${counts}`);
    });

  test('polling upgrades to WebSocket through nginx (the Upgrade and Connection headers reach the node)',
    async (t) => {
      const nodes = await twoNodes(t);
      const nginx = await startNginx(t, nodes);
      const socket = client(nodes[0], nginx, { transports: ['polling', 'websocket'] });
      await waitFor(socket, 'upgrade', 5000, { failOn: ['close', 'upgradeError'] });
      assert.equal(socket.transport.name, 'websocket');
      const got = collectMessages(socket, 1, 5000);
      socket.send('over the upgraded WebSocket');
      assert.deepEqual(await got, ['over the upgraded WebSocket']);
    });

  test('control: without the hash (round robin), a polling session breaks', async (t) => {
    const nodes = await twoNodes(t);
    const nginx = await startNginx(t, nodes, (conf) => {
      assert.match(conf, /hash \$remote_addr consistent;/);
      return conf.replace(/hash \$remote_addr consistent;/, '');
    });
    const socket = client(nodes[0], nginx);
    await assert.rejects(echoes(socket, 'round robin'), /close|error|timeout/);
  });

  test('the trap: proxy_read_timeout below pingInterval + pingTimeout cuts a quiet WebSocket; the template\'s does not',
    async (t) => {
      const flags = ['--ping-interval', '1500', '--ping-timeout', '1000'];
      const nodes = await twoNodes(t, flags);
      const tight = await startNginx(t, nodes, (conf) => {
        assert.match(conf, /proxy_read_timeout 90s;/);
        return conf.replace(/proxy_read_timeout 90s;/, 'proxy_read_timeout 1s;');
      });
      const cut = client(nodes[0], tight, { transports: ['websocket'] });
      await waitFor(cut, 'open', 5000, { failOn: ['close', 'error'] });
      const [reason] = await waitFor(cut, 'close', 5000);  // nginx closes it after 1 s without a byte from the node
      assert.equal(reason, 'transport close');

      const template = await startNginx(t, nodes);
      const kept = client(nodes[0], template, { transports: ['websocket'] });
      await waitFor(kept, 'open', 5000, { failOn: ['close', 'error'] });
      for (let i = 0; i < 2; i++) await waitFor(kept, 'ping', 5000, { failOn: ['close'] });  // > 3 s, two pings
      assert.equal(kept.readyState, 'open');
    });
});

describe('nginx.conf and trustProxy: the limits count the address nginx saw, not nginx\'s own', () => {
  // maxConnectionsPerAddress 2 behind nginx (its X-Forwarded-For line): two sessions from 127.0.0.2, a third from
  // there is refused, one from 127.0.0.3 is not. A client's own X-Forwarded-For comes first in the list nginx
  // passes on, so with one trusted hop it is never believed. Control: without --trust-proxy every session comes
  // from nginx's address, so the one from 127.0.0.3 is refused too.
  for (const trust of [1, 0]) {
    test(`--trust-proxy ${trust}`, async (t) => {
      const node = await startServerFor(t, ['--max-connections-per-address', '2', '--trust-proxy', String(trust)]);
      const nginx = await startNginx(t, [node]);
      const spoofing = { extraHeaders: { 'X-Forwarded-For': '10.9.9.9' } };
      const first = [client(node, nginx, { localAddress: '127.0.0.2', ...spoofing }),
        client(node, nginx, { localAddress: '127.0.0.2', ...spoofing })];
      await Promise.all(first.map((s) => waitFor(s, 'open', 5000, { failOn: ['close'] })));
      const third = client(node, nginx, { localAddress: '127.0.0.2', ...spoofing });
      await waitFor(third, 'close', 5000, { failOn: ['open'] });
      const other = client(node, nginx, { localAddress: '127.0.0.3' });
      if (trust) await waitFor(other, 'open', 5000, { failOn: ['close'] });
      else await waitFor(other, 'close', 5000, { failOn: ['open'] });
    });
  }
});

describe('haproxy.cfg: sticky by the io cookie', () => {
  test('polling clients keep their session on one node through round robin, by the io cookie; both nodes get some',
    async (t) => {
      const nodes = await twoNodes(t, ['--cookie', 'true']);
      const haproxy = await startHaproxy(t, nodes);
      const sockets = [];
      for (let i = 0; i < 6; i++) sockets.push(client(nodes[0], haproxy, { withCredentials: true }));
      await Promise.all(sockets.map((s, i) => echoes(s, `client ${i}`)));
      for (const s of sockets) {
        // HAProxy handed the node's cookie on with its server's name in front (`prefix`)
        const io = new Map([...s._cookieJar.cookies].map(([name, c]) => [name, c.value])).get('io');
        assert.ok(io === `n0~${s.id}` || io === `n1~${s.id}`, `io=${io} for sid ${s.id}`);
      }
      const counts = await sessionsPerNode(nodes, sockets);
      assert.deepEqual(counts, [3, 3], 'round robin: the handshakes alternate');
    });

  test('polling upgrades to WebSocket through HAProxy (the upgrade request carries the cookie)', async (t) => {
    const nodes = await twoNodes(t, ['--cookie', 'true']);
    const haproxy = await startHaproxy(t, nodes);
    const socket = client(nodes[0], haproxy, { transports: ['polling', 'websocket'], withCredentials: true });
    await waitFor(socket, 'upgrade', 5000, { failOn: ['close', 'upgradeError'] });
    const got = collectMessages(socket, 1, 5000);
    socket.send('over the upgraded WebSocket');
    assert.deepEqual(await got, ['over the upgraded WebSocket']);
  });

  test('control: nodes without the cookie option, a polling session breaks', async (t) => {
    const nodes = await twoNodes(t);
    const haproxy = await startHaproxy(t, nodes);
    const socket = client(nodes[0], haproxy, { withCredentials: true });
    await assert.rejects(echoes(socket, 'no cookie'), /close|error|timeout/);
  });
});
