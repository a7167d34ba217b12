/**
 * Graceful shutdown of a set of connections: wait for them to finish on their own up to a grace
 * period, then destroy whoever is left. Shared by MessageServer, the services and the chat server.
 */

/** What {@link closeGracefully} needs of a connection. */
export interface Closable {
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Resolves once every connection in `live` has closed: those still open after `graceMs` are
 * destroyed. `live` holds the connections open at the call (the caller's own set, which drops
 * them as they close, or a snapshot of it: destroying one that closed meanwhile is harmless).
 */
export async function closeGracefully(live: ReadonlySet<Closable>, graceMs: number): Promise<void> {
  if (live.size === 0) return;
  const allClosed = Promise.all([...live].map((c) => new Promise<void>((resolve) => c.once('close', () => resolve()))));
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), Math.max(0, graceMs));
  });
  const first = await Promise.race([allClosed, graceOver]);
  clearTimeout(timer);
  if (first === 'grace-over') {
    for (const c of live) c.destroy();
    await allClosed;
  }
}
