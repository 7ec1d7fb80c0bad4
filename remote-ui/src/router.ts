/**
 * Client-side routes on the History API. The device answers every extension-less path with
 * index.html, so `/settings/datetime` can be bookmarked and reloaded.
 */

export const ROUTE_EVENT = 'rui-route';

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (path !== location.pathname + location.search) history[opts.replace ? 'replaceState' : 'pushState'](null, '', path);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

/** Same-origin links (also inside shadow roots) change the route instead of reloading the page. */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.composedPath().find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement);
    if (!anchor || anchor.target || anchor.hasAttribute('download') || anchor.origin !== location.origin) return;
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  });
  window.addEventListener('popstate', () => window.dispatchEvent(new Event(ROUTE_EVENT)));
}
