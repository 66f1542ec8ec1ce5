// Turns the per-runtime result documents into the console table, bench/results/latest.md
// and bench/results/latest.svg. Node only (used by bench/run.mjs).
//
// Every sample is nanoseconds per operation (bytes in the memory group). "× ref" is the
// entry's speed relative to the group's reference (the peer people would otherwise use,
// or the floor where no peer exists): ref median time / entry median time, so 2.00× =
// twice as fast as the reference, 0.50× = half as fast. Series groups (how a cost grows
// with a level: calls in flight, threads, load) have no reference: their tables give the
// figure at each level and the SVG plots them as lines, one per runtime.

import { checkTargets } from './targets.mjs';

export const RUNTIME_ORDER = ['node', 'bun', 'deno', 'chromium'];
const COLORS = { node: '#3c873a', bun: '#d4a017', deno: '#1f2937', chromium: '#4285f4' };

/** Group id -> { id, title, metric, opName, entries: Map(name -> { kind, ref, perRuntime }) } */
function collate(docs) {
  const groups = new Map();
  for (const doc of docs) {
    for (const g of doc.groups ?? []) {
      let cg = groups.get(g.id);
      if (!cg) {
        cg = { id: g.id, title: g.title, metric: g.metric, opName: g.opName, rounds: g.rounds, series: g.series, entries: new Map() };
        groups.set(g.id, cg);
      }
      for (const e of g.entries) {
        let ce = cg.entries.get(e.name);
        if (!ce) {
          ce = { name: e.name, kind: e.kind, ref: e.ref, x: e.x, line: e.line, perRuntime: {} };
          cg.entries.set(e.name, ce);
        }
        ce.ref ||= e.ref === true ? 1 : e.ref || 0;
        ce.perRuntime[doc.runtime] = e;
      }
    }
  }
  return groups;
}

/** The group's primary reference entry. */
function refEntry(group) {
  return refEntries(group)[0];
}

function refEntries(group) {
  return [...group.entries.values()].filter((e) => e.ref).sort((a, b) => a.ref - b.ref);
}

/** The reference on `runtime`: the primary one, or a stand-in where it did not run. */
function refOn(group, runtime) {
  return refEntries(group).find((e) => e.perRuntime[runtime]?.median) ?? null;
}

/** Speed of `e` relative to the group's reference on `runtime`, or null. */
function ratio(group, e, runtime) {
  const ref = refOn(group, runtime)?.perRuntime[runtime];
  const mine = e.perRuntime[runtime];
  if (!ref?.median || !mine?.median) return null;
  return ref.median / mine.median;
}

// ------------------------------------------------------------------ number formatting

function groupScale(group) {
  // One unit per group so runtimes and entries compare at a glance.
  if (group.metric === 'throughput') return { unit: 'calls/s', fmt: (ns) => fmtRate(1e9 / ns) };
  // Memory spans KiB (a context) to MiB (a thread): each figure carries its unit.
  if (group.metric === 'memory') return { unit: 'bytes', fmt: fmtBytes };
  const all = [];
  for (const e of group.entries.values()) for (const r of Object.values(e.perRuntime)) if (r.median) all.push(r.median);
  const typical = all.sort((a, b) => a - b)[0] ?? 1;
  if (typical >= 1e6) return { unit: 'ms', fmt: (ns) => sig(ns / 1e6) };
  if (typical >= 1e3) return { unit: 'µs', fmt: (ns) => sig(ns / 1e3) };
  return { unit: 'ns', fmt: (ns) => sig(ns) };
}

