# Seed 002 (Python TCP协议详解), "TCP 服务器示例" (the uppercase server), unchanged except that the
# bind address comes from the command line and the loop body is indented (the page lost its
# indentation): python3 seed002_upper_server.py HOST PORT
import sys
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(1)
while True:
    conn, addr = server.accept()
    print('Connected by', addr)
    with conn:
        data = conn.recv(1024)
        conn.sendall(data.upper())
