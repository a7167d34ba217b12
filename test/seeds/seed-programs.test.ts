// Acceptance: the seed tutorials' own Python programs (test/seeds/programs/, unchanged but for the
// address on the command line) talk to `sockit connect` and `sockit listen`, in both directions:
// seeds 000, 001 (and its protocol 1), 002 (uppercase), 003 (GBK) and 004, over TCP and UDP.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, killAll, python, sockit, sockitListener, waitForBound, type Proc } from '../cli/support/processes.js';

after(killAll);

/** Starts a seed server program on a free 127.0.0.1 port and waits until it is bound. */
async function seedServer(program: string, protocol: 'tcp' | 'udp', stdin?: string): Promise<{ proc: Proc; port: string }> {
  const port = await freePort(protocol);
  const proc = python(program, ['127.0.0.1', String(port)], stdin === undefined ? {} : { stdin });
  await waitForBound(port, protocol, proc);
  return { proc, port: String(port) };
}

async function ok(proc: Proc): Promise<{ stdout: string; stderr: string }> {
  const r = await proc.result();
  assert.equal(r.code, 0, `${proc.name}\n${r.stderr}`);
  return r;
}

describe('sockit connect → the seeds\' servers', { concurrency: 4 }, () => {
  test('seed 001 TCP server: recv, print, send b\'hi\'', async () => {
    const server = await seedServer('seed001_tcp_server.py', 'tcp');
    const client = await ok(sockit(['connect', '127.0.0.1', server.port], { stdin: 'hello!\n' }));
    assert.equal(client.stdout, 'hi');
    assert.equal((await ok(server.proc)).stdout, "b'hello!\\n'\n");
  });

  test('seed 002 uppercase server', async () => {
    const server = await seedServer('seed002_upper_server.py', 'tcp');
    const client = await ok(sockit(['connect', '127.0.0.1', server.port], { stdin: 'hello, seed 002\n' }));
    assert.equal(client.stdout, 'HELLO, SEED 002\n');
    await server.proc.waitForStdout(/^Connected by \('127\.0\.0\.1', \d+\)\n/);
    await server.proc.stop();
  });

  test('seed 003 GBK TCP server, with --encoding gbk', async () => {
    const server = await seedServer('seed003_tcp_server.py', 'tcp');
    const client = await ok(sockit(['connect', '127.0.0.1', server.port, '--encoding', 'gbk'], { stdin: '你好,服务器\n' }));
    assert.equal(client.stdout, 'thank you !');
    await server.proc.waitForStdout(/接收到的数据为: 你好,服务器\n/);
    await server.proc.stop();
  });

  test('seed 004 TCP server, which types its reply with input()', async () => {
    const server = await seedServer('seed004_tcp_server.py', 'tcp', 'nihao client\n');
    const client = await ok(sockit(['connect', '127.0.0.1', server.port], { stdin: 'ni hao server\n' }));
    assert.equal(client.stdout, 'nihao client');
    assert.match((await ok(server.proc)).stdout, /服务端接受到的数据为: b'ni hao server\\n'\n/);
  });

  test('seed 001 UDP server: recvfrom, print, sendto the sender', async () => {
    const server = await seedServer('seed001_udp_server.py', 'udp');
    const client = await ok(sockit(['connect', '--udp', '127.0.0.1', server.port, '--timeout', '300'], { stdin: 'hello\n' }));
    assert.equal(client.stdout, 'hi\n');
    assert.equal((await ok(server.proc)).stdout, "b'hello'\n");
  });

  test('seed 003 GBK UDP server (it never answers), with --encoding gbk', async () => {
    const server = await seedServer('seed003_udp_server.py', 'udp');
    const client = await ok(sockit(['connect', '--udp', '127.0.0.1', server.port, '--encoding', 'gbk', '--timeout', '200'], { stdin: '你好,UDP\n' }));
    assert.equal(client.stdout, '');
    assert.equal((await ok(server.proc)).stdout, '你好,UDP\n');
  });

  test('seed 004 UDP server', async () => {
    const server = await seedServer('seed004_udp_server.py', 'udp');
    const client = await ok(sockit(['connect', '--udp', '127.0.0.1', server.port, '--timeout', '300'], { stdin: 'ni hao server\n' }));
    assert.equal(client.stdout, 'nihao\n');
    assert.match((await ok(server.proc)).stdout, /^ni hao server \('127\.0\.0\.1', \d+\)\n$/);
  });
});

