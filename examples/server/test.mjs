// The test of examples/server: runs main.mjs as a child process, loads it with concurrent
// clients, sends SIGTERM in the middle of the load, and checks the drain contract (see
// main.mjs): every request the server accepted got its correct response before BYE, no
// request sent after the drain began was answered, connections after it were refused,
// and the server exited with code 0 by itself.
//
// Run it from any directory: node examples/server/test.mjs. Exits 0 when every check
// holds, 1 with the failures listed otherwise. The checks are on counts and order, not on
// timings: time only bounds how long a hung server is waited for, and the one margin the
// test needs (a 4 s request still in flight at SIGTERM) is about 10 times what it uses.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.mjs', import.meta.url));
const THREADS = 3;
const PIPELINED = 20; // send all their requests at once, then half-close
const SEQUENTIAL = 25; // send the next request when the previous one is answered
const LATE_WRITERS = 5; // connected before the drain, send only after it began
const REFUSED = 10; // connect only after the drain began
const REQUESTS = 20; // per pipelined or sequential connection
// The first request of each pipelined connection; its simulated read is long enough to be
// in flight when SIGTERM comes (sent after SIGTERM_AFTER responses, the fast ones take
// 1-30 ms), so the drain has work to wait for.
const SLOW_MS = 4000;
const SIGTERM_AFTER = 200;
const EXIT_WITHIN_MS = 20_000;
const WATCHDOG_MS = 30_000;

const failures = [];
const fail = (msg) => failures.push(msg);
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const started = Date.now();

// Payloads of varied length with multi-byte characters, so lines span TCP chunks and
// characters span chunk boundaries.
function payload(conn, i) {
  const unit = `c${conn}r${i}-é€😀-`;
  return unit.repeat(1 + ((conn * 7 + i * 13) % 400));
}

function fastDelay(conn, i) {
  return 1 + ((conn * 31 + i * 17) % 30);
}

// --------------------------------------------------------------------------- the server

const server = spawn(process.execPath, [MAIN, '--port', '0', '--threads', String(THREADS)], { stdio: ['ignore', 'pipe', 'pipe'] });
const serverOut = [];
const serverLines = createInterface({ input: server.stdout });
serverLines.on('line', (line) => serverOut.push(line));
let serverErr = '';
const serverExit = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
server.stderr.setEncoding('utf8').on('data', (d) => (serverErr += d));

/** Resolves with the first stdout line matching `re` (its match), or null if the server exits first. */
function serverLine(re) {
  return new Promise((resolve) => {
    const seen = serverOut.map((l) => re.exec(l)).find(Boolean);
    if (seen) return resolve(seen);
    const onLine = (line) => {
      const m = re.exec(line);
      if (m) {
        serverLines.off('line', onLine);
        resolve(m);
      }
    };
    serverLines.on('line', onLine);
    void serverExit.then(() => resolve(null));
  });
}

const watchdog = setTimeout(() => {
  const output = `${serverOut.join('\n')}\n${serverErr}`;
  console.error(`FAIL: the test did not finish within ${WATCHDOG_MS / 1000} s; server output so far:\n${output}`);
  server.kill('SIGKILL');
  process.exit(1);
}, WATCHDOG_MS);

// --------------------------------------------------------------------------- the clients

let hellos = 0;
let responses = 0;
let responsesAfterSigterm = 0;
let sigtermSent = false;
let sigtermAt = 0;
let serverKilled = false;
let connections = 0;

/** SIGTERM once every client connection is registered and the load is well under way. */
function maybeSigterm() {
  if (sigtermSent || hellos < connections || responses < SIGTERM_AFTER) return;
  sigtermSent = true;
  sigtermAt = Date.now();
  server.kill('SIGTERM');
  const hang = setTimeout(() => {
    serverKilled = true;
    server.kill('SIGKILL');
  }, EXIT_WITHIN_MS);
  void serverExit.then(() => clearTimeout(hang));
}

