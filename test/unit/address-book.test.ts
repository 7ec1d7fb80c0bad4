/**
 * The address book (firmware/send/address-book.ts) through both of its doors: the control panel's
 * API (`/panel/api/address-book`, no session) and the Remote UI's (`/api/address-book`, for the
 * roles with manageAddressBook, CSRF as everywhere). One book behind both; limits, duplicates,
 * bad input with the field named, search and its order, and a power cycle that keeps it all.
 */
import { describe, expect, it } from 'vitest';
import { ADDRESS_BOOK_MAX, ADDRESS_BOOK_QUERY_MAX } from '../../firmware/defaults.ts';
import { bootDevice, type Device } from '../../firmware/device.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import type { Scanner } from '../../firmware/hal/scanner.ts';
import { ADDRESS_BOOK_RECORD, AddressBook } from '../../firmware/send/address-book.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { ApiClient } from '../support/api-client.ts';
import { MemoryStorage, memoryHal } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';

const ADMIN_PW = 'admin-pass-1';
/** The panel needs a scan unit to exist; these tests never scan. */
const NO_SCANS: Scanner = { scan: async () => ({ ok: false, kind: 'scanner-error', detail: 'not in this test' }) };

async function boot(storage = new MemoryStorage()): Promise<Device> {
  const env = memoryHal({ storage });
  return bootDevice({ ...env.hal, spool: new MemorySpool(), scanner: NO_SCANS });
}

/** A call to the panel API, as the panel page makes it. */
async function panel(device: Device, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await device.handlePanel!(
    new Request(`http://panel/panel/api${path}`, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }),
  );
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

const add = (device: Device, name: string, address: string) => panel(device, 'POST', '/address-book', { name, address });
const names = (entries: { name: string }[]) => entries.map((e) => e.name);
const fieldPaths = (json: { fields?: { path: string }[] }) => json.fields?.map((f) => f.path);

