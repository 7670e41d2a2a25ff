import type { CommandName } from './args.js';

const STORE = `  <url>              redis://, rediss://, postgres:// or postgresql://
  --namespace <ns>   Redis: the backend's key prefix (default oncelock:)
  --mode <m>         PostgreSQL: advisory (default) or table
  --schema <s>       PostgreSQL: the schema of oncelock's tables (default oncelock)`;

const COMMON = `  --json             machine-readable output on stdout
  --timeout <ms>     give up on the store after this long (default 5000)
  -h, --help         this help`;

const TOPICS: Record<CommandName, string> = {
  list: `oncelock list <url> [--prefix <p>]

Every lock held, in one round trip: key, owner, fence, since, TTL left, limit (a row per permit).

${STORE}
  --prefix <p>       only keys that start with <p>
${COMMON}`,
  inspect: `oncelock inspect <url> <key>

Who holds <key>. Exits 1 when nobody does.

${STORE}
${COMMON}`,
  release: `oncelock release <url> <key> --force [--yes]

Frees <key> for whoever holds it now. It releases as the owner it inspected, so a lock
someone took in the meantime is left alone (and the command exits 1). On a terminal it asks
first; in a script pass --yes.

${STORE}
  --force            required: this takes a lock from a running holder
  -y, --yes          do not ask
${COMMON}`,
  watch: `oncelock watch <url> [--prefix <p>] [--interval <ms>]

The list table, refreshed every second (or --interval ms). q or Ctrl-C quits.
With --json, one JSON line per refresh.

${STORE}
  --prefix <p>       only keys that start with <p>
  --interval <ms>    time between refreshes (default 1000, at least 100)
${COMMON}`,
  queues: `oncelock queues <redis-url> [queue...]

Jobs by state and the age of the oldest waiting job, for each BullMQ queue named, or for
every queue found under the BullMQ prefix.

  --bull-prefix <p>  BullMQ's key prefix (default bull)
${COMMON}`,
};

export const EXIT_CODES = `Exit codes:
  0  done
  1  not held: the key is free, changed hands before a release, or the release was declined
  2  usage: bad arguments or URL, or a release without --force or confirmation
  3  the store is unreachable, refused the request, or did not answer in time
  4  an unexpected error (a bug: please report it)`;

const OVERVIEW = `oncelock: look at and free oncelock's locks, and size BullMQ queues

Commands:
  oncelock list <url> [--prefix <p>]       every lock held
  oncelock inspect <url> <key>             who holds a key
  oncelock release <url> <key> --force     free a key, as its current owner
  oncelock watch <url>                     a live table of the locks held
  oncelock queues <redis-url> [queue...]   BullMQ jobs by state, oldest waiting age

oncelock <command> --help says more.

${EXIT_CODES}`;

export const helpText = (topic: CommandName | undefined): string =>
  topic === undefined ? OVERVIEW : `${TOPICS[topic]}\n\n${EXIT_CODES}`;