/**
 * One client connection. `plan` is 'pipelined', 'sequential' or 'late'; `startLate` is a
 * promise a 'late' client waits on before it sends. Resolves with what it saw.
 */
function client(port, conn, plan, startLate) {
  const requests = [];
  if (plan === 'late') {
    for (let i = 0; i < 3; i++) requests.push({ id: `L${conn}-${i}`, delayMs: 1, payload: payload(conn, i) });
  } else {
    for (let i = 0; i < REQUESTS; i++) {
      const delayMs = plan === 'pipelined' && i === 0 ? SLOW_MS : fastDelay(conn, i);
      requests.push({ id: `${plan[0]}${conn}-${i}`, delayMs, payload: payload(conn, i) });
    }
  }
  const wire = (r) => `${r.id} ${r.delayMs} ${r.payload}\n`;
  const result = { conn, plan, requests, sent: 0, lines: [], trailing: '', error: null };
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.setEncoding('utf8');
    let buffered = '';
    const sendNext = () => {
      socket.write(wire(requests[result.sent++]));
      if (result.sent === requests.length) socket.end();
    };
    const onLine = (line) => {
      result.lines.push(line);
      if (line === 'HELLO') {
        hellos++;
        maybeSigterm();
        if (plan === 'pipelined') {
          result.sent = requests.length;
          socket.end(requests.map(wire).join(''));
        } else if (plan === 'sequential') sendNext();
        else {
          void startLate.then(() => {
            while (result.sent < requests.length) sendNext();
          });
        }
      } else if (line.startsWith('BYE ')) {
        if (!socket.writableEnded) socket.end();
      } else {
        responses++;
        if (sigtermSent) responsesAfterSigterm++;
        maybeSigterm();
        if (plan === 'sequential' && result.sent < requests.length && result.lines.length - 1 === result.sent) sendNext();
      }
    };
    socket.on('data', (d) => {
      buffered += d;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    socket.on('error', (err) => (result.error = err));
    socket.on('close', () => {
      result.trailing = buffered;
      resolve(result);
    });
  });
}

/** Checks one connection's transcript against the contract; returns its accepted count (0 if unreadable). */
function check(r) {
  const who = `connection ${r.conn} (${r.plan})`;
  if (r.error) fail(`${who}: ${r.error.code ?? r.error.message}`);
  if (r.trailing) fail(`${who}: an unterminated line at the end: ${JSON.stringify(r.trailing.slice(0, 80))}`);
  const [hello, ...rest] = r.lines;
  const bye = /^BYE (\d+)$/.exec(rest.pop() ?? '');
  if (hello !== 'HELLO' || !bye) {
    fail(`${who}: expected HELLO ... BYE <n>, got ${JSON.stringify(r.lines.slice(0, 3))}...${JSON.stringify(r.lines.at(-1))}`);
    return 0;
  }
  const n = Number(bye[1]);
  if (n > r.sent) {
    fail(`${who}: BYE ${n} but only ${r.sent} requests were sent`);
    return 0;
  }
  // Requests on one connection are read in order, so the accepted ones are the first n.
  const expected = new Map(r.requests.slice(0, n).map((q) => [q.id, sha256(q.payload)]));
  const seen = new Set();
  for (const line of rest) {
    if (line.startsWith('ERR ')) {
      fail(`${who}: an error response: ${line.slice(0, 120)}`);
      continue;
    }
    const [id, hex, extra] = line.split(' ');
    if (!expected.has(id)) fail(`${who}: a response to a request it did not accept: ${line.slice(0, 80)}`);
    else if (seen.has(id)) fail(`${who}: a second response to ${id}`);
    else if (hex !== expected.get(id) || extra !== undefined) fail(`${who}: wrong response to ${id}: ${line.slice(0, 120)}`);
    seen.add(id);
  }
  if (seen.size !== n) fail(`${who}: ${n} requests accepted, ${seen.size} answered`);
  if (r.plan === 'late' && n !== 0) fail(`${who}: sent only after the drain began, yet ${n} requests were accepted`);
  return n;
}

