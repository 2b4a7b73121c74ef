# python-socketio's client (Debian's python3-socketio 5.7) with serializer='msgpack', driven by
# sio_msgpack.test.mjs: connects to URL over TRANSPORT, takes the server's welcome, an ack with nested binary both
# ways and an event echoed back, then prints one JSON line of what it saw and exits 0 (1 on any failure). (Not a
# server-to-client ack: python-socketio 5.7's msgpack packets leave out an ack id of 0.)
#   /usr/bin/python3 python_msgpack_client.py URL PATH TRANSPORT
import json
import sys
import threading

import socketio

url, path, transport = sys.argv[1], sys.argv[2], sys.argv[3]
client = socketio.Client(serializer='msgpack', reconnection=False)
welcome = threading.Event()
echoed = threading.Event()
seen = {}


@client.on('welcome')
def on_welcome(data):
    seen['welcome'] = data
    welcome.set()


@client.on('echo')
def on_echo(*args):
    seen['echo'] = list(args)
    echoed.set()


client.connect(url, socketio_path=path.strip('/'), transports=[transport], auth={'token': 'py'}, wait_timeout=5)
try:
    if not welcome.wait(5):
        raise RuntimeError('no welcome')
    payload = {'deep': {'buf': b'\x00\x01\xff'}, 'n': -33, 'f': 0.5, 'list': [b'ab', 'x']}
    response = client.call('echo-ack', payload, timeout=5)
    back = response[0] if isinstance(response, (list, tuple)) else response
    client.emit('echo', ('text', 2 ** 40, b'\x07'))
    if not echoed.wait(5):
        raise RuntimeError('no echo')
    print(json.dumps({
        'welcome_auth': seen['welcome']['auth'],
        'sid_matches': seen['welcome']['id'] == client.get_sid(),
        'echo_binary': [back['deep']['buf'].hex(), back['list'][0].hex()],
        'echo_numbers': [back['n'], back['f']],
        'echo': [seen['echo'][0], seen['echo'][1], seen['echo'][2].hex()],
        'transport': client.transport(),
    }))
finally:
    client.disconnect()
