/**
 * The emulated Google Cloud project's "Desktop app" OAuth client that exists without a tester
 * doing anything, so that `make run` alone lets a newcomer do the Google flow: the banner prints
 * its id and secret to paste into the Remote UI.
 *
 * It is made with random values at the first start and kept in the cloud state directory (next
 * to the simulator's root CAs), not derived from anything: the secret the admin pasted is stored
 * in the device's NVRAM in the same state directory, so it must still be the right one after a
 * restart, and `make reset` (which removes the state directory) makes a new one, as a new
 * project in the Cloud console would. The file is read through a zod schema; an unreadable or
 * malformed one is replaced (the banner then shows the new values).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { GoogleClient } from './google-oauth.ts';

export const DEFAULT_GOOGLE_CLIENT_FILE = 'google-desktop-client.json';
export const DEFAULT_GOOGLE_CLIENT_NAME = 'MFP-Send (Desktop app)';

/** `<project number>-<32 characters>.apps.googleusercontent.com`, as the Cloud console makes them. */
export const GOOGLE_CLIENT_ID_PATTERN = /^[0-9]{1,20}-[a-z0-9]{1,64}\.apps\.googleusercontent\.com$/;

const storedClient = z.object({
  clientId: z.string().regex(GOOGLE_CLIENT_ID_PATTERN),
  clientSecret: z.string().regex(/^GOCSPX-[A-Za-z0-9_-]{20,60}$/),
});

/** The default client kept in `stateDir` (made there on the first call). */
export async function loadOrCreateDefaultGoogleClient(stateDir: string): Promise<GoogleClient> {
  const path = join(stateDir, DEFAULT_GOOGLE_CLIENT_FILE);
  try {
    const stored = storedClient.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (stored.success) return { ...stored.data, displayName: DEFAULT_GOOGLE_CLIENT_NAME };
  } catch {
    // No file yet, or not JSON: make a new client below.
  }
  const client = newGoogleDesktopClient();
  await writeFile(path, `${JSON.stringify({ clientId: client.clientId, clientSecret: client.clientSecret }, null, 2)}\n`, { mode: 0o600 });
  return { ...client, displayName: DEFAULT_GOOGLE_CLIENT_NAME };
}

/** A client id and secret in the shapes Google's console gives out (B.5: the secret is `GOCSPX-…`). */
// From node:crypto, not the seeded SimRandom: the default client is made once and kept in the state
// directory (a seed does not remake it), and a client a tester adds carries a secret.
export function newGoogleDesktopClient(): { readonly clientId: string; readonly clientSecret: string } {
  const projectNumber = String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let suffix = '';
  for (let i = 0; i < 32; i++) suffix += alphabet[randomInt(alphabet.length)];
  return { clientId: `${projectNumber}-${suffix}.apps.googleusercontent.com`, clientSecret: `GOCSPX-${randomBytes(21).toString('base64url')}` };
}
