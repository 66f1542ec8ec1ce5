/**
 * A deterministic interleaving checker for the futex algorithms of aio-core's locks.
 *
 * It runs 2-3 simulated threads over a simulated shared memory (int32 words with
 * sequentially consistent `Atomics` semantics, and futex wait queues woken in FIFO order,
 * as `Atomics.notify` does), and explores depth first every order in which their
 * shared-memory operations can interleave, up to a step bound. Each simulated thread is a
 * plain function that calls the real algorithm code (mutexLock, lockCntInc, ...) on a
 * `FutexOps`; every atomic `FutexOps` call is a yield point, where the checker may switch
 * to any other thread.
 *
 * Threads are suspended and resumed by replay (futex.ts `Replay`): a thread's state is
 * the log of results its operations returned so far; to run it one step further, the
 * checker re-runs its function from the start, answering logged operations from the log,
 * and stops it at the first new operation. A system state is then (memory, each thread's
 * log and status, the wait queue): cheap to copy and to compare, and the exploration
 * caches the states it has seen, so commuting operations are not explored twice. It still
 * counts how many complete schedules (interleavings) the explored states cover.
 *
 * Two reductions keep 3-thread models small, both stated by the model:
 *  - Plain accesses (`read`/`write`) are not yield points by default: they run as part
 *    of the step before them (see `plainAccessesAreSteps`).
 *  - `checkpoint(f, label)`, called by a thread body between algorithm calls, declares
 *    that the thread's future depends only on `label` (which must encode every local the
 *    rest of the body uses) and on what its later operations return; the part of the log
 *    before it is left out of the state, so different pasts converge.
 *
 * A wait is two steps, as in a kernel: the wait call (which either returns 'not-equal' or
 * queues the thread on its word) and, once a notify took the thread off the queue, the
 * resumption (other threads may run in between). Per `giveUp`, a thread in a cancellable
 * wait may also give up ('timed-out'):
 *   'never'    never gives up
 *   'timeout'  may give up at any time while queued (a deadline, or a thread that may
 *              not block); a notified waiter reports 'ok', as with Atomics.wait
 *   'abort'    may also give up after it was notified (an AbortSignal racing the
 *              wake-up of Atomics.waitAsync): the wake-up is consumed and lost unless
 *              the algorithm passes it on
 * With `spuriousWakeups`, a queued thread may also resume with 'ok' at any time.
 *
 * Checks, reported with the schedule that led there:
 *   invariant    `model.invariant(mem)` after every step (e.g. mutual exclusion)
 *   exception    a thread threw (an assertion in its body, ERR_AIO_NOT_OWNER, ...)
 *   lost-wakeup  every unfinished thread sleeps in a wait while `model.canProceed(mem)`
 *                says one of them could go on
 *   deadlock     every unfinished thread sleeps and none can give up
 *   final        `model.final(mem, results)` once every thread finished
 */
import {
  Replay,
  SUSPEND,
  type FutexOp,
  type FutexOps,
  type WaitResult,
} from '../../../packages/aio-core/src/locks/futex.js';

/** When a simulated thread may give up a cancellable wait (see the file comment). */
export type GiveUp = 'never' | 'timeout' | 'abort';

/** One simulated thread. */
export interface SimThread {
  /** Name used in traces. */
  readonly name: string;
  /**
   * The thread's code: calls algorithms on `f` as thread `me` (its index + 1, never 0).
   * Must be deterministic (it is re-run by replay). Its return value goes to `final`.
   */
  run(f: FutexOps, me: number): unknown;
  /** Defaults to 'never'. */
  readonly giveUp?: GiveUp;
}

/** A program to check: memory, threads, and what must hold. */
export interface Model {
  /** Number of int32 words of shared memory. */
  readonly words: number;
  /** Initial values of the first words (the rest are 0). */
  readonly init?: readonly number[];
  readonly threads: readonly SimThread[];
  /** Returns a message when the memory breaks an invariant (checked after every step). */
  invariant?(mem: readonly number[]): string | undefined;
  /** True when, with every unfinished thread asleep, one of them could still make progress. */
  canProceed?(mem: readonly number[]): boolean;
  /** Returns a message when the final state is wrong. */
  final?(mem: readonly number[], results: readonly unknown[]): string | undefined;
  /** Also explore spurious wake-ups of queued threads. */
  readonly spuriousWakeups?: boolean;
}

