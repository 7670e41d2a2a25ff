// Turns bench/results/results.md into markdown VitePress can include safely.

import { posix } from 'node:path';

// HTML that may appear in a report; any other `<word` is escaped so Vue does not read it as a tag.
const allowedTags = new Set([
  'img',
  'br',
  'sub',
  'sup',
  'details',
  'summary',
  'p',
  'div',
  'span',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'code',
  'pre',
  'em',
  'strong',
  'a',
  'figure',
  'figcaption',
]);

/**
 * The benchmarks page body: the report (or a plain notice that there is none), then every
 * chart the report does not show itself.
 * @param {string | undefined} text results.md, if it exists
 * @param {string[]} svgs chart file names in bench/results
 */
export function renderBenchPage(text, svgs) {
  const out = [];
  const used = new Set();
  if (text === undefined) {
    out.push(
      '::: warning No results yet',
      'This build has no benchmark report: `bench/results/results.md` does not exist yet.',
      'Run `pnpm bench` and rebuild the docs to see measured figures here.',
      'Until then this page shows no numbers at all.',
      ':::',
      '',
    );
  } else {
    out.push(rewrite(text, used), '');
  }
  const rest = svgs.filter((s) => !used.has(s));
  if (rest.length > 0) {
    out.push('## Charts', '');
    for (const svg of rest) out.push(`![${svg.replace(/\.svg$/, '')}](/bench/${svg})`, '');
  } else if (svgs.length === 0) {
    out.push('::: info No charts yet', 'There are no charts in `bench/results/` yet.', ':::', '');
  }
  return out.join('\n');
}

/**
 * @param {string} text
 * @param {Set<string>} used chart names the report shows itself
 */
function rewrite(text, used) {
  const body = text.replace(/^\s*# .*\n/, ''); // the page has its own title
  // Code is left alone: markdown escapes it, and VitePress keeps Vue out of code blocks.
  const parts = body.split(/(```[\s\S]*?```|`[^`\n]*`)/);
  const prose = parts
    .map((/** @type {string} */ part, /** @type {number} */ i) =>
      i % 2 === 1 ? part : rewriteProse(part, used),
    )
    .join('');
  // v-pre: a `{{` in the report is text, not a Vue interpolation.
  return `<div v-pre>\n\n${prose}\n\n</div>`;
}

/**
 * @param {string} text
 * @param {Set<string>} used
 */
function rewriteProse(text, used) {
  return (
    text
      // Images and links to charts in the results folder point at the copies in public/bench.
      .replace(
        /(\]\(|src=["'])(?:\.\/)?([\w.-]+\.svg)/g,
        (/** @type {string} */ _, /** @type {string} */ open, /** @type {string} */ name) => {
          used.add(name);
          return `${open}/bench/${name}`;
        },
      )
      // Other relative links lead into the bench folder, which the site does not serve: keep the text.
      .replace(
        /(?<!!)\[([^\]]+)\]\((?!https?:|#|\/|mailto:)([^)]+)\)/g,
        (/** @type {string} */ _, /** @type {string} */ label, /** @type {string} */ target) =>
          `${label} (\`${posix.join('bench/results', target)}\`)`,
      )
      // Any tag-like text that is not ordinary HTML would be compiled by Vue as a component.
      .replace(
        /<(\/?)([a-zA-Z][\w-]*)/g,
        (/** @type {string} */ all, /** @type {string} */ slash, /** @type {string} */ tag) =>
          allowedTags.has(tag.toLowerCase()) ? all : `&lt;${slash}${tag}`,
      )
  );
}
