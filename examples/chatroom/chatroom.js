// The chatroom page (examples/chatroom): a login form, then rooms, who is online, the conversation (its older
// messages a page at a time), "is typing" and private messages. Whatever people typed is put on the page with
// textContent, never parsed as HTML.
'use strict';

const TOPICS = { lobby: 'Say hello to everyone', tech: 'Code, gadgets and bugs', random: 'Anything goes' };
const TYPING_IDLE_MS = 2000;    // "typing" ends this long after the last keystroke
const TYPING_REPEAT_MS = 1500;  // while the typing goes on, say so again this often
const TYPING_EXPIRE_MS = 3500;  // forget that someone types when nothing more was heard for this long

const $ = (id) => document.getElementById(id);
const ui = {
  login: $('login'), loginForm: $('login-form'), nick: $('nick'), loginRoom: $('login-room'),
  loginError: $('login-error'), loginButton: $('login-button'), loginStatus: $('login-status'),
  chat: $('chat'), meAvatar: $('me-avatar'), meNick: $('me-nick'), status: $('status'), logout: $('logout'),
  rooms: $('rooms'), users: $('users'), usersTitle: $('users-title'),
  roomTitle: $('room-title'), roomTopic: $('room-topic'), messages: $('messages'), typing: $('typing'),
  form: $('form'), input: $('input'), pmChip: $('pm-chip'), pmName: $('pm-name'), pmClear: $('pm-clear'),
};

// ---- the session ({nick, room, token} from the server), kept per tab: a reconnect or a reload gets it back
const STORE = 'chatroom.session';
let session = null;
try { session = JSON.parse(sessionStorage.getItem(STORE)); } catch { /* none */ }
function saveSession() {
  if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
  else sessionStorage.removeItem(STORE);
}

// Every connection, the first and each reconnection, shows the session in its auth payload; the server lets
// it back in at once, under the same nickname and in the same room.
const socket = io({
  auth: (send) => send(session ? { nick: session.nick, room: session.room, token: session.token } : {}),
});

let room = null;              // the room on screen
let roomList = [];            // [{name, users}]
let pmTarget = null;          // whom the input bar sends privately to, or null for the room
const shown = new Set();      // ids of the room messages on screen
let oldestId = null;          // the oldest room message on screen, where the next page of older ones ends
const typers = new Map();     // nick -> the timer that forgets them

// ---- small DOM helpers (text only)
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function clock(ms) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }
function avatar(nick) {
  const node = el('span', 'avatar', Array.from(nick)[0] || '?');
  let hash = 0;
  for (const ch of nick.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  node.style.background = `hsl(${hash}, 55%, 48%)`;
  return node;
}

// ---- login
function showLogin(error) {
  ui.chat.hidden = true;
  ui.login.hidden = false;
  ui.loginError.textContent = error || '';
  ui.loginStatus.textContent = '';
  ui.loginButton.disabled = false;
  ui.nick.focus();
}
function showChat() {
  ui.login.hidden = true;
  ui.chat.hidden = false;
  ui.input.focus();
}
if (session) {  // a reload: the server will let us back in
  ui.nick.value = session.nick;
  ui.loginStatus.textContent = `Signing you back in as ${session.nick}…`;
  ui.loginButton.disabled = true;
}

ui.loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  ui.loginError.textContent = '';
  if (!socket.active) socket.connect();  // the server closed this connection ("replaced")
  socket.emit('login', { nick: ui.nick.value, room: ui.loginRoom.value }, (res) => {
    if (!res.ok) ui.loginError.textContent = res.error;
  });
});

ui.logout.addEventListener('click', () => {
  session = null;
  saveSession();
  socket.disconnect();
  location.reload();
});

// ---- what the server sends
socket.on('connect', () => {
  setStatus(true);
  // Connection state recovery: the server kept this socket while the network was away, and what it sent
  // meanwhile has just been shown (the client hands missed packets over before "connect").
  if (socket.recovered) addNotice('Reconnected, nothing missed', 'recovered');
});
socket.on('disconnect', () => setStatus(false));

socket.on('session', (s) => {
  session = s;
  saveSession();
  ui.meNick.textContent = s.nick;
  const picture = avatar(s.nick);
  picture.id = 'me-avatar';
  ui.meAvatar.replaceWith(picture);
  ui.meAvatar = picture;
  showChat();
});

socket.on('login failed', ({ error }) => {
  session = null;
  saveSession();
  showLogin(error);
});

socket.on('replaced', () => {
  session = null;
  saveSession();
  showLogin('You joined the chat from another tab or connection, so this one was closed.');
});

socket.on('rooms', (list) => {
  roomList = list;
  renderRooms();
});

