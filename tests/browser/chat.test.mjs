// The tutorial chat (examples/chat) in a real browser: a message sent in page A shows in page A and page B,
// over the default transports (which must end on WebSocket) and over long-polling only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startExample, launchBrowser, controlTransports, waitForTransport, SHOTS } from './browser.mjs';

for (const mode of ['websocket', 'polling']) {
  test(`tutorial chat: a message typed in page A shows in A and B (${mode})`, async (t) => {
    const url = await startExample(t, 'chat');
    const context = await launchBrowser(t);
    await controlTransports(context, mode === 'polling' ? ['polling'] : null);
    const a = await context.newPage();
    const b = await context.newPage();
    await a.goto(url);
    await b.goto(url);
    // default transports start on polling and must upgrade; polling-only must stay on polling
    await waitForTransport(a, mode);
    await waitForTransport(b, mode);

    const text = `hello from A over ${mode} <b>not bold</b>`;
    await a.fill('#input', text);
    await a.press('#input', 'Enter');
    for (const page of [a, b]) {
      const item = page.locator('#messages li', { hasText: text });
      await item.waitFor({ timeout: 10000 });
      assert.equal(await item.count(), 1, 'the message shows exactly once');
      assert.equal(await page.locator('#messages li b').count(), 0, 'the message is text, not HTML');
    }
    assert.equal(await a.inputValue('#input'), '', 'the input is cleared after sending');

    await b.fill('#input', 'and back from B');
    await b.press('#input', 'Enter');
    await a.locator('#messages li', { hasText: 'and back from B' }).waitFor({ timeout: 10000 });
    assert.deepEqual(await a.locator('#messages li').allTextContents(), [text, 'and back from B']);

    await a.screenshot({ path: join(SHOTS, `chat-${mode}-A.png`) });
    await b.screenshot({ path: join(SHOTS, `chat-${mode}-B.png`) });
  });
}