describe('the address book at the panel', () => {
  it('adds, lists sorted by name, searches names and addresses in any case, edits and deletes', async () => {
    const device = await boot();
    expect((await panel(device, 'GET', '/address-book')).json).toEqual([]);

    const zoe = await add(device, 'zoë Quinn', 'zoe@example.com');
    expect(zoe.status).toBe(201);
    expect(zoe.json).toEqual({ id: expect.stringMatching(/^[0-9a-f]{12}$/), name: 'zoë Quinn', address: 'zoe@example.com' });
    await add(device, 'Room 10', 'room10@example.com');
    await add(device, '  Anna Berg  ', 'anna.berg@sales.example.com');
    await add(device, 'Room 2', 'room2@example.com');
    await add(device, 'bob Stone', 'BOB@Example.org');

    const all = (await panel(device, 'GET', '/address-book')).json;
    // Sorted as people read names: case does not matter, "Room 2" before "Room 10"; names are trimmed.
    expect(names(all)).toEqual(['Anna Berg', 'bob Stone', 'Room 2', 'Room 10', 'zoë Quinn']);
    expect(names((await panel(device, 'GET', '/address-book?q=ROOM')).json)).toEqual(['Room 2', 'Room 10']);
    expect(names((await panel(device, 'GET', '/address-book?q=example.org')).json)).toEqual(['bob Stone']);
    expect(names((await panel(device, 'GET', '/address-book?q=bob@ex')).json)).toEqual(['bob Stone']);
    expect(names((await panel(device, 'GET', '/address-book?q=SALES')).json)).toEqual(['Anna Berg']);
    expect(names((await panel(device, 'GET', `/address-book?q=${encodeURIComponent('  zoë ')}`)).json)).toEqual(['zoë Quinn']);
    expect((await panel(device, 'GET', '/address-book?q=nobody')).json).toEqual([]);

    const edited = await panel(device, 'PUT', `/address-book/${zoe.json.id}`, { name: 'Zoë Quinn', address: 'zoe.quinn@example.com' });
    expect(edited).toEqual({ status: 200, json: { id: zoe.json.id, name: 'Zoë Quinn', address: 'zoe.quinn@example.com' } });
    // An entry may keep its own address (in another case, too).
    expect((await panel(device, 'PUT', `/address-book/${zoe.json.id}`, { name: 'Zoë Q.', address: 'Zoe.Quinn@example.com' })).status).toBe(200);
    expect((await panel(device, 'GET', '/address-book?q=zoe')).json).toEqual([{ id: zoe.json.id, name: 'Zoë Q.', address: 'Zoe.Quinn@example.com' }]);

    expect((await panel(device, 'DELETE', `/address-book/${zoe.json.id}`)).status).toBe(204);
    expect((await panel(device, 'GET', '/address-book?q=zoe')).json).toEqual([]);
    expect((await panel(device, 'DELETE', `/address-book/${zoe.json.id}`)).json).toMatchObject({ error: 'not-found' });
    expect((await panel(device, 'PUT', `/address-book/${zoe.json.id}`, { name: 'Zoë', address: 'zoe@example.com' })).status).toBe(404);
    expect((await panel(device, 'PUT', '/address-book/..%2Faccounts', { name: 'Zoë', address: 'zoe@example.com' })).status).toBe(404);

    // Who changed what is in the event log (names, not addresses).
    const events = device.events.since().filter((e) => e.code.startsWith('address-book-'));
    expect(events.map((e) => e.code)).toEqual([
      ...Array(5).fill('address-book-entry-added'),
      'address-book-entry-changed',
      'address-book-entry-changed',
      'address-book-entry-deleted',
    ]);
    expect(events[0]!.message).toBe('Address book entry "zoë Quinn" added by Guest at the panel');
    device.shutdown();
  });

  it('refuses bad input with the field named, and an address that is in the book already (in any case)', async () => {
    const device = await boot();
    const bad = async (body: unknown) => {
      const r = await panel(device, 'POST', '/address-book', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      return fieldPaths(r.json);
    };
    expect(await bad({ name: 'Ann', address: 'ann at example.com' })).toEqual(['address']);
    expect(await bad({ name: 'Ann', address: 'ann@example.com\r\nRCPT TO:<victim@example.com>' })).toEqual(['address']);
    expect(await bad({ name: 'Ann', address: '' })).toEqual(['address']);
    expect(await bad({ name: '   ', address: 'ann@example.com' })).toEqual(['name']);
    expect(await bad({ name: 'Ann\nBcc: x@example.com', address: 'ann@example.com' })).toEqual(['name']);
    expect(await bad({ name: 'A'.repeat(65), address: 'ann@example.com' })).toEqual(['name']);
    expect(await bad({ address: 'ann@example.com' })).toEqual(['name']);
    expect(await bad({ name: 42, address: ['ann@example.com'] })).toEqual(['name', 'address']);
    expect((await panel(device, 'POST', '/address-book', 'not json')).json).toMatchObject({ error: 'bad-json' });
    const longQuery = await panel(device, 'GET', `/address-book?q=${'x'.repeat(ADDRESS_BOOK_QUERY_MAX + 1)}`);
    expect(longQuery.status).toBe(400);
    expect(fieldPaths(longQuery.json)).toEqual(['q']);
    expect((await panel(device, 'GET', '/address-book')).json).toEqual([]);

    const ann = await add(device, 'Ann', 'ann@example.com');
    expect(ann.status).toBe(201);
    const again = await add(device, 'Ann again', 'ANN@example.com');
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'duplicate', message: 'ANN@example.com is already in the address book.', fields: [{ path: 'address' }] });
    // Editing another entry to an address in the book is refused the same way.
    const ben = await add(device, 'Ben', 'ben@example.com');
    expect((await panel(device, 'PUT', `/address-book/${ben.json.id}`, { name: 'Ben', address: 'ann@example.com' })).json).toMatchObject({ error: 'duplicate' });
    // A bad body for an unknown id is a 400 first: the request is checked at the door.
    expect((await panel(device, 'PUT', '/address-book/000000000000', { name: '', address: 'x' })).status).toBe(400);
    // Two panels' worth of taps at once: one of the same address gets in.
    const [one, two] = await Promise.all([add(device, 'Cy', 'cy@example.com'), add(device, 'Cy 2', 'cy@example.com')]);
    expect([one.status, two.status].sort()).toEqual([201, 409]);
    expect(names((await panel(device, 'GET', '/address-book')).json)).toEqual(['Ann', 'Ben', expect.stringMatching(/^Cy/)]);
    device.shutdown();
  });

  it(`holds at most ${ADDRESS_BOOK_MAX} entries: the next is refused with 409 full until one is deleted`, async () => {
    const device = await boot();
    for (let i = 0; i < ADDRESS_BOOK_MAX; i++) expect((await add(device, `Person ${i}`, `p${i}@example.com`)).status).toBe(201);
    const full = await add(device, 'One too many', 'extra@example.com');
    expect(full.status).toBe(409);
    expect(full.json).toMatchObject({ error: 'full', message: `The address book is full (${ADDRESS_BOOK_MAX} entries). Delete an entry first.` });
    const list = (await panel(device, 'GET', '/address-book')).json;
    expect(list).toHaveLength(ADDRESS_BOOK_MAX);
    expect(list.slice(0, 3).map((e: { name: string }) => e.name)).toEqual(['Person 0', 'Person 1', 'Person 2']);
    expect((await panel(device, 'DELETE', `/address-book/${list[0].id}`)).status).toBe(204);
    expect((await add(device, 'One too many', 'extra@example.com')).status).toBe(201);
    device.shutdown();
  }, 120_000);

  it('keeps the book across a power cycle, and the panel and the Remote UI share it', async () => {
    const storage = new MemoryStorage();
    const first = await boot(storage);
    const ann = (await add(first, 'Ann', 'ann@example.com')).json;
    await add(first, 'Ben', 'ben@example.com');
    await panel(first, 'PUT', `/address-book/${ann.id}`, { name: 'Ann Lee', address: 'ann.lee@example.com' });
    const before = (await panel(first, 'GET', '/address-book')).json;
    first.shutdown();

    const second = await boot(storage);
    expect((await panel(second, 'GET', '/address-book')).json).toEqual(before);
    expect(second.events.since().filter((e) => e.code === 'nvram-record-reset')).toEqual([]);
    const admin = new ApiClient(second.handleHttp);
    await admin.loginAndChange('Administrator', second.label.factoryPassword, ADMIN_PW);
    expect((await admin.call('GET', '/api/address-book')).json).toEqual(before);
    second.shutdown();
  });

  it('leaves the book as it was when the NVRAM write fails', async () => {
    class FailingStorage extends MemoryStorage {
      failing = false;
      override async replace(name: string, bytes: Uint8Array): Promise<void> {
        if (this.failing) throw new Error('flash write error');
        await super.replace(name, bytes);
      }
    }
    const storage = new FailingStorage();
    const { clock } = memoryHal();
    const book = await AddressBook.open(new Nvram(storage, new DeviceEvents(clock, consoleLog('silent'))), nodeRandom, new DeviceEvents(clock, consoleLog('silent')));
    const ann = await book.add({ name: 'Ann', address: 'ann@example.com' }, 'test');
    expect(ann.ok).toBe(true);
    storage.failing = true;
    await expect(book.add({ name: 'Ben', address: 'ben@example.com' }, 'test')).rejects.toThrow('flash write error');
    await expect(book.update(ann.ok ? ann.entry.id : '', { name: 'Ann Lee', address: 'ann@example.com' }, 'test')).rejects.toThrow();
    expect(book.search()).toEqual([{ id: expect.any(String), name: 'Ann', address: 'ann@example.com' }]);
    // The next change is not stuck behind the failed one.
    storage.failing = false;
    expect((await book.add({ name: 'Ben', address: 'ben@example.com' }, 'test')).ok).toBe(true);
    const stored = JSON.parse(new TextDecoder().decode(storage.records.get(ADDRESS_BOOK_RECORD.name)!)) as { data: { entries: unknown[] } };
    expect(stored.data.entries).toHaveLength(2);
  });
});

