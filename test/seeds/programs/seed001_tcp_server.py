# Seed 001 (tcp / udp 协议及其实现的soc), 1.3 "server.py 服务端", unchanged except that the bind
# address comes from the command line: python3 seed001_tcp_server.py HOST PORT
import sys
import socket
sk = socket.socket()
sk.bind((sys.argv[1],int(sys.argv[2])))
sk.listen()
conn,addr = sk.accept()
ret = conn.recv(1024)
print(ret)
conn.send(b'hi')
conn.close()
sk.close()
