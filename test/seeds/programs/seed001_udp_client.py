# Seed 001 (tcp / udp 协议及其实现的soc), 2.2 "client.py 客户端", unchanged except that the server
# address comes from the command line: python3 seed001_udp_client.py HOST PORT
import sys
import socket
sk = socket.socket(type=socket.SOCK_DGRAM)
sk.sendto(b'hello',(sys.argv[1],int(sys.argv[2])))
msg = sk.recv(1024)
print(msg.decode('utf-8'))
sk.close()
