/** The emulated identity providers' plain web pages: one shell, escaped text, no script. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A provider page (`brand` e.g. "Microsoft") around already-escaped `body` HTML. */
export function providerPage(brand: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:28px 36px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
main>p:first-child{font-weight:600;color:#555;margin:0}
h1{font-size:22px;font-weight:600}
label{display:block;margin:12px 0 4px}
input[type=email],input[name=otc],input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:6px;font-size:15px}
.account{color:#1b1b1b;font-size:14px}
button{margin:16px 8px 0 0;padding:6px 18px}
[role=alert]{color:#a80000}
</style></head>
<body><main><p>${escapeHtml(brand)}</p><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}
