// An admin UI client for benchmarking a server instrumented with --admin (bench/servers/*): it connects to
// <url>/admin as the dashboard does and counts what it is sent, until SIGINT/SIGTERM; then prints the counts.
//   node bench/admin_watch.mjs http://127.0.0.1:<port>
import { io } from 'socket.io-client';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node bench/admin_watch.mjs http://127.0.0.1:<port>\n');
  process.exit(2);
}
const counts = {};
const socket = io(`${url}/admin`, { transports: ['websocket'] });
socket.onAny((event) => { counts[event] = (counts[event] || 0) + 1; });
socket.on('connect', () => process.stderr.write(`admin_watch: connected to ${url}/admin\n`));
socket.on('connect_error', (err) => process.stderr.write(`admin_watch: ${err.message}\n`));
const stop = () => {
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  socket.disconnect();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
