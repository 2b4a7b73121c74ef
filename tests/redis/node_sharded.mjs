// What @socket.io/redis-adapter 8.3's sharded adapter (createShardedAdapter) publishes and subscribes to, for
// tests/redis/unit/test_sharded.cpp.
//
//   node tests/redis/node_sharded.mjs   prints one JSON line per case:
//     {name, mode, kind: "publish", channel, hex}           one SPUBLISH (hex: its payload's bytes)
//     {name, mode, kind: "subscribe", room, sid, subscribed}  whether a room created here got its channel SSUBSCRIBEd
//
// The adapter runs in a real socket.io Server with fake Redis clients of the npm redis 4 shape that record what
// they are asked; no Redis server is involved.
import { createRequire } from "node:module";
import { writeSync } from "node:fs";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");
const { createShardedAdapter } = require("@socket.io/redis-adapter");

const out = (o) => writeSync(1, JSON.stringify(o) + "\n");
const hex = (b) => Buffer.from(b).toString("hex");
const tick = () => new Promise((r) => setImmediate(r));

class FakeRedis {
  constructor() {
    this.published = [];
    this.subscribed = new Set();
  }
  sSubscribe(channel) {
    this.subscribed.add(channel);
    return Promise.resolve();
  }
  sUnsubscribe(channel) {
    this.subscribed.delete(channel);
    return Promise.resolve();
  }
  sPublish(channel, message) {
    this.published.push({ channel, message });
    return Promise.resolve(1);
  }
  sendCommand() {
    return Promise.resolve(["", 2]);
  }
  take() {
    const all = this.published;
    this.published = [];
    return all;
  }
}

const SID = "AAAAAAAAAAAAAAAAAAAA";  // 20 characters: a socket id's length
const LONG_ROOM = "room-of-twenty-chars";  // 20 characters too, but no socket's id
const opts = (rooms, except = [], flags = {}) => ({ rooms: new Set(rooms), except: new Set(except), flags });

for (const mode of ["static", "dynamic", "dynamic-private"]) {
  const pub = new FakeRedis();
  const sub = new FakeRedis();
  const io = new Server({ adapter: createShardedAdapter(pub, sub, { subscriptionMode: mode }) });
  const nsp = io.of("/");
  const adapter = nsp.adapter;
  const publish = async (name, fn) => {
    fn();
    await tick();
    for (const p of pub.take()) out({ name, mode, kind: "publish", channel: p.channel, hex: hex(p.message) });
  };
  const packet = (...data) => ({ type: 2, data });

  await publish("all", () => adapter.broadcast(packet("hello", 1, 1.5, null), opts([])));
  await publish("room", () => adapter.broadcast(packet("hello", { a: [1, "x"] }), opts(["room1"])));
  await publish("rooms", () => adapter.broadcast(packet("ev"), opts(["r1", "r2"], ["r3"])));
  await publish("except", () => adapter.broadcast(packet("ev"), opts([], ["r3"])));
  await publish("sidRoom", () => adapter.broadcast(packet("to one socket"), opts([SID])));
  await publish("longRoom", () => adapter.broadcast(packet("ev"), opts([LONG_ROOM])));
  await publish("utf16Room", () => adapter.broadcast(packet("ev"), opts(["\u{1F600}".repeat(10)])));
  await publish("volatile", () => adapter.broadcast(packet("v"), opts(["room1"], [], { volatile: true })));
  await publish("binary", () => adapter.broadcast(packet("bin", Buffer.from([0, 1, 255]), { n: Buffer.from("xyz") }),
    opts(["room1"])));
  await publish("withAck", () => adapter.broadcastWithAck(packet("ack?"), opts(["room1"], [], { timeout: 50 }),
    () => {}, () => {}));
  await publish("join", () => adapter.addSockets(opts(["room1"]), ["room2"]));
  await publish("leave", () => adapter.delSockets(opts([], ["room1"]), ["room2"]));
  await publish("disconnect", () => adapter.disconnectSockets(opts(["room1"]), true));
  await publish("serverSideEmit", () => adapter.serverSideEmit(["note", 1, { a: "b" }]));
  await publish("serverSideEmitBinary", () => adapter.serverSideEmit(["note", Buffer.from([9, 8])]));
  // Answers to another node's requests go to its own channel.
  nsp.on("question", (arg, cb) => cb({ got: arg, bytes: Buffer.from([7]) }));
  await publish("answerBinary", () => adapter.onMessage({ type: 9, data: { requestId: "req1", packet: ["question", 5] },
    uid: "0123456789abcdef", nsp: "/" }));
  nsp.on("plain", (arg, cb) => cb(arg + 1));
  await publish("answer", () => adapter.onMessage({ type: 9, data: { requestId: "req2", packet: ["plain", 5] },
    uid: "0123456789abcdef", nsp: "/" }));

  // Rooms created here: which ones get their own channel.
  adapter.addAll(SID, new Set([SID, "public-room", LONG_ROOM]));
  await tick();
  for (const room of [SID, "public-room", LONG_ROOM])
    out({ name: "sub-" + room, mode, kind: "subscribe", room, sid: room === SID,
      subscribed: sub.subscribed.has(`socket.io#/#${room}#`) });
}
process.exit(0);
