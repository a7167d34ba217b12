/**
 * The services `sockit listen --service NAME` can run, by name. Each entry loads its module lazily
 * so the CLI starts fast. Add a service: one line here, one module exporting a ServiceDefinition.
 */
import type { ServiceDefinition } from './types.js';

type Loader = () => Promise<ServiceDefinition<any>>;

const SERVICES: Record<string, Loader> = {
  echo: async () => (await import('./echo.js')).echoService,
  upper: async () => (await import('./upper.js')).upperService,
  discard: async () => (await import('./discard.js')).discardService,
  files: async () => (await import('./files.js')).filesService,
  chat: async () => (await import('./chat.js')).chatService,
};

/** Names of every registered service. */
export function serviceNames(): string[] {
  return Object.keys(SERVICES);
}

/** Loads a service definition by name, or returns undefined for an unknown name. */
export async function loadService(name: string): Promise<ServiceDefinition<any> | undefined> {
  const loader = Object.hasOwn(SERVICES, name) ? SERVICES[name] : undefined;
  return loader ? loader() : undefined;
}
