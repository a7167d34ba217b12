# Seed 003 (网络通信udp与tcp的区别), "2.网络通信-tcp 1.服务器" (GBK text), unchanged except that the
# bind address comes from the command line and one line is repaired: the page calls
# `self.server_socket.setsockopt(socket.SOL_SOCKET, ...)`, which raises NameError outside a class;
# it means this socket and the SOL_SOCKET that `from socket import *` provides.
#   python3 seed003_tcp_server.py HOST PORT
import sys
from socket import *

# 创建socket
tcp_server_socket = socket(AF_INET, SOCK_STREAM)

# 使同一端口可以重复使用
tcp_server_socket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)

# 本地信息
address = (sys.argv[1], int(sys.argv[2]))

# 绑定
tcp_server_socket.bind(address)

# 使用socket创建的套接字默认的属性是主动的,使用listen将其变为被动的,这样就可以接收别人的链接了
tcp_server_socket.listen(128)

#为多个客户端服务
while True:
	# 如果有新的客户端来链接服务器,那么就产生一个新的套接字专门为这个客户端服务
	# client_socket用来为这个客户端服务
	# tcp_server_socket就可以省下来专门等待其他新客户端的链接
	client_socket, clientAddr = tcp_server_socket.accept()
	
	# 接收对方发送过来的数据
	recv_data = client_socket.recv(1024)  # 接收1024个字节
	print('接收到的数据为:', recv_data.decode('gbk'))
	
	# 发送一些数据到客户端
	client_socket.send("thank you !".encode('gbk'))
	
	# 关闭为这个客户端服务的套接字,只要关闭了,就意味着为不能再为这个客户端服务了,如果还需要服务,只能再次重新连接
	client_socket.close()

# 关闭服务端套接字
tcp_server_socket.close
