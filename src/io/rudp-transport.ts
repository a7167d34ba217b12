/**
 * RUDP as a StreamTransport. PLACEHOLDER until the UDP driver lands (issue 5): it refuses clearly.
 */
import { SockitError, NetCodes } from '../errors.js';
import type { StreamTransport } from './stream-transport.js';

/** Options of the RUDP transport. */
export interface RudpTransportOptions {
  /** Receives one readable trace line per segment and state change. */
  trace?: (line: string) => void;
}

/** Builds the RUDP transport. */
export function createRudpTransport(_options: RudpTransportOptions = {}): StreamTransport {
  const refuse = async (): Promise<never> => {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, 'RUDP transport is not built yet');
  };
  return { name: 'rudp', listen: refuse, connect: refuse };
}
