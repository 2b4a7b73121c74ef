// Connection state recovery in Chromium, on the chatroom example (which turns it on): alice's page goes offline
// (the browser's network is switched off and a TCP proxy resets her connections) while bob keeps talking. When
// it comes back online it is the same socket, in the same room, shows every message it missed exactly once and
// in order, and says "Reconnected, nothing missed". Over the default transports (ending on WebSocket) and over
// long-polling only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExample, launchBrowser, controlTransports, waitForTransport, SHOTS } from './browser.mjs';
import { startProxy } from '../interop/tcp_proxy.mjs';

const WAIT = { timeout: 15000 };

async function enter(page, nick) {
  await page.fill('#nick', nick);
  await page.press('#nick', 'Enter');
  await page.locator('#chat').waitFor(WAIT);
}
async function send(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}
const noticeIn = (page, text) => page.locator('#messages li.notice', { hasText: text });
const texts = (page) => page.locator('#messages li.message .text').allTextContents();

for (const mode of ['websocket', 'polling']) {
  test(`chatroom in Chromium: a page that goes offline and back misses no message (${mode})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sioserver-recovery-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const url = await startExample(t, 'chatroom', { CHATROOM_DB: join(dir, 'chat.db') });
    const proxy = await startProxy(Number(new URL(url).port));
    t.after(() => proxy.close());

    // Two browsers: alice's goes through the proxy and offline, bob's stays online.
    const contexts = [await launchBrowser(t), await launchBrowser(t)];
    for (const context of contexts) await controlTransports(context, mode === 'polling' ? ['polling'] : null);
    const a = await contexts[0].newPage();
    const b = await contexts[1].newPage();
    const errors = [];
    a.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    b.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await a.goto(proxy.url);
    await b.goto(url);
    await waitForTransport(a, mode);
    await waitForTransport(b, mode);
    await enter(a, 'alice');
    await enter(b, 'bob');
    await send(b, 'before the drop');
    await a.locator('#messages li.message', { hasText: 'before the drop' }).waitFor(WAIT);
    const id = await a.evaluate(() => window.__sockets[0].id);

    // ---- offline: no network for the page, and its open connections reset
    await contexts[0].setOffline(true);
    proxy.hold();
    proxy.cut();
    await noticeIn(b, 'alice left').waitFor(WAIT);  // the server has seen her go
    const missed = ['while away 1', 'while away 2', 'while away 3', 'while away 4'];
    for (const text of missed) {
      await send(b, text);
      await b.locator('#messages li.message.own:not(.pending)', { hasText: text }).waitFor(WAIT);  // saved
    }

    // ---- back online
    proxy.release();
    await contexts[0].setOffline(false);
    await noticeIn(a, 'Reconnected, nothing missed').waitFor(WAIT);
    assert.equal(await a.evaluate(() => window.__sockets[0].id), id, 'the same socket');
    assert.equal(await a.evaluate(() => window.__sockets[0].recovered), true);
    await noticeIn(b, 'alice is back').waitFor(WAIT);
    assert.deepEqual(await texts(a), ['before the drop', ...missed], 'every message once, in order');
    assert.equal(await a.locator('#room-title').textContent(), 'lobby');
    await a.bringToFront();
    await a.screenshot({ path: join(SHOTS, `recovery-${mode}.png`) });

    // and the conversation goes on both ways
    await send(a, 'back, and I saw everything');
    await b.locator('#messages li.message', { hasText: 'back, and I saw everything' }).waitFor(WAIT);
    assert.deepEqual(errors, [], 'no page error');
  });
}
