/**
 * EventNotifier: QEMU's eventfd, as a level-triggered flag word in shared memory. `set()`
 * makes it ready until `testAndClear()`; any thread may do either through the handle.
 * When registered with a context (`ctx.setEventNotifier`), the notifier remembers the
 * context's wake-table slot, so a `set()` from any thread wakes that context.
 *
 * Memory: one small SharedArrayBuffer per notifier, words:
 *   0 value  (0 clear, 1 set; the futex word a thread may wait on)
 *   1 link   (wake-table slot + 1 of the registered context, 0 when unregistered)
 */
import { badHandle, checkBoolean, checkOptions, describeValue } from '../base/errors.js';
import { SLOTS, type WakeTable, adoptWakeTable, allocShared, tableFieldsProblem, wakeTable } from '../base/shared-memory.js';
import { notifySlot } from './notify.js';

const VALUE = 0;
const LINK = 1;
/** Bytes of a notifier's memory. */
const BYTES = 8;

/** The structured-cloneable form of an {@link EventNotifier}. */
export interface EventNotifierHandle {
  readonly kind: 'aio.EventNotifier';
  readonly sab: SharedArrayBuffer;
  readonly table: SharedArrayBuffer;
}

/**
 * A level-triggered, cross-thread event flag. Any thread, through its handle.
 *
 * @example
 * ```ts
 * import { AioContext, EventNotifier } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const kick = new EventNotifier();
 * ctx.setEventNotifier(kick, (n) => {
 *   n.testAndClear();
 *   console.log('kicked');
 * });
 * kick.set(); // any thread, through EventNotifier.from(kick.handle)
 * ctx.poll(false);
 * ctx.setEventNotifier(kick, null);
 * ctx.close();
 * ```
 */
export class EventNotifier {
  /** @internal */
  readonly _words: Int32Array;
  /** @internal */
  readonly _table: WakeTable;

  /** Creates a notifier, set when `initiallySet` is true (event_notifier_init). Any thread. */
  constructor(initiallySet = false) {
    checkBoolean('initiallySet', initiallySet);
    this._table = wakeTable();
    this._words = new Int32Array(allocShared(BYTES));
    if (initiallySet) this._words[VALUE] = 1;
  }

  /** Rebuilds a notifier from its handle, in any thread. */
  static from(handle: EventNotifierHandle): EventNotifier {
    checkOptions('handle', handle);
    const problem =
      handle?.kind !== 'aio.EventNotifier'
        ? `its kind is ${describeValue(handle?.kind)}, not 'aio.EventNotifier'`
        : !(handle.sab instanceof SharedArrayBuffer) || handle.sab.byteLength < BYTES
          ? `its "sab" is ${describeValue(handle.sab)}, not a SharedArrayBuffer of at least ${BYTES} bytes`
          : tableFieldsProblem(handle, false);
    if (problem !== null) throw badHandle('EventNotifier.from()', 'aio.EventNotifier', problem);
    const e = Object.create(EventNotifier.prototype) as EventNotifier;
    Object.assign(e, { _words: new Int32Array(handle.sab), _table: adoptWakeTable(handle.table) });
    return e;
  }

  /** Structured-cloneable handle; pass it to another thread and call `EventNotifier.from()` there. */
  get handle(): EventNotifierHandle {
    return { kind: 'aio.EventNotifier', sab: this._words.buffer as SharedArrayBuffer, table: this._table.sab };
  }

  /** Makes the notifier ready and wakes its registered context (event_notifier_set). Any thread. */
  set(): void {
    // Pairs with the readiness check in the context's poll, which follows its notify_me
    // increment: either the poller sees the value, or notifySlot sees notify_me.
    Atomics.store(this._words, VALUE, 1);
    const link = Atomics.load(this._words, LINK);
    // A link out of range is corrupt memory (no context has that slot): nobody to wake.
    if (link > 0 && link <= SLOTS) notifySlot(this._table, link - 1);
  }

  /** Clears the notifier; returns whether it was set (event_notifier_test_and_clear). Any thread. */
  testAndClear(): boolean {
    return Atomics.exchange(this._words, VALUE, 0) !== 0;
  }

  /** True when set, without clearing. Any thread. */
  isSet(): boolean {
    return Atomics.load(this._words, VALUE) !== 0;
  }

  /** Links this notifier to a context's slot (0 unlinks). Returns false if another context holds it. @internal */
  _link(slotPlusOne: number): boolean {
    if (slotPlusOne === 0) {
      Atomics.store(this._words, LINK, 0);
      return true;
    }
    return Atomics.compareExchange(this._words, LINK, 0, slotPlusOne) === 0;
  }
}