socket.on('room', (r) => {
  if (session) { session.room = r.room; saveSession(); }
  if (r.room === room) {
    // back in the same room after a reconnection: add what was missed
    for (const m of r.history) if (!shown.has(m.id)) showRoomMessage(m);
    addNotice('Reconnected');
  } else {
    room = r.room;
    ui.messages.replaceChildren();
    shown.clear();
    oldestId = null;  // the first message shown sets it
    for (const m of r.history) showRoomMessage(m);
    showOlderButton(r.older);
    addNotice(`You joined #${room}`);
    ui.roomTitle.textContent = room;
    ui.roomTopic.textContent = TOPICS[room] || '';
    setPmTarget(pmTarget);  // the placeholder names the room
  }
  typers.clear();
  renderTyping();
  renderUsers(r.users);
  renderRooms();
});

socket.on('users', (u) => { if (u.room === room) renderUsers(u.users); });
socket.on('notice', (n) => { if (n.room === room) addNotice(n.text); });
socket.on('chat message', (m) => {
  if (m.room !== room) return;
  forgetTyper(m.from);
  showRoomMessage(m);
});
socket.on('private message', (m) => addMessage({ ...m, private: true }));
socket.on('typing', ({ nick, typing }) => (typing ? noteTyper(nick) : forgetTyper(nick)));

function setStatus(online) {
  ui.status.textContent = online ? 'online' : 'reconnecting…';
  ui.status.classList.toggle('online', online);
}

// ---- the sidebar
function renderRooms() {
  ui.rooms.replaceChildren(...roomList.map(({ name, users }) => {
    const button = el('button');
    button.type = 'button';
    button.dataset.room = name;
    button.append(el('span', 'hash', '#'), el('span', 'name', name), el('span', 'count', String(users)));
    button.addEventListener('click', () => switchRoom(name));
    const li = el('li', name === room ? 'active' : '');
    li.append(button);
    return li;
  }));
  const chosen = ui.loginRoom.value || (session && session.room) || 'lobby';
  ui.loginRoom.replaceChildren(...roomList.map(({ name, users }) =>
    Object.assign(el('option', '', `#${name} — ${users} online`), { value: name })));
  ui.loginRoom.value = chosen;
}

function renderUsers(nicks) {
  ui.usersTitle.textContent = `Online in #${room} — ${nicks.length}`;
  ui.users.replaceChildren(...nicks.map((nick) => {
    const me = session && nick === session.nick;
    const button = el('button');
    button.type = 'button';
    button.dataset.nick = nick;
    button.disabled = me;
    button.append(el('span', 'dot'), el('span', 'name', nick));
    if (me) button.append(el('span', 'you', '(you)'));
    else button.title = `Send ${nick} a private message`;
    button.addEventListener('click', () => setPmTarget(nick));
    const li = el('li');
    li.append(button);
    return li;
  }));
  for (const nick of typers.keys()) if (!nicks.includes(nick)) forgetTyper(nick);
}

function switchRoom(name) {
  if (name === room) return;
  stopTyping();
  socket.emit('switch room', name, (res) => { if (!res.ok) addNotice(res.error, 'error'); });
}

// ---- the conversation
function scrollAfter(add, force) {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  add();
  if (force || atBottom) list.scrollTop = list.scrollHeight;
}

function addNotice(text, kind) {
  const li = el('li', `notice${kind ? ` ${kind}` : ''}`);
  li.append(el('span', '', text));
  scrollAfter(() => ui.messages.append(li));
}

// Shows a message: {from, text, time, [to], [private]}; own ones are marked, pending until the server answers.
function addMessage(m, pending = false) {
  const li = messageItem(m, pending);
  scrollAfter(() => ui.messages.append(li), li.classList.contains('own'));
  return li;
}

function messageItem(m, pending = false) {
  const own = session && m.from === session.nick;
  const li = el('li', 'message');
  li.classList.toggle('own', !!own);
  li.classList.toggle('private', !!m.private);
  li.classList.toggle('pending', pending);
  const meta = el('div', 'meta');
  meta.append(el('span', 'from', m.from));
  if (m.private) meta.append(el('span', 'tag', own ? `private to ${m.to}` : 'private to you'));
  const time = el('time', 'time', clock(m.time));
  time.dateTime = new Date(m.time).toISOString();
  meta.append(time);
  const body = el('div', 'body');
  body.append(meta, el('div', 'text', m.text));
  li.append(avatar(m.from), body);
  return li;
}

// ---- older messages: a button at the top of the conversation asks for the page before the oldest one shown
const olderItem = el('li', 'older');
const olderButton = el('button', '', 'Load older messages');
olderButton.type = 'button';
olderButton.id = 'load-older';
olderItem.append(olderButton);

function showOlderButton(more) {
  olderButton.disabled = false;
  olderButton.textContent = 'Load older messages';
  if (more) ui.messages.prepend(olderItem);
  else olderItem.remove();
}

