/**
 * The route maps the browser pages' clients are typed from (firmware/web/api-routes.ts for the
 * Remote UI and the panel, device-sim/control/sim-routes.ts for the simulator and its mailbox)
 * against docs/api.md: every documented route is in a map, and a map names no route the
 * documentation does not. Path parameters are compared by place, not by name (the docs write
 * `:upn` where the lever is registered as `:user`), and a parameter of a map stands for the value
 * the docs may write in its place (`POST /api/oauth/google/register` is `:provider/register`).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Routes docs/api.md writes in one table row with the one before (`POST …/login` / `logout`). */
const DOCUMENTED_IN_THE_ROW_BEFORE = ['POST /panel/api/logout', 'DELETE /panel/api/address-book/:'];

const shape = (route: string) => route.replace(/:\w+/g, ':');

/** The map's route (`:` a parameter) stands for the documented one. */
function covers(mapped: string, documented: string): boolean {
  const [a, b] = [mapped.split('/'), documented.split('/')];
  return a.length === b.length && a.every((segment, i) => segment === b[i] || segment === ':');
}

async function mapRoutes(file: string): Promise<string[]> {
  const text = await readFile(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*'([A-Z]+ \/[^']*)':/gm)].map((m) => shape(m[1]!));
}

async function documentedRoutes(): Promise<string[]> {
  const doc = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
  return [...doc.matchAll(/^\| `([A-Z]+) (\/[^`?\s]*)/gm)].map((m) => shape(`${m[1]} ${m[2]}`));
}

describe('the route maps of the typed clients', () => {
  it('name every route docs/api.md documents, and none it does not', async () => {
    const mapped = [...(await mapRoutes('firmware/web/api-routes.ts')), ...(await mapRoutes('device-sim/control/sim-routes.ts'))];
    const documented = await documentedRoutes();
    expect(documented.length).toBeGreaterThan(60);
    expect(new Set(mapped).size, 'a route named twice').toBe(mapped.length);
    expect(documented.filter((d) => !mapped.some((m) => covers(m, d))), 'documented, not in a map').toEqual([]);
    expect(mapped.filter((m) => !documented.some((d) => covers(m, d)) && !DOCUMENTED_IN_THE_ROW_BEFORE.includes(m)), 'in a map, not documented').toEqual([]);
  });
});
