import type { APIRequestContext } from '@playwright/test';

/** One message the SMTP sink (../smtp-sink.mjs) received; `from` and `to` are the envelope addresses. */
export interface Mail {
  id: number;
  from: string;
  to: string[];
  raw: string;
  /** The Subject header, RFC 2047 encoded-words decoded. */
  subject: string;
  /** The text/plain part, decoded (line ends are `\n`). */
  text: string;
  /** The text/html part, decoded ('' when there is none). */
  html: string;
  received_at: string;
}

/** The sink's HTTP address; playwright.config.ts sets the port from E2E_PORT (portal port + 26). */
function sinkUrl(): string {
  const port = process.env.SMTP_SINK_HTTP_PORT ?? String(Number(process.env.E2E_PORT ?? 3100) + 26);
  return `http://127.0.0.1:${port}`;
}

/** Waits until the sink has a message to `to` (any case) that `predicate` accepts; the oldest such wins. */
export async function waitForMail(
  request: APIRequestContext,
  to: string,
  predicate: (m: Mail) => boolean = () => true,
  timeoutMs = 15000,
): Promise<Mail> {
  const url = `${sinkUrl()}/messages?to=${encodeURIComponent(to)}`;
  const deadline = Date.now() + timeoutMs;
  let seen: Mail[] = [];
  for (;;) {
    const response = await request.get(url);
    if (!response.ok()) {
      throw new Error(`SMTP sink: GET ${url} → HTTP ${response.status()}`);
    }
    seen = (await response.json()) as Mail[];
    const found = seen.find(predicate);
    if (found) return found;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const subjects = seen.map((m) => `  #${m.id} ${JSON.stringify(m.subject)}`).join('\n') || '  (none)';
  throw new Error(`no matching email to ${to} within ${timeoutMs} ms; the sink has for that address:\n${subjects}`);
}

/** The first URL in the mail's text whose path starts with `pathPrefix`, as path + query (+ fragment), so
 *  that `page.goto` resolves it against the tests' baseURL. */
export function linkIn(mail: Mail, pathPrefix: string): string {
  for (const [candidate] of mail.text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    // a sentence may end right after the link
    const trimmed = candidate.replace(/[.,;:!?)\]]+$/, '');
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      continue;
    }
    if (url.pathname.startsWith(pathPrefix)) {
      return `${url.pathname}${url.search}${url.hash}`;
    }
  }
  throw new Error(`no link to ${pathPrefix} in email #${mail.id} (${JSON.stringify(mail.subject)}):\n${mail.text}`);
}
