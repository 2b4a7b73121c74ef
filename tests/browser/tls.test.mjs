// The tutorial chat (examples/chat) over https and wss in a real browser, with a self-signed certificate made
// here as `make run TLS=1` makes one: two pages chat, over the default transports (polling upgraded to wss) and
// over https long-polling only. Chromium is told to accept the self-signed certificate and nothing else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExample, launchBrowser, controlTransports, waitForTransport, SHOTS } from './browser.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sio-tls-browser-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const mode of ['websocket', 'polling']) {
  test(`tutorial chat over https: a message typed in page A shows in A and B (${mode})`, async (t) => {
    const url = await startExample(t, 'chat', { SIO_TLS_CERT: join(dir, 'cert.pem'), SIO_TLS_KEY: join(dir, 'key.pem') });
    assert.match(url, /^https:\/\//);
    const context = await launchBrowser(t, ['--ignore-certificate-errors']);
    await controlTransports(context, mode === 'polling' ? ['polling'] : null);
    const a = await context.newPage();
    const b = await context.newPage();
    await a.goto(url);
    await b.goto(url);
    await waitForTransport(a, mode);
    await waitForTransport(b, mode);
    // the page, and so its socket, is on https (and its WebSocket on wss)
    assert.equal(await a.evaluate(() => location.protocol), 'https:');
    assert.equal(await a.evaluate(() => window.__sockets[0].io.engine.secure), true);

    const text = `hello over TLS (${mode})`;
    await a.fill('#input', text);
    await a.press('#input', 'Enter');
    for (const page of [a, b]) await page.locator('#messages li', { hasText: text }).waitFor({ timeout: 10000 });
    await b.fill('#input', 'and back from B');
    await b.press('#input', 'Enter');
    await a.locator('#messages li', { hasText: 'and back from B' }).waitFor({ timeout: 10000 });
    assert.deepEqual(await a.locator('#messages li').allTextContents(), [text, 'and back from B']);
    await b.screenshot({ path: join(SHOTS, `chat-tls-${mode}-B.png`) });
  });
}