function sig(x) {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtRate(r) {
  if (r >= 1e6) return `${sig(r / 1e6)} M`;
  if (r >= 1e3) return `${sig(r / 1e3)} k`;
  return sig(r);
}

function fmtBytes(b) {
  if (Math.abs(b) >= 2 ** 20) return `${sig(b / 2 ** 20)} MiB`;
  return `${sig(b / 1024)} KiB`;
}

/** A time in ns with the unit that suits it (axes spanning decades). */
function fmtTime(ns) {
  if (ns >= 1e6) return `${sig(ns / 1e6)} ms`;
  if (ns >= 1e3) return `${sig(ns / 1e3)} µs`;
  return `${sig(ns)} ns`;
}

/** A series group's level, for tables and axes. */
function fmtLevel(x) {
  return typeof x === 'number' ? x.toLocaleString('en-US') : String(x);
}

function fmtRatio(x) {
  if (x === null || x === undefined) return '–';
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

function cell(scale, group, r) {
  if (!r) return '–';
  if (r.skipped) return 'skipped';
  if (r.median === undefined) return '–';
  if (group.metric === 'throughput') return `${scale.fmt(r.median)} [${scale.fmt(r.max)}–${scale.fmt(r.min)}]`;
  return `${scale.fmt(r.median)} [${scale.fmt(r.min)}–${scale.fmt(r.max)}]`;
}

function label(e) {
  const tag = e.kind === 'ours' ? '**aio**' : e.kind === 'floor' ? 'floor' : 'peer';
  const ref = e.ref === 1 ? ' (ref)' : e.ref > 1 ? ' (ref where the ref did not run)' : '';
  return `${tag}: ${e.name.replace(/^aio /, '')}${ref}`;
}

// ------------------------------------------------------------------ markdown

export function markdown(docs, machine) {
  const runtimes = RUNTIME_ORDER.filter((r) => docs.some((d) => d.runtime === r));
  const groups = collate(docs);
  const L = [];
  const quick = docs.some((d) => d.quick);
  L.push(`# aio benchmark results${quick ? ' (quick pass)' : ''}`);
  L.push('');
  L.push(`Run ${docs[0]?.startedAt ?? ''} by \`${docs[0]?.command ?? 'node bench/run.mjs'}\`. Machine: ${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${machine.os}.${machine.source ? ` Source: commit ${machine.source}.` : ''}`);
  L.push('');
  L.push('| runtime | version | samples × target | pass took |');
  L.push('|---|---|---|---|');
  for (const d of docs) {
    const v = Object.entries(d.runtimeVersion ?? {})
      .filter(([k]) => k !== 'userAgent' && k !== 'executable' && k !== 'revision')
      .map(([k, x]) => `${k} ${x}`)
      .join(', ');
    const s = d.settings ? `${d.settings.samples} × ${d.settings.targetMs} ms` : '–';
    L.push(`| ${d.runtime} | ${v || d.runtimeVersion?.userAgent || '?'} | ${s} | ${(d.elapsedMs / 1000).toFixed(0)} s${d.complete ? '' : ' (incomplete)'} |`);
  }
  L.push('');
  L.push('Method: each group runs in a fresh process (a fresh browser on Chromium), and in it every library runs beside the others, its threads created and answering before timing starts (start-up is reported apart, below); each entry warms up while the operations per sample are calibrated; then samples are taken in rounds, one sample of every entry per round, the order rotated each round. Cells: **median [min–max]** per operation (throughput groups: calls per second). **× ref** is speed relative to the group\'s reference (ref): ref time ÷ entry time, so above 1 is faster than the reference. Floors are what the hardware and runtime allow with no library at all.');
  if (runtimes.includes('chromium')) L.push('\nChromium: entries that block (Atomics.wait on the waiting side) ran in a dedicated worker, the others on the page\'s main thread (marked *worker* where it matters).');
  for (const g of groups.values()) {
    const scale = groupScale(g);
    if (g.series) {
      L.push(...seriesTable(g, scale, runtimes));
      continue;
    }
    const ref = refEntry(g);
    L.push('');
    L.push(`## ${g.title}`);
    L.push('');
    const stand = [...new Set(runtimes.map((rt) => refOn(g, rt)).filter((x) => x && x !== ref))];
    const standText = stand.length ? ` (${stand.map((x) => `${x.name} on ${runtimes.filter((rt) => refOn(g, rt) === x).join(', ')}`).join('; ')}, where the ref did not run)` : '';
    L.push(`Per ${g.opName}, ${scale.unit}${g.rounds ? `; ${g.rounds} samples each` : ''}${ref ? `; ref = ${ref.name}${standText}` : ''}.`);
    L.push('');
    L.push(`| entry | ${runtimes.map((r) => `${r} | × ref`).join(' | ')} |`);
    L.push(`|---|${runtimes.map(() => '---:|---:').join('|')}|`);
    for (const e of g.entries.values()) {
      const cols = runtimes.map((rt) => {
        const r = e.perRuntime[rt];
        const where = r?.thread === 'worker' && rt === 'chromium' ? ' *worker*' : '';
        const c = cell(scale, g, r);
        return `${e.kind === 'ours' && r?.median ? `**${c}**` : c}${where} | ${r?.median ? fmtRatio(ratio(g, e, rt)) : ''}`;
      });
      L.push(`| ${label(e)} | ${cols.join(' | ')} |`);
    }
  }
  // The issues' targets, computed from this run.
  const verdicts = checkTargets(groups, runtimes);
  if (verdicts.length) {
    L.push('');
    L.push('## Targets (from the issues; speed of ours ÷ speed of the other, same run)');
    L.push('');
    L.push(`| target | ${runtimes.join(' | ')} |`);
    L.push(`|---|${runtimes.map(() => '---:').join('|')}|`);
    for (const text of new Set(verdicts.map((v) => v.text))) {
      const cols = runtimes.map((rt) => {
        const v = verdicts.find((x) => x.text === text && x.runtime === rt);
        return v ? `${fmtRatio(v.ratio)} ${v.holds ? 'yes' : '**no**'}` : '–';
      });
      L.push(`| ${text} | ${cols.join(' | ')} |`);
    }
    L.push(...besideFloors(verdicts));
  }
  // Start-up, measured apart.
  const startup = [];
  for (const g of groups.values()) {
    for (const e of g.entries.values()) {
      if (Object.values(e.perRuntime).some((r) => r.startupMs !== undefined)) startup.push({ g, e });
    }
  }
  if (startup.length) {
    L.push('');
    L.push('## Start-up (set-up until the first answer, measured before the steady state), ms');
    L.push('');
    L.push(`| group | entry | ${runtimes.join(' | ')} |`);
    L.push(`|---|---|${runtimes.map(() => '---:').join('|')}|`);
    for (const { g, e } of startup) {
      L.push(`| ${g.id} | ${label(e)} | ${runtimes.map((rt) => (e.perRuntime[rt]?.startupMs !== undefined ? e.perRuntime[rt].startupMs.toFixed(1) : '–')).join(' | ')} |`);
    }
  }
  // Skips.
  const skips = [];
  for (const g of groups.values()) {
    for (const e of g.entries.values()) {
      for (const rt of runtimes) {
        const r = e.perRuntime[rt];
        if (r?.skipped) skips.push(`- ${rt}, ${g.id}: ${e.name} — ${r.skipped}`);
      }
    }
  }
  const failed = docs.filter((d) => d.failure);
  if (skips.length || failed.length) {
    L.push('');
    L.push('## Skipped');
    L.push('');
    for (const d of failed) L.push(`- ${d.runtime}: the pass failed or was cut short — ${d.failure}`);
    L.push(...collapseSkips(skips));
  }
  L.push('');
  L.push('Chart: `latest.svg` (speed of each aio entry relative to its group\'s reference, per runtime, log scale). Raw samples: the JSON files next to this one.');
  return `${L.join('\n')}\n`;
}

/** A series group: the figure at each level per runtime, no reference; the entries' notes. */
function seriesTable(g, scale, runtimes) {
  const L = ['', `## ${g.title}`, ''];
  const per = g.metric === 'throughput' ? 'calls per second' : `per ${g.opName}, ${scale.unit === 'bytes' ? 'bytes' : scale.unit}`;
  L.push(`A series against ${g.series.x} (no reference; plotted in \`latest.svg\`), ${per}; ${g.rounds ?? '?'} samples each, median [min–max].`);
  L.push('');
  L.push(`| ${g.series.x} | entry | ${runtimes.join(' | ')} |`);
  L.push(`|---|---|${runtimes.map(() => '---:').join('|')}|`);
  for (const e of g.entries.values()) {
    const cols = runtimes.map((rt) => cell(scale, g, e.perRuntime[rt]));
    L.push(`| ${fmtLevel(e.x ?? '')} | ${e.line ?? e.name} | ${cols.join(' | ')} |`);
  }
  const notes = [];
  const seen = new Set();
  for (const e of g.entries.values()) {
    // An entry split into several figures (p50, p99, ...) has one note.
    if (e.line && seen.has(e.line)) continue;
    seen.add(e.line);
    for (const rt of runtimes) {
      const note = e.perRuntime[rt]?.note;
      if (note) notes.push(`- ${rt}, ${e.line ?? e.name}: ${note}`);
    }
  }
  if (notes.length) L.push('', ...notes);
  return L;
}

/** Merges identical skip reasons across runtimes into one line. */
function collapseSkips(lines) {
  const by = new Map();
  for (const l of lines) {
    const m = /^- (\w+), (.*)$/.exec(l);
    const key = m[2];
    by.set(key, [...(by.get(key) ?? []), m[1]]);
  }
  return [...by].map(([k, rts]) => `- ${rts.join(', ')}, ${k}`);
}

// ------------------------------------------------------------------ console table

export function consoleTable(docs) {
  const runtimes = RUNTIME_ORDER.filter((r) => docs.some((d) => d.runtime === r));
  const groups = collate(docs);
  const W = 54;
  const C = 20;
  const out = [];
  const pad = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  for (const g of groups.values()) {
    const scale = groupScale(g);
    out.push('');
    out.push(`${g.title} — per ${g.opName}, ${scale.unit}, (× ref)`);
    out.push(`${pad('', W)}${runtimes.map((r) => r.padStart(C)).join('')}`);
    for (const e of g.entries.values()) {
      const name = `${e.kind === 'ours' ? '* ' : e.kind === 'floor' ? '_ ' : '  '}${e.name}${e.ref === 1 ? ' (ref)' : e.ref ? ' (ref 2)' : ''}`;
      const cols = runtimes.map((rt) => {
        const r = e.perRuntime[rt];
        if (!r) return '–'.padStart(C);
        if (r.skipped || r.median === undefined) return 'skip'.padStart(C);
        const x = ratio(g, e, rt);
        return `${scale.fmt(r.median)}${x !== null && refOn(g, rt) !== e ? ` (${fmtRatio(x)})` : ''}`.padStart(C);
      });
      out.push(`${pad(name, W)}${cols.join('')}`);
    }
  }
  out.push('');
  out.push('* aio   _ floor   (× ref) = speed relative to the reference: above 1 is faster');
  return out.join('\n');
}

// ------------------------------------------------------------------ SVG chart

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bars: every aio entry × runtime, its speed relative to the group's reference, log2 scale. */
export function svgChart(docs, machine) {
  const runtimes = RUNTIME_ORDER.filter((r) => docs.some((d) => d.runtime === r));
  const groups = collate(docs);
  const rows = [];
  for (const g of groups.values()) {
    const ref = refEntry(g);
    if (!ref) continue;
    for (const e of g.entries.values()) {
      if (e.kind !== 'ours') continue;
      const stand = [...new Set(runtimes.map((rt) => refOn(g, rt)).filter((x) => x && x !== ref))];
      const refName = `${ref.name}${stand.length ? ` (else ${stand.map((x) => x.name).join(', ')})` : ''}`;
      rows.push({ g, e, refName, values: runtimes.map((rt) => ({ rt, x: ratio(g, e, rt), r: e.perRuntime[rt] })) });
    }
  }
  let lo = -3;
  let hi = 3;
  for (const row of rows) {
    for (const v of row.values) {
      if (v.x) {
        lo = Math.min(lo, Math.floor(Math.log2(v.x)));
        hi = Math.max(hi, Math.ceil(Math.log2(v.x)));
      }
    }
  }
  lo = Math.max(lo, -10);
  hi = Math.min(hi, 10);
  const labelW = 470;
  const plotW = 520;
  const barH = 9;
  const rowH = runtimes.length * barH + 16;
  const top = 86;
  const barsHeight = top + rows.length * rowH + 60;
  const width = labelW + plotW + 90;
  const series = [...groups.values()].filter((g) => g.series);
  const panelW = (width - 48) / 2;
  const panelH = 250;
  const height = barsHeight + Math.ceil(series.length / 2) * (panelH + 24) + (series.length ? 40 : 0);
  const xOf = (ratioValue) => labelW + ((Math.log2(ratioValue) - lo) / (hi - lo)) * plotW;
  const x1 = xOf(1);
  const S = [];
  S.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  S.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  S.push(`<text x="16" y="24" font-size="16" font-weight="600">aio vs the reference of each benchmark (speed ratio, log scale; right of 1× = aio faster)</text>`);
  S.push(`<text x="16" y="44" fill="#555">${esc(`${machine.cpu}, ${machine.cores} cores · ${docs[0]?.startedAt ?? ''}${docs.some((d) => d.quick) ? ' · quick pass' : ''} · median of ${docs[0]?.settings?.samples ?? '?'} samples`)}</text>`);
  // Legend.
  runtimes.forEach((rt, i) => {
    const lx = labelW + i * 110;
    S.push(`<rect x="${lx}" y="54" width="12" height="12" fill="${COLORS[rt]}"/><text x="${lx + 17}" y="64">${rt}</text>`);
  });
  // Grid.
  for (let p = lo; p <= hi; p++) {
    const x = labelW + ((p - lo) / (hi - lo)) * plotW;
    const t = p >= 0 ? `${2 ** p}×` : `1/${2 ** -p}`;
    S.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${barsHeight - 48}" stroke="${p === 0 ? '#000' : '#e5e7eb'}" stroke-width="${p === 0 ? 1.5 : 1}"/>`);
    S.push(`<text x="${x}" y="${barsHeight - 32}" text-anchor="middle" fill="#444">${t}</text>`);
  }
  S.push(`<text x="${labelW + plotW / 2}" y="${barsHeight - 12}" text-anchor="middle" fill="#444">reference time ÷ aio time</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (i % 2 === 0) S.push(`<rect x="8" y="${y - 4}" width="${width - 16}" height="${rowH}" fill="#f8fafc"/>`);
    const name = row.e.name.replace(/^aio /, '');
    S.push(`<text x="16" y="${y + 8}" font-weight="600">${esc(row.g.id)}: ${esc(name.length > 62 ? `${name.slice(0, 61)}…` : name)}</text>`);
    S.push(`<text x="16" y="${y + 22}" fill="#666" font-size="11">vs ${esc(row.refName.length > 72 ? `${row.refName.slice(0, 71)}…` : row.refName)}</text>`);
    row.values.forEach((v, j) => {
      const by = y + j * barH;
      if (!v.x) {
        const why = v.r?.skipped ? 'skipped' : v.r ? 'no reference' : 'not run';
        S.push(`<text x="${x1 + 4}" y="${by + 8}" font-size="9" fill="#999">${v.rt}: ${why}</text>`);
        return;
      }
      const xv = Math.min(Math.max(xOf(v.x), labelW), labelW + plotW);
      const bx = Math.min(x1, xv);
      const bw = Math.max(Math.abs(xv - x1), 1);
      S.push(`<rect x="${bx.toFixed(1)}" y="${by}" width="${bw.toFixed(1)}" height="${barH - 2}" fill="${COLORS[v.rt]}"><title>${esc(`${v.rt}: ${fmtRatio(v.x)}`)}</title></rect>`);
      const tx = v.x >= 1 ? xv + 3 : xv - 3;
      S.push(`<text x="${tx.toFixed(1)}" y="${by + 7}" font-size="9" text-anchor="${v.x >= 1 ? 'start' : 'end'}" fill="#333">${fmtRatio(v.x)}</text>`);
    });
  });
  if (series.length) {
    S.push(`<text x="16" y="${barsHeight + 24}" font-size="16" font-weight="600">How cost grows (medians, log scale; bars: min–max of the samples)</text>`);
    series.forEach((g, i) => {
      S.push(...seriesPanel(g, runtimes, 16 + (i % 2) * (panelW + 16), barsHeight + 40 + Math.floor(i / 2) * (panelH + 24), panelW, panelH));
    });
  }
  S.push('</svg>');
  return `${S.join('\n')}\n`;
}

const DASHES = ['', '6 3', '2 2'];

/**
 * One series group as a line chart at (x0, y0): its levels along x, evenly spaced; the
 * figure on a log y axis (calls/s for throughput, time or bytes otherwise); one colour
 * per runtime, one dash pattern per line where an entry reports several figures.
 */
function seriesPanel(g, runtimes, x0, y0, w, h) {
  const scale = groupScale(g);
  const throughput = g.metric === 'throughput';
  const y = (v) => (throughput ? 1e9 / v : v);
  const entries = [...g.entries.values()];
  const levels = [...new Set(entries.map((e) => e.x ?? e.name))];
  const lines = [...new Set(entries.map((e) => e.line ?? ''))];
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of entries) {
    for (const rt of runtimes) {
      const r = e.perRuntime[rt];
      if (!r?.median) continue;
      for (const v of [r.min, r.max]) {
        if (y(v) > 0) {
          lo = Math.min(lo, y(v));
          hi = Math.max(hi, y(v));
        }
      }
    }
  }
  const S = [];
  const left = x0 + 64;
  const right = x0 + w - 12;
  const top = y0 + 34 + (lines.length > 1 ? 14 : 0);
  const bottom = y0 + h - 34;
  S.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#f8fafc" stroke="#e5e7eb"/>`);
  const title = `${g.id}: ${g.title}`;
  S.push(`<text x="${x0 + 8}" y="${y0 + 16}" font-weight="600" font-size="11">${esc(title.length > 80 ? `${title.slice(0, 79)}…` : title)}<title>${esc(title)}</title></text>`);
  lines.forEach((line, j) => {
    if (lines.length < 2) return;
    const lx = x0 + 8 + j * (w / 2);
    S.push(`<line x1="${lx}" y1="${y0 + 29}" x2="${lx + 22}" y2="${y0 + 29}" stroke="#333" stroke-dasharray="${DASHES[j % DASHES.length]}"/><text x="${lx + 26}" y="${y0 + 32}" font-size="10">${esc(line.replace(/^aio /, ''))}</text>`);
  });
  if (!(lo < hi) && lo === hi) {
    lo /= 2;
    hi *= 2;
  }
  if (!(lo < hi)) {
    S.push(`<text x="${left}" y="${(top + bottom) / 2}" fill="#999">not run</text>`);
    return S;
  }
  const l0 = Math.floor(Math.log10(lo) * 2) / 2;
  const l1 = Math.ceil(Math.log10(hi) * 2) / 2;
  // A figure at or below zero (memory growth within the noise) sits on the axis.
  const yOf = (v) => bottom - ((Math.log10(Math.max(v, 10 ** l0)) - l0) / (l1 - l0 || 1)) * (bottom - top);
  const xOf = (k) => (levels.length > 1 ? left + 10 + (k / (levels.length - 1)) * (right - left - 20) : (left + right) / 2);
  for (let p = Math.ceil(l0); p <= Math.floor(l1); p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v < 10 ** l0 || v > 10 ** l1) continue;
      const yy = yOf(v).toFixed(1);
      const text = throughput ? fmtRate(v) : scale.unit === 'bytes' ? fmtBytes(v) : fmtTime(v);
      S.push(`<line x1="${left}" y1="${yy}" x2="${right}" y2="${yy}" stroke="${m === 1 ? '#d1d5db' : '#eef0f3'}"/><text x="${left - 4}" y="${Number(yy) + 3}" text-anchor="end" font-size="9" fill="#555">${esc(text)}</text>`);
    }
  }
  levels.forEach((x, k) => {
    S.push(`<text x="${xOf(k).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="10" fill="#444">${esc(fmtLevel(x))}</text>`);
  });
  S.push(`<text x="${(left + right) / 2}" y="${bottom + 28}" text-anchor="middle" font-size="10" fill="#444">${esc(g.series.x)}${throughput ? ' (calls/s, higher is better)' : ''}</text>`);
  runtimes.forEach((rt, ri) => {
    lines.forEach((line, j) => {
      const pts = [];
      for (const e of entries) {
        if ((e.line ?? '') !== line) continue;
        const r = e.perRuntime[rt];
        if (!r?.median) continue;
        // Runtimes side by side at each level, so their whiskers do not overlap.
        const xx = xOf(levels.indexOf(e.x ?? e.name)) + (ri - (runtimes.length - 1) / 2) * 3;
        pts.push([xx, yOf(y(r.median))]);
        S.push(`<line x1="${xx.toFixed(1)}" y1="${yOf(y(r.min)).toFixed(1)}" x2="${xx.toFixed(1)}" y2="${yOf(y(r.max)).toFixed(1)}" stroke="${COLORS[rt]}" stroke-opacity="0.45"/>`);
        S.push(`<circle cx="${xx.toFixed(1)}" cy="${yOf(y(r.median)).toFixed(1)}" r="2.5" fill="${COLORS[rt]}"><title>${esc(`${rt}, ${e.name}: ${cell(scale, g, r)}`)}</title></circle>`);
      }
      if (pts.length > 1) S.push(`<polyline points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}" fill="none" stroke="${COLORS[rt]}" stroke-width="1.5" stroke-dasharray="${DASHES[j % DASHES.length]}"/>`);
    });
  });
  return S;
}

