// What Node's side of the Redis adapter protocol writes and reads, for tests/redis/unit/test_wire.cpp.
//
//   node tests/redis/node_codec.mjs encode          prints one JSON line per case: {name, channel?, hex, json?}
//   node tests/redis/node_codec.mjs decode < lines  reads {kind, name, channel?, hex} lines the C++ side made and
//                                                   prints {name, seen} lines: what Node made of each
//
// The bytes come from the real packages: notepack.io for values, and @socket.io/redis-adapter 8.3 and
// @socket.io/redis-emitter 5.1 for the messages, each given fake Redis clients that record what they publish and
// let us hand them messages. No Redis server is involved. `seen` uses tag(): a Buffer is {"$bin": hex} and a
// number JSON cannot hold is {"$num": text}, so that the C++ side can compare text with text.
import { createRequire } from "node:module";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import { writeSync } from "node:fs";

const require = createRequire(import.meta.url);
const notepack = require("notepack.io");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const { Adapter } = require("socket.io-adapter");

// Synchronous writes: the process exits right after the last line (pending timers of RA must not keep it alive).
const out = (o) => writeSync(1, JSON.stringify(o) + "\n");
const hex = (b) => Buffer.from(b).toString("hex");

function tag(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (typeof v === "number") return Number.isFinite(v) ? v : { $num: String(v) };
  if (Array.isArray(v)) return v.map(tag);
  if (v instanceof Set) return [...v].map(tag);
  if (v && typeof v === "object" && !(v instanceof Date))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]));
  return v === undefined ? null : v;
}

// The values both sides know by name (the C++ test has the same table).
const values = {
  nil: null, yes: true, no: false,
  zero: 0, negzero: -0, i127: 127, i128: 128, i255: 255, i256: 256, i65535: 65535, i65536: 65536,
  u32max: 4294967295, u32next: 4294967296, p53: 2 ** 53, p60: 2 ** 60,
  neg1: -1, neg32: -32, neg33: -33, neg128: -128, neg129: -129, neg32768: -32768, neg32769: -32769,
  neg2p31: -(2 ** 31), neg2p31m1: -(2 ** 31) - 1, neg2p53: -(2 ** 53),
  half: 1.5, tenth: 0.1, negfrac: -2.25, huge: 1e300, tiny: 5e-324, third: 1 / 3, nan: NaN, inf: Infinity,
  ninf: -Infinity,
  str0: "", str31: "a".repeat(31), str32: "b".repeat(32), str255: "c".repeat(255), str256: "d".repeat(256),
  str65536: "e".repeat(65536), utf8: "h\u00e9llo \u20ac \u{1F600}", ctrl: "a\"b\\c\n\u0001",
  bin0: Buffer.alloc(0), bin3: Buffer.from([1, 2, 255]), bin256: Buffer.alloc(256, 7), bin65536: Buffer.alloc(65536, 9),
  arr0: [], arr15: [...Array(15).keys()], arr16: [...Array(16).keys()], arr65536: new Array(65536).fill(1),
  map0: {}, map2: { a: 1, b: "x" }, map16: Object.fromEntries([...Array(16).keys()].map((i) => ["k" + String(i).padStart(2, "0"), i])),
  intkeys: { 9: "nine", 10: "ten", a: "a" },
  nested: { a: [1, { b: null }], c: { d: Buffer.from([0xde, 0xad]) } },
  event: ["chat message", "hi", 42, { nested: [true, null] }, Buffer.from("bytes")],
};

// What only Node can write, or old notepack wrote: the C++ side decodes these (json = what Node itself reads).
const decodeOnly = {
  date0: notepack.encode(new Date(0)),
  date1500: notepack.encode(new Date(1500)),
  dateNeg: notepack.encode(new Date(-1)),
  date2100: notepack.encode(new Date(Date.UTC(2100, 0, 2, 3, 4, 5, 678))),
  dateBig: notepack.encode(new Date(Date.UTC(30000, 5, 1))),
  dateInObject: notepack.encode({ at: new Date(86400000), n: 1 }),
  legacyUndefined: Buffer.from("d40000", "hex"),
  legacyDate: Buffer.from("d700" + "0000000000000bb8", "hex"),   // 3000 ms
  legacyArrayBuffer: Buffer.from("c70300010203", "hex"),
  ext5: Buffer.from("d40509", "hex"),
  ext16: Buffer.from("c7020a0102", "hex"),
  float32: Buffer.from("ca3fc00000", "hex"),
  u64: Buffer.from("cf0000000100000000", "hex"),
  numberKeys: Buffer.from("8201a16192a178c3a162", "hex"),  // {1: "a", ["x", true]: "b"}
  undefinedDropped: notepack.encode({ a: undefined, b: 1 }),
  typedArray: notepack.encode(new Uint8Array([5, 6])),
  mapAndSet: notepack.encode([new Map([[1, 2]]), new Set([1])]),
};

