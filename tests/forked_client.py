"""forked_client.py SOCKET ARGV, a stand-in for `python ARGV` (`-m migrator
ARGS`): runs it through the fork server tests/forked.py relays on SOCKET, here,
with this environment, and ends as that run did. Standard library only: it
starts in milliseconds."""

import json
import os
import socket
import sys

with socket.socket(socket.AF_UNIX) as server:
    server.connect(sys.argv[1])
    request = {"argv": sys.argv[2:], "cwd": os.getcwd(), "env": dict(os.environ)}
    server.sendall(json.dumps(request).encode() + b"\n")
    reply = json.loads(server.makefile("rb").read())
sys.stdout.buffer.write(reply["stdout"].encode())
sys.stderr.buffer.write(reply["stderr"].encode())
sys.exit(reply["returncode"])
