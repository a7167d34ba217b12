// A client that writes 4 MiB, destroys its socket gracefully and so leaves an orphan connection
// with data to deliver, to a server whose UDP socket then vanishes (a peer that died: nothing is
// ever acknowledged again). The process must still end once the orphan's linger time is over.
// A second argument `trace` traces the client (which makes its driver linger through TIME_WAIT).
import { once } from 'node:events';
import { RudpDriver } from '../../../src/io/rudp-driver.js';
import { connect } from '../../../src/io/rudp-connect.js';

const lingerMs = Number(process.argv[2] ?? 500);
const traced = process.argv[3] === 'trace';
const server = await RudpDriver.bind({ type: 'udp4', host: '127.0.0.1', port: 0 });
server.listen(() => undefined);
const client = connect({ port: server.address.port, host: '127.0.0.1', orphanLingerMs: lingerMs, ...(traced ? { trace: () => undefined } : {}) });
await once(client, 'connect');
server.destroy(); // the peer dies: no ACK, no RST, ever
client.write(Buffer.alloc(4 * 1024 * 1024, 7));
client.destroy(); // graceful: the driver keeps the connection to deliver what was written
process.stdout.write(`orphaned ${performance.now().toFixed(0)}\n`);