describe('the address book in the Remote UI API', () => {
  async function setup() {
    const device = await boot();
    const admin = new ApiClient(device.handleHttp);
    await admin.loginAndChange('Administrator', device.label.factoryPassword, ADMIN_PW);
    const userWith = async (name: string, role: string) => {
      expect((await admin.call('POST', '/api/accounts', { name, role, password: 'initial-pw-1' })).status).toBe(201);
      const c = new ApiClient(device.handleHttp);
      await c.loginAndChange(name, 'initial-pw-1', 'own-pw-after-1');
      return c;
    };
    return { device, admin, userWith };
  }

  it('lets Administrator and DeviceAdmin manage it, with the same answers as the panel', async () => {
    const { device, admin, userWith } = await setup();
    expect((await admin.call('GET', '/api/session')).json.capabilities).toContain('manageAddressBook');
    const created = await admin.call('POST', '/api/address-book', { name: 'Front Desk', address: 'desk@example.com' });
    expect(created.status).toBe(201);
    const dave = await userWith('dave', 'DeviceAdmin');
    expect((await dave.call('GET', '/api/session')).json.capabilities).toContain('manageAddressBook');
    expect((await dave.call('POST', '/api/address-book', { name: 'Accounts', address: 'accounts@example.com' })).status).toBe(201);
    expect((await dave.call('POST', '/api/address-book', { name: 'Desk', address: 'DESK@example.com' })).json).toMatchObject({ error: 'duplicate', fields: [{ path: 'address' }] });
    expect(fieldPaths((await dave.call('POST', '/api/address-book', { name: 'Desk', address: 'desk' })).json)).toEqual(['address']);
    expect(names((await dave.call('GET', '/api/address-book?q=DESK')).json)).toEqual(['Front Desk']);
    expect((await dave.call('PUT', `/api/address-book/${created.json.id}`, { name: 'Reception', address: 'desk@example.com' })).json).toMatchObject({ name: 'Reception' });
    expect((await dave.call('PUT', '/api/address-book/000000000000', { name: 'Nobody', address: 'nobody@example.com' })).status).toBe(404);
    // The panel sees what the Remote UI changed.
    expect(names((await panel(device, 'GET', '/address-book')).json)).toEqual(['Accounts', 'Reception']);
    expect((await admin.call('DELETE', `/api/address-book/${created.json.id}`)).status).toBe(204);
    expect(names((await panel(device, 'GET', '/address-book')).json)).toEqual(['Accounts']);
    expect(device.events.since().find((e) => e.code === 'address-book-entry-changed')?.message).toBe('Address book entry "Reception" changed by dave');
    device.shutdown();
  });

  it('exports the book as CSV and imports a CSV file: new entries added, known addresses skipped, all or nothing', async () => {
    const { admin } = await setup();
    await admin.call('POST', '/api/address-book', { name: 'Berg, Anna', address: 'anna@example.com' });
    await admin.call('POST', '/api/address-book', { name: '=SUM(A1) "Sales"', address: 'sales@example.com' });
    const exported = await admin.call('GET', '/api/address-book.csv');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="address-book.csv"');
    // The formula is defused for spreadsheets; the comma and quotes are quoted.
    expect(exported.json).toBe(`Name,E-mail Address\r\n"'=SUM(A1) ""Sales""",sales@example.com\r\n"Berg, Anna",anna@example.com\r\n`);

    // Into a second device that already has one of the addresses (in another case).
    const other = await setup();
    await other.admin.call('POST', '/api/address-book', { name: 'Anna', address: 'ANNA@example.com' });
    const csv = `${exported.json}Room 2,room2@example.com\r\nRoom 2 again,Room2@Example.com\r\n`;
    const imported = await other.admin.call('POST', '/api/address-book/import', { csv });
    expect(imported).toMatchObject({ status: 200, json: { added: 2, skipped: [{ line: 3, address: 'anna@example.com' }, { line: 5, address: 'Room2@Example.com' }] } });
    expect(names((await other.admin.call('GET', '/api/address-book')).json)).toEqual(['=SUM(A1) "Sales"', 'Anna', 'Room 2']);
    expect(other.device.events.since().at(-1)?.message).toBe('2 address book entries imported by Administrator');

    // A file with bad lines adds nothing, and says which lines.
    const before = (await admin.call('GET', '/api/address-book')).json;
    const bad = await admin.call('POST', '/api/address-book/import', { csv: 'Name,E-mail\nGood,good@example.com\n,empty-name@example.com\nNo Address,not-an-address\n' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('Some lines of the file cannot be address book entries. Nothing was imported.');
    expect(fieldPaths(bad.json)).toEqual(['line 3: name', 'line 4: address']);
    expect((await admin.call('GET', '/api/address-book')).json).toEqual(before);
    const noHeader = await admin.call('POST', '/api/address-book/import', { csv: 'good@example.com,Good\n' });
    expect(noHeader.status).toBe(400);
    expect(noHeader.json.message).toMatch(/^The first line must name the columns/);
    const broken = await admin.call('POST', '/api/address-book/import', { csv: 'Name,E-mail\n"Open,quote@example.com\n' });
    expect(broken.json.message).toBe('This is not a CSV file the device can read (line 2: a quoted field is never closed). Nothing was imported.');
    expect((await admin.call('POST', '/api/address-book/import', { csv: '' })).status).toBe(400);
    expect((await admin.call('GET', '/api/address-book')).json).toEqual(before);
  });

  it(`imports nothing when the new entries would take the book over ${ADDRESS_BOOK_MAX}`, async () => {
    const { admin } = await setup();
    const rows = Array.from({ length: ADDRESS_BOOK_MAX - 1 }, (_, i) => `P${i},p${i}@example.com`);
    expect((await admin.call('POST', '/api/address-book/import', { csv: ['Name,E-mail Address', ...rows].join('\n') })).json).toMatchObject({ added: ADDRESS_BOOK_MAX - 1 });
    const over = await admin.call('POST', '/api/address-book/import', { csv: 'Name,E-mail Address\nOne,one@example.com\nTwo,two@example.com\np0 again,P0@example.com\n' });
    expect(over.status).toBe(409);
    expect(over.json.message).toBe(`The address book holds at most ${ADDRESS_BOOK_MAX} entries: the file has 2 new ones and there is room for 1. Nothing was imported.`);
    expect((await admin.call('GET', '/api/address-book')).json).toHaveLength(ADDRESS_BOOK_MAX - 1);
  });

  it('refuses other roles, no session, and a change without the CSRF token', async () => {
    const { device, admin, userWith } = await setup();
    const entry = (await admin.call('POST', '/api/address-book', { name: 'Ann', address: 'ann@example.com' })).json;
    for (const [who, client] of [
      ['NetworkAdmin', await userWith('nina', 'NetworkAdmin')],
      ['GeneralUser', await userWith('walter', 'GeneralUser')],
    ] as const) {
      expect((await client.call('GET', '/api/session')).json.capabilities).not.toContain('manageAddressBook');
      for (const [method, path, body] of [
        ['GET', '/api/address-book'],
        ['POST', '/api/address-book', { name: 'Mallory', address: 'mallory@example.com' }],
        ['PUT', `/api/address-book/${entry.id}`, { name: 'Mallory', address: 'mallory@example.com' }],
        ['DELETE', `/api/address-book/${entry.id}`],
      ] as const) {
        const r = await client.call(method, path, body);
        expect(r.status, `${who} ${method} ${path}`).toBe(403);
        expect(r.json.error).toBe('forbidden');
      }
    }
    const anonymous = new ApiClient(device.handleHttp);
    expect((await anonymous.call('GET', '/api/address-book')).status).toBe(401);
    expect((await admin.call('POST', '/api/address-book', { name: 'Eve', address: 'eve@example.com' }, { 'x-csrf-token': '' })).json.error).toBe('csrf');
    expect((await admin.call('DELETE', `/api/address-book/${entry.id}`, undefined, { origin: 'http://evil.example' })).json.error).toBe('cross-origin');
    expect((await admin.call('GET', '/api/address-book')).json).toEqual([entry]);
    device.shutdown();
  });
});

describe('who may edit the address book at the panel (Security settings)', () => {
  it('anyone by default; logged-in users, or administrators only, when the administrator says so', async () => {
    const device = await boot();
    const admin = new ApiClient(device.handleHttp);
    await admin.loginAndChange('Administrator', device.label.factoryPassword, ADMIN_PW);
    expect((await admin.call('POST', '/api/accounts', { name: 'gus', role: 'GeneralUser', password: 'initial-pw-1' })).status).toBe(201);
    await new ApiClient(device.handleHttp).loginAndChange('gus', 'initial-pw-1', 'his-own-pw-1');
    const setPolicy = async (panelAddressBookEditing: string) => {
      const security = (await admin.call('GET', '/api/settings/security')).json.values;
      expect((await admin.call('PUT', '/api/settings/security', { ...security, panelAddressBookEditing })).status).toBe(200);
    };

    expect((await panel(device, 'GET', '/status')).json.addressBookEditable).toBe(true);
    expect((await add(device, 'Front Desk', 'front@example.com')).status).toBe(201);

    await setPolicy('logged-in');
    expect((await panel(device, 'GET', '/status')).json.addressBookEditable).toBe(false);
    expect(await add(device, 'Guest Entry', 'guest@example.com')).toMatchObject({ status: 403, json: { error: 'address-book-locked', message: 'Log in to change the address book.' } });
    expect((await panel(device, 'GET', '/address-book')).status).toBe(200); // picking stays open
    expect((await panel(device, 'POST', '/login', { user: 'gus', password: 'his-own-pw-1' })).status).toBe(200);
    expect((await add(device, 'Gus Entry', 'gus-entry@example.com')).status).toBe(201);

    await setPolicy('administrators');
    const id = (await panel(device, 'GET', '/address-book')).json[0].id as string;
    expect((await panel(device, 'DELETE', `/address-book/${id}`)).json).toMatchObject({ error: 'address-book-locked', message: 'Only an administrator may change the address book at this device.' });
    await panel(device, 'POST', '/logout', {});
    expect((await panel(device, 'POST', '/login', { user: 'Administrator', password: ADMIN_PW })).status).toBe(200);
    expect((await panel(device, 'GET', '/status')).json.addressBookEditable).toBe(true);
    expect((await panel(device, 'DELETE', `/address-book/${id}`)).status).toBe(204);
    device.shutdown();
  });
});