/** A connection attempted after the drain began: it must be refused, not hang. */
function refusedClient(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('connect', () => {
      fail('a connection made after the drain began was accepted');
      socket.destroy();
    });
    socket.on('error', (err) => {
      if (err.code !== 'ECONNREFUSED') fail(`a connection after the drain began failed with ${err.code}, expected ECONNREFUSED`);
    });
    socket.on('close', resolve);
  });
}

// --------------------------------------------------------------------------- the run

const listening = await serverLine(/^listening on 127\.0\.0\.1:(\d+)/);
if (!listening) {
  console.error(`FAIL: the server exited before listening:\n${serverOut.join('\n')}\n${serverErr}`);
  process.exit(1);
}
const port = Number(listening[1]);

const draining = serverLine(/draining (\d+) requests in flight/);
const clients = [];
for (let c = 0; c < PIPELINED; c++) clients.push(client(port, c, 'pipelined'));
for (let c = PIPELINED; c < PIPELINED + SEQUENTIAL; c++) clients.push(client(port, c, 'sequential'));
for (let c = PIPELINED + SEQUENTIAL; c < PIPELINED + SEQUENTIAL + LATE_WRITERS; c++) clients.push(client(port, c, 'late', draining));
connections = clients.length;

const drain = await draining;
const refused = drain ? Array.from({ length: REFUSED }, () => refusedClient(port)) : [];
const results = await Promise.all(clients);
await Promise.all(refused);
const exit = await serverExit;
clearTimeout(watchdog);

// --------------------------------------------------------------------------- the verdict

if (!sigtermSent) fail(`SIGTERM was never sent: only ${responses} responses arrived`);
if (!drain) fail('the server never reported the drain');
else if (Number(drain[1]) === 0) fail('nothing was in flight when the drain began: the test did not exercise it');
if (serverKilled) fail(`the server did not exit within ${EXIT_WITHIN_MS / 1000} s of SIGTERM and was killed`);
else if (exit.code !== 0) fail(`the server exited with ${exit.code ?? exit.signal}`);
if (serverErr) fail(`the server wrote to stderr:\n${serverErr}`);

const acceptedByConnections = results.reduce((sum, r) => sum + check(r), 0);
const report = serverOut.map((l) => /^drained: (\d+) requests accepted on (\d+) connections, (\d+) answered/.exec(l)).find(Boolean);
if (!report) fail('the server did not report the end of the drain');
else {
  const [, accepted, conns, answered] = report.map(Number);
  if (accepted !== acceptedByConnections) {
    fail(`the server accepted ${accepted} requests, its connections acknowledged ${acceptedByConnections}`);
  }
  if (answered !== accepted) fail(`the server answered ${answered} of ${accepted} accepted requests`);
  if (conns !== clients.length) fail(`the server served ${conns} connections, expected ${clients.length}`);
}
if (responsesAfterSigterm === 0) fail('no response arrived after SIGTERM: the drain finished nothing');

const sent = results.reduce((sum, r) => sum + r.sent, 0);
const summary =
  `${clients.length} connections sent ${sent} requests; ${acceptedByConnections} accepted and answered ` +
  `(${responsesAfterSigterm} after SIGTERM), ${sent - acceptedByConnections} not read after the drain began; ` +
  `${refused.length} later connections refused; server exit ${exit.code} ${((exit.at - sigtermAt) / 1000).toFixed(1)} s after SIGTERM; ` +
  `${((Date.now() - started) / 1000).toFixed(1)} s in all`;
if (failures.length > 0) {
  console.error(`FAIL (${failures.length}):\n  ${failures.slice(0, 30).join('\n  ')}\n${summary}\nserver output:\n${serverOut.join('\n')}`);
  process.exitCode = 1;
} else {
  console.log(`ok: ${summary}`);
}
