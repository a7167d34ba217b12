/**
 * Loads one of sockit's optional native addons (binding.gyp; built at install time by
 * scripts/build-native.mjs, Linux only) and remembers why it did not load. Each caller keeps a
 * JavaScript path for when it is missing.
 */
import { createRequire } from 'node:module';

interface Loaded {
  module: unknown;
  error: Error | undefined;
}

const cache = new Map<string, Loaded>();

/** `build/Release/<name>.node`, or undefined when it is not built or loadable (see addonLoadError). */
export function loadAddon<T>(name: string, what: string): T | undefined {
  let entry = cache.get(name);
  if (!entry) {
    entry = { module: undefined, error: undefined };
    if (process.platform === 'linux') {
      const require = createRequire(import.meta.url);
      // dist/src/io → the package root (compiled), or src/io → the package root (run from source).
      for (const path of [`../../../build/Release/${name}.node`, `../../build/Release/${name}.node`]) {
        try {
          entry.module = require(path);
          entry.error = undefined;
          break;
        } catch (err) {
          entry.error = err as Error;
        }
      }
    } else {
      entry.error = new Error(`${what} is built for Linux only (this is ${process.platform})`);
    }
    cache.set(name, entry);
  }
  return entry.module as T | undefined;
}

/** Why the addon did not load (undefined when it did, or was not tried yet). */
export function addonLoadError(name: string): Error | undefined {
  return cache.get(name)?.error;
}
