/**
 * Demo chapter: two people chatting through a sockit chat server on loopback, with the line
 * protocol shown as each of them sees it (what `nc` or `sockit chat` prints).
 */
import net from 'node:net';
import { listenChat } from '../../chat/chat-server.js';
import { check, type DemoChapter, type DemoContext } from './chapter.js';

/** A person at a plain socket: sends lines, waits for the line it expects, shows what it got. */
class Person {
  readonly name: string;
  readonly #socket: net.Socket;
  readonly #lines: string[] = [];
  #partial = '';
  #wake: (() => void) | undefined;
  #shown = 0;

  private constructor(name: string, socket: net.Socket) {
    this.name = name;
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (this.#partial + text).split('\n');
      this.#partial = parts.pop()!;
      for (const p of parts) this.#lines.push(p.replace(/\r$/, ''));
      this.#wake?.();
    });
    socket.on('end', () => this.#wake?.());
  }

  static connect(name: string, port: number): Promise<Person> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => resolve(new Person(name, socket)));
      socket.once('error', reject);
    });
  }

  send(ctx: DemoContext, line: string): void {
    ctx.show(`${this.name} types`, line);
    this.#socket.write(line + '\n');
  }

  /** Waits for a line equal to `expected` (the chapter's safety timeout bounds the wait). */
  async sees(expected: string): Promise<void> {
    while (!this.#lines.includes(expected)) {
      check(!this.#socket.readableEnded, `${this.name} never saw '${expected}'`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Prints every line received since the last call. */
  show(ctx: DemoContext): void {
    for (const line of this.#lines.slice(this.#shown)) ctx.show(`${this.name} sees `, line);
    this.#shown = this.#lines.length;
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function run(ctx: DemoContext): Promise<void> {
  const chat = await listenChat({ host: '127.0.0.1', port: 0 });
  const people: Person[] = [];
  try {
    ctx.say('The seeds name chat as a use of sockets. A sockit chat server relays whole lines, one');
    ctx.say('per message, to everyone in a room; `nc` works as a client, `sockit chat` is a nicer one.');
    const alice = await Person.connect('alice', chat.address.port);
    const bob = await Person.connect('bob  ', chat.address.port);
    people.push(alice, bob);
    // Each step waits until everyone it concerns has seen its effect, then shows the acting
    // person's screen first, so the transcript reads in the order things happened.
    const step = async (actor: Person, line: string, expect: Array<[Person, string]>): Promise<void> => {
      actor.send(ctx, line);
      for (const [who, text] of expect) await who.sees(text);
      actor.show(ctx);
      for (const [who] of expect) if (who !== actor) who.show(ctx);
    };
    await alice.sees('* welcome to sockit chat (0 people online). Who are you? Type a nick, or /nick NAME; /help lists commands');
    alice.show(ctx);
    await step(alice, 'alice', [[alice, '* #lobby: nobody else here yet']]);
    // bob connected together with alice, before she had a nick: his welcome counted nobody either.
    await bob.sees('* welcome to sockit chat (0 people online). Who are you? Type a nick, or /nick NAME; /help lists commands');
    bob.show(ctx);
    await step(bob, '/nick bob', [[bob, '* #lobby: 1 other here; /who lists them'], [alice, '* bob joined #lobby']]);
    await step(alice, 'hi bob! 你好', [[alice, '[#lobby] <alice> hi bob! 你好'], [bob, '[#lobby] <alice> hi bob! 你好']]);
    await step(bob, '/me waves back', [[bob, '[#lobby] * bob waves back'], [alice, '[#lobby] * bob waves back']]);
    await step(alice, '/msg bob this one is just for you', [[alice, '[pm to bob] <alice> this one is just for you'], [bob, '[pm] <alice> this one is just for you']]);
    await step(bob, '/quit see you', [[alice, '* bob left #lobby (quit: see you)']]);
    ctx.say('Each line arrived whole, in order, with who said it. A client that stops reading is');
    ctx.say('dropped once its send queue fills, so it can never stall the room (ncat --chat stalls).');
  } finally {
    for (const p of people) p.close();
    await chat.close(0);
  }
}

/** The chat chapter of `sockit demo`. */
export const chatChapter: DemoChapter = {
  title: 'Chat: two clients talking through a server',
  run,
};
