import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceEvents } from '../../firmware/events.ts';
import { DeviceCertificateStore, makeDeviceCertificate } from '../../firmware/pki/device-certificate.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { keyStoreOf, memoryHal, MemoryStorage, TEST_START_MS } from '../support/memory-hal.ts';

const MAKE = { commonName: 'MFP-Send', hostNames: ['printer.example.com', '127.0.0.1'], nowMs: TEST_START_MS };

describe('the device certificate', () => {
  it('is a valid self-signed ECDSA P-256 server certificate for the device names, with a usable key', async () => {
    const made = await makeDeviceCertificate({ ...MAKE, random: nodeRandom });
    const cert = new X509Certificate(made.certDer);
    expect(cert.subject).toBe('CN=MFP-Send');
    expect(cert.issuer).toBe('CN=MFP-Send');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(cert.checkHost('printer.example.com')).toBe('printer.example.com');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(TEST_START_MS);
    const key = createPrivateKey({ key: Buffer.from(made.keyPkcs8Der), format: 'der', type: 'pkcs8' });
    expect(cert.checkPrivateKey(key)).toBe(true);
  });

  it('is kept across reboots with its key sealed, and regenerating replaces it', async () => {
    const storage = new MemoryStorage();
    const open = async () => {
      const { clock } = memoryHal();
      const nvram = new Nvram(storage, new DeviceEvents(clock, consoleLog('silent')));
      return new DeviceCertificateStore(nvram, await SecretBox.open(keyStoreOf(storage), nodeRandom), nodeRandom);
    };
    const first = await (await open()).get(MAKE);
    const again = await (await open()).get(MAKE);
    expect(Buffer.from(again.certDer).equals(Buffer.from(first.certDer))).toBe(true);
    expect(Buffer.from(again.keyPkcs8Der).equals(Buffer.from(first.keyPkcs8Der))).toBe(true);
    const stored = new TextDecoder().decode(storage.records.get('pki/device-certificate'));
    expect(stored).not.toContain(Buffer.from(first.keyPkcs8Der).toString('base64'));
    const fresh = await (await open()).regenerate(MAKE);
    expect(Buffer.from(fresh.certDer).equals(Buffer.from(first.certDer))).toBe(false);
  });
});
