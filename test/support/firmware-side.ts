/**
 * The firmware's side of a test against emulated or independent servers: a simulated network, a
 * device clock on its own time source, the HTTP client the firmware uses, and the firmware's own
 * certificate verdict (verifyChain) against the trust anchors the test names, at device time.
 */
import type { PeerVerdict } from '../../firmware/hal/http.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { verifyChain } from '../../firmware/pki/verify-chain.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import type { TimeSource } from '../../device-sim/hal/time-source.ts';

export interface FirmwareSide {
  readonly network: SimNetwork;
  readonly clock: SimClock;
  readonly http: NodeHttp;
  /** The device's verdict on a server's chain for `host`, against `trustAnchorsDer()` now. */
  verifyPeer(tls: TlsInfo, host: string): Promise<PeerVerdict>;
}

export function firmwareSide(time: TimeSource, trustAnchorsDer: () => readonly Uint8Array[]): FirmwareSide {
  const network = new SimNetwork();
  const clock = new SimClock(time);
  return {
    network,
    clock,
    http: new NodeHttp(network),
    verifyPeer: async (tls, host) => {
      const verdict = await verifyChain(tls.peerChainDer, { nowMs: clock.wallNowMs(), trustAnchorsDer: trustAnchorsDer(), expectedHost: host });
      return verdict.trusted ? { trusted: true } : { trusted: false, reason: verdict };
    },
  };
}
