// A socket.io-client for tests/redis/unit/test_redis_live.cpp: `node probe_client.mjs <url> [namespace]` connects
// over WebSocket and prints one JSON line per thing that happens (connect, each event with its arguments, the
// disconnect). It answers an event that asks for an ack with "ack:<event>". It exits when its stdin closes.
import { createRequire } from "node:module";
import { writeSync } from "node:fs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const say = (o) => writeSync(1, JSON.stringify(o) + "\n");
const tag = (a) => (Buffer.isBuffer(a) || a instanceof ArrayBuffer ? { $bin: Buffer.from(a).toString("hex") } : a);
const socket = io(process.argv[2] + (process.argv[3] || "/"), { transports: ["websocket"], reconnection: false });
socket.on("connect", () => say({ type: "connect", id: socket.id }));
socket.on("disconnect", (reason) => say({ type: "disconnect", reason }));
socket.on("connect_error", (e) => say({ type: "connect_error", message: e.message }));
socket.onAny((event, ...args) => {
  const last = args[args.length - 1];
  if (typeof last === "function") {
    args.pop();
    last("ack:" + event);
  }
  say({ type: "event", event, args: args.map(tag) });
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
