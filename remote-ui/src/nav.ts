/**
 * The Remote UI's pages: the navigation, who may open each page, and the names other pages use
 * when they link to one (the portal's notices, Import/Export's parts).
 */
import type { SectionName } from '../../firmware/settings/schemas.ts';
import type { SessionInfo } from '../../firmware/web/api-types.ts';

export interface NavItem {
  readonly path: string;
  readonly label: string;
  readonly section?: SectionName;
  readonly capability?: string;
}

/** The navigation, grouped as on Canon's "Settings/Registration" page. */
export const NAV: readonly { readonly group: string; readonly items: readonly NavItem[] }[] = [
  {
    group: 'Send',
    items: [
      { path: '/settings/email', label: 'E-mail', section: 'email' },
      { path: '/settings/oauthMicrosoft', label: 'OAuth 2.0 (Microsoft)', section: 'oauthMicrosoft' },
      { path: '/settings/oauthGoogle', label: 'OAuth 2.0 (Google)', section: 'oauthGoogle' },
      { path: '/address-book', label: 'Address Book', capability: 'manageAddressBook' },
      { path: '/jobs', label: 'Job Log', capability: 'readJobLog' },
    ],
  },
  {
    group: 'Management',
    items: [
      { path: '/settings/datetime', label: 'Date/Time', section: 'datetime' },
      { path: '/settings/certificates', label: 'Certificates', section: 'certificates' },
      { path: '/accounts', label: 'Accounts', capability: 'manageAccounts' },
      { path: '/settings/security', label: 'Login Security', section: 'security' },
      { path: '/settings/device', label: 'Device', section: 'device' },
      { path: '/events', label: 'Event Log', capability: 'readEvents' },
      { path: '/configuration', label: 'Import/Export', capability: 'transferSettings' },
    ],
  },
];

export const NAV_ITEMS = NAV.flatMap((g) => g.items);

export function mayOpen(session: SessionInfo, item: NavItem): boolean {
  if (item.section) return session.sections.includes(item.section);
  if (item.capability) return session.capabilities.includes(item.capability);
  return true;
}

/** The page of settings section `section`. */
export function sectionPage(section: SectionName): NavItem {
  return NAV_ITEMS.find((i) => i.section === section)!;
}
