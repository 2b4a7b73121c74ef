// requests.test.mjs again, every node on the Redis Streams adapter (C++: sio::redis::createStreamsAdapter; Node:
// @socket.io/redis-streams-adapter 0.3.1): what crosses nodes through the classic adapter crosses through it too.
process.env.CLUSTER_ADAPTER = 'streams';
await import('./requests.test.mjs');
