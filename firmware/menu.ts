/**
 * The Remote UI's menu: every page with its group, label and address. The Remote UI draws its
 * navigation from this table, and device codes name the page that fixes a problem from it, so a
 * remedy's "Management → Certificates" is the menu as the administrator sees it.
 */
import type { SectionName } from './settings/schemas.ts';

export interface MenuPage {
  readonly path: string;
  readonly label: string;
  /** The settings section the page edits; its role check is the section's. */
  readonly section?: SectionName;
  /** Otherwise the capability (firmware/web/roles.ts) a role needs to open the page. */
  readonly capability?: string;
}

/** The menu, grouped as on Canon's "Settings/Registration" page. */
export const MENU = [
  {
    group: 'Send',
    items: {
      email: { path: '/settings/email', label: 'E-mail', section: 'email' },
      oauthMicrosoft: { path: '/settings/oauthMicrosoft', label: 'OAuth 2.0 (Microsoft)', section: 'oauthMicrosoft' },
      oauthGoogle: { path: '/settings/oauthGoogle', label: 'OAuth 2.0 (Google)', section: 'oauthGoogle' },
      addressBook: { path: '/address-book', label: 'Address Book', capability: 'manageAddressBook' },
      jobLog: { path: '/jobs', label: 'Job Log', capability: 'readJobLog' },
    },
  },
  {
    group: 'Management',
    items: {
      datetime: { path: '/settings/datetime', label: 'Date/Time', section: 'datetime' },
      certificates: { path: '/settings/certificates', label: 'Certificates', section: 'certificates' },
      accounts: { path: '/accounts', label: 'Accounts', capability: 'manageAccounts' },
      security: { path: '/settings/security', label: 'Login Security', section: 'security' },
      device: { path: '/settings/device', label: 'Device', section: 'device' },
      network: { path: '/settings/network', label: 'Network', section: 'network' },
      events: { path: '/events', label: 'Event Log', capability: 'readEvents' },
      configuration: { path: '/configuration', label: 'Import/Export', capability: 'transferSettings' },
    },
  },
] as const satisfies readonly { readonly group: string; readonly items: Readonly<Record<string, MenuPage>> }[];

type Groups = (typeof MENU)[number];
/** A page of the menu by its name, e.g. `certificates`. */
export type PageId = { [G in Groups as G['group']]: keyof G['items'] }[Groups['group']] & string;

const PAGES = Object.fromEntries(MENU.flatMap((g) => Object.entries(g.items).map(([id, page]) => [id, { ...page, group: g.group }]))) as Record<PageId, MenuPage & { readonly group: string }>;

/** Every page name, in menu order. Pure: a bundle that does not use it drops it. */
export const PAGE_IDS = /* @__PURE__ */ Object.keys(PAGES) as PageId[];

export function menuPage(id: PageId): MenuPage & { readonly group: string } {
  return PAGES[id];
}

/** Where the page is in the menu, as the administrator follows it: `Management → Certificates`. */
export function menuPath(id: PageId): string {
  const page = PAGES[id];
  return `${page.group} → ${page.label}`;
}
