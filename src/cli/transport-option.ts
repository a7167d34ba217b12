/**
 * `--rudp` and `--trace` for every stream command: picks the StreamTransport a command runs over.
 * Kernel TCP by default; with `--rudp`, sockit's TCP-over-UDP (loaded lazily, so plain TCP commands
 * never load the RUDP engine).
 */
import type { ParseArgsConfig } from 'node:util';
import type { StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';

/** The parseArgs options every stream command accepts for transport choice. */
export const TRANSPORT_CLI_OPTIONS = {
  rudp: { type: 'boolean' },
  trace: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines for {@link TRANSPORT_CLI_OPTIONS}. */
export const TRANSPORT_CLI_HELP = [
  '  --rudp              run over sockit RUDP (TCP\'s mechanisms over UDP) instead of kernel TCP',
  '  --trace             with --rudp: print every segment and state change on stderr',
].join('\n');

/** Chooses the transport for parsed `--rudp`/`--trace` values; `trace` lines go to `log`. */
export async function transportFor(
  values: { rudp?: boolean | undefined; trace?: boolean | undefined },
  log: (line: string) => void,
): Promise<StreamTransport> {
  if (!values.rudp) return tcpTransport;
  const { createRudpTransport } = await import('../io/rudp-transport.js');
  return createRudpTransport(values.trace ? { trace: log } : {});
}
