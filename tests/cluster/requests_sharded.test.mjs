// requests.test.mjs again, every node on the sharded adapter (C++: sio::redis::createShardedAdapter; Node:
// @socket.io/redis-adapter 8.3's createShardedAdapter), subscriptionMode dynamic: the requests on
// <prefix>#<nsp>#, the answers on the requester's <prefix>#<nsp>#<uid>#.
process.env.CLUSTER_ADAPTER = 'sharded';
await import('./requests.test.mjs');
