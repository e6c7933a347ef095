// A real SMTP sink for the browser tests: the portal (lettre, plain smtp://, no TLS, no AUTH) sends its
// mail here, and the specs read it back over HTTP.
//
//   SMTP  127.0.0.1:$SMTP_SINK_PORT       greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT
//   HTTP  127.0.0.1:$SMTP_SINK_HTTP_PORT  GET /health, GET /messages[?to=address], DELETE /messages
//
// Every message is kept in memory as {id, from, to, raw, subject, text, html, received_at}, where `from`
// and `to` are the envelope addresses, `subject` is decoded (RFC 2047) and `text`/`html` are the decoded
// text/plain and text/html parts. Nothing is logged on success; errors go to stderr.
//
// Node 20, no dependencies: node:net and node:http only.

import { createServer as createSmtpServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

const HOST = '127.0.0.1';
const MAX_SIZE = 10 * 1024 * 1024; // advertised with SIZE; bigger messages are refused with 552
const MAX_LINE = 4096; // a command line longer than this (without its end) is refused
const MAX_RECIPIENTS = 100;
const IDLE_MS = 5 * 60 * 1000;

function port(name) {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    console.error(`smtp-sink: set ${name} to a TCP port (got ${JSON.stringify(process.env[name])})`);
    process.exit(2);
  }
  return value;
}

const smtpPort = port('SMTP_SINK_PORT');
const httpPort = port('SMTP_SINK_HTTP_PORT');

/** @type {Array<{id: number, from: string, to: string[], raw: string, subject: string, text: string, html: string, received_at: string}>} */
let messages = [];
let nextId = 1;

// ---------------------------------------------------------------------------------------------------------
// MIME: the messages are parsed as "binary" strings (one char per byte) so that charsets are applied to the
// real bytes at the end.

/** Bytes (a binary string or Buffer) to text in `charset`, falling back to UTF-8. */
function decodeBytes(bytes, charset) {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const label = String(charset || 'utf-8').split('*')[0].trim().toLowerCase();
  try {
    return new TextDecoder(label).decode(buf);
  } catch {
    return new TextDecoder('utf-8').decode(buf);
  }
}

/** Splits a header block + body at the first empty line. */
function splitEntity(entity) {
  const m = /\r?\n\r?\n/.exec(entity);
  if (!m) {
    // only headers, or only a body (no header line looks like "Name: value")
    return /^[!-9;-~]+:/.test(entity) ? { head: entity, body: '' } : { head: '', body: entity };
  }
  return { head: entity.slice(0, m.index), body: entity.slice(m.index + m[0].length) };
}

/** Unfolded header fields, names lower-cased; the first of each name wins. */
function parseHeaders(head) {
  const headers = new Map();
  const unfolded = head.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/** `text/plain; charset="utf-8"` → {type: 'text/plain', params: {charset: 'utf-8'}}. */
function parseParams(value) {
  const [first, ...rest] = splitOutsideQuotes(value ?? '', ';');
  const params = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let val = part.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) {
      val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    params[key] = val;
  }
  return { type: first.trim().toLowerCase(), params };
}