// Fake Redis clients of the ioredis shape (RA picks that path when pSubscribe/sSubscribe are missing).
class FakeRedis extends EventEmitter {
  constructor(numsub = 2) {
    super();
    this.published = [];
    this.numsub = numsub;
  }
  publish(channel, message) {
    this.published.push({ channel, message: Buffer.isBuffer(message) ? message : Buffer.from(message) });
    return Promise.resolve(1);
  }
  psubscribe() {}
  subscribe() {}
  punsubscribe() {}
  unsubscribe() {}
  send_command(cmd, args, cb) {
    cb(null, [args[1], this.numsub]);
  }
  take() {
    const all = this.published;
    this.published = [];
    return all;
  }
}

function makeServer() {
  const pub = new FakeRedis();
  const sub = new FakeRedis();
  const io = new Server({ adapter: createAdapter(pub, sub, { requestsTimeout: 200 }) });
  return { io, pub, sub };
}

const tick = () => new Promise((r) => setImmediate(r));

// A socket as the in-memory adapter and RA's fetch answer use it (nsp.sockets holds it, the adapter's rooms list it).
function fakeSocket(nsp, id, rooms, extra = {}) {
  const socket = {
    id,
    handshake: {
      headers: { host: "localhost:3000", "user-agent": "node" },
      time: "Tue Dec 01 2026 22:00:00 GMT+0000 (Coordinated Universal Time)",
      address: "::ffff:127.0.0.1",
      xdomain: false,
      secure: false,
      issued: 1796162400000,
      url: "/socket.io/?EIO=4&transport=websocket",
      query: { EIO: "4", transport: "websocket" },
      auth: { token: "abc" },
    },
    rooms: new Set([id, ...rooms]),
    data: { name: "ann", n: 7 },
    acks: new Map(),
    client: { writeToEngine() {} },
    join() {},
    leave() {},
    disconnect() {},
    ...extra,
  };
  nsp.sockets.set(id, socket);
  nsp.adapter.addAll(id, socket.rooms);
  return socket;
}

async function encode() {
  for (const [name, v] of Object.entries(values)) {
    const b = notepack.encode(v);
    out({ name: "value." + name, hex: hex(b), json: JSON.stringify(notepack.decode(b)) });
  }
  for (const [name, b] of Object.entries(decodeOnly))
    out({ name: "decode." + name, hex: hex(b), json: JSON.stringify(notepack.decode(b)) });

  // ---- broadcasts and requests as RA publishes them
  const { io, pub } = makeServer();
  const record = (name) => {
    for (const m of pub.take()) out({ name, channel: m.channel, hex: hex(m.message) });
  };
  io.emit("hello", 1, 1.5, null, Buffer.from([1, 2]));
  record("ra.broadcast.all");
  io.to("room1").emit("hello", "x");
  record("ra.broadcast.room");
  io.to(["r1", "r2"]).except("r3").emit("ev");
  record("ra.broadcast.rooms");
  io.volatile.emit("v", 1);
  record("ra.broadcast.volatile");
  io.compress(false).emit("c", { a: [1, 2] });
  record("ra.broadcast.compress");
  io.of("/admin").emit("adm", { a: 1 });
  record("ra.broadcast.admin");

  io.in("r1").except("r2").fetchSockets().catch(() => {});
  await tick();
  record("ra.request.fetch");
  io.in("r1").socketsJoin(["a", "b"]);
  record("ra.request.join");
  io.except("x").socketsLeave("a");
  record("ra.request.leave");
  io.in("r").disconnectSockets(true);
  record("ra.request.disconnect");
  io.serverSideEmit("hi", 1, "two", { a: [1] });
  record("ra.request.sse");
  io.serverSideEmit("q", 5, () => {});
  await tick();
  record("ra.request.sseack");
  io.of("/").adapter.allRooms().catch(() => {});
  await tick();
  record("ra.request.allrooms");
  io.timeout(1000).emit("ping", "x", () => {});
  await tick();
  record("ra.request.broadcastack");

  // ---- answers RA gives to requests (as the C++ node sends them)
  const nsp = io.of("/");
  const adapter = nsp.adapter;
  const subListener = (channel, payload) => adapter.onrequest(channel, Buffer.from(payload));
  const socket = fakeSocket(nsp, "sidA0000000000000001", ["r1"]);
  socket.data = { name: "ann", bin: Buffer.from([1]) };
  const req = (o) => JSON.stringify(o);
  await subListener(adapter.requestChannel, req({ uid: "CppUid", requestId: "Req005", type: 5, opts: { rooms: ["r1"], except: [] } }));
  record("ra.response.fetch");
  await subListener(adapter.requestChannel, req({ uid: "CppUid", requestId: "Req001", type: 1 }));
  record("ra.response.allrooms");
  await subListener(adapter.requestChannel, req({ uid: "CppUid", requestId: "Req000", type: 0, rooms: ["r1"] }));
  record("ra.response.sockets");
  await subListener(adapter.requestChannel, req({ uid: "CppUid", requestId: "Req002", type: 2, sid: "sidA0000000000000001", room: "x" }));
  record("ra.response.legacyjoin");
  nsp.on("sse", (a, cb) => cb({ ok: a }));
  await subListener(adapter.requestChannel, req({ uid: "CppUid", requestId: "Req006", type: 6, data: ["sse", 3] }));
  record("ra.response.sse");
  await subListener(adapter.requestChannel, notepack.encode({
    uid: "CppUid", requestId: "Req007", type: 7,
    packet: { type: 2, data: ["ping"], nsp: "/" }, opts: { rooms: [], except: [], flags: { timeout: 1000 } },
  }));
  record("ra.response.clientcount");
  for (const ack of socket.acks.values()) ack(Buffer.from([7, 7]), "second");
  record("ra.response.ack");

  // ---- what the emitter publishes
  const epub = new FakeRedis();
  const emitter = new Emitter(epub);
  const erecord = (name) => {
    for (const m of epub.take()) out({ name, channel: m.channel, hex: hex(m.message) });
  };
  emitter.emit("e", 1, Buffer.from([3]));
  erecord("re.broadcast.all");
  emitter.to("room1").emit("e2", "x");
  erecord("re.broadcast.room");
  emitter.of("admin").volatile.compress(false).except("x").emit("e3");
  erecord("re.broadcast.admin");
  emitter.in(42).emit("num");
  erecord("re.broadcast.numeric");
  emitter.socketsJoin("r");
  erecord("re.request.join");
  emitter.in("a").socketsLeave(["r", "s"]);
  erecord("re.request.leave");
  emitter.disconnectSockets(true);
  erecord("re.request.disconnect");
  emitter.serverSideEmit("sse", 1);
  erecord("re.request.sse");
}

