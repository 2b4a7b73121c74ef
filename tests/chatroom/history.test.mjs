// The chat room's history in SQLite (examples/chatroom/history.hpp), driven with the official socket.io-client 4.8
// against build/chatroom (or $CHATROOM: the sanitizer runs point it at an instrumented build), each test on a
// database of its own in a temp directory:
//   - every acknowledged message survives a SIGKILL of the server, in order;
//   - "history" pages go back through every message of a room exactly once, in order;
//   - a lock held on the file by another process (the sqlite3 shell: a disk that does not write) stalls no
//     broadcast; newcomers and pages see the queued messages; a full queue refuses at once; all is saved after;
//   - a write that fails is answered with an error, and the chat goes on;
//   - SIGTERM commits what is still queued before the process exits;
//   - an unusable file (garbage, a path under a file, a directory, no such directory, in use) stops the start
//     with a clear message and exit status 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connect } from 'socket.io-client';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHATROOM = process.env.CHATROOM || join(ROOT, 'build', 'chatroom');
const START_MS = 20000;   // generous: the sanitizer builds start slowly
const WAIT_MS = 10000;    // for any one answer or event
const PAGE = 50;          // the chatroom's page size and the number of messages shown on joining

function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'sioserver-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Runs the chatroom on a free port with CHATROOM_DB=db; resolves once it listens, with {url, stderr(),
// logged(pattern) (resolves once stderr matches), kill9(), terminate() (SIGTERM; resolves with {code, signal})}.
// The test's end stops it (SIGTERM, SIGKILL after 5 s) if it still runs. Its event limit is off
// (CHATROOM_EVENT_RATE=0): these tests fill the history's queue, 1000 messages from one client at once, which the
// chat's own limit would spread over 20 s.
async function startChatroom(t, db) {
  const child = spawn(CHATROOM, [], {
    cwd: ROOT, env: { ...process.env, PORT: '0', CHATROOM_DB: db, CHATROOM_EVENT_RATE: '0' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const url = await withTimeout(new Promise((resolveUrl, reject) => {
    child.stdout.on('data', () => {
      const m = out.match(/listening on http:\/\/localhost:(\d+)/);
      if (m) resolveUrl(`http://127.0.0.1:${m[1]}`);
    });
    exited.then(({ code, signal }) => reject(new Error(`chatroom exited (${code}, ${signal}): ${err}`)));
  }), START_MS, `the chatroom to start; stderr: ${err}`);
  return {
    url,
    stderr: () => err,
    logged: (pattern) => withTimeout(new Promise((resolveLogged) => {
      const check = () => { if (pattern.test(err)) { child.stderr.off('data', check); resolveLogged(); } };
      child.stderr.on('data', check);
      check();
    }), WAIT_MS, `stderr to match ${pattern}; it has: ${err}`),
    terminate() {
      child.kill('SIGTERM');
      return withTimeout(exited, WAIT_MS, 'the chatroom to stop');
    },
    async kill9() {
      child.kill('SIGKILL');
      const { signal } = await withTimeout(exited, WAIT_MS, 'the chatroom to die');
      assert.equal(signal, 'SIGKILL');
    },
  };
}

// Runs the chatroom where it must not start; resolves with {code, signal, stdout, stderr} once it exited.
async function failedStart(db) {
  const child = spawn(CHATROOM, [], { cwd: ROOT, env: { ...process.env, PORT: '0', CHATROOM_DB: db } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  try {
    return { ...(await withTimeout(exited, START_MS, `the chatroom to give up on ${db}`)), stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

// ---- socket.io-client helpers

// Resolves with the next `event` on `socket` whose argument passes `test`.
function next(socket, event, test = () => true, ms = WAIT_MS) {
  return withTimeout(new Promise((resolveEvent) => {
    const listener = (arg) => {
      if (!test(arg)) return;
      socket.off(event, listener);
      resolveEvent(arg);
    };
    socket.on(event, listener);
  }), ms, `"${event}"`);
}

const ask = (socket, event, ...args) => socket.timeout(WAIT_MS).emitWithAck(event, ...args);

// A logged-in user: resolves with {socket, room} (the "room" payload of joining `room`).
async function login(t, url, nick, room) {
  const socket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  t.after(() => socket.disconnect());
  const joined = next(socket, 'room');
  const res = await ask(socket, 'login', { nick, room });
  assert.deepEqual(res, { ok: true });
  return { socket, room: await joined };
}

// Sends `texts` one after another without waiting in between; resolves with their answers, in order.
function sendAll(socket, texts, ms = WAIT_MS) {
  return Promise.all(texts.map((text) => socket.timeout(ms).emitWithAck('chat message', text)));
}

// Everything a user can see of a room: what came on joining, then every older page. Checks each page.
async function wholeRoom(socket, name, joined) {
  assert.equal(joined.room, name);
  let messages = joined.history;
  let more = joined.older;
  assert.ok(messages.length <= PAGE);
  for (let pages = 0; more; pages++) {
    assert.ok(pages < 100, 'a bounded number of pages');
    const res = await ask(socket, 'history', { room: name, before: messages[0].id });
    assert.equal(res.ok, true, JSON.stringify(res));
    assert.equal(res.room, name);
    assert.ok(res.messages.length > 0 && res.messages.length <= PAGE, `a page has 1 to ${PAGE} messages`);
    if (res.more) assert.equal(res.messages.length, PAGE, 'only the last page is short');
    messages = [...res.messages, ...messages];
    more = res.more;
  }
  const ids = messages.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'oldest first');
  assert.equal(new Set(ids).size, ids.length, 'each message once');
  assert.ok(messages.every((m) => m.room === name));
  return messages;
}

// The sqlite3 shell on `db`, with a busy timeout (the chatroom's writer may hold the write lock for a moment).
function sql(db, statements) {
  const r = spawnSync('sqlite3', ['-bail', '-cmd', '.timeout 5000', db, statements],
                      { encoding: 'utf8', timeout: WAIT_MS });
  assert.equal(r.status, 0, `sqlite3 "${statements}": ${r.stderr}`);
  return r.stdout.trim();
}

// Holds the database's write lock from another process (a sqlite3 shell inside BEGIN IMMEDIATE) until release().
async function holdWriteLock(t, db) {
  const shell = spawn('sqlite3', ['-bail', db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  shell.stdout.on('data', (d) => { out += d; });
  shell.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => shell.once('exit', (code) => r(code)));
  t.after(() => { if (shell.exitCode === null && shell.signalCode === null) shell.kill('SIGKILL'); });
  shell.stdin.write('.timeout 5000\nBEGIN IMMEDIATE;\n.shell echo locked\n');
  await withTimeout(new Promise((resolveLocked, reject) => {
    shell.stdout.on('data', () => { if (out.includes('locked')) resolveLocked(); });
    exited.then((code) => reject(new Error(`sqlite3 exited (${code}): ${err}`)));
  }), WAIT_MS, 'the sqlite3 shell to take the write lock');
  return {
    async release() {
      shell.stdin.end('COMMIT;\n');
      assert.equal(await withTimeout(exited, WAIT_MS, 'the sqlite3 shell to end'), 0, err);
    },
  };
}

const texts = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

// ---- the tests

test('every acknowledged message survives a SIGKILL of the server, in order', async (t) => {
  const db = join(tempDir(t), 'chat.db');
  const first = await startChatroom(t, db);
  const ann = await login(t, first.url, 'ann', 'tech');
  const bob = await login(t, first.url, 'bob', 'lobby');
  assert.deepEqual(ann.room.history, []);
  const techTexts = [...texts('tech message', 80), 'emoji 😀 and "quotes" and\nnew lines', 'x'.repeat(500)];
  const lobbyTexts = texts('lobby message', 12);
  const [techAnswers, lobbyAnswers] = await Promise.all([sendAll(ann.socket, techTexts),
                                                          sendAll(bob.socket, lobbyTexts)]);
  for (const res of [...techAnswers, ...lobbyAnswers]) assert.equal(res.ok, true, JSON.stringify(res));
  const techIds = techAnswers.map((r) => r.id);
  assert.deepEqual(techIds, [...techIds].sort((a, b) => a - b), 'ids grow in the order sent');
  assert.equal(sql(db, 'PRAGMA journal_mode'), 'wal');

  await first.kill9();
  const second = await startChatroom(t, db);
  const carol = await login(t, second.url, 'carol', 'tech');
  assert.equal(carol.room.history.length, PAGE, 'the newest page on joining');
  assert.equal(carol.room.older, true);
  const tech = await wholeRoom(carol.socket, 'tech', carol.room);
  assert.deepEqual(tech.map((m) => m.text), techTexts);
  assert.deepEqual(tech.map((m) => m.id), techIds);
  assert.ok(tech.every((m, i) => m.from === 'ann' && m.time === techAnswers[i].time));

  const switched = next(carol.socket, 'room');
  assert.equal((await ask(carol.socket, 'switch room', 'lobby')).ok, true);
  const lobbyRoom = await switched;
  assert.equal(lobbyRoom.older, false);
  const lobby = await wholeRoom(carol.socket, 'lobby', lobbyRoom);
  assert.deepEqual(lobby.map((m) => m.text), lobbyTexts);
  assert.ok(lobby.every((m) => m.from === 'bob'));

  // numbering goes on after the restart: a new message is newer than every stored one
  const after = await ask(carol.socket, 'chat message', 'after the restart');
  assert.equal(after.ok, true);
  assert.ok(after.id > Math.max(...techIds, ...lobby.map((m) => m.id)));
});

test('"history" pages back through every message of a room exactly once, in order', async (t) => {
  const db = join(tempDir(t), 'chat.db');
  const server = await startChatroom(t, db);
  const ann = await login(t, server.url, 'ann', 'random');
  const bob = await login(t, server.url, 'bob', 'tech');
  // Two rooms written side by side, so that the ids of one room have gaps.
  const randomTexts = texts('random', 2 * PAGE + 17);
  const [randomAnswers, techAnswers] = await Promise.all([sendAll(ann.socket, randomTexts),
                                                          sendAll(bob.socket, texts('tech', 30))]);
  assert.ok([...randomAnswers, ...techAnswers].every((r) => r.ok));

  const carol = await login(t, server.url, 'carol', 'random');
  assert.deepEqual(carol.room.history.map((m) => m.text), randomTexts.slice(-PAGE));
  assert.equal(carol.room.older, true);
  assert.deepEqual((await wholeRoom(carol.socket, 'random', carol.room)).map((m) => m.text), randomTexts);

  // before: null is the newest page; before the first message there is nothing; another room's pages are its own
  const newest = await ask(carol.socket, 'history', { room: 'random', before: null });
  assert.deepEqual([newest.messages.length, newest.more], [PAGE, true]);
  assert.deepEqual(newest.messages.map((m) => m.text), randomTexts.slice(-PAGE));
  const none = await ask(carol.socket, 'history', { room: 'random', before: randomAnswers[0].id });
  assert.deepEqual(none, { ok: true, room: 'random', messages: [], more: false });
  const tech = await ask(carol.socket, 'history', { room: 'tech' });
  assert.deepEqual([tech.messages.length, tech.more], [30, false]);
  assert.deepEqual(tech.messages.map((m) => m.text), texts('tech', 30));

  // the request is checked
  for (const [args, error] of [
    [[{ room: 'kitchen' }], /no such room/], [[], /no such room/], [['random'], /no such room/],
    [[{ room: 'random', before: 'x' }], /must be a message id/], [[{ room: 'random', before: 0 }], /message id/],
    [[{ room: 'random', before: -5 }], /message id/], [[{ room: 'random', before: 1.5 }], /message id/],
    [[{ room: 'random', before: 1e300 }], /message id/],
  ]) {
    const res = await ask(carol.socket, 'history', ...args);
    assert.equal(res.ok, false, JSON.stringify(args));
    assert.match(res.error, error);
  }
  const stranger = connect(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
  t.after(() => stranger.disconnect());
  const refused = await ask(stranger, 'history', { room: 'random' });
  assert.equal(refused.ok, false);
  assert.match(refused.error, /Log in first/);
  stranger.emit('history', { room: 'random' });  // no callback: nothing to answer, no harm
  assert.equal((await ask(carol.socket, 'history', { room: 'random' })).ok, true, 'still serving');
});

test('a locked database stalls no broadcast; the queue is seen by newcomers and pages, bounded, and saved after',
     async (t) => {
  const db = join(tempDir(t), 'chat.db');
  const first = await startChatroom(t, db);
  const ann = await login(t, first.url, 'ann', 'lobby');
  const bob = await login(t, first.url, 'bob', 'lobby');
  const before = texts('saved before the lock', 20);
  assert.ok((await sendAll(ann.socket, before)).every((r) => r.ok));

  const lock = await holdWriteLock(t, db);
  // 60 messages while nothing can be written: bob gets every one of them while none of ann's answers came.
  const during = texts('sent during the lock', 60);
  let answered = 0;
  const bobGot = [];
  bob.socket.on('chat message', (m) => bobGot.push(m.text));
  const lastSeen = next(bob.socket, 'chat message', (m) => m.text === during.at(-1));
  const duringAnswers = Promise.all(during.map((text) =>
    ann.socket.timeout(60000).emitWithAck('chat message', text).then((res) => { answered++; return res; })));
  await lastSeen;
  assert.deepEqual(bobGot, during, 'every broadcast arrived, in order');
  assert.equal(answered, 0, 'no answer yet: nothing is saved while the lock is held');

  // A newcomer gets the newest 50, queued ones included, and pages back into the saved ones without a gap.
  const carol = await login(t, first.url, 'carol', 'lobby');
  assert.deepEqual(carol.room.history.map((m) => m.text), [...before, ...during].slice(-PAGE));
  assert.deepEqual((await wholeRoom(carol.socket, 'lobby', carol.room)).map((m) => m.text), [...before, ...during]);

  // The queue holds 1000 messages: the rest are refused at once, and never broadcast.
  const fill = texts('filling the queue', 1000 - during.length);
  const fillAnswers = Promise.all(fill.map((text) => ann.socket.timeout(60000).emitWithAck('chat message', text)));
  const extra = await sendAll(ann.socket, texts('one too many', 5));
  for (const res of extra) {
    assert.equal(res.ok, false);
    assert.match(res.error, /behind with saving/);
  }
  await first.logged(/is locked by another process; messages wait in memory/);
  assert.equal(answered, 0, 'the queued ones still wait');

  // The lock goes: every queued message is saved and answered.
  await lock.release();
  const saved = await withTimeout(Promise.all([duringAnswers, fillAnswers]), 60000, 'the answers after the lock');
  assert.ok(saved.flat().every((r) => r.ok), 'every queued message is saved');
  assert.equal(bobGot.filter((text) => text.startsWith('one too many')).length, 0, 'a refused one is not sent');

  await first.kill9();
  const second = await startChatroom(t, db);
  const dave = await login(t, second.url, 'dave', 'lobby');
  assert.deepEqual((await wholeRoom(dave.socket, 'lobby', dave.room)).map((m) => m.text), [...before, ...during, ...fill]);
});

test('a write that fails is answered with an error; the message was delivered, is not kept, and the chat goes on',
     async (t) => {
  const db = join(tempDir(t), 'chat.db');
  const first = await startChatroom(t, db);
  const ann = await login(t, first.url, 'ann', 'lobby');
  const bob = await login(t, first.url, 'bob', 'lobby');
  assert.equal((await ask(ann.socket, 'chat message', 'kept 1')).ok, true);

  // Another process makes every insert fail, as a failing disk would.
  sql(db, "CREATE TRIGGER broken BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
  const delivered = next(bob.socket, 'chat message', (m) => m.text === 'lost');
  const res = await ask(ann.socket, 'chat message', 'lost');
  assert.equal(res.ok, false);
  assert.equal(res.delivered, true);
  assert.match(res.error, /reached the room but was not saved \(disk on fire\)/);
  assert.equal(typeof res.id, 'number');
  await delivered;
  const carol = await login(t, first.url, 'carol', 'lobby');
  assert.deepEqual(carol.room.history.map((m) => m.text), ['kept 1'], 'a newcomer sees what is saved');
  await first.logged(/1 message\(s\) not saved in .*chat\.db: disk on fire/);

  sql(db, 'DROP TRIGGER broken;');
  assert.equal((await ask(ann.socket, 'chat message', 'kept 2')).ok, true);

  // One message that cannot be written, in one batch with others (queued behind a lock): only it fails.
  sql(db, "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' " +
          "BEGIN SELECT RAISE(ABORT, 'this one only'); END;");
  const lock = await holdWriteLock(t, db);
  const batch = ['kept 3', 'poison', 'kept 4'];
  const seen = next(bob.socket, 'chat message', (m) => m.text === 'kept 4');
  const answers = sendAll(ann.socket, batch);
  await seen;
  await lock.release();
  const [a3, poison, a4] = await answers;
  assert.equal(a3.ok, true);
  assert.equal(a4.ok, true);
  assert.equal(poison.ok, false);
  assert.match(poison.error, /not saved \(this one only\)/);

  await first.kill9();
  const second = await startChatroom(t, db);
  const dave = await login(t, second.url, 'dave', 'lobby');
  assert.deepEqual(dave.room.history.map((m) => m.text), ['kept 1', 'kept 2', 'kept 3', 'kept 4']);
});

test('SIGTERM saves the queued messages before the process exits', async (t) => {
  const db = join(tempDir(t), 'chat.db');
  const first = await startChatroom(t, db);
  const ann = await login(t, first.url, 'ann', 'tech');
  const bob = await login(t, first.url, 'bob', 'tech');
  const lock = await holdWriteLock(t, db);
  const queued = texts('queued at the end', 25);
  const seen = next(bob.socket, 'chat message', (m) => m.text === queued.at(-1));
  for (const text of queued) ann.socket.emit('chat message', text);
  await seen;  // handled, so queued
  const stopped = first.terminate();
  await first.logged(/stopping; saving 25 queued message\(s\) first/);
  await lock.release();
  assert.deepEqual(await stopped, { code: 0, signal: null });

  const second = await startChatroom(t, db);
  const carol = await login(t, second.url, 'carol', 'tech');
  assert.deepEqual(carol.room.history.map((m) => m.text), queued);
});

test('an unusable database stops the start with a clear message and exit status 1', async (t) => {
  const dir = tempDir(t);
  const garbage = join(dir, 'garbage.db');
  const bytes = Buffer.from('these bytes are not a SQLite database '.repeat(200));
  writeFileSync(garbage, bytes);
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'not a directory\n');
  // A real history with one page broken in the middle of its table.
  const damaged = join(dir, 'damaged.db');
  sql(damaged, 'CREATE TABLE messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL, sender TEXT NOT NULL, ' +
               'text TEXT NOT NULL, time INTEGER NOT NULL); ' +
               "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) " +
               "INSERT INTO messages SELECT i, 'lobby', 'ann', 'message ' || i, i FROM c;");
  const pages = readFileSync(damaged);
  pages.fill(0xff, 4096 * 3 + 64, 4096 * 3 + 3000);
  writeFileSync(damaged, pages);

  const cases = [
    [garbage, /garbage\.db is not a usable SQLite database \(file is not a database\)\. Move it away/],
    [damaged, /damaged\.db is corrupt \(.+\)\. Move it away/],
    [join(aFile, 'chat.db'), /cannot open .*a-file\/chat\.db for writing: Not a directory\. Set CHATROOM_DB/],
    [dir, /cannot open .* for writing: Is a directory/],
    [join(dir, 'no', 'such', 'dir', 'chat.db'), /cannot open .* for writing: No such file or directory/],
  ];
  if (process.getuid && process.getuid() !== 0) {  // root writes to read-only files anyway
    const readOnly = join(dir, 'read-only.db');
    writeFileSync(readOnly, '');
    chmodSync(readOnly, 0o444);
    cases.push([readOnly, /cannot open .*read-only\.db for writing: Permission denied/]);
  }
  for (const [db, message] of cases) {
    const { code, signal, stdout, stderr } = await failedStart(db);
    assert.equal(signal, null, `${db}: no crash (${stderr})`);
    assert.equal(code, 1, `${db}: exit status 1 (${stderr})`);
    assert.match(stderr, /^chatroom: the chat history cannot be used: /);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    assert.doesNotMatch(stdout, /listening/);
  }
  assert.deepEqual(readFileSync(garbage), bytes, 'the garbage is left as it was');

  // One chatroom per database: a second one on the same file is refused while the first runs.
  const db = join(dir, 'chat.db');
  await startChatroom(t, db);
  const { code, stderr } = await failedStart(db);
  assert.equal(code, 1);
  assert.match(stderr, /chat\.db is in use by another chatroom process/);
});
