// examples/server: a TCP server whose request work runs in IOThreads, and that drains on
// SIGTERM the way QEMU drains a device: stop the external clients, wait until nothing is
// in flight (AIO_WAIT_WHILE), then shut down.
//
// Owns: the line protocol, the per-connection bookkeeping, and the drain sequence. The
// main thread runs one AioContext ('server') attached to Node's event loop. Every client
// connection is an external event source of that context, so one disableExternal() call
// stops the server from reading any request, on every connection, at once; replies from
// the IOThreads are bottom halves of the same context and keep flowing.
//
// Protocol, one line each way (UTF-8, '\n'-terminated; ids and payloads have no spaces):
//   server  HELLO                       the connection is registered with the context
//   client  <id> <delayMs> <payload>    a request: simulated disk read of delayMs, then SHA-256
//   server  <id> <sha256 hex>           its response (of the payload's UTF-8 bytes), in completion order
//   server  ERR <id|-> <reason>         a malformed request, or work that failed
//   server  BYE <n>                     last line: n requests of this connection were
//                                       accepted, and every one was answered above
//
// An accepted request is a complete line the server context dispatched before the drain
// began. Every accepted request gets exactly one response line before BYE. Lines that
// arrive later are never read: their connection gets BYE and is closed once the client
// closes its side. Connections that arrive after the drain began are refused (the
// listening socket is closed).
import { once } from 'node:events';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { AioContext, IOThread } from 'aio-node';

const HOST = '127.0.0.1';
const MAX_LINE_CHARS = 64 * 1024;
const MAX_DELAY_MS = 10_000;
// How long a connection that got BYE may stay open before it is cut: the server reads
// until the client closes, so that unread data never turns the close into a reset.
const LINGER_MS = 5_000;

function integerFlag(name, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer from ${min} to ${max}; got '${text}'`);
  return n;
}

function readFlags() {
  try {
    const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, threads: { type: 'string', default: '4' } } });
    return { port: integerFlag('port', values.port, 0, 65535), threadCount: integerFlag('threads', values.threads, 1, 64) };
  } catch (err) {
    console.error(`${err.message}\nusage: node main.mjs [--port N (0: any free port)] [--threads N (default 4)]`);
    process.exit(2);
  }
}

const { port, threadCount } = readFlags();

/**
 * Starts the IOThreads; if one fails, stops the others before rethrowing. They run
 * 'integrated' loops: the work awaits (a simulated read here, real I/O in a real server),
 * and an integrated loop sleeps in the thread's host loop while it waits, where a
 * dedicated one would wake every millisecond to let the promise reactions run.
 */
async function startThreads(n) {
  const module = new URL('./worker.mjs', import.meta.url);
  const starting = Array.from({ length: n }, (_, i) => IOThread.create({ name: `io${i}`, module, mode: 'integrated' }));
  const started = await Promise.allSettled(starting);
  const failure = started.find((r) => r.status === 'rejected');
  const threads = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  if (failure) {
    await Promise.all(threads.map((t) => t.stop()));
    throw failure.reason;
  }
  return threads;
}

const ctx = new AioContext({ name: 'server' });
const threads = await startThreads(threadCount).catch((err) => {
  ctx.close();
  throw err;
});
let nextThread = 0;

// The counters the drain waits on and reports.
let inFlight = 0;
let accepted = 0;
let answered = 0;
let connectionsOpened = 0;
const connections = new Set();

/** A request line split into its fields, or the reason it is malformed. */
function parseRequest(line) {
  const fields = line.split(' ');
  if (fields.length !== 3 || fields.some((f) => f.length === 0)) {
    return { id: fields[0] || '-', error: 'expected "<id> <delayMs> <payload>"' };
  }
  const [id, delay, payload] = fields;
  const delayMs = Number(delay);
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    return { id, error: `delayMs must be an integer from 0 to ${MAX_DELAY_MS}` };
  }
  return { id, delayMs, payload };
}

class Connection {
  #socket;
  #input;
  #buffered = '';
  #accepted = 0;
  #pending = 0;
  #reading = true;
  #ending = false;

  constructor(socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    // The socket's incoming text as a web stream for the context's stream source.
    // Readable.toWeb() would wait for the writable side too, so a client that half-closes
    // after its last request would never be seen to end; the iterator must not destroy
    // the socket at that end either, since responses are still to be written.
    this.#input = ReadableStream.from(socket.iterator({ destroyOnReturn: false }));
    ctx.setStreamHandler(this.#input, (chunk) => this.#receive(chunk));
    // A client that resets the connection needs nothing more from us; 'close' follows.
    socket.on('error', () => {});
    socket.once('close', () => {
      ctx.setStreamHandler(this.#input, null);
      connections.delete(this);
      // The drain's last wait is for this set to empty.
      ctx.notify();
    });
    connections.add(this);
    connectionsOpened++;
    socket.write('HELLO\n');
  }

  /** Runs in the server context's handler phase, so never while external clients are disabled. */
  #receive(chunk) {
    if (!this.#reading) return;
    if (chunk === null) {
      this.#reading = false;
      this.#endWhenAnswered();
      return;
    }
    this.#buffered += chunk;
    for (let nl = this.#buffered.indexOf('\n'); nl >= 0; nl = this.#buffered.indexOf('\n')) {
      const line = this.#buffered.slice(0, nl);
      this.#buffered = this.#buffered.slice(nl + 1);
      this.#request(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.#buffered.length > MAX_LINE_CHARS) {
      this.#buffered = '';
      this.#countAccepted();
      this.#send(`ERR - line longer than ${MAX_LINE_CHARS} characters`);
      this.#reading = false;
      this.#endWhenAnswered();
    }
  }

  #countAccepted() {
    this.#accepted++;
    accepted++;
  }

  #request(line) {
    this.#countAccepted();
    const req = parseRequest(line);
    if (req.error) {
      this.#send(`ERR ${req.id} ${req.error}`);
      return;
    }
    this.#pending++;
    inFlight++;
    // Called from the handler phase, so the reply lands in this context, as a bottom half.
    const thread = threads[nextThread++ % threads.length];
    thread.call('digest', req.payload, req.delayMs).then(
      (hex) => this.#completed(`${req.id} ${hex}`),
      (err) => this.#completed(`ERR ${req.id} ${err.message}`),
    );
  }

  #completed(response) {
    this.#send(response);
    this.#pending--;
    inFlight--;
    // This runs in a promise reaction after the poll that delivered the reply, so a drain
    // waiting in waitWhileAsync() may already be asleep again: wake it to look at inFlight.
    ctx.notify();
    this.#endWhenAnswered();
  }

  #send(line) {
    if (!this.#socket.writable) return;
    this.#socket.write(`${line}\n`);
    answered++;
  }

  /** Stops taking requests from this connection (the drain is over): BYE once all are answered. */
  stopReading() {
    this.#reading = false;
    this.#endWhenAnswered();
  }

  #endWhenAnswered() {
    if (this.#reading || this.#pending > 0 || this.#ending) return;
    this.#ending = true;
    if (!this.#socket.writable) return;
    this.#socket.end(`BYE ${this.#accepted}\n`);
    this.#socket.setTimeout(LINGER_MS, () => this.#socket.destroy());
  }
}

