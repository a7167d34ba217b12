// UDP ports and RUDP on a slow link: a network namespace of the test's own whose loopback is
// rate-limited by a tbf qdisc (50 Mbit/s). Datagrams queue in the qdisc, the sender's socket buffer
// fills and the kernel answers EAGAIN — the backpressure path that plain loopback never takes. The
// port must stop, wait for writability and lose nothing; RUDP must still deliver every byte.
// Needs root and iproute2 (ip, tc), as CI has; skipped elsewhere.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNativeUdp } from '../../src/io/native-udp-port.js';

const NS = `sockit-shaped-${process.pid}`;
const CHILD = fileURLToPath(new URL('./support/shaped-link-child.js', import.meta.url));

function canShape(): string | false {
  if (process.platform !== 'linux') return 'Linux network namespaces only';
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('ip', ['-V']).status !== 0 || spawnSync('tc', ['-V']).status !== 0) return 'needs iproute2 (ip, tc)';
  return false;
}
const skip = canShape();

function inNamespace(args: string[]): Record<string, unknown> {
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, CHILD, ...args], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('on a rate-limited link (tbf 50 Mbit/s in a network namespace)', { skip }, () => {
  before(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', NS, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '50mbit', 'burst', '64kb', 'limit', '16mb']);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  const kinds = loadNativeUdp() ? (['native', 'dgram'] as const) : (['dgram'] as const);
  for (const io of kinds) {
    test(`${io} port: a full send buffer stops the sender, writability resumes it, nothing is lost`, () => {
      const r = inNamespace(['ports', io]);
      assert.equal(r['received'], r['total'], JSON.stringify(r));
      assert.equal(r['exactlyOnce'], true, JSON.stringify(r));
      // A port that reordered its own queue would swap whole runs; the kernel swaps a handful.
      assert.ok((r['outOfOrder'] as number) <= 10, `the port reordered datagrams: ${JSON.stringify(r)}`);
      assert.ok((r['refused'] as number) > 0, `the sender was never stopped: ${JSON.stringify(r)}`);
      assert.ok((r['writable'] as number) > 0, `no writable event: ${JSON.stringify(r)}`);
    });

    test(`${io} port: RUDP echoes 2 MiB through the slow link, byte for byte`, () => {
      const r = inNamespace(['stream', io]);
      assert.deepEqual(r, { equal: true, bytes: 2 * 1024 * 1024 });
    });
  }
});

describe('on a link whose MTU is below the datagram size (loopback MTU 1300 in a network namespace)', { skip }, () => {
  const SMALL = `${NS}-mtu`;
  before(() => {
    execFileSync('ip', ['netns', 'add', SMALL]);
    execFileSync('ip', ['netns', 'exec', SMALL, 'ip', 'link', 'set', 'lo', 'mtu', '1300', 'up']);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', SMALL]);
  });

  const kinds = loadNativeUdp() ? (['native', 'dgram'] as const) : (['dgram'] as const);
  for (const io of kinds) {
    test(`${io} port: 1400-byte datagrams still arrive whole and in order (GSO refused, IP fragments)`, () => {
      const out = execFileSync('ip', ['netns', 'exec', SMALL, process.execPath, CHILD, 'gso-refused', io], { encoding: 'utf8', timeout: 60_000 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
      assert.deepEqual(r, { received: 200, total: 200, inOrder: true, errors: [] });
    });
  }
});