describe('the seeds\' clients → sockit listen', { concurrency: 4 }, () => {
  test('seed 000 TCP client → --service echo', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'echo']);
    assert.equal((await ok(python('seed000_tcp_client.py', ['127.0.0.1', String(port)]))).stdout, 'Received: Hello, TCP!\n');
    assert.equal((await proc.stop()).code, 0);
  });

  test('seed 000 UDP client → --udp --service echo', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp', '--service', 'echo']);
    assert.equal((await ok(python('seed000_udp_client.py', ['127.0.0.1', String(port)]))).stdout, 'Received: Hello, UDP!\n');
    assert.equal((await proc.stop()).code, 0);
  });

  test('seed 001 TCP client → nc mode (stdin answers)', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'hi\n' });
    assert.equal((await ok(python('seed001_tcp_client.py', ['127.0.0.1', String(port)]))).stdout, "b'hi\\n'\n");
    assert.equal((await ok(proc)).stdout, 'hello!');
  });

  test('seed 001 UDP client → --udp nc mode (stdin answers the sender)', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp'], { stdin: 'hi\n' });
    assert.equal((await ok(python('seed001_udp_client.py', ['127.0.0.1', String(port)]))).stdout, 'hi\n');
    await proc.waitForStdout(/hello\n/);
    assert.equal((await proc.stop()).code, 0);
    assert.equal(proc.stdout, 'hello\n');
  });

  test('seed 001 protocol 1 client: 2000 struct.pack(\'i\', n) messages in one sendall → --framing len32le --service echo', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--framing', 'len32le', '--service', 'echo']);
    const client = await ok(python('seed001_protocol1_client.py', ['127.0.0.1', String(port), '2000']));
    assert.equal(client.stdout, '2000 messages echoed intact\n');
    assert.equal((await proc.stop()).code, 0);
  });

  test('seed 002 TCP client → --service upper', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'upper']);
    assert.equal((await ok(python('seed002_tcp_client.py', ['127.0.0.1', String(port)]))).stdout, 'Received: HELLO, SERVER!\n');
    assert.equal((await proc.stop()).code, 0);
  });

  test('seed 003 GBK TCP client (address typed at input()) → --service upper --encoding gbk', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'upper', '--encoding', 'gbk']);
    const client = await ok(python('seed003_tcp_client.py', [], { stdin: `127.0.0.1\n${port}\n你好 sockit\n` }));
    assert.match(client.stdout, /接收到的数据为: 你好 SOCKIT\n$/);
    assert.equal((await proc.stop()).code, 0);
  });

  test('seed 003 GBK TCP client → nc mode with --encoding gbk (UTF-8 on the terminal side)', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--encoding', 'gbk'], { stdin: '谢谢\n' });
    const client = await ok(python('seed003_tcp_client.py', [], { stdin: `127.0.0.1\n${port}\n你好\n` }));
    assert.match(client.stdout, /接收到的数据为: 谢谢\n\n$/);
    assert.equal((await ok(proc)).stdout, '你好');
  });

  test('seed 004 TCP client (types its message with input()) → nc mode', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'hello client\n' });
    const client = await ok(python('seed004_tcp_client.py', ['127.0.0.1', String(port)], { stdin: 'ni hao\n' }));
    assert.match(client.stdout, /接受到服务端的数据: b'hello client\\n'\n$/);
    assert.equal((await ok(proc)).stdout, 'ni hao');
  });

  test('seed 004 UDP client → --udp --service echo', async () => {
    const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp', '--service', 'echo']);
    assert.equal((await ok(python('seed004_udp_client.py', ['127.0.0.1', String(port)]))).stdout, "b'ni hao server'\n");
    assert.equal((await proc.stop()).code, 0);
  });
});
