// A raw WebSocket Socket.IO client that sends events as fast as its link allows, in a process of its own (so that
// the client whose latency a test measures does not share its event loop): the flooding client of the limits
// tests (sio_limits.test.mjs).
//   node tests/interop/ws_flooder.mjs URL COUNT
// URL: ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket. Joins "/", prints "connected", writes COUNT
// events `42["flood",i]` at once (what the kernel does not take waits in this process), prints "written" once
// every byte has left, and ends when the server closes the connection or stdin closes.
import WebSocket from 'ws';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
const ws = new WebSocket(url);
let connected = false;
ws.on('message', (data) => {
  const text = data.toString();
  if (text.startsWith('2')) ws.send('3');  // the heartbeat
  if (connected || !text.startsWith('40')) return;
  connected = true;
  process.stdout.write('connected\n');
  for (let i = 0; i < count; i++) ws.send(`42["flood",${i}]`);
  const drained = setInterval(() => {  // bounded by the process's life: the test kills it
    if (ws.bufferedAmount === 0) {
      clearInterval(drained);
      process.stdout.write('written\n');
    }
  }, 5);
});
ws.on('open', () => ws.send('40'));
ws.on('close', (code) => {
  process.stdout.write(`closed ${code}\n`);
  process.exit(0);
});
ws.on('error', (err) => {
  process.stdout.write(`error ${err.message}\n`);
  process.exit(1);
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
