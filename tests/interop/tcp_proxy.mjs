// A TCP proxy on loopback that can cut its connections abruptly: a network that drops, as a phone's does. Clients
// connect to the proxy; it pipes each connection to the target port.
//
//   const proxy = await startProxy(srv.port);
//   proxy.hold();   // from now on, new connections are reset at once (the network is down)
//   proxy.cut();    // every connection open now is destroyed on both sides (no FIN handshake, no close frame)
//   proxy.release();
//   await proxy.close();
import net from 'node:net';

export async function startProxy(targetPort, targetHost = '127.0.0.1') {
  const pairs = new Set();
  let holding = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (holding) return client.resetAndDestroy();
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
    /** Resets every open connection on both sides; returns how many there were. */
    cut() {
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
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
