import type { Table } from './types.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function markdownTable(t: Table): string {
  const lines = [
    `| ${t.head.map(cell).join(' | ')} |`,
    `| ${t.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return (t.caption ? `**${t.caption}**\n\n` : '') + lines.join('\n');
}
