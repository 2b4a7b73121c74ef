// A TCP proxy on loopback that can cut its connections abruptly: a network that drops, as a phone's does. Clients
// connect to the proxy; it pipes each connection to the target port.
//
//   const proxy = await startProxy(srv.port);
//   proxy.hold();   // from now on, new connections are closed at once (the network is down)
//   proxy.cut();    // every connection open now is closed on both sides: the TCP connections end with no
//                   // WebSocket close frame and no Engine.IO close packet, as when a network drops
//   proxy.release();
//   await proxy.close();
// Closed with destroy(), not resetAndDestroy(): with resets, Node 20's event loop here sometimes spun at 100% CPU
// after the tests were done, in native code, and the test process never exited (3 runs in 8).
import net from 'node:net';

export async function startProxy(targetPort, targetHost = '127.0.0.1') {
  const pairs = new Set();
  let holding = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (holding) return client.destroy();
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    /** Connections piped so far. */
    get accepted() { return accepted; },
    /** Connections open now. */
    get open() { return pairs.size; },
    hold() { holding = true; },
    release() { holding = false; },
    /** Closes every open connection on both sides; returns how many there were. */
    cut() {
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      return n;
    },
    close() {
      this.hold();
      this.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
