// The chatroom example (examples/chatroom) in Chromium, over the default transports (ending on WebSocket) and
// over long-polling only: three people in one room, room and private messages, "is typing", HTML shown as text,
// a taken nickname, switching rooms, history, and a dropped connection that comes back as the same person.
// The last test drives the same server from Node's socket.io-client: payload checks, nickname rules, history,
// and reconnection (with a stale connection of the same person still open).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { startExample, launchBrowser, controlTransports, waitForTransport, SHOTS } from './browser.mjs';

const WAIT = { timeout: 10000 };

// The chatroom on a free port with an empty history of its own (a temp database, removed after the test).
function startChatroom(t) {
  const dir = mkdtempSync(join(tmpdir(), 'sioserver-chatroom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startExample(t, 'chatroom', { CHATROOM_DB: join(dir, 'chat.db') });
}

async function login(page, nick) {
  await page.fill('#nick', nick);
  await page.press('#nick', 'Enter');
}
async function enter(page, nick) {
  await login(page, nick);
  await page.locator('#chat').waitFor(WAIT);
}
async function send(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}
const messageIn = (page, text) => page.locator('#messages li.message', { hasText: text });
const noticeIn = (page, text) => page.locator('#messages li.notice', { hasText: text });
// Clicks and screenshots wait for frames, which Chromium holds back in a tab that is not in front.
async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}
async function screenshot(page, name) {
  await page.bringToFront();
  await page.screenshot({ path: join(SHOTS, `chatroom-${name}.png`) });
}
// One of our own messages, answered "ok" by the server.
const deliveredIn = (page, text) =>
  page.locator('#messages li.message.own:not(.pending):not(.failed)', { hasText: text });

for (const mode of ['websocket', 'polling']) {
  test(`chatroom in Chromium: rooms, private messages, typing, escaping, reconnection (${mode})`, async (t) => {
    const url = await startChatroom(t);
    const context = await launchBrowser(t);
    await controlTransports(context, mode === 'polling' ? ['polling'] : null);
    const problems = [];  // alerts, uncaught errors, console errors (a blocked script or style, say)
    const pages = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      await page.goto(url);
      await waitForTransport(page, mode);
      pages.push(page);
    }
    const [a, b, c] = pages;

    // ---- nicknames: a taken one (in another case) is refused with the reason on the form
    await enter(a, 'alice');
    await enter(b, 'bob');
    await login(c, 'ALICE');
    await c.locator('#login-error', { hasText: 'is taken' }).waitFor(WAIT);
    assert.equal(await c.locator('#chat').isVisible(), false, 'the chat stays hidden');
    await screenshot(c, `${mode}-taken-nickname`);
    await enter(c, 'carol');
    for (const page of pages) await page.locator('#users button[data-nick="carol"]').waitFor(WAIT);

    // ---- typing: B sees it while A types; it is gone once A's message is there
    const hello = `hello everyone, alice here (${mode})`;
    await a.fill('#input', hello);
    await b.locator('#typing', { hasText: 'alice is typing' }).waitFor(WAIT);
    await a.press('#input', 'Enter');
    await messageIn(b, hello).waitFor(WAIT);
    assert.equal(await b.locator('#typing').textContent(), '', 'no typing notice after the message');

    // ---- a room message shows once in A: B answers, and an echo of A's message would come before the answer
    await send(b, 'hi alice, bob here');
    await messageIn(a, 'hi alice, bob here').waitFor(WAIT);
    await deliveredIn(a, hello).waitFor(WAIT);
    assert.equal(await messageIn(a, hello).count(), 1, 'the sender sees its message once');
    assert.equal(await messageIn(b, hello).count(), 1);

    // ---- HTML in a message is text
    const html = '<img src=x onerror=alert(1)><b>bold</b>';
    await send(a, html);
    for (const page of [a, b]) {
      await messageIn(page, html).waitFor(WAIT);
      assert.equal(await messageIn(page, html).locator('.text').textContent(), html);
      assert.equal(await page.locator('#messages img, #messages b').count(), 0, 'no element made from the text');
    }

    // ---- a typing notice also goes away by itself, ~2 s after the last keystroke
    await c.fill('#input', 'hmm, let me think');
    await b.locator('#typing', { hasText: 'carol is typing' }).waitFor(WAIT);
    await b.locator('#typing', { hasText: 'carol' }).waitFor({ state: 'hidden', timeout: 5000 });
    await c.fill('#input', '');

    // ---- private messages: picked from the online list, and with /msg; only bob gets them
    await click(a, '#users button[data-nick="bob"]');
    await a.locator('#pm-chip', { hasText: 'bob' }).waitFor(WAIT);
    await send(a, 'psst bob, first secret');
    await a.press('#input', 'Escape');
    await send(a, '/msg bob second secret');
    for (const text of ['first secret', 'second secret']) {
      const item = b.locator('#messages li.message.private', { hasText: text });
      await item.waitFor(WAIT);
      assert.equal(await item.locator('.tag').textContent(), 'private to you');
      assert.equal(await item.locator('.from').textContent(), 'alice');
      await a.locator('#messages li.message.private.own:not(.pending):not(.failed)', { hasText: text }).waitFor(WAIT);
    }
    assert.equal(await a.locator('#messages li.private .tag').first().textContent(), 'private to bob');
    await send(a, 'back to the whole room');
    await messageIn(c, 'back to the whole room').waitFor(WAIT);  // whatever A sent before has reached C by now
    assert.equal(await c.locator('#messages li', { hasText: 'secret' }).count(), 0, 'carol sees no private message');
    assert.equal(await c.locator('#messages li.private').count(), 0);
    assert.equal(await b.locator('#messages li.private', { hasText: 'back to the whole room' }).count(), 0);
    await screenshot(a, `${mode}-alice`);
    await screenshot(b, `${mode}-bob`);
    await screenshot(c, `${mode}-carol`);

    // ---- switching rooms: B sees A leave; the room list counts follow; coming back brings the history
    await click(a, '#rooms button[data-room="tech"]');
    await noticeIn(b, 'alice left').waitFor(WAIT);
    await a.locator('#room-title', { hasText: 'tech' }).waitFor(WAIT);
    await b.locator('#rooms button[data-room="tech"] .count', { hasText: '1' }).waitFor(WAIT);
    await b.locator('#rooms button[data-room="lobby"] .count', { hasText: '2' }).waitFor(WAIT);
    await b.locator('#users button[data-nick="alice"]').waitFor({ state: 'detached', ...WAIT });
    assert.equal(await a.locator('#messages li.message').count(), 0, 'tech has no messages yet');
    await click(a, '#rooms button[data-room="lobby"]');
    await noticeIn(b, 'alice joined').waitFor(WAIT);
    await messageIn(a, 'hi alice, bob here').waitFor(WAIT);  // from the lobby's history
    assert.equal(await a.locator('#messages li.message.own', { hasText: hello }).count(), 1);

    // ---- a dropped connection: connection state recovery gives the page its socket back (the same id), as
    // alice, in the lobby, and it can talk at once (tests/browser/recovery.test.mjs takes a page offline)
    const before = await a.evaluate(() => {
      const socket = window.__sockets[0];
      const id = socket.id;
      socket.io.engine.close();
      return id;
    });
    await a.waitForFunction((old) => window.__sockets[0].connected && window.__sockets[0].id === old &&
      window.__sockets[0].recovered, before, WAIT);
    await noticeIn(a, 'Reconnected, nothing missed').waitFor(WAIT);
    assert.equal(await a.locator('#me-nick').textContent(), 'alice');
    assert.equal(await a.locator('#room-title').textContent(), 'lobby');
    await send(a, 'still here after reconnecting');
    await messageIn(b, 'still here after reconnecting').waitFor(WAIT);
    await deliveredIn(a, 'still here after reconnecting').waitFor(WAIT);

    assert.deepEqual(problems, [], 'no alert, page error or console error');
  });
}

