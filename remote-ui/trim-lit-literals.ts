/**
 * A build step of the Remote UI: the whitespace of Lit's `html` and `css` literals is trimmed
 * before bundling. Lit ships templates and styles as written, and their indentation is a few
 * hundred bytes of the gzipped bundle the firmware keeps in flash (test/bench/run.ts measures it;
 * it must stay under 40 kB).
 *
 * - `html`/`svg`: a line break and the indentation after it become one line break, which HTML
 *   renders the same (white space collapses). A template with `<pre` or `<textarea` is left as it
 *   is: their text is shown as written.
 * - `css`: comments go, and so does the white space the CSS grammar does not need (runs become one
 *   space; none around `{ } ; ,` or after a declaration's colon). Selectors keep their spaces
 *   (`a :hover` is not `a:hover`).
 *
 * The literals are found with rolldown's parser, not a regular expression: a backtick in a
 * comment or a nested template cannot shift what is trimmed. Expressions (`${…}`) are untouched.
 */
import { parseAst } from 'rolldown/parseAst';
import type { Plugin } from 'vite';

interface TemplateElement {
  readonly start: number;
  readonly end: number;
  readonly tail: boolean;
  readonly value: { readonly raw: string };
}

const TAGS = new Set(['html', 'svg', 'css']);

export function trimLitLiterals(): Plugin {
  return {
    name: 'trim-lit-literals',
    apply: 'build',
    transform(code, id) {
      if (!id.endsWith('.ts') || id.includes('/node_modules/') || !/\b(html|svg|css)`/.test(code)) return undefined;
      const edits: { start: number; end: number; text: string }[] = [];
      visit(parseAst(code, { lang: 'ts' }), (node) => {
        if (node['type'] !== 'TaggedTemplateExpression') return;
        const tag = node['tag'] as { type: string; name?: string };
        if (tag.type !== 'Identifier' || !TAGS.has(tag.name ?? '')) return;
        const quasis = (node['quasi'] as { quasis: TemplateElement[] }).quasis;
        if (tag.name !== 'css' && quasis.some((q) => /<(pre|textarea)\b/i.test(q.value.raw))) return;
        for (const q of quasis) {
          // The element's span holds its delimiters: ` or } before, ${ or ` after.
          const start = q.start + 1;
          const end = q.end - (q.tail ? 1 : 2);
          const text = tag.name === 'css' ? trimCss(q.value.raw) : q.value.raw.replace(/\n\s+/g, '\n');
          if (text !== q.value.raw) edits.push({ start, end, text });
        }
      });
      let out = code;
      for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
      return { code: out, map: null };
    },
  };
}

function trimCss(raw: string): string {
  return raw
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,])\s*/g, '$1')
    .replace(/([{;])([\w-]+):\s+/g, '$1$2:')
    .replace(/;}/g, '}');
}

function visit(node: unknown, onNode: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, onNode);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  onNode(node as Record<string, unknown>);
  for (const value of Object.values(node)) if (typeof value === 'object' && value !== null) visit(value, onNode);
}
