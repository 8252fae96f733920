import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyStatus, parseDuration, retryAfterMs } from './retry-policy';

describe('retry policy', () => {
  it('parses OpenAI reset durations', () => {
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('20ms')).toBe(20);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('7')).toBe(7000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('5x')).toBeUndefined();
  });

  it('reads every Retry-After style and takes the longest hint', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '50' }), now)).toBe(50);
    expect(retryAfterMs(new Headers({ 'retry-after': '20' }), now)).toBe(20_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ 'x-ratelimit-reset-requests': '6m0s' }), now)).toBe(360_000);
    expect(retryAfterMs(new Headers({ 'x-ratelimit-reset-tokens': '250ms', 'retry-after-ms': '100' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': 'garbage' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('retries rate limits and transient failures, never client errors', () => {
    expect(classifyStatus(429)).toBe('rate-limited');
    for (const status of [408, 409, 500, 502, 503, 504, 524]) expect(classifyStatus(status)).toBe('transient');
    for (const status of [400, 401, 403, 404, 422]) expect(classifyStatus(status)).toBe('permanent');
    expect(classifyStatus(undefined)).toBe('transient');
  });

  it('draws full-jitter backoff within the capped exponential window', () => {
    expect(backoffDelay({ attempt: 3, baseMs: 100, random: () => 0.5 })).toBe(400);
    expect(backoffDelay({ attempt: 20, baseMs: 100, capMs: 1000, random: () => 0.999 })).toBeCloseTo(999);
    expect(backoffDelay({ attempt: 0, baseMs: 100, random: () => 0 })).toBe(0);
  });
});