/** Bounds of the exploration. */
export interface CheckOptions {
  /** Longest schedule explored, in steps (default 400); longer ones are cut and counted. */
  readonly maxSteps?: number;
  /** Stop with a 'state-bound' violation beyond this many distinct states (default 1e6). */
  readonly maxStates?: number;
  /**
   * Make plain accesses (`read`/`write`) yield points too. By default they run as part of
   * the step before them: the algorithms use them only on words the lock protects (owner,
   * recursion depth), where no interleaving changes a decision (a thread finds its own id
   * there only if it wrote it itself). Turn it on to check that claim on a small model.
   */
  readonly plainAccessesAreSteps?: boolean;
}

export type ViolationKind = 'invariant' | 'exception' | 'lost-wakeup' | 'deadlock' | 'final' | 'state-bound';

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
  /** The schedule that led to it, one line per step. */
  readonly trace: readonly string[];
}

export interface CheckReport {
  /** Distinct states explored. */
  readonly states: number;
  /** Transitions taken between them. */
  readonly transitions: number;
  /** Complete schedules (interleavings) covered, up to the step bound. */
  readonly schedules: number;
  /** Schedules cut by the step bound. */
  readonly truncated: number;
  /** Longest schedule seen, in steps. */
  readonly maxDepth: number;
  /** The first violation found, if any (exploration stops there). */
  readonly violation?: Violation;
}

/**
 * Declares that the calling simulated thread's future depends only on `label` (see the
 * file comment). Does nothing outside the checker.
 */
export function checkpoint(f: FutexOps, label: string): void {
  (f as Partial<Checkpointing>).checkpoint?.(label);
}

interface Checkpointing {
  checkpoint(label: string): void;
}

type Status = 'ready' | 'blocked' | 'woken' | 'done';

interface LogEntry {
  readonly op: FutexOp<null>;
  readonly result: number | WaitResult;
}

interface ThreadState {
  readonly log: readonly LogEntry[];
  readonly status: Status;
  /** The next operation (ready), or the wait it sleeps in (blocked, woken). */
  readonly pending: FutexOp<null> | null;
  readonly result: unknown;
  /** The last checkpoint label and how many log entries came before it. */
  readonly mark: string;
  readonly markPos: number;
}

interface State {
  readonly mem: readonly number[];
  readonly threads: readonly ThreadState[];
  /** Indexes of queued (blocked) threads, in the order they started waiting. */
  readonly queue: readonly number[];
}

type ChoiceKind = 'step' | 'timeout' | 'spurious' | 'resume' | 'resume-timeout';

class Found extends Error {
  constructor(readonly violation: Violation) {
    super(violation.message);
  }
}

const i32 = (x: number): number => x | 0;

/** The `FutexOps` a simulated thread sees: a replay view that also counts operations, for checkpoints. */
class ModelOps implements FutexOps, Checkpointing {
  pos = 0;
  mark = '';
  markPos = 0;
  constructor(readonly inner: FutexOps) {}
  checkpoint(label: string): void {
    this.mark = label;
    this.markPos = this.pos;
  }
  #n<T>(r: T): T {
    this.pos++;
    return r;
  }
  load(i: number): number {
    return this.#n(this.inner.load(i));
  }
  store(i: number, v: number): number {
    return this.#n(this.inner.store(i, v));
  }
  compareExchange(i: number, e: number, r: number): number {
    return this.#n(this.inner.compareExchange(i, e, r));
  }
  exchange(i: number, v: number): number {
    return this.#n(this.inner.exchange(i, v));
  }
  add(i: number, v: number): number {
    return this.#n(this.inner.add(i, v));
  }
  sub(i: number, v: number): number {
    return this.#n(this.inner.sub(i, v));
  }
  or(i: number, v: number): number {
    return this.#n(this.inner.or(i, v));
  }
  and(i: number, v: number): number {
    return this.#n(this.inner.and(i, v));
  }
  read(i: number): number {
    return this.#n(this.inner.read(i));
  }
  write(i: number, v: number): void {
    this.#n(this.inner.write(i, v));
  }
  wait(i: number, expected: number, cancellable: boolean): WaitResult {
    return this.#n(this.inner.wait(i, expected, cancellable));
  }
  notify(i: number, count: number): number {
    return this.#n(this.inner.notify(i, count));
  }
}

