# Seed 000 (python怎么实现tcp和udp连接), "UDP连接示例", unchanged except that the server address
# comes from the command line: python3 seed000_udp_client.py HOST PORT
import sys
import socket # 创建UDP套接字
udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) # 发送数据
server_address = (sys.argv[1], int(sys.argv[2]))
data = 'Hello, UDP!'
udp_socket.sendto(data.encode(), server_address) # 接收数据
response, address = udp_socket.recvfrom(1024)
print('Received:', response.decode()) # 关闭连接
udp_socket.close()