// ---- the decode direction: what RA and notepack make of the C++ side's bytes
async function decode() {
  const { io, pub } = makeServer();
  const nsp = io.of("/");
  const adapter = nsp.adapter;
  fakeSocket(nsp, "sidB0000000000000001", ["room1"]);
  const seen = [];
  for (const method of ["broadcast", "broadcastWithAck", "addSockets", "delSockets", "disconnectSockets"]) {
    const original = Adapter.prototype[method];
    Adapter.prototype[method] = function (...args) {
      const [first, second, third] = args;
      if (method === "broadcast" || method === "broadcastWithAck") seen.push({ method, packet: first, opts: second });
      else seen.push({ method, opts: first, arg: second });
      if (method === "broadcastWithAck") return original.apply(this, args);
      void third;
    };
  }
  nsp._onServerSideEmit = (args) => {
    const withAck = typeof args[args.length - 1] === "function";
    seen.push({ method: "serverSideEmit", data: withAck ? args.slice(0, -1) : args, withAck });
  };
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    const bytes = Buffer.from(c.hex, "hex");
    seen.length = 0;
    pub.take();
    let result;
    try {
      if (c.kind === "value") {
        result = tag(notepack.decode(bytes));
      } else if (c.kind === "broadcast") {
        adapter.onmessage(null, c.channel, bytes);
        result = seen.map((s) => ({ ...s, opts: { rooms: [...s.opts.rooms], except: [...s.opts.except], flags: s.opts.flags } }));
      } else if (c.kind === "request") {
        await adapter.onrequest(c.channel || adapter.requestChannel, bytes);
        await tick();
        result = {
          calls: seen.map((s) => ({ ...s, ...(s.opts ? { opts: { rooms: [...s.opts.rooms], except: [...s.opts.except] } } : {}) })),
          published: pub.take().map((m) => ({ channel: m.channel, message: m.message[0] === 0x7b ? JSON.parse(m.message) : notepack.decode(m.message) })),
        };
      } else if (c.kind === "response") {
        // a pending request of the kind the response answers, as RA stores it, then RA's own onresponse
        let resolved = null;
        const resolve = (...args) => { resolved = args.length === 1 ? args[0] : args; };
        const timeout = setTimeout(() => {}, 1);
        if (c.pending === "fetch") adapter.requests.set(c.requestId, { type: 5, numSub: 2, resolve, timeout, msgCount: 1, sockets: [] });
        if (c.pending === "allrooms") adapter.requests.set(c.requestId, { type: 1, numSub: 2, resolve, timeout, msgCount: 1, rooms: new Set() });
        if (c.pending === "sse") adapter.requests.set(c.requestId, { type: 6, numSub: 1, resolve, timeout, responses: [] });
        if (c.pending === "ack") {
          resolved = [];
          adapter.ackRequests.set(c.requestId, {
            clientCountCallback: (n) => resolved.push({ clientCount: n }),
            ack: (p) => resolved.push({ ack: p }),
          });
        }
        adapter.onresponse(adapter.responseChannel, bytes);
        adapter.requests.delete(c.requestId);
        adapter.ackRequests.delete(c.requestId);
        result = resolved;
      }
      out({ name: c.name, seen: tag(result) });
    } catch (e) {
      out({ name: c.name, error: String(e && e.message) });
    }
  }
}

const mode = process.argv[2];
if (mode === "encode") await encode();
else if (mode === "decode") await decode();
else {
  process.stderr.write("usage: node node_codec.mjs encode|decode\n");
  process.exit(2);
}
process.exit(0);
