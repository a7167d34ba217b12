/**
 * The thread that hashes large received files (file-hash.ts is its only client). Requests arrive in
 * order on one port, so each file's bytes are hashed in the order they were received.
 *   { op: 'start', id }                           a new SHA-256 for file `id`
 *   { op: 'update', id, req, offset, length }     hash a range of the shared block arena
 *   { op: 'update', id, req, bytes }              hash bytes sent along (blocks outside the arena)
 *   { op: 'peek' | 'digest', id, req }            the hex digest so far / final (digest forgets `id`)
 *   { op: 'drop', id }                            forget `id`
 * Every request with a `req` is answered { req, hex? } once done, or { req, error }.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

interface Request {
  op: 'start' | 'update' | 'peek' | 'digest' | 'drop';
  id: number;
  req?: number;
  offset?: number;
  length?: number;
  bytes?: Uint8Array;
}

const arena = (workerData as { arena?: SharedArrayBuffer } | undefined)?.arena;
const hashes = new Map<number, Hash>();

parentPort!.on('message', (m: Request) => {
  try {
    switch (m.op) {
      case 'start':
        hashes.set(m.id, createHash('sha256'));
        return;
      case 'drop':
        hashes.delete(m.id);
        return;
      case 'update': {
        const hash = hashes.get(m.id)!;
        hash.update(m.bytes ?? new Uint8Array(arena!, m.offset!, m.length!));
        parentPort!.postMessage({ req: m.req });
        return;
      }
      case 'peek':
        parentPort!.postMessage({ req: m.req, hex: hashes.get(m.id)!.copy().digest('hex') });
        return;
      case 'digest':
        parentPort!.postMessage({ req: m.req, hex: hashes.get(m.id)!.digest('hex') });
        hashes.delete(m.id);
        return;
    }
  } catch (err) {
    parentPort!.postMessage({ req: m.req, error: (err as Error).message });
  }
});