function splitOutsideQuotes(value, sep) {
  const parts = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += c + value[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === sep && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Quoted-printable (binary string in, binary string out). */
function decodeQuotedPrintable(s) {
  return s
    .replace(/[ \t]+(?=\r?\n)/g, '') // trailing white space is not part of the text
    .replace(/=\r?\n/g, '') // soft line breaks
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** A part's body as text, after its Content-Transfer-Encoding and charset. */
function decodeBody(headers, body) {
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const { params } = parseParams(headers.get('content-type') ?? 'text/plain');
  let bytes;
  if (encoding === 'quoted-printable') bytes = Buffer.from(decodeQuotedPrintable(body), 'latin1');
  else if (encoding === 'base64') bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else bytes = Buffer.from(body, 'latin1');
  return decodeBytes(bytes, params.charset).replace(/\r\n/g, '\n');
}

/** The first text/plain and text/html parts that are not attachments, searching nested multiparts. */
function findTextParts(entity, found = { text: undefined, html: undefined }, depth = 0) {
  const { head, body } = splitEntity(entity);
  const headers = parseHeaders(head);
  const { type, params } = parseParams(headers.get('content-type') || 'text/plain');
  if (type.startsWith('multipart/') && params.boundary && depth < 20) {
    for (const part of multipartParts(body, params.boundary)) {
      findTextParts(part, found, depth + 1);
      if (found.text !== undefined && found.html !== undefined) break;
    }
    return found;
  }
  const disposition = parseParams(headers.get('content-disposition') ?? 'inline').type;
  if (disposition === 'attachment') return found;
  if (type === 'text/plain' && found.text === undefined) found.text = decodeBody(headers, body);
  else if (type === 'text/html' && found.html === undefined) found.html = decodeBody(headers, body);
  return found;
}

/** The body parts between `--boundary` lines (the preamble and epilogue are dropped). */
function multipartParts(body, boundary) {
  const lines = body.split(/\r?\n/);
  const parts = [];
  let current = null;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed === `--${boundary}--`) {
      if (current) parts.push(current.join('\r\n'));
      current = null;
      break;
    }
    if (trimmed === `--${boundary}`) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
      continue;
    }
    if (current) current.push(line);
  }
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

/** RFC 2047 encoded-words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`) in a header value; the white space between
 *  two adjacent encoded-words is dropped, and adjacent words in one charset are joined as bytes first so that
 *  a character split across them survives. The value is a binary string (raw 8-bit headers are UTF-8). */
function decodeEncodedWords(value) {
  const word = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let pending = null; // {charset, bytes: Buffer[]}
  const flush = () => {
    if (pending) out += decodeBytes(Buffer.concat(pending.bytes), pending.charset);
    pending = null;
  };
  for (let m; (m = word.exec(value)); ) {
    const between = value.slice(last, m.index);
    if (!(pending && /^[ \t]*$/.test(between))) {
      flush();
      out += decodeBytes(between, 'utf-8');
    }
    const charset = m[1].split('*')[0].toLowerCase();
    const bytes =
      m[2].toUpperCase() === 'B'
        ? Buffer.from(m[3], 'base64')
        : Buffer.from(decodeQuotedPrintable(m[3].replace(/_/g, ' ')), 'latin1');
    if (pending && pending.charset !== charset) flush();
    if (!pending) pending = { charset, bytes: [] };
    pending.bytes.push(bytes);
    last = word.lastIndex;
  }
  flush();
  out += decodeBytes(value.slice(last), 'utf-8');
  return out;
}

function parseMessage(raw) {
  const { head } = splitEntity(raw);
  const headers = parseHeaders(head);
  const { text, html } = findTextParts(raw);
  return {
    subject: decodeEncodedWords(headers.get('subject') ?? ''),
    text: text ?? '',
    html: html ?? '',
  };
}

function store(from, to, data) {
  const raw = data.toString('latin1');
  let parsed;
  try {
    parsed = parseMessage(raw);
  } catch (e) {
    console.error(`smtp-sink: could not parse message ${nextId}: ${e?.stack ?? e}`);
    parsed = { subject: '', text: '', html: '' };
  }
  messages.push({
    id: nextId++,
    from,
    to: [...to],
    raw: data.toString('utf8'),
    subject: parsed.subject,
    text: parsed.text,
    html: parsed.html,
    received_at: new Date().toISOString(),
  });
}

// ---------------------------------------------------------------------------------------------------------
// SMTP (RFC 5321): one session per connection, several messages per session.

/** `<a@b> PARAM=x` after `MAIL FROM:` / `RCPT TO:` → {address, params} or null. */
function parsePath(rest) {
  const m = /^\s*<([^<>]*)>\s*(.*)$/.exec(rest) ?? /^\s*([^\s<>]+)\s*(.*)$/.exec(rest);
  if (!m) return null;
  let address = m[1];
  // an old source route (<@a,@b:user@c>) is ignored, as RFC 5321 allows
  if (address.startsWith('@') && address.includes(':')) address = address.slice(address.indexOf(':') + 1);
  const params = {};
  for (const p of m[2].split(/\s+/).filter(Boolean)) {
    const eq = p.indexOf('=');
    params[(eq < 0 ? p : p.slice(0, eq)).toUpperCase()] = eq < 0 ? true : p.slice(eq + 1);
  }
  return { address, params };
}

function session(socket) {
  let buffer = Buffer.alloc(0);
  let greeted = false;
  let from = null; // null: no transaction; '' is the null reverse-path <>
  let to = [];
  let inData = false;
  let dataChunks = [];
  let dataSize = 0;
  let closed = false;

  const reply = (text) => {
    if (!closed && !socket.destroyed) socket.write(`${text}\r\n`);
  };
  const reset = () => {
    from = null;
    to = [];
  };

  const command = (line) => {
    const m = /^([A-Za-z]+)(?:[ \t]+(.*))?$/.exec(line);
    if (!m) return reply('500 5.5.2 Syntax error, command unrecognized');
    const verb = m[1].toUpperCase();
    const arg = (m[2] ?? '').trim();
    switch (verb) {
      case 'EHLO':
        if (!arg) return reply('501 5.5.4 EHLO needs a domain or address literal');
        greeted = true;
        reset();
        return reply(
          [`250-${HOST} greets ${arg}`, '250-8BITMIME', '250-SMTPUTF8', '250-PIPELINING', `250 SIZE ${MAX_SIZE}`].join(
            '\r\n',
          ),
        );
      case 'HELO':
        if (!arg) return reply('501 5.5.4 HELO needs a domain');
        greeted = true;
        reset();
        return reply(`250 ${HOST}`);
      case 'MAIL': {
        if (!greeted) return reply('503 5.5.1 Send EHLO or HELO first');
        if (from !== null) return reply('503 5.5.1 Nested MAIL command');
        const fm = /^FROM:(.*)$/i.exec(arg);
        const path = fm && parsePath(fm[1]);
        if (!path) return reply('501 5.5.4 Syntax: MAIL FROM:<address> [parameters]');
        const size = Number(path.params.SIZE ?? 0);
        if (size > MAX_SIZE) return reply('552 5.3.4 Message size exceeds fixed limit');
        from = path.address;
        return reply('250 2.1.0 OK');
      }
      case 'RCPT': {
        if (from === null) return reply('503 5.5.1 Need MAIL before RCPT');
        const tm = /^TO:(.*)$/i.exec(arg);
        const path = tm && parsePath(tm[1]);
        if (!path || !path.address) return reply('501 5.5.4 Syntax: RCPT TO:<address> [parameters]');
        if (to.length >= MAX_RECIPIENTS) return reply('452 4.5.3 Too many recipients');
        to.push(path.address);
        return reply('250 2.1.5 OK');
      }
      case 'DATA':
        if (arg) return reply('501 5.5.4 DATA takes no parameters');
        if (from === null) return reply('503 5.5.1 Need MAIL before DATA');
        if (to.length === 0) return reply('554 5.5.1 No valid recipients');
        inData = true;
        dataChunks = [];
        dataSize = 0;
        return reply('354 End data with <CR><LF>.<CR><LF>');
      case 'RSET':
        reset();
        return reply('250 2.0.0 OK');
      case 'NOOP':
        return reply('250 2.0.0 OK');
      case 'QUIT':
        reply(`221 2.0.0 ${HOST} closing connection`);
        closed = true;
        socket.end();
        return;
      default:
        return reply('502 5.5.1 Command not implemented');
    }
  };

  // One line of the message (without its CRLF); "." alone ends it.
  const dataLine = (line) => {
    if (line.length === 1 && line[0] === 0x2e) {
      inData = false;
      if (dataSize > MAX_SIZE) {
        reply('552 5.3.4 Message size exceeds fixed limit');
      } else {
        store(from, to, Buffer.concat(dataChunks));
        reply(`250 2.0.0 OK: queued as ${nextId - 1}`);
      }
      dataChunks = [];
      reset();
      return;
    }
    const unstuffed = line[0] === 0x2e ? line.subarray(1) : line; // dot-unstuffing (RFC 5321 4.5.2)
    dataSize += unstuffed.length + 2;
    if (dataSize <= MAX_SIZE) dataChunks.push(unstuffed, Buffer.from('\r\n'));
  };

  socket.setTimeout(IDLE_MS, () => {
    reply(`421 4.4.2 ${HOST} idle for too long, closing connection`);
    closed = true;
    socket.end();
  });
  socket.on('error', (e) => {
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') console.error(`smtp-sink: SMTP connection: ${e.message}`);
  });
  socket.on('data', (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    let start = 0;
    for (;;) {
      if (closed) return;
      const lf = buffer.indexOf(0x0a, start);
      if (lf < 0) break;
      // a line ends with CRLF; a bare LF is accepted too
      const end = lf > start && buffer[lf - 1] === 0x0d ? lf - 1 : lf;
      const line = buffer.subarray(start, end);
      start = lf + 1;
      if (inData) {
        dataLine(line);
      } else {
        command(line.toString('utf8'));
      }
    }
    buffer = buffer.subarray(start);
    if (!inData && buffer.length > MAX_LINE) {
      reply('500 5.5.6 Line too long');
      buffer = Buffer.alloc(0);
    } else if (inData && buffer.length > MAX_SIZE) {
      // one endless line inside DATA: count it, keep nothing
      dataSize += buffer.length;
      buffer = Buffer.alloc(0);
    }
  });
  reply(`220 ${HOST} ESMTP smtp-sink ready`);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

function send(res, status, body, type = 'application/json; charset=utf-8') {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(payload);
}

function handle(req, res) {
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  if (url.pathname === '/health') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    return send(res, 200, 'ok', 'text/plain; charset=utf-8');
  }
  if (url.pathname === '/messages') {
    if (req.method === 'GET') {
      const to = url.searchParams.get('to');
      if (to === null) return send(res, 200, messages);
      const wanted = to.trim().toLowerCase();
      return send(
        res,
        200,
        messages.filter((m) => m.to.some((r) => r.toLowerCase() === wanted)),
      );
    }
    if (req.method === 'DELETE') {
      messages = [];
      res.writeHead(204);
      return res.end();
    }
    return send(res, 405, { error: 'method not allowed' });
  }
  return send(res, 404, { error: 'not found' });
}

// ---------------------------------------------------------------------------------------------------------

const smtp = createSmtpServer(session);
const http = createHttpServer((req, res) => {
  try {
    handle(req, res);
  } catch (e) {
    console.error(`smtp-sink: HTTP ${req.method} ${req.url}: ${e?.stack ?? e}`);
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.end();
  }
});

for (const [server, p, what] of [
  [smtp, smtpPort, 'SMTP'],
  [http, httpPort, 'HTTP'],
]) {
  server.on('error', (e) => {
    console.error(`smtp-sink: ${what} server on ${HOST}:${p}: ${e.message}`);
    process.exit(1);
  });
  server.listen(p, HOST);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
