/**
 * The thread pool of a context (QEMU's util/thread-pool.c): runs registered functions on
 * worker threads and delivers each completion to the submitting context, in its poll, as
 * a bottom half would. Requests queue FIFO; a worker is started when a request finds none
 * idle and fewer than `max` run; idle workers above `min` exit after 10 s. Once `max`
 * workers run, each also holds the next request in its inbox, so it goes on without a
 * round trip to this thread (a long request can delay the one behind it). Only a request
 * that no worker has taken yet can be cancelled.
 *
 * Workers are IOThreads that load the modules given with `setParams({ modules })` (the
 * module of an IOThread's own context is added by the IOThread runner) and run the
 * functions those modules register. A pool belongs to its context's home thread: all its
 * methods are for that thread.
 */
import type { AioContext } from '../loop/context.js';
import { AioError, argRangeError, argTypeError, checkFunction, checkInteger, checkOptions, checkString } from '../base/errors.js';
import { Fifo } from '../base/fifo.js';
import { expectHostEvent } from '../base/host-yield.js';
import { IOThread } from './iothread.js';
import type { AnyFunctions, CallArgs, CallResult, FunctionName, ThreadPool, ThreadPoolRequest } from '../loop/services.js';

/**
 * Requests a worker may hold at once once every allowed worker runs: the next waits in the
 * worker's inbox, so the worker goes on without a round trip to the submitting thread.
 * Below `max` workers, a request that finds none idle starts one instead (QEMU's rule).
 */
const WORKER_DEPTH = 2;

/** Idle workers above `min` exit after this long (QEMU: 10 s). */
export const POOL_IDLE_TIMEOUT_MS = 10_000;

interface Request {
  name: string;
  args: unknown[];
  done: (err: Error | null, value?: unknown) => void;
  state: 'queued' | 'active' | 'done';
}

interface Worker {
  thread: IOThread;
  /** Requests handed to it and not finished: at most WORKER_DEPTH. */
  inFlight: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The pool's queued requests, oldest first. A cancelled request stays in the FIFO, no
 * longer 'queued', and is skipped when its turn comes (cancel stays O(1)).
 */
class RequestQueue {
  readonly #fifo = new Fifo<Request>();
  #queued = 0;

  /** Requests still queued. */
  get length(): number {
    return this.#queued;
  }

  push(req: Request): void {
    this.#fifo.push(req);
    this.#queued++;
  }

  /** Takes the oldest request still queued. */
  shift(): Request | undefined {
    for (let req = this.#fifo.shift(); req; req = this.#fifo.shift()) {
      if (req.state === 'queued') {
        this.#queued--;
        return req;
      }
    }
    return undefined;
  }

  /** Counts out a queued request that its canceller takes out of the 'queued' state. */
  drop(): void {
    this.#queued--;
  }

  /** Takes every request still queued, oldest first. */
  takeAll(): Request[] {
    const all: Request[] = [];
    for (let req = this.shift(); req; req = this.shift()) all.push(req);
    return all;
  }
}

/** QEMU's ThreadPool for one context (the ThreadPool of loop/services.ts). Home thread of the context. */
export class ContextThreadPool<F = AnyFunctions> implements ThreadPool<F> {
  readonly #ctx: AioContext;
  #min = 0;
  #max = 64;
  #modules: (string | URL)[] = [];
  readonly #queue = new RequestQueue();
  readonly #workers = new Set<Worker>();
  #starting = 0;
  /** How to end each worker still starting. */
  readonly #aborts = new Set<AbortController>();
  /** Workers being stopped. */
  readonly #retiring = new Set<Promise<void>>();
  #closed = false;

  /** @internal Use `ctx.threadPool`. */
  constructor(ctx: AioContext, modules: (string | URL)[] = []) {
    this.#ctx = ctx;
    this.#modules = modules;
  }

  /** Workers running now (busy or idle). */
  get threads(): number {
    return this.#workers.size;
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Sets the number of workers kept (`min`, default 0), the most that run (`max`, default
   * 64), and the modules workers load. Starts workers up to `min`.
   */
  setParams(p: { min?: number; max?: number; modules?: (string | URL)[] }): void {
    checkOptions('p', p);
    if (p === undefined) throw argTypeError('p', 'an object', p);
    const min = p.min ?? this.#min;
    const max = p.max ?? this.#max;
    checkInteger('p.min', min, 0, 0x7fffffff);
    checkInteger('p.max', max, 1, 0x7fffffff);
    if (min > max) throw argRangeError('p.min', `<= p.max (${max})`, min);
    if (p.modules !== undefined) {
      if (!Array.isArray(p.modules)) throw argTypeError('p.modules', 'an array of strings or URLs', p.modules);
      for (const m of p.modules) if (typeof m !== 'string' && !(m instanceof URL)) throw argTypeError('p.modules[]', 'a string or URL', m);
      this.#modules = [...p.modules];
    }
    this.#min = min;
    this.#max = max;
    while (this.#workers.size + this.#starting < this.#min) this.#spawn();
    for (const w of this.#workers) if (this.#workers.size > this.#max && w.inFlight === 0) void this.#retire(w);
  }

  /** Runs `name(...args)` on a worker; resolves with its result (thread_pool_submit_co). */
  submit<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): Promise<CallResult<F, K>> {
    checkString('name', name);
    return new Promise((resolve, reject) => {
      this.#enqueue(name, args, (err, value) => (err ? reject(err) : resolve(value as CallResult<F, K>)));
    });
  }

  /**
   * Runs `name(...args)` on a worker and calls `cb` in the context's poll when it is done
   * (thread_pool_submit_aio). The callback is never called before submitAio returns.
   */
  submitAio<K extends FunctionName<F>>(name: K, args: CallArgs<F, K>, cb: (err: Error | null, ret?: CallResult<F, K>) => void): ThreadPoolRequest {
    checkString('name', name);
    if (!Array.isArray(args)) throw argTypeError('args', 'an array', args);
    checkFunction('cb', cb);
    const req = this.#enqueue(name, args, cb as Request['done']);
    return {
      cancel: () => {
        if (req.state !== 'queued') return false;
        this.#queue.drop();
        this.#complete(req, new AioError('ERR_AIO_CANCELLED', `thread pool request '${name}' was cancelled`));
        return true;
      },
    };
  }

  #enqueue(name: string, args: unknown[], done: Request['done']): Request {
    if (this.#closed) throw new AioError('ERR_AIO_CLOSED', 'ThreadPool: the pool was shut down');
    this.#ctx.assertOpen('ThreadPool.submit()');
    const req: Request = { name, args, done, state: 'queued' };
    this.#queue.push(req);
    this.#ctx._expectReplies(1);
    this.#dispatch();
    return req;
  }

  /** Completions run as bottom halves of the submitting context. */
  #complete(req: Request, err: Error | null, value?: unknown): void {
    req.state = 'done';
    this.#ctx.scheduleOneshot(
      () => {
        this.#ctx._expectReplies(-1);
        req.done(err, value);
      },
      { name: 'thread-pool-completion' },
    );
  }

