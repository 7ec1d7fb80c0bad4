/**
 * The rules that keep the core a firmware (DESIGN.md "Rules that keep it a firmware"), checked on
 * the source: imports point only the allowed way, and the core uses no global that hides I/O or
 * time. The compiler enforces the first rule too (firmware/tsconfig.json has no Node types); the
 * last test proves that it does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    if (entry.isDirectory()) out.push(...(await sources(rel)));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every module specifier in `import … from`, `export … from`, `import(…)` and `import '…'`. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const re = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) found.push((m[1] ?? m[2])!);
  return found;
}

function resolvesInto(file: string, spec: string, area: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
  return target === area || target.startsWith(`${area}/`);
}

/** Globals that are I/O or time in disguise (rule 1); they must come through the HAL. */
const FORBIDDEN_GLOBALS: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now() (use hal.clock)'],
  [/\bnew Date\(\s*\)/, 'new Date() without an argument (use hal.clock)'],
  [/\bperformance\s*\./, 'performance (use hal.clock.monoNowMs)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'timers (use hal.clock.schedule)'],
  [/(?<![.\w])fetch\s*\(/, 'fetch (use hal.http)'],
  [/\bMath\.random\s*\(/, 'Math.random (use hal.random)'],
  [/\bcrypto\.(getRandomValues|randomUUID)\s*\(/, 'crypto randomness (use hal.random)'],
  [/\bprocess\s*\./, 'process'],
  [/\brequire\s*\(|\b__dirname\b|\b__filename\b/, 'CommonJS / Node module globals'],
  [/\b(localStorage|sessionStorage|indexedDB|document|window)\b/, 'browser storage or DOM'],
];

describe('dependency rules', () => {
  it('firmware imports no node:* module, nothing from device-sim or remote-ui, and only allowed packages', async () => {
    const allowedPackages = [/^zod(\/mini)?$/, /^hono(\/[a-z-]+)?$/, /^pkijs$/, /^asn1js$/];
    const problems: string[] = [];
    for (const file of await sources('firmware')) {
      for (const spec of importsOf(await readFile(join(ROOT, file), 'utf8'))) {
        if (spec.startsWith('node:') || ['fs', 'net', 'tls', 'http', 'https', 'crypto', 'os', 'path', 'child_process'].includes(spec)) problems.push(`${file} → ${spec} (Node)`);
        else if (resolvesInto(file, spec, 'device-sim') || resolvesInto(file, spec, 'remote-ui')) problems.push(`${file} → ${spec}`);
        else if (!spec.startsWith('.') && !allowedPackages.some((re) => re.test(spec))) problems.push(`${file} → ${spec} (package not allowed in the core)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no domain folder of the firmware imports the web layer: only web/ itself and the composition root do', async () => {
    const problems: string[] = [];
    for (const file of await sources('firmware')) {
      if (file.startsWith('firmware/web/') || file === 'firmware/device.ts') continue;
      for (const spec of importsOf(await readFile(join(ROOT, file), 'utf8'))) if (resolvesInto(file, spec, 'firmware/web')) problems.push(`${file} → ${spec}`);
    }
    expect(problems).toEqual([]);
    expect(resolvesInto('firmware/send/job-queue.ts', '../web/api-types.ts', 'firmware/web'), 'the checker sees a domain → web import').toBe(true);
  });

  it('firmware uses no global that hides I/O, time or randomness', async () => {
    const problems: string[] = [];
    for (const file of await sources('firmware')) {
      const code = (await readFile(join(ROOT, file), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const [re, what] of FORBIDDEN_GLOBALS) if (re.test(code)) problems.push(`${file}: ${what}`);
    }
    expect(problems).toEqual([]);
  });

  it('the Remote UI imports from firmware only the API types, roles, settings schemas, defaults and the duration wording', async () => {
    // firmware/clock/duration.ts is a pure formatter: the device's messages and the pages word a duration alike.
    const allowed = ['firmware/web/api-types.ts', 'firmware/web/api-routes.ts', 'firmware/menu.ts', 'firmware/web/roles.ts', 'firmware/settings/schemas.ts', 'firmware/settings/fields.ts', 'firmware/defaults.ts', 'firmware/clock/duration.ts'];
    const problems: string[] = [];
    const files = [...(await sources('remote-ui/src')), ...(await sources('device-sim/control/page')), ...(await sources('device-sim/panel/page')), ...(await sources('device-sim/mailbox/page'))];
    for (const file of files) {
      for (const spec of importsOf(await readFile(join(ROOT, file), 'utf8'))) {
        if (spec.startsWith('node:')) problems.push(`${file} → ${spec}`);
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
        if (target.startsWith('firmware/') && !allowed.includes(target)) problems.push(`${file} → ${target}`);
        if (file.startsWith('remote-ui') && target.startsWith('device-sim/')) problems.push(`${file} → ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the checker sees the import forms it must catch', () => {
    expect(importsOf(`import x from 'node:fs';\nimport type { Y } from "../device-sim/a.ts";\nexport * from './b.ts';\nconst m = await import('node:net');\nimport 'side-effect';`)).toEqual([
      'node:fs',
      '../device-sim/a.ts',
      './b.ts',
      'node:net',
      'side-effect',
    ]);
  });

  it('the firmware compiler configuration refuses a Node import', async () => {
    const dir = await mkdtemp(join(ROOT, 'firmware/.probe-'));
    try {
      await writeFile(join(dir, 'probe.ts'), "import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n");
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: '../tsconfig.json', include: ['probe.ts'] }),
      );
      const run = promisify(execFile)(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: ROOT });
      const failure = await run.then(() => undefined, (e: { stdout: string }) => e);
      expect(failure, 'tsc accepted node:fs in the firmware').toBeDefined();
      expect(failure!.stdout).toMatch(/node:fs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
