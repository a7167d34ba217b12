import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rudpChapter } from '../../src/cli/demo/rudp.js';

test('the RUDP demo chapter shows the handshake, a retransmission and the four-way close', async () => {
  const said: string[] = [];
  const shown: Array<[string, string]> = [];
  await rudpChapter.run({ say: (t) => said.push(t), show: (label, text) => shown.push([label, text]), color: false });
  const client = shown.filter(([who]) => who === 'client').map(([, l]) => l).join('\n');
  const server = shown.filter(([who]) => who === 'server').map(([, l]) => l).join('\n');
  assert.match(client, /→ SYN seq=\d+/);
  assert.match(client, /← SYN\+ACK seq=\d+ ack=\d+/);
  assert.match(client + server, /\(retransmission\)/);
  assert.match(client + server, /TIME_WAIT → CLOSED/);
  assert.match(server, /LAST_ACK|TIME_WAIT/);
  assert.match(client, /received: HELLO OVER A LOSSY NETWORK/);
  // The relay dropped exactly the two datagrams the chapter scripted.
  assert.ok(shown.some(([who, l]) => who === 'relay' && /client -> server: .*dropped 2 \(scripted 2\)/.test(l)), JSON.stringify(shown.filter(([w]) => w === 'relay')));
});
