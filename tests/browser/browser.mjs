// Shared pieces of the browser tests: start an example server on a free port, launch Debian's Chromium through
// playwright-core with a fresh profile, and make pages pick their transports.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = join(ROOT, 'build', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

// Starts build/<name> with PORT=0 (and `env`) from the repository root; resolves with its URL once it prints it.
export function startExample(t, name, env = {}) {
  const child = spawn(join(ROOT, 'build', name), [], { cwd: ROOT, env: { ...process.env, PORT: '0', ...env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s; stderr: ${err}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https?:\/\/localhost:\d+)/);
      if (m) { clearTimeout(timer); resolveUrl(m[1].replace('localhost', '127.0.0.1')); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}); stderr: ${err}`)); });
  });
  t.after(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return url;
}

// Launches headless Chromium (never a downloaded browser) with a fresh user-data dir; `args` are added to its
// command line.
export async function launchBrowser(t, args = []) {
  const profile = mkdtempSync(join(tmpdir(), 'sioserver-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', ...args],
    viewport: { width: 900, height: 600 },
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

// Wraps the page's global io() so that every socket it makes uses `transports` (when given) and is kept in
// window.__sockets, where a test can read which transport it ended up on.
export async function controlTransports(context, transports) {
  await context.addInitScript((forced) => {
    let real;
    window.__sockets = [];
    Object.defineProperty(window, 'io', {
      configurable: true,
      get() {
        if (!real) return real;
        const wrapped = (uri, opts) => {
          if (typeof uri === 'object') { opts = uri; uri = undefined; }
          const socket = real(uri, forced ? { ...(opts || {}), transports: forced } : opts);
          window.__sockets.push(socket);
          return socket;
        };
        return Object.assign(wrapped, real);
      },
      set(v) { real = v; },
    });
  }, transports);
}

// Waits (bounded) until the page's first socket is connected over `transport`.
export async function waitForTransport(page, transport, timeout = 10000) {
  await page.waitForFunction(
    (name) => window.__sockets.length > 0 && window.__sockets[0].connected &&
      window.__sockets[0].io.engine.transport.name === name,
    transport, { timeout });
}
