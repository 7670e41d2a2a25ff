import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { devNull } from 'node:os';
import { promisify } from 'node:util';
import { delay } from '@oncelock/testkit';

const exec = promisify(execFile);

/**
 * A tmux server of its own (its own socket, no user config) with one pane of a fixed size. The
 * command runs under a shell that then prints its exit status and stays, so that the terminal
 * as the command left it (main screen, cursor shown) can still be looked at.
 */
export class Terminal {
  private readonly socket = `oncelock-test-${randomUUID().slice(0, 8)}`;

  private tmux(...args: string[]): Promise<string> {
    return exec('tmux', ['-L', this.socket, '-f', devNull, ...args], { timeout: 5000 }).then((r) => r.stdout);
  }

  async start(command: string[], size = { width: 110, height: 30 }): Promise<void> {
    const shell = ['sh', '-c', '"$@"; echo "exited with $?"; sleep 120', 'sh', ...command];
    await this.tmux(
      'new-session',
      '-d',
      '-s',
      'cli',
      '-x',
      String(size.width),
      '-y',
      String(size.height),
      ...shell,
    );
  }

  /** The visible screen, as text. */
  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'cli');
  }

  /** tmux's view of the pane: on the alternate screen? cursor shown? */
  async pane(): Promise<{ alternate: boolean; cursor: boolean }> {
    const out = await this.tmux('display-message', '-p', '-t', 'cli', '#{alternate_on} #{cursor_flag}');
    const [alternate, cursor] = out.trim().split(' ');
    return { alternate: alternate === '1', cursor: cursor === '1' };
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

  /** Waits for the command to exit and returns its exit status. */
  async exited(ms = 10_000): Promise<number> {
    const screen = await this.until((text) => /exited with \d+/.test(text), 'the command to exit', ms);
    return Number(screen.match(/exited with (\d+)/)?.[1]);
  }

  /** Ends the server and everything in it; safe to call twice or after a failed start. */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }
}