// ------------------------------------------------------------------ README summary

/** The README's summary rows: [label, group id, entry name prefix]; units come from the group. */
const SUMMARY_ROWS = [
  ['round trip: raw futex ping-pong (floor)', 'roundtrip', 'Atomics.wait/notify ping-pong'],
  ['round trip: aio dedicated, polling off', 'roundtrip', 'aio dedicated, pollMaxNs 0'],
  ['round trip: aio dedicated, adaptive polling (default)', 'roundtrip', 'aio dedicated, adaptive polling'],
  ['round trip: raw waitAsync ↔ waitAsync (floor)', 'roundtrip', 'Atomics.waitAsync ↔ waitAsync'],
  ['round trip: aio integrated', 'roundtrip', 'aio integrated'],
  ['awaited IOThread.call() (default: the caller spins for its reply)', 'roundtrip', 'aio IOThread.call (await each call; default'],
  ['awaited IOThread.call(), replyPollMaxNs 0', 'roundtrip', 'aio IOThread.call (await each call; replyPollMaxNs 0'],
  ['awaited piscina task', 'roundtrip', 'piscina (1 thread'],
  ['CPU time per awaited IOThread.call() (default)', 'call-cpu', 'aio IOThread.call (default'],
  ['CPU time per awaited IOThread.call(), replyPollMaxNs 0', 'call-cpu', 'aio IOThread.call (replyPollMaxNs 0'],
  ['CPU time per awaited piscina task', 'call-cpu', 'piscina'],
  ['calls in flight on 2 threads: IOThread.call', 'throughput', 'aio IOThread.call'],
  ['calls in flight on 2 threads: ctx.threadPool', 'throughput', 'aio thread pool'],
  ['calls in flight on 2 threads: piscina', 'throughput', 'piscina'],
  ['calls in flight on 2 threads: poolifier', 'throughput', 'poolifier'],
  ['per-call time, 1,000 calls in flight', 'inflight', 'aio IOThread.call, 1,000 in flight'],
  ['per-call time, 100,000 calls in flight', 'inflight', 'aio IOThread.call, 100,000 in flight'],
  ['BH schedule + dispatch', 'bh', 'aio BH'],
  ['queueMicrotask chain', 'bh', 'queueMicrotask chain'],
  ['timer arm + cancel', 'timer-arm', 'aio timer'],
  ['setTimeout + clearTimeout', 'timer-arm', 'setTimeout + clearTimeout'],
  ['Mutex lock + unlock', 'mutex-uncontended', 'aio Mutex'],
  ['inline futex lock (floor)', 'mutex-uncontended', 'inline futex lock (CAS'],
  ['multithreading Mutex', 'mutex-uncontended', 'multithreading Mutex'],
  ['Mutex, 2 threads contending', 'mutex-contended', 'aio Mutex'],
  ['inline futex lock, 2 threads (floor)', 'mutex-contended', 'inline futex lock'],
  ['CoMutex, 8 async contenders', 'comutex-8', 'aio CoMutex from async functions'],
  ['CoMutex, 8 coroutines (yield*)', 'comutex-8', 'aio CoMutex, 8 coroutines (yield once inside; the holder'],
  ['bare promise hand-off, 8 contenders (floor)', 'comutex-8', 'bare promise hand-off (a FIFO'],
  ['bare generator hand-off, 8 contenders (floor)', 'comutex-8', 'bare generator hand-off'],
  ['@esfx/async-mutex, 8 contenders', 'comutex-8', '@esfx/async-mutex'],
  ['async-mutex, 8 contenders', 'comutex-8', 'async-mutex Mutex (acquire'],
  ['idle IOThread (RSS)', 'memory', 'aio IOThread'],
  ['worker that only imports aio-core (floor)', 'memory', 'worker that imports aio-core'],
  ['bare worker (floor)', 'memory', 'bare worker'],
];