  #dispatch(): void {
    for (const w of this.#workers) {
      if (this.#queue.length === 0) return;
      if (w.inFlight === 0) this.#run(w, this.#queue.shift()!);
    }
    if (this.#queue.length > this.#starting && this.#workers.size + this.#starting < this.#max) this.#spawn();
    else if (this.#workers.size >= this.#max) {
      // Every worker that may run does: each may hold the next request too.
      for (let depth = 1; depth < WORKER_DEPTH; depth++) {
        for (const w of this.#workers) {
          if (this.#queue.length === 0) return;
          if (w.inFlight === depth) this.#run(w, this.#queue.shift()!);
        }
      }
    }
  }

  #idle(w: Worker): void {
    w.thread._holdProcess(false);
    if (this.#workers.size > this.#min) {
      w.idleTimer = setTimeout(() => void this.#retire(w), POOL_IDLE_TIMEOUT_MS);
      (w.idleTimer as { unref?(): void }).unref?.();
    }
  }

  #run(w: Worker, req: Request): void {
    w.inFlight++;
    w.thread._holdProcess(true);
    if (w.idleTimer !== undefined) clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    req.state = 'active';
    // The callback runs in the submitting context's poll: completions need no host event.
    try {
      this.#ctx._run(() => w.thread._callWith(req.name, req.args, (err, value) => this.#finish(w, req, err, value)));
    } catch (err) {
      this.#finish(w, req, err as Error);
    }
  }

  #finish(w: Worker, req: Request, err: Error | null, value?: unknown): void {
    this.#complete(req, err, value);
    w.inFlight--;
    if (w.thread.state !== 'running') {
      this.#workers.delete(w);
      this.#dispatch();
      return;
    }
    if (this.#queue.length > 0) this.#dispatch();
    if (w.inFlight === 0) this.#idle(w);
  }

  #spawn(): void {
    this.#starting++;
    // A worker starting from a worker needs the host loop of the thread that starts it to
    // turn (browsers load a nested worker's script through it): a dedicated loop gives it turns.
    const hostStarted = expectHostEvent();
    // shutdown() ends a worker still starting through this, without waiting for its ready
    // reply (which needs this context polled).
    const abort = new AbortController();
    this.#aborts.add(abort);
    const started = (err: Error | null, thread?: IOThread) => {
      hostStarted();
      this.#aborts.delete(abort);
      this.#starting--;
      if (err) {
        // Nothing can run without a worker: fail what waits rather than hang.
        for (const req of this.#queue.takeAll()) this.#complete(req, err);
        return;
      }
      this.#started(thread!);
    };
    try {
      // Started from the pool's context, so the ready reply lands there.
      this.#ctx._run(() => IOThread.start({ name: `${this.#ctx.name}-pool`, modules: this.#modules, pollMaxNs: 0, signal: abort.signal }, started));
    } catch (err) {
      started(err as Error);
    }
  }

  #started(thread: IOThread): void {
    const w: Worker = { thread, inFlight: 0, idleTimer: undefined };
    this.#workers.add(w);
    if (this.#closed) {
      void this.#retire(w);
      return;
    }
    const next = this.#queue.shift();
    if (next) this.#run(w, next);
    else this.#idle(w);
  }

  #retire(w: Worker): Promise<void> {
    if (w.idleTimer !== undefined) clearTimeout(w.idleTimer);
    this.#workers.delete(w);
    const stopped = w.thread.stop().catch(() => {});
    this.#retiring.add(stopped);
    void stopped.then(() => this.#retiring.delete(stopped));
    return stopped;
  }

  /** This pool, typed by the function map `G`: the same object. */
  typed<G>(): ThreadPool<G> {
    return this as unknown as ThreadPool<G>;
  }

  /**
   * Stops every worker, also those still starting (they are ended at once); queued
   * requests fail with ERR_AIO_CLOSED (thread_pool_free).
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const req of this.#queue.takeAll()) this.#complete(req, new AioError('ERR_AIO_CLOSED', 'ThreadPool: the pool was shut down'));
    for (const abort of [...this.#aborts]) abort.abort(new AioError('ERR_AIO_CLOSED', 'ThreadPool: the pool was shut down while this worker started'));
    for (const w of [...this.#workers]) void this.#retire(w);
    await Promise.all(this.#retiring);
  }
}
