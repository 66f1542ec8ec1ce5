/**
 * aio-node's fd handlers (setFdHandler, QEMU's aio_set_fd_handler) on a FIFO: readiness dispatched in the
 * handler phase, level-triggered while data stays buffered, held back by disableExternal,
 * write readiness, and removal.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AioContext, setFdHandler } from 'aio-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let dir: string;
let readFd: number;
let writeFd: number;
let ctx: AioContext;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aio-fifo-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  readFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  ctx = new AioContext({ name: 'fd' });
});

afterEach(() => {
  setFdHandler(ctx, readFd, null, null);
  ctx.close();
  closeSync(writeFd);
  rmSync(dir, { recursive: true, force: true });
});

/** A read handler that appends every chunk it reads to `got`. */
const collectInto = (got: string[]) => (_fd: number, stream: import('node:net').Socket) => {
  const chunk = stream.read() as Buffer | null;
  if (chunk) got.push(chunk.toString());
};

describe('setFdHandler', () => {
  it('runs the read handler when data arrives, and holds it back while external clients are disabled', async () => {
    const got: string[] = [];
    setFdHandler(ctx, readFd, collectInto(got));
    writeSync(writeFd, 'hello');
    while (got.length < 1) await ctx.pollAsync();
    expect(got).toEqual(['hello']);

    ctx.disableExternal();
    writeSync(writeFd, 'later');
    await new Promise((r) => setTimeout(r, 50));
    while (ctx.poll(false));
    expect(got).toEqual(['hello']);
    ctx.enableExternal();
    while (got.length < 2) await ctx.pollAsync();
    expect(got).toEqual(['hello', 'later']);
  });

  it('is level-triggered: a handler that reads a little at a time runs until the data is gone', async () => {
    const got: string[] = [];
    setFdHandler(ctx, readFd, (_fd, stream) => {
      const chunk = stream.read(2) as Buffer | null;
      if (chunk) got.push(chunk.toString());
    });
    writeSync(writeFd, 'abcdef');
    while (got.join('') !== 'abcdef') await ctx.pollAsync();
    expect(got).toEqual(['ab', 'cd', 'ef']);
  });

  it('runs the write handler while writable, until it is removed', async () => {
    let writes = 0;
    setFdHandler(ctx, readFd, null, () => {
      if (++writes === 3) setFdHandler(ctx, readFd, null, null);
    });
    while (writes < 3) await ctx.pollAsync();
    while (ctx.poll(false));
    expect(writes).toBe(3);
  });

  it('serves a new file that reuses the number of an fd it closed', async () => {
    let stream: import('node:net').Socket | null = null;
    setFdHandler(ctx, readFd, (_fd, s) => {
      stream = s;
      s.read();
    });
    writeSync(writeFd, 'first');
    while (!stream) await ctx.pollAsync();
    setFdHandler(ctx, readFd, null, null);
    const closed = new Promise((r) => stream!.once('close', r));
    stream!.destroy();
    await closed;
    // The lowest free number is the one just closed.
    const fifo = join(dir, 'fifo');
    const again = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    expect(again).toBe(readFd);
    const got: string[] = [];
    setFdHandler(ctx, again, collectInto(got));
    writeSync(writeFd, 'second');
    while (got.length < 1) await ctx.pollAsync();
    expect(got).toEqual(['second']);
  });

  it('rejects bad arguments', () => {
    expect(() => setFdHandler(ctx, -1, () => {})).toThrow(/"fd"/);
    expect(() => setFdHandler(ctx, readFd, 'x' as never)).toThrow(/"onRead"/);
    expect(() => setFdHandler(AioContext.from(ctx.handle) as never, readFd, () => {})).toThrow(/"ctx"/);
    expect(() => setFdHandler(ctx, readFd, () => {}, null, { external: 'no' as never })).toThrow(/"options.external"/);
  });
});
