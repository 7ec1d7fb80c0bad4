/**
 * The factory CA store of a device on a host network (NETWORK=host): the public roots Node carries
 * (`tls.rootCertificates`, Mozilla's CA list as Node bundles it), as DER, instead of the simulated
 * world's own test roots. The firmware still makes every trust decision itself against this
 * store (DESIGN.md rule 4); an administrator adds a private CA on the Remote UI's Certificates
 * page as on any device.
 *
 * The image is "built" when the simulator starts: a root of the bundle that has already expired
 * by then is left out, as a firmware build leaves out roots Mozilla has retired (Node's bundle can
 * be older than the host's date), so a new device does not greet its administrator with a
 * notice about a certificate it shipped expired. One that expires later stays and is flagged then.
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

/** The roots of Node's bundled Mozilla list still valid at `nowMs` (the host's date), DER, in the bundle's order. */
export function publicRootsDer(nowMs: number = Date.now()): Uint8Array[] {
  return rootCertificates
    .map((pem) => new X509Certificate(pem))
    .filter((cert) => Date.parse(cert.validTo) > nowMs)
    .map((cert) => new Uint8Array(cert.raw));
}
