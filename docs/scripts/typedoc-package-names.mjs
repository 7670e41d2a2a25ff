// A TypeDoc plugin: names each entry-point module after its package (`@oncelock/redis`, not
// `redis/src`), and opens its page with the package description. Re-exports of core are left
// out of the backend pages (excludeReferences), so those pages say in words that they exist.
import { readFileSync } from 'node:fs';
import { Comment, Converter, ReflectionKind } from 'typedoc';

const packagesDir = new URL('../../packages/', import.meta.url);
const reexportsCore = /export \* from '@oncelock\/core'/;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const modules = context.project.getChildrenByKind(ReflectionKind.Module);
    const named = modules.flatMap((mod) => {
      // `core/src` is a package's main entry; `core/src/backend` its subpath `@oncelock/core/backend`.
      const [, dir, subpath] = /^([\w-]+)\/src(?:\/([\w-]+))?$/.exec(mod.name) ?? [];
      if (!dir) return [];
      const pkg = JSON.parse(readFileSync(new URL(`${dir}/package.json`, packagesDir), 'utf8'));
      const entry = readFileSync(new URL(`${dir}/src/${subpath ?? 'index'}.ts`, packagesDir), 'utf8');
      mod.name = subpath ? `${pkg.name}/${subpath}` : pkg.name;
      const description = subpath ? undefined : pkg.description;
      return [{ mod, description, core: !subpath && reexportsCore.test(entry) }];
    });
    const coreModule = modules.find((m) => m.name === '@oncelock/core');
    for (const { mod, description, core } of named) {
      if (mod.comment) continue;
      /** @type {import('typedoc').CommentDisplayPart[]} */
      const parts = [{ kind: 'text', text: description ? `${description}.` : '' }];
      if (core && coreModule && mod !== coreModule) {
        parts.push(
          { kind: 'text', text: '\n\nIt also re-exports the whole API of ' },
          { kind: 'inline-tag', tag: '@link', text: '@oncelock/core', target: coreModule },
          { kind: 'text', text: ': install this one package and import everything from it.' },
        );
      }
      mod.comment = new Comment(parts);
    }
  });
}
