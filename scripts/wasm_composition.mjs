#!/usr/bin/env node
// What a WebAssembly module is made of: code bytes per crate (from the function names in the module's
// "name" section), plus its data segments. Reads the module cargo builds *before* wasm-bindgen and wasm-opt
// (target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm), which still carries the names; the
// shipped module is smaller (wasm-opt) but made of the same parts in about the same shares.
//
//   node scripts/wasm_composition.mjs FILE.wasm [TOP_CRATES] [TOP_FUNCTIONS]
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const [file, topCrates = '25', topFunctions = '0'] = process.argv.slice(2);
if (!file) {
  console.error('usage: wasm_composition.mjs FILE.wasm [TOP_CRATES] [TOP_FUNCTIONS]');
  process.exit(2);
}
const bytes = readFileSync(file);

let pos = 8; // magic + version
function leb(buf, at) {
  let result = 0, shift = 0, byte;
  do {
    byte = buf[at.pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
}
function name(buf, at) {
  const len = leb(buf, at);
  const s = buf.toString('utf8', at.pos, at.pos + len);
  at.pos += len;
  return s;
}

let importedFunctions = 0;
const bodies = []; // [start, size]
const names = new Map();
let dataBytes = 0;
const sections = {};
while (pos < bytes.length) {
  const id = bytes[pos++];
  const at = { pos };
  const size = leb(bytes, at);
  const start = at.pos;
  const end = start + size;
  const section = id === 0 ? `custom:${name(bytes, { pos: start })}` : ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'][id] ?? `id${id}`;
  sections[section] = (sections[section] ?? 0) + size;
  if (id === 2) {
    const count = leb(bytes, at);
    for (let i = 0; i < count; i++) {
      name(bytes, at);
      name(bytes, at);
      const kind = bytes[at.pos++];
      if (kind === 0) { leb(bytes, at); importedFunctions++; }
      else if (kind === 1) { at.pos++; const flags = leb(bytes, at); leb(bytes, at); if (flags & 1) leb(bytes, at); }
      else if (kind === 2) { const flags = leb(bytes, at); leb(bytes, at); if (flags & 1) leb(bytes, at); }
      else if (kind === 3) { at.pos += 2; }
      else if (kind === 4) { at.pos++; leb(bytes, at); }
    }
  } else if (id === 10) {
    const count = leb(bytes, at);
    for (let i = 0; i < count; i++) {
      const len = leb(bytes, at);
      bodies.push([at.pos, len]);
      at.pos += len;
    }
  } else if (id === 11) {
    dataBytes += size;
  } else if (id === 0) {
    const sub = { pos: start };
    if (name(bytes, sub) === 'name') {
      while (sub.pos < end) {
        const kind = bytes[sub.pos++];
        const len = leb(bytes, sub);
        const next = sub.pos + len;
        if (kind === 1) {
          const count = leb(bytes, sub);
          for (let i = 0; i < count; i++) {
            const index = leb(bytes, sub);
            names.set(index, name(bytes, sub));
          }
        }
        sub.pos = next;
      }
    }
  }
  pos = end;
}

// Rust's legacy mangling: _ZN <len><ident>... 17h<hash> E. The first path segment is the crate, except for
// `<Type as Trait>::f` impls, where we take the type's crate (the code is the impl's), or the trait's when
// the type is a primitive or a reference.
function decode(ident) {
  return ident
    .replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ').replace(/\$RF\$/g, '&')
    .replace(/\$BP\$/g, '*').replace(/\$C\$/g, ',').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}')
    .replace(/\$u5b\$/g, '[').replace(/\$u5d\$/g, ']').replace(/\$u27\$/g, "'").replace(/\.\./g, '::');
}
function demangle(sym) {
  let s = sym;
  if (s.startsWith('_ZN')) {
    const at = { pos: 3 };
    const parts = [];
    while (at.pos < s.length && s[at.pos] !== 'E') {
      const m = /^\d+/.exec(s.slice(at.pos));
      if (!m) break;
      const len = Number(m[0]);
      at.pos += m[0].length;
      parts.push(decode(s.slice(at.pos, at.pos + len)));
      at.pos += len;
    }
    if (parts.length && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
    s = parts.join('::');
  }
  return s;
}
const PRIMITIVE = /^(&|\*|\[|\(|_|dyn |impl |u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize|f32|f64|bool|char|str|fn)/;
function crateOf(full) {
  let s = full.replace(/^_+/, '');
  if (s.startsWith('<')) {
    const inner = s.slice(1);
    const as = inner.indexOf(' as ');
    const type = as >= 0 ? inner.slice(0, as) : inner;
    if (!PRIMITIVE.test(type) && /^[A-Za-z_][A-Za-z0-9_]*::/.test(type)) return type.split('::')[0];
    const trait = as >= 0 ? inner.slice(as + 4) : '';
    if (/^[A-Za-z_][A-Za-z0-9_]*::/.test(trait)) return trait.split('::')[0];
    return '(generic impls)';
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(s);
  if (m) return m[1];
  if (/^(__wbg|__wbindgen|wasm_bindgen)/.test(s)) return 'wasm_bindgen';
  if (/^(memcpy|memset|memmove|memcmp|__rust|rust_|dlmalloc|__rdl|__rg|__multi3|__udivti3|__divti3|__umodti3|__modti3|__ashlti3|__lshrti3|__floattidf|__fix)/.test(s)) return 'std';
  return '(other)';
}

const perCrate = new Map();
const functions = [];
let codeBytes = 0;
bodies.forEach(([start, size], i) => {
  const sym = names.get(importedFunctions + i) ?? `func${importedFunctions + i}`;
  const full = demangle(sym);
  const crate = crateOf(full);
  const entry = perCrate.get(crate) ?? { bytes: 0, count: 0, chunks: [] };
  entry.bytes += size;
  entry.count += 1;
  entry.chunks.push(bytes.subarray(start, start + size));
  perCrate.set(crate, entry);
  functions.push([size, full]);
  codeBytes += size;
});

const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }).length;
const kib = (n) => (n / 1024).toFixed(1).padStart(8);
const total = bytes.length;
console.log(`${file}: ${kib(total)} KiB raw, ${kib(br(bytes))} KiB brotli; ${names.size ? '' : 'NO NAME SECTION: '}${bodies.length} functions`);
console.log(`  code ${kib(codeBytes)} KiB, data ${kib(dataBytes)} KiB, names ${kib(sections['custom:name'] ?? 0)} KiB, other ${kib(total - codeBytes - dataBytes - (sections['custom:name'] ?? 0))} KiB`);
console.log('  crate                              code KiB   share   brotli KiB  functions');
const rows = [...perCrate.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
for (const [crate, { bytes: n, count, chunks }] of rows.slice(0, Number(topCrates))) {
  const share = ((100 * n) / codeBytes).toFixed(1).padStart(6);
  console.log(`  ${crate.padEnd(32)} ${kib(n)}  ${share} %  ${kib(br(Buffer.concat(chunks)))}  ${String(count).padStart(9)}`);
}
const rest = rows.slice(Number(topCrates)).reduce((sum, [, e]) => sum + e.bytes, 0);
if (rest) console.log(`  ${'(the rest)'.padEnd(32)} ${kib(rest)}`);
if (Number(topFunctions) > 0) {
  console.log('  largest functions:');
  for (const [size, full] of functions.sort((a, b) => b[0] - a[0]).slice(0, Number(topFunctions))) {
    console.log(`  ${kib(size)}  ${full.slice(0, 160)}`);
  }
}
