/** One short message from the firmware's SMTP client with an OAuth access token (XOAUTH2). */
import type { PeerVerdict } from '../../firmware/hal/http.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { composeMessage } from '../../firmware/mime/compose.ts';
import { sendMail } from '../../firmware/smtp/driver.ts';
import type { SmtpSecurity } from '../../firmware/smtp/plan.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import type { SimClock } from '../../device-sim/hal/sim-clock.ts';
import type { SimNetwork } from '../../device-sim/hal/sim-network.ts';

export function sendWithToken(options: {
  network: SimNetwork;
  clock: SimClock;
  verifyPeer: (tls: TlsInfo, host: string) => Promise<PeerVerdict>;
  host: string;
  port: number;
  security: SmtpSecurity;
  user: string;
  accessToken: string;
  subject: string;
}) {
  const { network, clock, host, security, user } = options;
  const message = composeMessage(
    { from: { address: user }, to: [{ address: 'boss@example.com' }], subject: options.subject, text: 'hi', attachments: [], dateWallMs: clock.wallNowMs(), timeZone: 'UTC' },
    nodeRandom,
  );
  return sendMail(
    { net: new NodeNet(network), clock },
    {
      host,
      port: options.port,
      security,
      minTlsVersion: 'TLSv1.2',
      servername: host,
      verifyPeer: (tls) => options.verifyPeer(tls, host),
      plan: { clientName: '[127.0.0.1]', security, auth: { method: 'xoauth2', user, accessToken: options.accessToken }, from: user, recipients: ['boss@example.com'], eightBit: false },
      message,
    },
  );
}
