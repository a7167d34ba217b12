/**
 * Congestion control: the interface and the algorithms behind it (one file each), plus a lookup by
 * name for options such as `--cc cubic`.
 *
 * Read first: congestion-controller.ts (the interface), new-reno.ts, cubic.ts.
 */
import type { CongestionControllerConfig } from './congestion-controller.js';
import { newReno } from './new-reno.js';
import { cubic } from './cubic.js';

export type { CongestionController, CongestionControllerConfig } from './congestion-controller.js';
export {
  NewReno,
  newReno,
  newRenoConfig,
  initialWindowBytes,
  isWindowValidated,
  RFC3465_ABC_LIMIT_SEGMENTS,
  DEFAULT_ABC_LIMIT_SEGMENTS,
  MIN_SSTHRESH_SEGMENTS,
  LOSS_WINDOW_SEGMENTS,
  DEFAULT_MAX_WINDOW_BYTES,
  type NewRenoOptions,
  type InitialWindowRule,
} from './new-reno.js';
export { Cubic, cubic, cubicConfig, cubicWindowSegments, cubicK, CUBIC_BETA, CUBIC_C, type CubicOptions } from './cubic.js';

/** Names of the built-in congestion controllers. */
export const CONGESTION_CONTROLLER_NAMES = ['newreno', 'cubic'] as const;

/** A built-in congestion controller's name. */
export type CongestionControllerName = (typeof CONGESTION_CONTROLLER_NAMES)[number];

/** True when `s` names a built-in congestion controller. */
export function isCongestionControllerName(s: string): s is CongestionControllerName {
  return (CONGESTION_CONTROLLER_NAMES as readonly string[]).includes(s);
}

/** The default config of the built-in controller called `name`. */
export function getCongestionController(name: CongestionControllerName): CongestionControllerConfig {
  return name === 'cubic' ? cubic : newReno;
}