const server = createServer({ allowHalfOpen: true }, (socket) => new Connection(socket));

async function shutdown(signal) {
  // Closing the listening socket refuses new connections at once.
  server.close();
  // From here no request is read on any connection: the accepted set is final.
  ctx.disableExternal();
  console.log(`${signal}: stopped accepting; draining ${inFlight} requests in flight on ${connections.size} connections`);
  await ctx.waitWhileAsync(() => inFlight > 0);
  for (const c of connections) c.stopReading();
  for (const t of threads) {
    const s = t.stats();
    console.log(`  IOThread ${t.name}: ${s.calls} calls, utilization ${(s.utilization * 100).toFixed(1)}%`);
  }
  await Promise.all(threads.map((t) => t.stop()));
  await ctx.waitWhileAsync(() => connections.size > 0);
  ctx.detach();
  ctx.close();
  console.log(
    `drained: ${accepted} requests accepted on ${connectionsOpened} connections, ${answered} answered; ` +
      `${threads.length} IOThreads stopped`,
  );
}

function onSignal(signal) {
  // A second signal gets Node's default action and ends the process at once.
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  shutdown(signal).catch((err) => {
    console.error(`shutdown failed: ${err.stack ?? err}`);
    process.exitCode = 1;
  });
}

try {
  server.listen(port, HOST);
  await once(server, 'listening');
} catch (err) {
  await Promise.all(threads.map((t) => t.stop()));
  ctx.close();
  throw err;
}
// Accept failures (out of file descriptors, ...) cost one connection, not the server.
server.on('error', (err) => console.error(`accept failed: ${err.message}`));
ctx.attach();
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
console.log(`listening on ${HOST}:${server.address().port} with ${threads.length} IOThreads (pid ${process.pid})`);
