// broadcast.test.mjs again, every node on the sharded adapter (C++: sio::redis::createShardedAdapter; Node:
// @socket.io/redis-adapter 8.3's createShardedAdapter), subscriptionMode dynamic: SPUBLISH / SSUBSCRIBE, a room's
// own channel for a broadcast to one room.
process.env.CLUSTER_ADAPTER = 'sharded';
await import('./broadcast.test.mjs');
