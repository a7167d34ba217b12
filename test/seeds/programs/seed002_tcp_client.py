# Seed 002 (Python TCP协议详解), "TCP 客户端示例", unchanged except that the server address comes
# from the command line: python3 seed002_tcp_client.py HOST PORT
import sys
import socket
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect((sys.argv[1], int(sys.argv[2])))
client.sendall(b'Hello, Server!')
response = client.recv(1024)
client.close()
print('Received:', response.decode())
