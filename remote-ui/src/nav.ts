/**
 * The Remote UI's navigation (the device's menu table, firmware/menu.ts), who may open each page,
 * and the names other pages use when they link to one (the portal's notices, Import/Export's parts).
 */
import { MENU, menuPage, type MenuPage, type PageId } from '../../firmware/menu.ts';
import type { SectionName } from '../../firmware/settings/schemas.ts';
import type { SessionInfo } from '../../firmware/web/api-types.ts';
import { CAPABILITY_ROLES, SECTION_ROLES, type Capability, type Role } from '../../firmware/web/roles.ts';

export type NavItem = MenuPage;

export const NAV: readonly { readonly group: string; readonly items: readonly NavItem[] }[] = MENU.map((g) => ({ group: g.group, items: Object.values(g.items) }));

export const NAV_ITEMS = NAV.flatMap((g) => g.items);

export function mayOpen(session: SessionInfo, item: NavItem): boolean {
  if (item.section) return session.sections.includes(item.section);
  if (item.capability) return session.capabilities.includes(item.capability);
  return true;
}

/** The roles that may open `item` (the device's role table, firmware/web/roles.ts). */
export function rolesFor(item: NavItem): readonly Role[] {
  if (item.section) return SECTION_ROLES[item.section];
  if (item.capability) return CAPABILITY_ROLES[item.capability as Capability];
  return [];
}

/** "Administrator only", "Administrator or DeviceAdmin": who may open a page, for a role that may not. */
export function rolesWords(item: NavItem): string {
  const roles = rolesFor(item);
  return roles.length === 1 ? `${roles[0]} only` : `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}`;
}

/** A page by its name in the menu table. */
export function page(id: PageId): NavItem {
  return menuPage(id);
}

/** The page of settings section `section`. */
export function sectionPage(section: SectionName): NavItem {
  return NAV_ITEMS.find((i) => i.section === section)!;
}
