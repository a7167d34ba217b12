// `sockit demo` (npm start) runs every chapter on loopback, shows each one and exits 0; piped
// output carries no colour codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_CHAPTERS } from '../../src/cli/demo.js';
import { killAll, sockit } from './support/processes.js';

after(killAll);

test('sockit demo shows every chapter in order and exits 0', async () => {
  const titles = await Promise.all(DEMO_CHAPTERS.map(async (load) => (await load()).title));
  const r = await sockit(['demo'], { killAfterMs: 60_000 }).result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  let at = -1;
  titles.forEach((title, i) => {
    const heading = `\n${i + 1}. ${title}\n`;
    const found = r.stdout.indexOf(heading);
    assert.ok(found > at, `chapter ${i + 1} (${title}) is shown after the one before`);
    at = found;
  });
  assert.match(r.stdout, new RegExp(`${titles.length} chapters, all done\\.\\n$`));
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('sockit demo N runs only chapter N', async () => {
  const second = (await DEMO_CHAPTERS[1]!()).title;
  const r = await sockit(['demo', '2']).result();
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`\n2. ${second}\n`));
  assert.doesNotMatch(r.stdout, /\n1\. /);
  assert.match(r.stdout, /1 chapter, all done\.\n$/);
});
