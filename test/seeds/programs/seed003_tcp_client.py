# Seed 003 (网络通信udp与tcp的区别), "2.网络通信-tcp 2.客户端" (GBK text), unchanged: it asks for the
# server ip and port with input(), so the test types them on its stdin. One line is repaired: the
# page ends with `tcp_client_socket.clos`, an AttributeError; it means close().
#   python3 seed003_tcp_client.py   (stdin: ip, port, the text to send)
from socket import *

# 创建socket
tcp_client_socket = socket(AF_INET, SOCK_STREAM)

# 目的信息
server_ip = input("请输入服务器ip:")
server_port = int(input("请输入服务器port:"))

# 链接服务器
tcp_client_socket.connect((server_ip, server_port))

# 提示用户输入数据
send_data = input("请输入要发送的数据:")

tcp_client_socket.send(send_data.encode("gbk"))

# 接收对方发送过来的数据,最大接收1024个字节
recvData = tcp_client_socket.recv(1024)
print('接收到的数据为:', recvData.decode('gbk'))

# 关闭套接字
tcp_client_socket.close()
