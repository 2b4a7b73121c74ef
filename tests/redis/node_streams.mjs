// What @socket.io/redis-streams-adapter 0.3.1 writes and reads, for tests/redis/unit/test_streams_wire.cpp.
//
//   node tests/redis/node_streams.mjs encode          one JSON line per case, what the adapter sent:
//       {name, kind: "xadd", fields: [k, v, ...]}     a stream entry
//       {name, kind: "publish", channel, hex}         a pub/sub message
//       {name, kind: "set", key, value, px}           a session
//       {name, kind: "hash", nsp, hash, stream}       util.hashCode and the stream a namespace goes to
//   node tests/redis/node_streams.mjs decode < lines  reads {name, kind, ...} lines the C++ side made and prints
//       {name, seen}: what the adapter made of each
//       kind "entry" {fields: [k, v, ...], offset}    -> the broadcast the adapter delivers here (packet, opts)
//       kind "session" {value, entries}               -> what restoreSession gives (the session, missed packets)
//       kind "publish" {hex}                          -> the message the adapter decodes
// The adapter runs in a real socket.io Server with a fake Redis client of the npm redis 4 shape that records what it
// is asked and answers what a case says; no Redis server is involved. Buffers are tagged {"$bin": hex}.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { writeSync } from "node:fs";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");
const { Adapter } = require("socket.io-adapter");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const { hashCode } = require("@socket.io/redis-streams-adapter/dist/util");
const msgpack = require("@msgpack/msgpack");

const out = (o) => writeSync(1, JSON.stringify(o) + "\n");
const hex = (b) => Buffer.from(b).toString("hex");
const tick = () => new Promise((r) => setImmediate(r));
function tag(v) {
  if (v instanceof Uint8Array) return { $bin: hex(v) };
  if (Array.isArray(v)) return v.map(tag);
  if (v instanceof Set) return [...v].map(tag);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]));
  return v === undefined ? null : v;
}

class FakeRedis {
  constructor() {
    this.calls = [];
    this.answers = {};  // what get / xRange answer
    this.listeners = [];
  }
  duplicate() { return this; }
  on() { return this; }
  connect() { return Promise.resolve(); }
  sSubscribe() { return Promise.resolve(); }
  subscribe(channels, listener) { this.listeners.push(listener); return Promise.resolve(); }
  xRead() { return new Promise(() => {}); }  // the reader waits for ever
  xAdd(stream, id, payload, opts) { this.calls.push({ kind: "xadd", stream, payload, opts }); return Promise.resolve("1-0"); }
  publish(channel, message) { this.calls.push({ kind: "publish", channel, message }); return Promise.resolve(1); }
  set(key, value, opts) { this.calls.push({ kind: "set", key, value, opts }); return Promise.resolve("OK"); }
  multi() {
    const self = this;
    return { get() { return this; }, del() { return this; }, exec() { return Promise.resolve([self.answers.session, 1]); } };
  }
  xRange(stream, start, end) {
    if (start === end) return Promise.resolve(this.answers.offsetExists ? [{ id: start, message: {} }] : []);
    const entries = this.answers.entries || [];
    this.answers.entries = [];  // the adapter asks again from the last one on: nothing more
    return Promise.resolve(entries);
  }
  sendCommand() { return Promise.resolve(["", 2]); }
  take() { const all = this.calls; this.calls = []; return all; }
}

const redis = new FakeRedis();
const io = new Server({ adapter: createAdapter(redis), connectionStateRecovery: { maxDisconnectionDuration: 60000 } });
const adapter = io.of("/").adapter;
const opts = (rooms, except = [], flags = {}) => ({ rooms: new Set(rooms), except: new Set(except), flags });

if (process.argv[2] === "encode") {
  await tick();
  const cases = [
    ["broadcast_plain", () => adapter.broadcast({ type: 2, data: ["chat", "hi", 1.5, { a: [true, null] }] }, opts(["r1"], ["r2"]))],
    ["broadcast_all", () => adapter.broadcast({ type: 2, data: ["ev", 2 ** 53, -1] }, opts([]))],
    ["broadcast_binary", () => adapter.broadcast({ type: 2, data: ["bin", Buffer.from([0, 1, 255]), { nested: Buffer.from("xyz") }] }, opts(["r"]))],
    ["broadcast_volatile", () => adapter.broadcast({ type: 2, data: ["v"] }, opts(["r"], [], { volatile: true }))],
    ["sockets_join", () => adapter.addSockets(opts(["a"], ["b"]), ["x", "y"])],
    ["disconnect", () => adapter.disconnectSockets(opts(["a"]), true)],
    ["server_side_emit", () => adapter.serverSideEmit(["ping", 1, "two"])],
    ["session", () => adapter.persistSession({ sid: "S".repeat(20), pid: "P".repeat(20), rooms: ["S".repeat(20), "room"], data: { user: "ann", n: 3, big: 2 ** 60 } })],
  ];
  for (const [name, fn] of cases) {
    fn();
    await tick();
    for (const c of redis.take()) {
      if (c.kind === "xadd") out({ name, kind: "xadd", stream: c.stream, fields: Object.entries(c.payload).flat(), maxlen: c.opts.TRIM.threshold });
      else if (c.kind === "publish") out({ name, kind: "publish", channel: c.channel, hex: hex(c.message) });
      else if (c.kind === "set") out({ name, kind: "set", key: c.key, value: c.value, px: c.opts.PX });
    }
  }
  for (const [nsp, count] of [["/", 4], ["/chat", 4], ["/notifications", 4], ["/h\u00e9llo\u{1F600}", 7], ["/", 1]]) {
    const i = hashCode(nsp) % count;
    out({ name: `hash ${nsp} ${count}`, kind: "hash", nsp, count, hash: hashCode(nsp), stream: count === 1 ? "socket.io" : `socket.io-${i}` });
  }
  process.exit(0);
}

// decode: what the adapter delivers (its in-memory base's broadcast) or restores
const delivered = [];
Adapter.prototype.broadcast = function (packet, o) {
  delivered.push({ packet, opts: { rooms: [...o.rooms], except: [...o.except], flags: o.flags } });
};
const ssEmitted = [];
io.of("/")._onServerSideEmit = (args) => ssEmitted.push(args);
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  let seen;
  try {
    if (c.kind === "entry") {
      const message = {};
      for (let i = 0; i + 1 < c.fields.length; i += 2) message[c.fields[i]] = c.fields[i + 1];
      adapter.onRawMessage(message, c.offset);
      seen = delivered.splice(0);
    } else if (c.kind === "session") {
      redis.answers = { session: c.value, offsetExists: true, entries: c.entries.map((e) => ({ id: e.id, message: Object.fromEntries(e.fields.reduce((acc, x, i, a) => (i % 2 ? acc : [...acc, [x, a[i + 1]]]), [])) })) };
      seen = await adapter.restoreSession("P".repeat(20), "1-0");
    } else if (c.kind === "publish") {
      for (const l of redis.listeners) l(Buffer.from(c.hex, "hex"), "socket.io#/#");
      await tick();
      seen = { emitted: ssEmitted.splice(0) };
    }
  } catch (e) {
    seen = { error: String(e && e.message || e) };
  }
  out({ name: c.name, seen: tag(seen) });
}
process.exit(0);