/** Key words that no int32 value or result collides with. */
const SEPARATOR = 2 ** 40;
const STATUS_CODE: Record<Status, number> = { ready: 2 ** 41, blocked: 2 ** 41 + 1, woken: 2 ** 41 + 2, done: 2 ** 41 + 3 };
const WAIT_CODE: Record<WaitResult, number> = { ok: 2 ** 42, 'not-equal': 2 ** 42 + 1, 'timed-out': 2 ** 42 + 2 };

function hashOf(key: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const x of key) {
    h = Math.imul(h ^ (x | 0), 0x01000193);
    h = Math.imul(h ^ ((x / 0x100000000) | 0), 0x01000193);
  }
  return h;
}

/** Explored states, by exact key, with the number of complete schedules from each. */
class StateTable {
  readonly #buckets = new Map<number, { key: readonly number[]; schedules: number }[]>();
  size = 0;

  get(key: readonly number[], hash: number): number | undefined {
    const bucket = this.#buckets.get(hash);
    if (!bucket) return undefined;
    for (const e of bucket) if (sameKey(e.key, key)) return e.schedules;
    return undefined;
  }

  set(key: readonly number[], hash: number, schedules: number): void {
    let bucket = this.#buckets.get(hash);
    if (!bucket) this.#buckets.set(hash, (bucket = []));
    for (const e of bucket) {
      if (sameKey(e.key, key)) {
        e.schedules = schedules;
        return;
      }
    }
    bucket.push({ key, schedules });
    this.size++;
  }
}