// ---- older messages: 50 on joining, the rest a page at a time with the button, once each and in order

test('chatroom in Chromium: "Load older messages" pages back through the saved history', async (t) => {
  const url = await startChatroom(t);
  const seeder = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  t.after(() => seeder.disconnect());
  assert.equal((await seeder.timeout(5000).emitWithAck('login', { nick: 'seeder', room: 'random' })).ok, true);
  const seeds = Array.from({ length: 120 }, (_, i) => `seed ${i + 1}`);
  const answers = await Promise.all(seeds.map((text) => seeder.timeout(10000).emitWithAck('chat message', text)));
  assert.ok(answers.every((res) => res.ok), 'every seed is saved');

  const context = await launchBrowser(t);
  await controlTransports(context, null);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(url);
  await page.locator('#login-room option[value="random"]').waitFor({ state: 'attached', ...WAIT });
  await page.selectOption('#login-room', 'random');
  await enter(page, 'reader');
  await page.locator('#room-title', { hasText: 'random' }).waitFor(WAIT);
  const texts = () => page.locator('#messages li.message .text').allTextContents();
  const count = (n) => page.waitForFunction((k) => document.querySelectorAll('#messages li.message').length === k,
                                            n, WAIT);
  await count(50);
  assert.deepEqual(await texts(), seeds.slice(-50));
  await page.locator('#load-older').waitFor(WAIT);
  await page.locator('#messages').evaluate((list) => { list.scrollTop = 0; });
  await screenshot(page, 'older-button');

  await click(page, '#load-older');
  await count(100);
  assert.deepEqual(await texts(), seeds.slice(-100));
  await page.locator('#load-older:not([disabled])').waitFor(WAIT);
  await click(page, '#load-older');
  await count(120);
  await page.locator('#load-older').waitFor({ state: 'detached', ...WAIT });
  await noticeIn(page, 'The beginning of #random').waitFor(WAIT);
  assert.deepEqual(await texts(), seeds, 'every message once, oldest first');
  await page.locator('#messages').evaluate((list) => { list.scrollTop = 0; });
  await screenshot(page, 'older-messages');

  // a new message still lands at the bottom
  await send(page, 'after paging');
  await deliveredIn(page, 'after paging').waitFor(WAIT);
  assert.equal((await texts()).at(-1), 'after paging');
  assert.deepEqual(problems, [], 'no page error or console error');
});

