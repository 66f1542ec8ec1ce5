/**
 * QEMU's tests/unit/test-coroutine.c, entries 35-45, under their QEMU path names
 * (`/basic/no-dangling-access` needs a coroutine pool and raw memory; it has no JS form).
 * Where the C test asserts inside a coroutine, the port records what it saw and asserts
 * after the coroutine yields; a failed assertion inside a body would reject its promise.
 */
import { describe, expect, it } from 'vitest';
import { type CoLockable, CoMutex, CoRwLock, Coroutine } from 'aio-under-test';

describe('test-coroutine', () => {
  it('/basic/lifecycle', () => {
    let done = false;
    const setAndExit = function* () {
      done = true;
    };
    let co = Coroutine.create(setAndExit);
    co.enter();
    expect(done).toBe(true);
    expect(co.done).toBe(true);

    done = false;
    co = Coroutine.create(setAndExit);
    co.enter();
    expect(done).toBe(true);
    expect(co.done).toBe(true);
  });

  it('/basic/yield', () => {
    let done = false;
    const co = Coroutine.create(function* () {
      for (let i = 0; i < 5; i++) yield;
      done = true;
    });
    let i = -1; // one extra enter to return from the coroutine
    while (!done) {
      co.enter();
      i++;
    }
    expect(i).toBe(5);
  });

  it('/basic/nesting', () => {
    const nd = { nEnter: 0, nReturn: 0, max: 128 };
    function* nest(): Generator<unknown, void, unknown> {
      nd.nEnter++;
      if (nd.nEnter < nd.max) Coroutine.create(nest).enter();
      nd.nReturn++;
    }
    Coroutine.create(nest).enter();
    expect(nd.nEnter).toBe(nd.max);
    expect(nd.nReturn).toBe(nd.max);
  });

  it('/basic/self', () => {
    let seen: unknown = null;
    const co = Coroutine.create(function* () {
      seen = Coroutine.self();
    });
    co.enter();
    expect(seen).toBe(co);
    expect(Coroutine.self()).toBe(null);
  });

  it('/basic/entered', () => {
    const checks: boolean[] = [];
    function* step2(caller: Coroutine<unknown>): Generator<unknown, void, unknown> {
      checks.push(caller.entered, Coroutine.self()!.entered);
      yield;
      // once more, after yielding
      checks.push(caller.entered, Coroutine.self()!.entered);
    }
    function* step1(): Generator<unknown, void, unknown> {
      const self = Coroutine.self()!;
      checks.push(self.entered);
      const co = Coroutine.create(step2, self);
      checks.push(!co.entered);
      co.enter();
      checks.push(!co.entered);
      co.enter();
    }
    const co = Coroutine.create(step1);
    expect(co.entered).toBe(false);
    co.enter();
    expect(co.done).toBe(true);
    expect(checks).toEqual([true, true, true, true, true, true, true]);
  });

  it('/basic/in_coroutine', () => {
    expect(Coroutine.inCoroutine()).toBe(false);
    let inside = false;
    Coroutine.create(function* () {
      inside = Coroutine.inCoroutine();
    }).enter();
    expect(inside).toBe(true);
    expect(Coroutine.inCoroutine()).toBe(false);
  });

  it('/basic/order', () => {
    const records: [number, number][] = [];
    const inCo: boolean[] = [];
    const co = Coroutine.create(function* () {
      records.push([2, 1]);
      inCo.push(Coroutine.inCoroutine());
      yield;
      records.push([2, 2]);
      inCo.push(Coroutine.inCoroutine());
    });
    records.push([1, 1]);
    co.enter();
    records.push([1, 2]);
    inCo.push(!Coroutine.inCoroutine());
    co.enter();
    records.push([1, 3]);
    inCo.push(!Coroutine.inCoroutine());
    expect(records).toEqual([
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [1, 3],
    ]);
    expect(inCo).toEqual([true, true, true, true]);
  });

  describe('co-mutex', () => {
    let locked = false;
    let done = 0;
    const violations: string[] = [];

    function* mutexFn(m: CoMutex): Generator<unknown, void, unknown> {
      yield* m.lock();
      if (locked) violations.push('two holders');
      locked = true;
      yield;
      locked = false;
      m.unlock();
      done++;
    }

    // QEMU_MAKE_LOCKABLE + qemu_lockable_lock/unlock: the same body through a generic lock.
    function* lockableLock(x: CoLockable): Generator<unknown, void, unknown> {
      yield* x.lock();
    }
    function lockableUnlock(x: CoLockable): void {
      x.unlock();
    }
    function* lockableFn(x: CoLockable): Generator<unknown, void, unknown> {
      yield* lockableLock(x);
      if (locked) violations.push('two holders');
      locked = true;
      yield;
      locked = false;
      lockableUnlock(x);
      done++;
    }

    function doTestCoMutex<A>(entry: (a: A) => Generator<unknown, void, unknown>, arg: A): void {
      const c1 = Coroutine.create(entry, arg);
      const c2 = Coroutine.create(entry, arg);
      done = 0;
      c1.enter();
      expect(locked).toBe(true);
      c2.enter();

      // Unlock queues c2. It is then started automatically when c1 yields or terminates.
      c1.enter();
      expect(done).toBe(1);
      expect(locked).toBe(true);

      c2.enter();
      expect(done).toBe(2);
      expect(locked).toBe(false);
      expect(violations).toEqual([]);
    }

    it('/locking/co-mutex', () => {
      doTestCoMutex(mutexFn, new CoMutex());
    });

    it('/locking/co-mutex/lockable', () => {
      const m = new CoMutex();
      doTestCoMutex(lockableFn, m as CoLockable);
      expect(m.locked).toBe(false);
    });
  });

  it('/locking/co-rwlock/upgrade', () => {
    // | c1         | c2         |
    // | rdlock     |            |
    // | yield      |            |
    // |            | wrlock     |
    // |            | <queued>   |
    // | upgrade    |            |
    // | <queued>   | <dequeued> |
    // |            | unlock     |
    // | <dequeued> |            |
    // | unlock     |            |
    const rwlock = new CoRwLock();
    let c1Done = false;
    let c2Done = false;
    const c1 = Coroutine.create(function* () {
      yield* rwlock.rdlock();
      yield;
      yield* rwlock.upgrade();
      rwlock.unlock();
      c1Done = true;
    });
    const c2 = Coroutine.create(function* () {
      yield* rwlock.wrlock();
      yield;
      rwlock.unlock();
      c2Done = true;
    });
    c1.enter();
    c2.enter();

    // c1 now should go to sleep.
    c1.enter();
    expect(c1Done).toBe(false);

    c2.enter();
    expect(c1Done).toBe(true);
    expect(c2Done).toBe(true);
    expect(rwlock.owners).toBe(0);
  });

  it('/locking/co-rwlock/downgrade', () => {
    // | c1     | c2         | c3         | c4         |
    // | rdlock |            |            |            |
    // | yield  |            |            |            |
    // |        | wrlock     |            |            |
    // |        | <queued>   |            |            |
    // |        |            | rdlock     |            |
    // |        |            | <queued>   |            |
    // |        |            |            | wrlock     |
    // |        |            |            | <queued>   |
    // | unlock |            |            |            |
    // | yield  |            |            |            |
    // |        | <dequeued> |            |            |
    // |        | downgrade  |            |            |
    // |        |            | <dequeued> |            |
    // |        |            | unlock     |            |
    // |        | ...        |            |            |
    // |        | unlock     |            |            |
    // |        |            |            | <dequeued> |
    // |        |            |            | unlock     |
    const rwlock = new CoRwLock();
    const done = { c1: false, c2: false, c3: false, c4: false };
    const c1 = Coroutine.create(function* () {
      yield* rwlock.rdlock();
      yield;
      rwlock.unlock();
      yield;
      done.c1 = true;
    });
    const c2 = Coroutine.create(function* () {
      yield* rwlock.wrlock();
      rwlock.downgrade();
      rwlock.unlock();
      done.c2 = true;
    });
    const c3 = Coroutine.create(function* () {
      yield* rwlock.rdlock();
      rwlock.unlock();
      done.c3 = true;
    });
    const c4 = Coroutine.create(function* () {
      yield* rwlock.wrlock();
      rwlock.unlock();
      done.c4 = true;
    });
    c1.enter();
    c2.enter();
    c3.enter();
    c4.enter();

    c1.enter();
    expect(done.c2).toBe(true);
    expect(done.c3).toBe(true);
    expect(done.c4).toBe(true);

    c1.enter();
    expect(done.c1).toBe(true);
    expect(rwlock.owners).toBe(0);
  });
});
