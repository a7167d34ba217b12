// What the seed examples import; in the README the same names come from 'sockit'.
export { listenTcp, connectTcp, UdpEndpoint } from '../../src/index.js';
