/**
 * stdin's messages as UDP datagrams, for `sockit connect --udp` and `sockit listen --udp`.
 *
 * - With `--framing raw` a chunk is sent as it was read, but a chunk larger than the largest
 *   datagram (Node reads pipes 64 KiB at a time, UDP over IPv4 carries 65,507 bytes) is cut into
 *   datagrams that fit, as nc cuts its reads. A line (the default) is one message and is never cut:
 *   one too long for a datagram fails with ERR_SOCKIT_DATAGRAM_TOO_LARGE.
 * - A burst of datagrams yields to the event loop every {@link SEND_BURST} sends. Node completes
 *   small sends at once, so without this 1,000 piped lines would all leave before a single reply is
 *   read, and the replies would overflow the socket's receive buffer (≈ 208 KiB) and be lost.
 */
import type { UdpEndpoint } from '../udp/udp-endpoint.js';

/**
 * SO_RCVBUF the CLI asks for on its UDP sockets: a burst of large datagrams (1 MB of `--framing
 * raw` is 16 of them) overflows the default ≈ 208 KiB before JavaScript reads it. The kernel caps
 * the request at net.core.rmem_max.
 */
export const CLI_UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/** Datagrams sent between two turns of the event loop. */
export const SEND_BURST = 16;

/** Where a datagram goes; undefined ends the sending (nobody to send to). */
export type DatagramDestination = () => { port: number; address: string } | undefined;

/** Sends every message of `messages` to `destination()`, cutting raw chunks (`unit` chunks) to fit it. */
export async function sendInputDatagrams(endpoint: UdpEndpoint, messages: AsyncIterable<Buffer>, unit: 'lines' | 'chunks', destination: DatagramDestination): Promise<void> {
  let sent = 0;
  for await (const message of messages) {
    let rest = message;
    do {
      const to = destination();
      if (!to) return;
      // Raw chunks are cut to what this destination takes: a dual-stack socket answering an IPv4
      // sender is held to IPv4's maximum, not udp6's. A line is never cut (send refuses it whole).
      const datagram = unit === 'chunks' ? rest.subarray(0, endpoint.maxPayloadBytesTo(to.address)) : rest;
      rest = rest.subarray(datagram.length);
      await endpoint.send(datagram, to.port, to.address);
      if (++sent % SEND_BURST === 0) await new Promise((resolve) => setImmediate(resolve));
    } while (rest.length > 0);
  }
}