function sameKey(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Explores every interleaving of `model`'s threads; see the file comment. */
export function check(model: Model, options: CheckOptions = {}): CheckReport {
  const maxSteps = options.maxSteps ?? 400;
  const maxStates = options.maxStates ?? 1e6;
  const plainSteps = options.plainAccessesAreSteps ?? false;
  const specs = model.threads;
  const memo = new StateTable();
  const labels = new Map<string, number>();
  const labelId = (label: string): number => {
    let id = labels.get(label);
    if (id === undefined) labels.set(label, (id = labels.size));
    return id;
  };
  /** The current schedule: states and the choices taken from them. */
  const pathStates: State[] = [];
  const pathChoices: [number, ChoiceKind][] = [];
  let transitions = 0;
  let truncated = 0;
  let maxDepth = 0;

  const fail = (kind: ViolationKind, message: string): never => {
    throw new Found({ kind, message, trace: traceOf() });
  };

  const describe = (t: number, op: FutexOp<null>, result: unknown): string => {
    const args =
      op.kind === 'load' || op.kind === 'read' ? '' : op.kind === 'compareExchange' ? `, ${op.a}, ${op.b}` : `, ${op.a}`;
    return `${specs[t]!.name}: ${op.kind}(${op.index}${args}) -> ${String(result)}`;
  };

  /**
   * Runs thread `t` by replay up to its next yield point (or its end). Plain accesses
   * past the log are done on `mem` at once (unless they are steps).
   */
  const advance = (t: number, log: readonly LogEntry[], mem: number[]): ThreadState => {
    let next: FutexOp<null> | null = null;
    const entries = log.slice();
    const replay = new Replay<null>((op) => {
      if (!plainSteps && (op.kind === 'read' || op.kind === 'write')) {
        let result = 0;
        if (op.kind === 'read') result = mem[op.index]!;
        else mem[op.index] = i32(op.a);
        entries.push({ op, result });
        return result;
      }
      next = op;
      throw SUSPEND;
    });
    for (const e of log) replay.resume(e.op, e.result);
    replay.rewind();
    const f = new ModelOps(replay.view(null));
    try {
      const result = specs[t]!.run(f, t + 1);
      return { log: entries, status: 'done', pending: null, result, mark: f.mark, markPos: f.markPos };
    } catch (e) {
      if (e !== SUSPEND) fail('exception', `${specs[t]!.name} threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return { log: entries, status: 'ready', pending: next, result: undefined, mark: f.mark, markPos: f.markPos };
    }
  };

  /** Applies a choice to `s`; returns the new state. */
  const apply = (s: State, t: number, kind: ChoiceKind): State => {
    const mem = s.mem.slice();
    const threads = s.threads.slice();
    let queue = s.queue;
    const th = threads[t]!;
    const op = th.pending!;
    const finish = (result: number | WaitResult): void => {
      threads[t] = advance(t, [...th.log, { op, result }], mem);
    };
    if (kind !== 'step') {
      // Leaves a wait: gives up, wakes spuriously, or resumes after a notify.
      if (th.status === 'blocked') queue = queue.filter((q) => q !== t);
      finish(kind === 'timeout' || kind === 'resume-timeout' ? 'timed-out' : 'ok');
      return { mem, threads, queue };
    }
    const i = op.index;
    let result: number | WaitResult;
    switch (op.kind) {
      case 'load':
      case 'read':
        result = mem[i]!;
        break;
      case 'store':
      case 'write':
        mem[i] = i32(op.a);
        result = op.kind === 'store' ? i32(op.a) : 0;
        break;
      case 'compareExchange':
        result = mem[i]!;
        if (result === i32(op.a)) mem[i] = i32(op.b);
        break;
      case 'exchange':
        result = mem[i]!;
        mem[i] = i32(op.a);
        break;
      case 'add':
        result = mem[i]!;
        mem[i] = i32(result + op.a);
        break;
      case 'sub':
        result = mem[i]!;
        mem[i] = i32(result - op.a);
        break;
      case 'or':
        result = mem[i]!;
        mem[i] = result | op.a;
        break;
      case 'and':
        result = mem[i]!;
        mem[i] = result & op.a;
        break;
      case 'notify': {
        let n = 0;
        const rest: number[] = [];
        for (const q of queue) {
          if (n < op.a && threads[q]!.pending!.index === i) {
            threads[q] = { ...threads[q]!, status: 'woken' };
            n++;
          } else {
            rest.push(q);
          }
        }
        queue = rest;
        result = n;
        break;
      }
      case 'wait':
        if (mem[i] !== i32(op.a)) {
          result = 'not-equal';
          break;
        }
        threads[t] = { ...th, status: 'blocked' };
        return { mem, threads, queue: [...queue, t] };
    }
    finish(result);
    return { mem, threads, queue };
  };

  let s0: State | undefined;

  /** The trace lines of the current schedule (built only when a violation is reported). */
  const traceOf = (): string[] => {
    const lines: string[] = [];
    const plainOps = (t: number, th: ThreadState, from: number): void => {
      for (let j = from; j < th.log.length; j++) lines.push(`  ${describe(t, th.log[j]!.op, th.log[j]!.result)}`);
    };
    if (s0) for (const [t, th] of s0.threads.entries()) plainOps(t, th, 0);
    pathChoices.forEach(([t, kind], k) => {
      const before = pathStates[2 * k]!.threads[t]!;
      const after = pathStates[2 * k + 1]!.threads[t]!;
      const op = before.pending!;
      if (after.status === 'blocked') {
        lines.push(`${specs[t]!.name}: wait(${op.index}, ${op.a}) sleeps`);
        return;
      }
      const result = after.log[before.log.length]!.result;
      if (kind === 'step') lines.push(describe(t, op, result));
      else lines.push(`${specs[t]!.name}: wait(${op.index}, ${op.a}) ${kind} -> ${result}`);
      plainOps(t, after, before.log.length + 1);
    });
    return lines;
  };

  /** A state as numbers (memory, each thread's status, checkpoint and results since, queue). */
  const keyOf = (s: State): number[] => {
    const k = s.mem.slice();
    for (const th of s.threads) {
      k.push(SEPARATOR, STATUS_CODE[th.status], labelId(th.mark));
      for (let j = th.markPos; j < th.log.length; j++) {
        const r = th.log[j]!.result;
        k.push(typeof r === 'number' ? r : WAIT_CODE[r]);
      }
    }
    k.push(SEPARATOR, ...s.queue);
    return k;
  };

  const givesUp = (t: number, kinds: readonly GiveUp[]): boolean => kinds.includes(specs[t]!.giveUp ?? 'never');

  const explore = (s: State, depth: number): number => {
    const key = keyOf(s);
    const hash = hashOf(key);
    const known = memo.get(key, hash);
    if (known !== undefined) return known;
    if (memo.size >= maxStates) fail('state-bound', `more than ${maxStates} states; lower the bounds`);
    if (depth > maxDepth) maxDepth = depth;

    const choices: [number, ChoiceKind][] = [];
    let unfinished = 0;
    let awake = 0;
    let canGiveUp = false;
    s.threads.forEach((th, t) => {
      if (th.status === 'done') return;
      unfinished++;
      const cancellable = th.pending!.cancellable;
      if (th.status === 'ready') {
        awake++;
        choices.push([t, 'step']);
      } else if (th.status === 'woken') {
        awake++;
        choices.push([t, 'resume']);
        if (cancellable && givesUp(t, ['abort'])) choices.push([t, 'resume-timeout']);
      } else {
        if (cancellable && givesUp(t, ['timeout', 'abort'])) {
          canGiveUp = true;
          choices.push([t, 'timeout']);
        }
        if (model.spuriousWakeups) choices.push([t, 'spurious']);
      }
    });

    let total = 0;
    if (unfinished === 0) {
      const message = model.final?.(s.mem, s.threads.map((t) => t.result));
      if (message) fail('final', message);
      total = 1;
    } else {
      if (awake === 0) {
        // Everyone sleeps: unless someone gives up, nobody will ever run again.
        if (model.canProceed?.(s.mem)) {
          fail('lost-wakeup', `every unfinished thread sleeps, but one could proceed (memory ${s.mem.join(',')})`);
        }
        if (!canGiveUp) fail('deadlock', `every unfinished thread sleeps and none can give up (memory ${s.mem.join(',')})`);
      }
      if (depth >= maxSteps) {
        truncated++;
        memo.set(key, hash, 0);
        return 0;
      }
      for (const [t, kind] of choices) {
        const next = apply(s, t, kind);
        transitions++;
        pathStates.push(s, next);
        pathChoices.push([t, kind]);
        const message = model.invariant?.(next.mem);
        if (message) fail('invariant', message);
        total += explore(next, depth + 1);
        pathStates.length -= 2;
        pathChoices.length--;
      }
    }
    memo.set(key, hash, total);
    return total;
  };

  try {
    const mem = new Array<number>(model.words).fill(0);
    for (const [i, v] of (model.init ?? []).entries()) mem[i] = i32(v);
    s0 = { mem, threads: specs.map((_, t) => advance(t, [], mem)), queue: [] };
    const schedules = explore(s0, 0);
    return { states: memo.size, transitions, schedules, truncated, maxDepth };
  } catch (e) {
    if (!(e instanceof Found)) throw e;
    return { states: memo.size, transitions, schedules: 0, truncated, maxDepth, violation: e.violation };
  }
}

/** A readable summary of a report, for test output. */
export function summary(name: string, r: CheckReport): string {
  const v = r.violation ? `\n  VIOLATION ${r.violation.kind}: ${r.violation.message}\n    ${r.violation.trace.join('\n    ')}` : '';
  return (
    `${name}: ${r.states} states, ${r.transitions} transitions, ${r.schedules.toPrecision(4)} schedules, ` +
    `${r.truncated} cut at the step bound, longest ${r.maxDepth} steps${v}`
  );
}
