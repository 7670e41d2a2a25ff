import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { devNull } from 'node:os';
import { promisify } from 'node:util';
import { delay } from '@oncelock/testkit';

const exec = promisify(execFile);

/**
 * A tmux server of its own (its own socket, no user config) with one pane of a fixed size running
 * `command`. The pane stays after the command exits, so its exit status can be read.
 */
export class Terminal {
  private readonly socket = `oncelock-test-${randomUUID().slice(0, 8)}`;

  private tmux(...args: string[]): Promise<string> {
    return exec('tmux', ['-L', this.socket, '-f', devNull, ...args], { timeout: 5000 }).then((r) => r.stdout);
  }

  async start(command: string[], size = { width: 110, height: 30 }): Promise<void> {
    // One tmux call, so the option is set before the command can exit.
    await this.tmux(
      'start-server',
      ';',
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'new-session',
      '-d',
      '-s',
      'cli',
      '-x',
      String(size.width),
      '-y',
      String(size.height),
      ...command,
    );
  }

  /** The visible screen, as text. */
  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'cli');
  }

  /** tmux's view of the pane: dead and exit status, alternate screen, cursor shown. */
  async pane(): Promise<{ dead: boolean; status: number | undefined; alternate: boolean; cursor: boolean }> {
    const out = await this.tmux(
      'display-message',
      '-p',
      '-t',
      'cli',
      '#{pane_dead} #{pane_dead_status} #{alternate_on} #{cursor_flag}',
    );
    const [dead, status, alternate, cursor] = out.trim().split(' ');
    return {
      dead: dead === '1',
      status: status ? Number(status) : undefined,
      alternate: alternate === '1',
      cursor: cursor === '1',
    };
  }

  /** Keys as tmux names them: `q`, `y`, `Enter`, `C-c`. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'cli', ...keys);
  }

  /** Polls the screen until `test` holds; fails with the last screen after `ms`. */
  async until(test: (screen: string) => boolean, what: string, ms = 10_000): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      const screen = await this.screen();
      if (test(screen)) return screen;
      if (performance.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the screen was:\n${screen}`);
      await delay(50);
    }
  }

  /** Waits for the command to exit and returns its status. */
  async exited(ms = 10_000): Promise<number | undefined> {
    const deadline = performance.now() + ms;
    for (;;) {
      const pane = await this.pane();
      if (pane.dead) return pane.status;
      if (performance.now() > deadline)
        throw new Error(`the command did not exit; the screen was:\n${await this.screen()}`);
      await delay(50);
    }
  }

  /** Ends the server and everything in it; safe to call twice or after a failed start. */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }
}
