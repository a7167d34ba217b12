# Seed 000 (python怎么实现tcp和udp连接), "TCP连接示例", unchanged except that the server address
# comes from the command line: python3 seed000_tcp_client.py HOST PORT
import sys
import socket # 创建TCP套接字
tcp_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM) # 建立连接
server_address = (sys.argv[1], int(sys.argv[2]))
tcp_socket.connect(server_address) # 发送数据
data = 'Hello, TCP!'
tcp_socket.sendall(data.encode()) # 接收数据
response = tcp_socket.recv(1024)
print('Received:', response.decode()) # 关闭连接
tcp_socket.close()