// ---- the protocol, from Node

test('chatroom protocol from socket.io-client: checks, nicknames, history, reconnection', async (t) => {
  const url = await startChatroom(t);
  const sockets = [];
  t.after(() => sockets.forEach((s) => s.disconnect()));

  // A client that logs every event it gets. Without `auth`, it keeps its session like the page does and
  // presents it on every (re)connection.
  function open(auth) {
    const socket = connect(url, {
      transports: ['websocket'], forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100,
      auth: auth || ((cb) => cb(socket.session || {})),
    });
    socket.log = [];
    socket.changed = new EventEmitter();
    const note = (event, arg) => { socket.log.push({ event, arg }); socket.changed.emit('event'); };
    socket.onAny(note);
    socket.on('disconnect', (reason) => note('disconnect', reason));
    socket.on('session', (s) => { socket.session = s; });
    socket.on('room', (r) => { if (socket.session) socket.session.room = r.room; });
    sockets.push(socket);
    return socket;
  }
  const all = (socket, event) => socket.log.filter((e) => e.event === event).map((e) => e.arg);
  // Resolves with the first `event` whose argument passes `test`, looking at the log from index `from` on (what
  // came before the call counts too); waits at most 5 s.
  async function next(socket, event, test = () => true, from = 0) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = socket.log.slice(from).find((e) => e.event === event && test(e.arg));
      if (found) return found.arg;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" came; got ${JSON.stringify(socket.log.map((e) => e.event))}`);
      await once(socket.changed, 'event', { signal: AbortSignal.timeout(left) }).catch(() => {});
    }
  }
  const ask = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);
  const refused = async (socket, event, args, error) => {
    const res = await ask(socket, event, ...args);
    assert.equal(res.ok, false, `${event} ${JSON.stringify(args)} is refused`);
    assert.match(res.error, error);
  };

  const ann = open();
  assert.deepEqual(await next(ann, 'rooms'),
    [{ name: 'lobby', users: 0 }, { name: 'tech', users: 0 }, { name: 'random', users: 0 }]);

  // ---- nothing but a login before logging in; logins are checked
  await refused(ann, 'chat message', ['hi'], /Log in first/);
  await refused(ann, 'switch room', ['tech'], /Log in first/);
  for (const [args, error] of [
    [[], /choose a nickname/], [['ann'], /choose a nickname/], [[{ nick: 42 }], /choose a nickname/],
    [[{ nick: '   ' }], /choose a nickname/], [[{ nick: 'x'.repeat(21) }], /at most 20/],
    [[{ nick: 'a\u0007b' }], /control or invisible/], [[{ nick: 'a\u202eb' }], /control or invisible/],
    [[{ nick: 'ann', room: 'kitchen' }], /no such room/], [[{ nick: 'ann', room: 7 }], /no such room/],
  ]) await refused(ann, 'login', args, error);

  assert.deepEqual(await ask(ann, 'login', { nick: '  Ann  ', room: 'tech' }), { ok: true });
  const first = await next(ann, 'session');
  assert.equal(first.nick, 'Ann', 'the nickname is trimmed');
  assert.equal(first.room, 'tech');
  assert.match(first.token, /^[0-9a-f]{32}$/);
  assert.deepEqual(await next(ann, 'room'), { room: 'tech', users: ['Ann'], history: [], older: false });
  await refused(ann, 'login', [{ nick: 'other' }], /already in the chat/);

  // ---- messages are checked; a message with no ack callback, or odd arguments, does no harm
  for (const [args, error] of [
    [[], /must be text/], [[42], /must be text/], [[{ text: 'hi' }], /must be text/],
    [[Buffer.from('hi')], /must be text/],
    [[''], /empty/], [[' \n '], /empty/], [['x'.repeat(501)], /at most 500/], [['a\u0000b'], /control/],
  ]) await refused(ann, 'chat message', args, error);
  const longest = await ask(ann, 'chat message', 'x'.repeat(500));
  assert.equal(longest.ok, true);
  assert.equal(typeof longest.id, 'number');
  const emoji = await ask(ann, 'chat message', '😀'.repeat(500));
  assert.equal(emoji.ok, true, '500 characters, not bytes or UTF-16 units');
  ann.emit('chat message', 'no answer wanted');
  ann.emit('chat message', 42);
  ann.emit('typing', 'yes');
  ann.emit('switch room');
  ann.emit('private message');
  ann.emit('login', null);
  await refused(ann, 'switch room', [], /no such room/);
  await refused(ann, 'switch room', ['kitchen'], /no such room/);
  await refused(ann, 'switch room', [{ room: 'lobby' }], /no such room/);
  await refused(ann, 'private message', [{ to: 'nobody', text: 'hi' }], /Nobody with that nickname/);
  await refused(ann, 'private message', [{ to: 'ANN', text: 'hi' }], /That is you/);
  await refused(ann, 'private message', [{ to: 'Ann' }], /must be text/);
  await refused(ann, 'private message', ['Ann', 'hi'], /must be text/);

  // ---- a second user: the nickname is taken in any case; the room's history comes on joining
  const bob = open();
  await next(bob, 'rooms');
  await refused(bob, 'login', [{ nick: 'ANN' }], /"ANN" is taken/);
  assert.deepEqual(await ask(bob, 'login', { nick: 'bob', room: 'tech' }), { ok: true });
  const bobRoom = await next(bob, 'room');
  assert.deepEqual(bobRoom.users, ['Ann', 'bob']);
  assert.deepEqual(bobRoom.history.map((m) => m.text), ['x'.repeat(500), '😀'.repeat(500), 'no answer wanted']);
  assert.ok(bobRoom.history.every((m) => m.from === 'Ann' && m.room === 'tech' && typeof m.time === 'number'));
  await next(ann, 'notice', (n) => n.text === 'bob joined' && n.room === 'tech');
  await next(ann, 'users', (u) => u.users.length === 2);
  await next(ann, 'rooms', (list) => list.find((r) => r.name === 'tech').users === 2);

  // ---- room messages go to the others only; private ones to their target only; typing to the room
  assert.equal((await ask(bob, 'chat message', 'hello Ann')).ok, true);
  const got = await next(ann, 'chat message');
  assert.deepEqual({ from: got.from, room: got.room, text: got.text },
                   { from: 'bob', room: 'tech', text: 'hello Ann' });
  const pm = await ask(ann, 'private message', { to: ' BOB ', text: 'psst' });
  assert.equal(pm.ok, true);
  assert.equal(pm.to, 'bob');
  const pmGot = await next(bob, 'private message');
  assert.deepEqual({ from: pmGot.from, to: pmGot.to, text: pmGot.text }, { from: 'Ann', to: 'bob', text: 'psst' });
  ann.emit('typing', true);
  assert.deepEqual(await next(bob, 'typing'), { nick: 'Ann', typing: true });
  assert.equal(all(bob, 'chat message').length, 0, 'no echo of its own message');
  assert.equal(all(ann, 'private message').length, 0, 'no echo of its own private message');

  // ---- the history keeps the last 50 messages
  for (let i = 1; i <= 55; i++) assert.equal((await ask(bob, 'chat message', `count ${i}`)).ok, true);
  const carol = open();
  await ask(carol, 'login', { nick: 'carol', room: 'tech' });
  const history = (await next(carol, 'room')).history;
  assert.equal(history.length, 50);
  assert.equal(history.at(-1).text, 'count 55');
  assert.equal(history[0].text, 'count 6');
  carol.disconnect();

  // ---- reconnection: Ann moves to "random", loses her connection, and connection state recovery gives her the
  // same socket back, in "random", with no new session
  assert.deepEqual(await ask(ann, 'switch room', 'random'), { ok: true, room: 'random' });
  await next(bob, 'notice', (n) => n.text === 'Ann left');
  const annId = ann.id;
  const sessions = all(ann, 'session').length;
  const rooms = all(ann, 'room').length;
  ann.io.engine.close();
  await next(ann, 'disconnect');
  await new Promise((resolve) => ann.once('connect', resolve));
  assert.equal(ann.recovered, true, 'recovered');
  assert.equal(ann.id, annId, 'the same socket');
  assert.equal(all(ann, 'session').length, sessions, 'no new session');
  assert.equal(all(ann, 'room').length, rooms, 'no new "room": the page keeps what it shows');
  const carolAway = open();  // someone in "random" hears Ann is back
  await next(carolAway, 'rooms');
  assert.equal((await ask(carolAway, 'login', { nick: 'dave', room: 'random' })).ok, true);
  assert.deepEqual((await next(carolAway, 'room')).users, ['Ann', 'dave'], 'Ann is in "random" again');
  carolAway.disconnect();
  assert.equal((await ask(ann, 'switch room', 'tech')).ok, true);
  await next(bob, 'notice', (n) => n.text === 'Ann joined');
  assert.equal((await ask(ann, 'chat message', 'back again')).ok, true);
  await next(bob, 'chat message', (m) => m.text === 'back again' && m.from === 'Ann');

  // ---- a stale connection of the same person does not block it: the right token takes the nickname over
  const intruder = open({ nick: 'ann', room: 'lobby', token: 'guessed' });
  assert.match((await next(intruder, 'login failed')).error, /"ann" is taken/);
  const bobSeen = bob.log.length;
  const again = open({ ...ann.session });  // Ann's newer connection, while the old one is still open
  const took = await next(again, 'session');
  assert.deepEqual([took.nick, took.room], ['Ann', 'tech']);
  await next(ann, 'replaced');
  assert.equal(await next(ann, 'disconnect', (r) => r === 'io server disconnect'), 'io server disconnect');
  await next(bob, 'notice', (n) => n.text === 'Ann left', bobSeen);
  await next(bob, 'users', (u) => u.users.join() === 'Ann,bob', bobSeen);
  assert.equal((await ask(again, 'chat message', 'one Ann only')).ok, true);
  await next(bob, 'chat message', (m) => m.text === 'one Ann only');
});
