// What the seed examples import; in the README the same names come from 'sockit'.
export { listenTcp } from '../../src/tcp/message-server.js';
export { connectTcp } from '../../src/tcp/connect-tcp.js';
export { UdpEndpoint } from '../../src/udp/udp-endpoint.js';