/** The runtime's own version (its first version entry: node, bun, deno, chromium). */
function versionOf(doc) {
  return doc.runtimeVersion?.[doc.runtime] ?? '?';
}

/** One unit for a row of medians (times in ns: the unit of the smallest). */
function rowScale(group, medians) {
  if (group.metric === 'throughput' || group.metric === 'memory') return groupScale(group);
  const least = Math.min(...medians);
  if (least >= 1e6) return { unit: 'ms', fmt: (ns) => sig(ns / 1e6) };
  if (least >= 1e3) return { unit: 'µs', fmt: (ns) => sig(ns / 1e3) };
  return { unit: 'ns', fmt: (ns) => sig(ns) };
}

/**
 * The README's generated block: the summary table (medians; min–max are in latest.md)
 * and the targets' verdicts, from the documents of one full run.
 */
export function readmeSummary(docs, machine) {
  const groups = collate(docs);
  const runtimes = docs.map((d) => d.runtime);
  const L = [];
  const versions = docs.map((d) => `${d.runtime} ${versionOf(d)}`).join(', ');
  L.push(`Latest full run: ${docs[0]?.startedAt?.slice(0, 10) ?? '?'}, ${machine.cpu}, ${machine.cores} cores, ${machine.os}; ${versions}.`);
  L.push('');
  L.push(`| median (min–max in bench/results/latest.md) | ${runtimes.join(' | ')} |`);
  L.push(`|---|${runtimes.map(() => '---:').join('|')}|`);
  for (const [text, id, prefix] of SUMMARY_ROWS) {
    const g = groups.get(id);
    const e = g && [...g.entries.values()].find((x) => x.name.startsWith(prefix));
    if (!e) continue;
    const scale = rowScale(g, runtimes.map((rt) => e.perRuntime[rt]?.median).filter((m) => m));
    const unit = g.metric === 'memory' ? '' : ` (${scale.unit})`;
    const cols = runtimes.map((rt) => {
      const r = e.perRuntime[rt];
      return r?.median ? scale.fmt(r.median) : '–';
    });
    L.push(`| ${text}${unit} | ${cols.join(' | ')} |`);
  }
  const verdicts = checkTargets(groups, runtimes);
  L.push('');
  L.push('The issues\' targets, checked by the suite itself on the figures of that run (speed of');
  L.push('ours ÷ speed of the other entry):');
  L.push('');
  L.push(`| target | ${runtimes.join(' | ')} |`);
  L.push(`|---|${runtimes.map(() => '---:').join('|')}|`);
  for (const text of new Set(verdicts.map((v) => v.text))) {
    const cols = runtimes.map((rt) => {
      const v = verdicts.find((x) => x.text === text && x.runtime === rt);
      return v ? `${fmtRatio(v.ratio)} ${v.holds ? 'yes' : '**no**'}` : '–';
    });
    L.push(`| ${text} | ${cols.join(' | ')} |`);
  }
  L.push(...besideFloors(verdicts));
  return L.join('\n');
}

/** Lines that set each missed target that names a floor beside that floor (targets.mjs). */
function besideFloors(verdicts) {
  const bounded = verdicts.filter((v) => v.floor);
  if (!bounded.length) return [];
  const L = ['', 'Missed targets beside the floor of their group that measures the least their semantics need (speed of ours ÷ speed of that floor, same run):', ''];
  for (const text of new Set(bounded.map((v) => v.text))) {
    const vs = bounded.filter((v) => v.text === text);
    L.push(`- ${text}: against ${vs[0].floor.what}, ${vs.map((v) => `${v.runtime} ${fmtRatio(v.floor.ratio)}`).join(', ')}`);
  }
  return L;
}
