// Starting and stopping a server under test, shared by harness.mjs (Engine.IO) and sio_harness.mjs (Socket.IO).
//
// startServerProcess(commandLine, flags) runs the command (split on spaces; a relative path is taken from the
// repository root, which is also the working directory) with `--host 127.0.0.1 --port 0` plus `flags`, and resolves
// once it printed its `listening on http(s)://<host>:<port><path>` line, with
// {host, port, path, origin, url, wsUrl, line, pid, stop(), defer(fn), exited, alive, stdout, stderr}.
// stop() runs the defer()ed client cleanups (last first), sends SIGTERM to this PID only and awaits the exit
// (SIGKILL after 5 s).
// killOnExit(child), the last resort for any child a test spawns (the servers here, tests/metrics/prometheus.mjs's
// Prometheus): SIGKILL to its PID if the test process exits first.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const START_TIMEOUT_MS = 10_000;
const STOP_KILL_AFTER_MS = 5_000;
const CLEANUP_TIMEOUT_MS = 2_000;

// The children of this process still running (servers here, Prometheus in tests/metrics/prometheus.mjs).
const running = new Set();
process.on('exit', () => {
  // Last resort if a test process dies without stopping its servers: only the PIDs started here are signalled.
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// killOnExit(child): SIGKILL the spawned child (by its PID) if this process exits while it still runs. A child that
// could not be spawned has no PID and nothing to kill; one that exits is forgotten.
export function killOnExit(child) {
  if (child.pid === undefined) return;
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export async function startServerProcess(commandLine, flags = []) {
  const parts = commandLine.split(' ').filter(Boolean);
  let cmd = parts[0];
  if (cmd.includes('/') && !path.isAbsolute(cmd)) cmd = path.resolve(REPO_ROOT, cmd);
  const args = [...parts.slice(1), '--host', '127.0.0.1', '--port', '0', ...flags.map(String)];
  const describeCmd = `${cmd} ${args.join(' ')}`;

  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  // Client cleanups registered with defer() run before the server is signalled, so that lingering client
  // connections never delay its exit.
  const deferred = [];
  let stopping = null;
  const stop = () => {
    if (stopping) return stopping;
    stopping = (async () => {
      while (deferred.length) {
        const fn = deferred.pop();
        let timer;
        try {
          await Promise.race([
            Promise.resolve().then(fn),
            new Promise((resolve) => { timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS); }),
          ]);
        } catch {
          // a failing cleanup must not keep the server running
        } finally {
          clearTimeout(timer);
        }
      }
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      let timer;
      const killed = new Promise((resolve) => {
        timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          resolve();
        }, STOP_KILL_AFTER_MS);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      return exited;
    })();
    return stopping;
  };

  let stdout = '';
  try {
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`server did not print "listening on" within ${START_TIMEOUT_MS} ms (cmd: ${describeCmd}); ` +
          `stdout so far: ${JSON.stringify(buf)}; stderr: ${stderr}`));
      }, START_TIMEOUT_MS);
      const onData = (d) => {
        buf += d;
        const lines = buf.split('\n');
        for (let i = 0; i < lines.length - 1; i++) {
          if (lines[i].startsWith('listening on ')) {
            cleanup();
            stdout = buf;
            resolve(lines[i].trim());
            return;
          }
        }
        if (buf.length > 64 * 1024) buf = buf.slice(-1024);
      };
      const onError = (err) => {
        cleanup();
        reject(new Error(`cannot start ${describeCmd}: ${err.message}`));
      };
      const onExit = (code, signal) => {
        cleanup();
        // give stderr a moment to be read: 'exit' may come before the last data
        setImmediate(() => reject(new Error(`server exited early (code ${code}, signal ${signal}) ` +
          `(cmd: ${describeCmd}); stdout: ${JSON.stringify(buf)}; stderr: ${stderr}`)));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.off('error', onError);
        child.off('exit', onExit);
      };
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', onData);
      child.once('error', onError);
      child.once('exit', onExit);
    });
    // keep draining stdout so that the pipe never fills up
    child.stdout.on('data', (d) => {
      if (stdout.length < 64 * 1024) stdout += d;
    });

    const m = /^listening on (https?):\/\/([^:/]+):(\d+)(\/.*)$/.exec(line);
    if (!m) throw new Error(`unexpected listening line: ${JSON.stringify(line)}`);
    const port = Number(m[3]);
    if (!(port > 0)) throw new Error(`listening line reports port ${m[3]}`);
    const tls = m[1] === 'https';  // a server started with --tls-cert/--tls-key
    const origin = `${m[1]}://127.0.0.1:${port}`;
    return {
      host: '127.0.0.1',
      port,
      path: m[4],
      origin,
      url: `${origin}${m[4]}`,
      wsUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}${m[4]}`,
      line,
      pid: child.pid,
      stop,
      /** Register a client cleanup to run before the server is stopped. */
      defer(fn) {
        deferred.push(fn);
      },
      /** Resolves with {code, signal} when the process exits. */
      exited,
      /** Whether the process is still running (a crash shows up here). */
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
      get stderr() {
        return stderr;
      },
      /** Everything printed on stdout so far (bounded). */
      get stdout() {
        return stdout;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
