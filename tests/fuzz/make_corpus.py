#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/ (the files are committed too).

Every seed is a small, meaningful input in its target's format (see the comment at the top of each target):
packets from the Engine.IO v4 and Socket.IO v5 protocol documents, masked WebSocket frames (fragments, pings
between fragments, close frames, 16- and 64-bit lengths), HTTP requests a client sends, bundle paths.
Run it again after changing it; it replaces the seed folders it writes.
"""
import hashlib
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, seeds):
    folder = os.path.join(CORPUS, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in seeds:
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


# ---- fuzz_eio_packet: one packet text, also read as a payload ------------------------------------------------------
OPEN = '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
write("fuzz_eio_packet", [
    ("open", OPEN),
    ("close", "1"),
    ("ping", "2"),
    ("pong", "3"),
    ("ping_probe", "2probe"),
    ("pong_probe", "3probe"),
    ("message", "4hello"),
    ("message_utf8", "4h\u00e9llo \u20ac \U0001F600"),
    ("upgrade", "5"),
    ("noop", "6"),
    ("binary", "bAQID"),
    ("binary_padded", "bAQIDBA=="),
    ("payload", "4hello\x1e4world\x1ebAQIDBA=="),
    ("payload_socketio", '40\x1e42["chat message","hi"]\x1e2'),
    ("payload_empty_record", "4a\x1e\x1e4b"),
    ("bad_type", "7x"),
    ("bad_base64", "bAQI"),
])

# ---- fuzz_base64 ------------------------------------------------------------------------------------------------------
write("fuzz_base64", [
    ("empty", ""),
    ("one_pad2", "Zg=="),
    ("two_pad1", "Zm8="),
    ("three", "Zm9v"),
    ("foobar", "Zm9vYmFy"),
    ("ws_key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("bytes", "AQIDBA=="),
    ("all_alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
    ("pad_in_middle", "Zg==Zg=="),
    ("short", "Zm9"),
    ("url_alphabet", "-_-_"),
])


# ---- fuzz_ws_frames: [config][n][n chunk sizes][bytes] ------------------------------------------------------------------
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload, fin=True, mask=MASK, rsv=0):
    if isinstance(payload, str):
        payload = payload.encode()
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        out += bytes([bit | n])
    elif n <= 0xFFFF:
        out += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        out += bytes([bit | 127]) + struct.pack(">Q", n)
    if mask:
        out += mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def frame64(opcode, payload, mask=MASK):
    """A frame whose (small) length is written in the 64-bit form."""
    if isinstance(payload, str):
        payload = payload.encode()
    return (bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", len(payload)) + mask +
            bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws(config, stream, chunks=()):
    return bytes([config, len(chunks)]) + bytes(chunks) + stream


BIG = 7  # max 1000000, masks required
write("fuzz_ws_frames", [
    ("text", ws(BIG, frame(1, "4hello"))),
    ("probe", ws(BIG, frame(1, "2probe") + frame(1, "5"))),
    ("binary", ws(BIG, frame(2, b"\x01\x02\x03\x04"))),
    ("fragments", ws(BIG, frame(1, "4hel", fin=False) + frame(0, "lo ", fin=False) + frame(0, "world"), (2, 3, 0, 6))),
    ("ping_between_fragments", ws(BIG, frame(1, "42[\"a\",", fin=False) + frame(9, "ping") + frame(0, "1]"), (1,))),
    ("pong", ws(BIG, frame(10, ""))),
    ("close_normal", ws(BIG, frame(8, struct.pack(">H", 1000) + b"bye"))),
    ("close_empty", ws(BIG, frame(8, b""))),
    ("close_bad_code", ws(BIG, frame(8, struct.pack(">H", 1005)))),
    ("len16", ws(BIG, frame(1, "4" + "x" * 300), (99, 200))),
    ("len64", ws(BIG, frame64(2, b"\xff" * 20))),
    ("utf8_split", ws(BIG, frame(1, "4\u20ac".encode()[:2], fin=False) + frame(0, "4\u20ac".encode()[2:]), (4,))),
    ("bad_utf8", ws(BIG, frame(1, b"4\xc3\x28"))),
    ("too_big", ws(3, frame(2, b"z" * 126))),
    ("unmasked", ws(BIG, frame(1, "4hi", mask=None))),
    ("unmasked_allowed", ws(BIG | 8, frame(1, "4hi", mask=None) + frame(9, "", mask=None))),
    ("reserved_bits", ws(BIG, frame(1, "4hi", rsv=0x40))),
    ("continuation_first", ws(BIG, frame(0, "x"))),
    ("fragmented_ping", ws(BIG, frame(9, "p", fin=False))),
    ("byte_by_byte", ws(BIG, frame(1, "4abc") + frame(2, b"\x00"), (0,))),
])

# ---- fuzz_sio_packet: text [\xff (len byte, bytes)*] -----------------------------------------------------------------------
PH = '{"_placeholder":true,"num":%d}'
write("fuzz_sio_packet", [
    ("connect", "0"),
    ("connect_nsp", '0/admin,{"token":"123"}'),
    ("disconnect", "1/admin,"),
    ("event", '2["hello",1]'),
    ("event_nsp_ack", '2/admin,456["project:delete",123]'),
    ("event_numeric_name", "2[42,true,null]"),
    ("ack", "3/admin,456[]"),
    ("ack_data", '312["ok",{"a":[1,2.5,-3e2]}]'),
    ("connect_error", '4{"message":"Not authorized"}'),
    ("connect_error_string", '4"Not authorized"'),
    ("binary_event", ("51-[\"a\"," + PH % 0 + "]").encode() + b"\xff\x03\x01\x02\x03"),
    ("binary_event_nsp", ('52-/admin,["b",' + PH % 0 + ',{"x":' + PH % 1 + "}]").encode() + b"\xff\x01\xff\x02ab"),
    ("binary_ack", ('61-/admin,456[' + PH % 0 + "]").encode() + b"\xff\x02\x00\x00"),
    ("binary_missing_attachment", ("51-[\"a\"," + PH % 1 + "]").encode() + b"\xff\x01z"),
    ("reserved_event", '2["connect"]'),
    ("unicode", '2["m","\\u00e9\\ud83d\\ude00 \u20ac"]'),
    ("bad_json", '2["a"'),
    ("too_many_attachments", "51001-[]"),
    ("whitespace_after_json", '2["a"] \r\n'),
    ("huge_number", '2["a",1e999]'),
])


# ---- fuzz_engine_request: [config] records separated by \x1f ----------------------------------------------------------
def rec(method, target, headers=(), body=""):
    head = method + " " + target + "\n" + "".join(h + "\n" for h in headers)
    return head + "\n" + body


def engine(config, *records):
    return bytes([config]) + "\x1f".join(records).encode("latin-1")


Q = "/engine.io/?EIO=4&transport="
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS = ("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + KEY, "Sec-WebSocket-Version: 13")
TEXT = "Content-Type: text/plain;charset=UTF-8"
write("fuzz_engine_request", [
    ("handshake", engine(0, rec("GET", Q + "polling&t=NZ1abc"))),
    ("handshake_post_message", engine(0, rec("GET", Q + "polling"),
                                      rec("POST", Q + "polling&sid=$", (TEXT, "Content-Length: $"), "4hello\x1e4world\x1ebAQID"))),
    ("poll_after_post", engine(0, rec("GET", Q + "polling"),
                               rec("POST", Q + "polling&sid=$0", (TEXT, "Content-Length: $"), "4hi"),
                               rec("GET", Q + "polling&sid=$0"))),
    ("echo", engine(32, rec("GET", Q + "polling"),
                    rec("POST", Q + "polling&sid=$", ("Content-Length: $",), "4echo me\x1ebAQIDBA=="),
                    rec("GET", Q + "polling&sid=$"))),
    ("close_packet", engine(0, rec("GET", Q + "polling"),
                            rec("POST", Q + "polling&sid=$", ("Content-Length: $",), "4last\x1e1\x1e4never"),
                            rec("GET", Q + "polling&sid=$"))),
    ("ping_from_client", engine(0, rec("GET", Q + "polling"), rec("POST", Q + "polling&sid=$", ("Content-Length: $",), "2"))),
    ("bad_payload", engine(0, rec("GET", Q + "polling"), rec("POST", Q + "polling&sid=$", ("Content-Length: $",), "9x"))),
    ("octet_stream", engine(0, rec("GET", Q + "polling"),
                            rec("POST", Q + "polling&sid=$", ("Content-Type: application/octet-stream", "Content-Length: $"), "4x"))),
    ("too_large", engine(8, rec("GET", Q + "polling"), rec("POST", Q + "polling&sid=$", ("Content-Length: 100",), "4x"))),
    ("short_body", engine(0, rec("GET", Q + "polling"), rec("POST", Q + "polling&sid=$", ("Content-Length: 50",), "4x"))),
    ("chunked", engine(0, rec("GET", Q + "polling"),
                       rec("POST", Q + "polling&sid=$", ("Transfer-Encoding: chunked",), "3\r\n4hi\r\n0\r\n\r\n"))),
    ("upgrade", engine(0, rec("GET", Q + "polling"), rec("GET", Q + "websocket&sid=$", WS))),
    ("upgrade_no_upgrades", engine(4, rec("GET", Q + "polling"), rec("GET", Q + "websocket&sid=$", WS))),
    ("websocket_handshake", engine(0, rec("GET", Q + "websocket", WS + ("Origin: http://localhost:3000",)))),
    ("websocket_only", engine(2, rec("GET", Q + "websocket", WS), rec("GET", Q + "polling"))),
    ("websocket_bad_key", engine(0, rec("GET", Q + "websocket", ("Upgrade: websocket", "Connection: keep-alive, Upgrade",
                                                                    "Sec-WebSocket-Key: abc", "Sec-WebSocket-Version: 13")))),
    ("websocket_no_upgrade_header", engine(0, rec("GET", Q + "websocket"))),
    ("options", engine(0, rec("OPTIONS", Q + "polling", ("Origin: http://a.example", "Access-Control-Request-Method: POST")))),
    ("unknown_transport", engine(0, rec("GET", Q + "flashsocket"))),
    ("eio3", engine(0, rec("GET", "/engine.io/?EIO=3&transport=polling"))),
    ("unknown_sid", engine(0, rec("POST", Q + "polling&sid=nope", ("Content-Length: $",), "4x"))),
    ("post_handshake", engine(0, rec("POST", Q + "polling", ("Content-Length: $",), "4x"))),
    ("put", engine(0, rec("GET", Q + "polling"), rec("PUT", Q + "polling&sid=$"))),
    ("denied", engine(16, rec("GET", Q + "polling", ("X-Deny: not today",)))),
    ("max_connections", engine(128, rec("GET", Q + "polling"), rec("GET", Q + "polling"), rec("GET", Q + "polling"))),
    ("server_close", engine(0, rec("GET", Q + "polling"), "!send 0 queued", "!bin 0 \x01\x02", "!close 0",
                            rec("GET", Q + "polling&sid=$0"), rec("GET", Q + "polling&sid=$0"), rec("GET", Q + "polling&sid=$0"))),
    ("shutdown", engine(0, rec("GET", Q + "polling"), "!shutdown", rec("GET", Q + "polling"))),
    ("socketio_path", engine(64, rec("GET", "/socket.io/?EIO=4&transport=polling"),
                             rec("POST", "/socket.io/?EIO=4&transport=polling&sid=$", ("Content-Length: $",), "40"))),
    ("path_without_slash", engine(0, rec("GET", "/engine.io?EIO=4&transport=polling"))),
    ("other_path", engine(0, rec("GET", "/stats?EIO=4&transport=polling"))),
    ("pong_and_upgrade_packets", engine(0, rec("GET", Q + "polling"),
                                        rec("POST", Q + "polling&sid=$", ("Content-Length: $",), "3\x1e5\x1e6\x1e0\x1e4ok"))),
    ("wrong_transport_for_sid", engine(0, rec("GET", Q + "polling"), rec("GET", Q + "websocket&sid=$"))),
])

# ---- fuzz_http_path: [config] method \n path \n If-None-Match \n Origin ---------------------------------------------------
def path_seed(config, method, path, inm="", origin=""):
    return bytes([config]) + (method + "\n" + path + "\n" + inm + "\n" + origin).encode("latin-1")


ETAG_JS = '"' + hashlib.sha1(b"/* fuzz bundle */ console.log('socket.io.min.js');\n").hexdigest()[:16] + '"'
write("fuzz_http_path", [
    ("bundle", path_seed(0, "GET", "/socket.io/socket.io.js")),
    ("bundle_min", path_seed(0, "GET", "/socket.io/socket.io.min.js", "", "http://a.example")),
    ("bundle_map", path_seed(0, "GET", "/socket.io/socket.io.js.map")),
    ("bundle_min_map", path_seed(8, "HEAD", "/socket.io/socket.io.min.js.map", "", "http://b.example")),
    ("etag", path_seed(0, "GET", "/socket.io/socket.io.js", ETAG_JS)),
    ("post", path_seed(0, "POST", "/socket.io/socket.io.js")),
    ("dotdot", path_seed(0, "GET", "/socket.io/../secret.txt")),
    ("dotdot_encoded", path_seed(0, "GET", "/socket.io/%2e%2e/secret.txt")),
    ("dotdot_in_name", path_seed(0, "GET", "/socket.io/socket.io.js/../../secret.txt")),
    ("absolute", path_seed(0, "GET", "/socket.io//etc/passwd")),
    ("nul", path_seed(0, "GET", "/socket.io/socket.io.js\x00.txt")),
    ("nul_encoded", path_seed(0, "GET", "/socket.io/socket.io.js%00")),
    ("engine_path", path_seed(1, "GET", "/engine.io/socket.io.js")),
    ("engine_path_no_slash", path_seed(1, "GET", "/engine.io")),
    ("root_path", path_seed(2, "GET", "/socket.io.min.js", "", "null")),
    ("nested_path", path_seed(3, "GET", "/a/b/socket.io.js.map")),
    ("missing_bundle", path_seed(4, "GET", "/socket.io/socket.io.js")),
    ("credentials", path_seed(8 | 16, "OPTIONS", "/socket.io/?EIO=4", "", "http://evil.example")),
    ("decoy_name", path_seed(0, "GET", "/socket.io/socket.io.js.")),
])

print("seed corpus written to", CORPUS)
