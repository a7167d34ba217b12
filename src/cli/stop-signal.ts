/**
 * SIGINT (Ctrl-C) and SIGTERM as a promise: a listener serves until one arrives, then shuts down
 * gracefully and exits 0, as long-running network daemons do.
 */

/** A pending stop request. */
export interface StopSignal {
  /** Resolves with the signal's name when SIGINT or SIGTERM arrives. */
  readonly stopped: Promise<NodeJS.Signals>;
  /** Removes the handlers (the default behaviour of the signals returns). */
  dispose(): void;
}

/** Starts catching SIGINT and SIGTERM. */
export function catchStopSignals(): StopSignal {
  let handler: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    handler = (signal) => resolve(signal);
  });
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
