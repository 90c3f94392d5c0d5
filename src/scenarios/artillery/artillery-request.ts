import { rewriteTemplate, rewriteValue, translateCondition, type TemplateScope } from './artillery-template.js';
import { translateCapture, translateExpect, translateMatch, type ResponseRules } from './artillery-checks.js';
import type { ImportNotes, NotePath } from './import-notes.js';

/** A step of the translated scenario, as it will be written. */
export type OutStep = Record<string, unknown>;

export const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

/** Form and query values: percent-encoded, templates kept as they are (they are rendered at run time, unencoded). */
function encode(value: unknown, scope: TemplateScope, notes: ImportNotes, at: NotePath): string {
  const text = rewriteTemplate(String(value), scope, notes, at);
  return text.split(/(\{\{.*?\}\})/s).map((part, i) => (i % 2 === 1 ? part : encodeURIComponent(part))).join('');
}

function urlEncoded(map: Record<string, unknown>, scope: TemplateScope, notes: ImportNotes, at: NotePath): string {
  return Object.entries(map).map(([k, v]) => `${encodeURIComponent(k)}=${encode(v, scope, notes, [...at, k])}`).join('&');
}

/** Keys of a request handled here; any other is listed. */
const HANDLED = new Set(['url', 'name', 'headers', 'json', 'body', 'form', 'qs', 'cookie', 'capture', 'expect', 'match', 'auth', 'ifTrue', 'followRedirect', 'gzip']);

/**
 * One Artillery request (`- post: { url, json, ... }`) → a request step.
 * `abortOnCheck`: the expect plugin's reportFailuresAsErrors (a failed
 * expectation fails the virtual user), so each check gets `abort: true`.
 */
export function translateRequest(method: string, req: Record<string, unknown>, at: NotePath, scope: TemplateScope, notes: ImportNotes, abortOnCheck: boolean): OutStep | undefined {
  if (req === null || typeof req !== 'object' || typeof req.url !== 'string') {
    notes.untranslated(at, `a ${method} without a url; left out`);
    return undefined;
  }
  const step: OutStep = {};
  let url = rewriteTemplate(req.url, scope, notes, [...at, 'url']);
  if (req.qs !== null && typeof req.qs === 'object') {
    url += (url.includes('?') ? '&' : '?') + urlEncoded(req.qs as Record<string, unknown>, scope, notes, [...at, 'qs']);
  }
  if (typeof req.name === 'string' && req.name !== '') step.name = req.name;
  if (typeof req.ifTrue === 'string') {
    const cond = translateCondition(req.ifTrue, scope, notes, [...at, 'ifTrue']);
    if (cond) step.if = cond;
    else notes.untranslated([...at, 'ifTrue'], `ifTrue "${req.ifTrue}" not translated: only names, numbers, strings, comparisons, and/or/not and parentheses are; the request is kept and always sent`);
  }
  step[method] = url;
  const headers: Record<string, string> = {};
  if (req.headers !== null && typeof req.headers === 'object') {
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = rewriteTemplate(String(v), scope, notes, [...at, 'headers', k]);
  }
  const auth = req.auth as { user?: unknown; pass?: unknown } | undefined;
  if (auth !== undefined) {
    const user = String(auth?.user ?? '');
    const pass = String(auth?.pass ?? '');
    if (/\{\{/.test(user + pass)) notes.untranslated([...at, 'auth'], 'auth with templates not translated: write an authorization header');
    else headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  if (req.form !== null && typeof req.form === 'object') {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    step.body = urlEncoded(req.form as Record<string, unknown>, scope, notes, [...at, 'form']);
  }
  if (req.json !== undefined) step.json = rewriteValue(req.json, scope, notes, [...at, 'json']);
  if (req.body !== undefined) step.body = rewriteTemplate(String(req.body), scope, notes, [...at, 'body']);
  if (Object.keys(headers).length > 0) step.headers = headers;
  if (req.cookie !== null && typeof req.cookie === 'object') step.cookies = rewriteValue(req.cookie, scope, notes, [...at, 'cookie']);
  if (req.capture !== undefined) {
    const capture = translateCapture(req.capture, [...at, 'capture'], notes, scope);
    if (Object.keys(capture).length > 0) step.capture = capture;
  }
  const rules: ResponseRules = { checks: [] };
  if (req.expect !== undefined) translateExpect(req.expect, [...at, 'expect'], scope, notes, rules);
  if (req.match !== undefined) translateMatch(req.match, [...at, 'match'], scope, notes, rules);
  if (rules.status) step.expect = { status: rules.status.length === 1 ? rules.status[0] : rules.status };
  if (rules.checks.length > 0) step.check = abortOnCheck ? rules.checks.map((c) => ({ ...c, abort: true })) : rules.checks;
  for (const k of Object.keys(req)) {
    if (k === 'beforeRequest' || k === 'afterResponse') {
      notes.untranslated([...at, k], `processor function ${JSON.stringify(req[k])} (${k}) not translated: scalectl runs no JavaScript; the request is kept without it`);
    } else if (k === 'formData') notes.untranslated([...at, k], 'multipart formData not translated: scalectl sends json or a raw body');
    else if (!HANDLED.has(k)) notes.untranslated([...at, k], `request option "${k}" not translated`);
  }
  return step;
}
