/**
 * Port numbers given to sockit's drivers are checked before Node sees them: Node throws a plain
 * RangeError for some bad ports and silently wraps others (a UDP bind to 99999 took port 34463).
 */
import { NetCodes, SockitError } from '../errors.js';

/**
 * Returns `port` if it is an integer from 1 (0 where `allowZero`: "pick a free one") to 65535;
 * otherwise throws SockitError ERR_SOCKIT_INVALID_ARGUMENT naming `what`.
 */
export function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (typeof port === 'number' && Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535) return port;
  throw new SockitError(NetCodes.INVALID_ARGUMENT, `${what}: a port is an integer from ${allowZero ? 0 : 1} to 65535, not ${String(port)}`);
}
