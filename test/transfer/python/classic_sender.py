#!/usr/bin/env python3
"""Seed 001's file upload client ("custom protocol 2"), made runnable.

Sends the length of the header dict (struct.pack('i', n): 4 bytes, native little-endian), the
header dict as JSON ({"filename", "filesize"}), then the file's bytes, and closes.

usage: classic_sender.py HOST PORT FILE [STOP_AFTER_BYTES]
STOP_AFTER_BYTES makes the sender vanish early (a short transfer) after that many file bytes.
"""
import json
import os
import socket
import struct
import sys

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stop_after = int(sys.argv[4]) if len(sys.argv) > 4 else None

sk = socket.socket()
sk.connect((host, port))

filesize = os.path.getsize(path)
head = {'filename': os.path.basename(path), 'filesize': filesize}
head_bytes = json.dumps(head).encode('utf-8')
sk.send(struct.pack('i', len(head_bytes)))   # protocol 2: first the header's length
sk.send(head_bytes)                          # then the header dict

sent = 0
with open(path, 'rb') as f:
    while True:
        chunk = f.read(64 * 1024)
        if not chunk:
            break
        if stop_after is not None and sent + len(chunk) > stop_after:
            chunk = chunk[:stop_after - sent]
        sk.sendall(chunk)                    # then the file's content
        sent += len(chunk)
        if stop_after is not None and sent >= stop_after:
            break
sk.close()
