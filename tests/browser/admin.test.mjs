// The admin UI in Chromium: the real dashboard of @socket.io/admin-ui 0.5, as examples/chatroom serves it at
// /admin/ (with a login: ADMIN_USER / ADMIN_PASSWORD), watching chat users (Node's socket.io-client) log in, move
// between rooms and leave; then a click on a socket's "disconnect" button, which that user's client must see.
// The page may reach this server only: any other request (a CDN) is refused and fails the test.
// It also takes the README's screenshot: ADMIN_SCREENSHOT=docs/admin-ui.png node --test tests/browser/admin.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { io as connect } from 'socket.io-client';
import { startExample, launchBrowser, SHOTS, ROOT } from './browser.mjs';

const WAIT = { timeout: 10000 };

async function chatUser(t, url, nick, room) {
  const socket = connect(url, { forceNew: true, reconnection: false, transports: ['websocket'] });
  t.after(() => socket.disconnect());
  const reasons = [];
  socket.on('disconnect', (reason) => reasons.push(reason));
  await new Promise((ok, fail) => { socket.once('connect', ok); socket.once('connect_error', fail); });
  const answer = await socket.timeout(5000).emitWithAck('login', { nick, room });
  assert.equal(answer.ok, true, JSON.stringify(answer));
  return { socket, id: socket.id, reasons };
}

test('admin UI in Chromium: log in, watch sockets and rooms move, disconnect a user', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sioserver-admin-'));  // a history of its own, not build/chatroom.db
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = await startExample(t, 'chatroom', {
    ADMIN_USER: 'admin', ADMIN_PASSWORD: 'chat-admin-pw', CHATROOM_DB: join(dir, 'chat.db'),
  });
  const context = await launchBrowser(t);
  const outside = [];
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  const ann = await chatUser(t, url, 'ann', 'lobby');
  const bob = await chatUser(t, url, 'bob', 'tech');

  // ---- the login form: a wrong password first, then the right one
  await page.goto(`${url}/admin/`);
  const serverUrl = page.getByLabel('Server URL');
  await serverUrl.waitFor(WAIT);
  await serverUrl.fill(url);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('Invalid credentials').waitFor(WAIT);
  await page.getByLabel('Password').fill('chat-admin-pw');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByLabel('Server URL').waitFor({ state: 'hidden', ...WAIT });

  // ---- sockets: both users (namespace "/" is shown first), and a third one as it comes
  await page.goto(`${url}/admin/#/sockets/`);
  const row = (id) => page.locator('tr', { hasText: id });
  await row(ann.id).waitFor(WAIT);
  await row(bob.id).waitFor(WAIT);
  const cid = await chatUser(t, url, 'cid', 'lobby');
  await row(cid.id).waitFor(WAIT);

  // ---- rooms: lobby and tech; tech goes when bob leaves it for lobby
  await page.goto(`${url}/admin/#/rooms/`);
  // A room's row: its name in the first cell, then its type and its number of sockets.
  const roomRow = (name, count) => page.locator('tr')
    .filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^\\s*${name}\\s*$`) }) })
    .filter(count === undefined ? {} : { has: page.locator('td:nth-child(3)', { hasText: new RegExp(`^\\s*${count}\\s*$`) }) });
  await roomRow('lobby', 2).waitFor(WAIT);
  await roomRow('tech').waitFor(WAIT);
  const moved = await bob.socket.timeout(5000).emitWithAck('switch room', 'lobby');
  assert.equal(moved.ok, true);
  await roomRow('tech').waitFor({ state: 'detached', ...WAIT });
  await roomRow('lobby', 3).waitFor(WAIT);
  await page.screenshot({ path: join(SHOTS, 'admin-rooms.png') });
  await roomRow('random').waitFor({ state: 'detached', ...WAIT });  // nobody was ever there

  // ---- a user who leaves goes from the list
  await page.goto(`${url}/admin/#/sockets/`);
  await row(cid.id).waitFor(WAIT);
  cid.socket.disconnect();
  await row(cid.id).waitFor({ state: 'detached', ...WAIT });

  // ---- the dashboard, for the README: some chat first, and the shot once two more stats ticks have come (the
  // charts have data and have finished drawing; a second admin client in Node counts the ticks)
  for (const [user, text] of [[ann, 'hi all'], [bob, 'hello ann'], [ann, 'the admin UI is watching us']]) {
    await user.socket.timeout(5000).emitWithAck('chat message', text);
  }
  await page.goto(`${url}/admin/#/`);
  await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 2, null, WAIT);
  const watcher = connect(`${url}/admin`, { forceNew: true, reconnection: false, transports: ['websocket'],
    auth: { username: 'admin', password: 'chat-admin-pw' } });
  t.after(() => watcher.disconnect());
  await new Promise((ok, fail) => {
    let ticks = 0;
    const timer = setTimeout(() => fail(new Error('no two server_stats in 10 s')), 10000);
    watcher.on('server_stats', () => { if (++ticks === 2) { clearTimeout(timer); ok(); } });
  });
  await page.screenshot({ path: join(SHOTS, 'admin-dashboard.png') });
  if (process.env.ADMIN_SCREENSHOT) await page.screenshot({ path: resolve(ROOT, process.env.ADMIN_SCREENSHOT) });

  // ---- "disconnect" on ann's row: her client is told so by the server
  await page.goto(`${url}/admin/#/sockets/`);
  await row(ann.id).locator('button:has(i.mdi-logout)').click();
  await new Promise((ok, fail) => {
    if (ann.reasons.length) return ok();
    const timer = setTimeout(() => fail(new Error('ann saw no disconnect')), 10000);
    ann.socket.once('disconnect', () => { clearTimeout(timer); ok(); });
  });
  assert.deepEqual(ann.reasons, ['io server disconnect']);
  // The click also opened her socket's page (the row's own click), which shows it disconnected.
  await page.getByText('disconnected', { exact: true }).first().waitFor(WAIT);
  await page.screenshot({ path: join(SHOTS, 'admin-socket.png') });
  await page.goto(`${url}/admin/#/sockets/`);
  await row(bob.id).waitFor(WAIT);
  await page.waitForFunction((id) => ![...document.querySelectorAll('tr')].some((tr) => tr.textContent.includes(id)),
    ann.id, WAIT);
  assert.equal(bob.socket.connected, true);

  assert.deepEqual(outside, [], 'the page asked for nothing but this server');
  assert.deepEqual(problems, []);
});