olderButton.addEventListener('click', () => {
  const asked = room;
  olderButton.disabled = true;
  olderButton.textContent = 'Loading…';
  socket.timeout(10000).emit('history', { room: asked, before: oldestId }, (err, res) => {
    if (asked !== room) return;  // switched rooms meanwhile
    if (err || !res.ok) {
      showOlderButton(true);
      return addNotice(err ? 'The server did not answer; try again.' : res.error, 'error');
    }
    const list = ui.messages;
    const fromBottom = list.scrollHeight - list.scrollTop;  // what the reader sees stays in place
    const items = [];
    for (const m of res.messages) {
      if (shown.has(m.id)) continue;
      shown.add(m.id);
      items.push(messageItem(m));
    }
    if (res.messages.length) oldestId = res.messages[0].id;
    olderItem.after(...items);
    if (!res.more) {
      olderItem.remove();
      const start = el('li', 'notice beginning');
      start.append(el('span', '', `The beginning of #${room}`));
      list.prepend(start);
    }
    showOlderButton(res.more);
    list.scrollTop = list.scrollHeight - fromBottom;
  });
});

function showRoomMessage(m) {
  if (session && m.from === session.nick) {
    // one of ours still waiting for its answer (lost with a connection): this is it
    const waiting = [...ui.messages.querySelectorAll('.message.own.pending:not(.private)')]
      .find((li) => li.querySelector('.text').textContent === m.text);
    if (waiting) return settle(waiting, { ok: true, ...m });
  }
  shown.add(m.id);
  if (oldestId === null) oldestId = m.id;
  addMessage(m);
}

// The server's answer to a message we sent.
function settle(li, res) {
  li.classList.remove('pending');
  if (!res || !res.ok) {
    li.classList.add('failed');
    // delivered: the room got it, only saving it failed
    const why = !res ? 'Not sent: no answer' : res.delivered ? res.error : `Not sent: ${res.error}`;
    li.querySelector('.body').append(el('div', 'failed', why));
    if (res && res.id !== undefined) shown.add(res.id);
    return;
  }
  if (res.id !== undefined) shown.add(res.id);
  li.querySelector('.time').textContent = clock(res.time);
  if (res.to) li.querySelector('.tag').textContent = `private to ${res.to}`;
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.input.value.trim();
  if (!text || !session) return;
  let to = pmTarget;
  let body = text;
  if (/^\/msg(\s|$)/i.test(text)) {
    const command = text.match(/^\/msg\s+(\S+)\s+(\S[\s\S]*)$/i);
    if (!command) return addNotice('Usage: /msg name text', 'error');
    [, to, body] = command;
  }
  ui.input.value = '';
  stopTyping();
  const mine = { from: session.nick, text: body, time: Date.now() };
  if (to) {
    const li = addMessage({ ...mine, to, private: true }, true);
    socket.emit('private message', { to, text: body }, (res) => settle(li, res));
  } else {
    const li = addMessage(mine, true);
    socket.emit('chat message', body, (res) => settle(li, res));
  }
});

// ---- private messages: the input bar sends to one person until Esc or ×
function setPmTarget(nick) {
  pmTarget = nick;
  ui.pmChip.hidden = !nick;
  ui.pmName.textContent = nick || '';
  ui.input.placeholder = nick ? `Private message to ${nick}` : `Message #${room}   (/msg name text for a private one)`;
  if (nick) stopTyping();
  ui.input.focus();
}
ui.pmClear.addEventListener('click', () => setPmTarget(null));
ui.input.addEventListener('keydown', (e) => { if (e.key === 'Escape') setPmTarget(null); });

// ---- "is typing": ours to the room (never for private messages or commands), and the others'
let typingSince = 0;  // when we last said we type; 0 when we don't
let typingIdle = null;
ui.input.addEventListener('input', () => {
  const text = ui.input.value.trim();
  if (!text || pmTarget || text.startsWith('/')) return stopTyping();
  if (Date.now() - typingSince > TYPING_REPEAT_MS && socket.connected) {
    socket.emit('typing', true);
    typingSince = Date.now();
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
});
function stopTyping() {
  clearTimeout(typingIdle);
  if (typingSince && socket.connected) socket.emit('typing', false);
  typingSince = 0;
}

function noteTyper(nick) {
  clearTimeout(typers.get(nick));
  typers.set(nick, setTimeout(() => forgetTyper(nick), TYPING_EXPIRE_MS));
  renderTyping();
}
function forgetTyper(nick) {
  if (!typers.has(nick)) return;
  clearTimeout(typers.get(nick));
  typers.delete(nick);
  renderTyping();
}
function renderTyping() {
  const names = [...typers.keys()];
  ui.typing.textContent =
    names.length === 0 ? '' :
    names.length === 1 ? `${names[0]} is typing…` :
    names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : 'Several people are typing…';
}
