// Pure helpers of the socket client: backoff, close-code policy, URLs, frame parsing.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import {
  CLOSE_CODES,
  DEFAULT_URL,
  OVER_CAPACITY_MIN_DELAY,
  RATE_LIMITED_MIN_DELAY,
  backoffDelay,
  buildUrl,
  closePolicy,
  defaultUrl,
  normalizeBasePath,
  parseMessage,
  toSocketUrl,
} from '../../realtime/static/realtime/jobsentinel-ws.js'

describe('backoffDelay', () => {
  test('doubles per attempt, scaled by random (full jitter)', () => {
    const half = () => 0.5
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((a) => backoffDelay(a, { base: 1000, cap: 30_000, random: half })),
      [500, 1000, 2000, 4000, 8000],
    )
  })

  test('is capped, even for huge attempt numbers', () => {
    const almostOne = () => 0.999999
    for (const attempt of [5, 6, 20, 1100]) {
      const delay = backoffDelay(attempt, { base: 1000, cap: 30_000, random: almostOne })
      assert.ok(delay < 30_000 && delay > 29_999, `attempt ${attempt}: ${delay}`)
    }
  })

  test('spans the whole window from 0 (full jitter, not equal jitter)', () => {
    assert.equal(backoffDelay(3, { base: 1000, cap: 30_000, random: () => 0 }), 0)
    assert.equal(backoffDelay(3, { base: 1000, cap: 30_000, random: () => 0.25 }), 2000)
  })

  test('uses the documented defaults (1 s base, 30 s cap)', () => {
    assert.equal(backoffDelay(0, { random: () => 1 }), 1000)
    assert.equal(backoffDelay(10, { random: () => 1 }), 30_000)
  })

  test('treats a negative or bogus attempt as the first', () => {
    assert.equal(backoffDelay(-3, { base: 100, random: () => 1 }), 100)
    assert.equal(backoffDelay(Number.NaN, { base: 100, random: () => 1 }), 100)
  })
})

describe('closePolicy', () => {
  test('4401 is fatal: no retry', () => {
    assert.deepEqual(closePolicy(CLOSE_CODES.UNAUTHORIZED), { retry: false, fatal: true, prompt: false, minDelay: 0 })
  })

  test('4429 and 1013 retry with a floor', () => {
    assert.equal(closePolicy(4429).minDelay, RATE_LIMITED_MIN_DELAY)
    assert.equal(closePolicy(1013).minDelay, OVER_CAPACITY_MIN_DELAY)
    assert.ok(RATE_LIMITED_MIN_DELAY >= 30_000 && OVER_CAPACITY_MIN_DELAY >= 15_000)
  })

  test('1012 is a prompt retry', () => {
    assert.equal(closePolicy(1012).prompt, true)
  })

  test('everything else is an ordinary retry', () => {
    for (const code of [1000, 1001, 1006, 1009, 1011, 4000, 4408]) {
      assert.deepEqual(closePolicy(code), { retry: true, fatal: false, prompt: false, minDelay: 0 }, String(code))
    }
  })
})

describe('URLs', () => {
  test('http page → ws, same host and port', () => {
    assert.equal(
      defaultUrl({ protocol: 'http:', host: 'localhost:8000' }),
      'ws://localhost:8000/api/v1/ws/jobs',
    )
  })

  test('https page → wss', () => {
    assert.equal(
      defaultUrl({ protocol: 'https:', host: 'jobs.example.com' }),
      'wss://jobs.example.com/api/v1/ws/jobs',
    )
  })

  test('sub-path deployments get the base path in front', () => {
    const loc = { protocol: 'https:', host: 'example.com:8443' }
    assert.equal(defaultUrl(loc, '/sentinel'), 'wss://example.com:8443/sentinel/api/v1/ws/jobs')
    assert.equal(defaultUrl(loc, 'sentinel/'), 'wss://example.com:8443/sentinel/api/v1/ws/jobs')
    assert.equal(defaultUrl(loc, '/'), 'wss://example.com:8443/api/v1/ws/jobs')
  })

  test('normalizeBasePath', () => {
    assert.deepEqual(
      ['', '/', null, undefined, 'a', '/a/', '/a/b//', ' /x '].map(normalizeBasePath),
      ['', '', '', '', '/a', '/a', '/a/b', '/x'],
    )
  })

  test('without a page location, the guide default', () => {
    assert.equal(defaultUrl(undefined), 'ws://localhost:8000/api/v1/ws/jobs')
    assert.equal(DEFAULT_URL, 'ws://localhost:8000/api/v1/ws/jobs') // Node has no location
  })

  test('toSocketUrl resolves page-relative URLs and maps http(s) to ws(s)', () => {
    const loc = { protocol: 'https:', host: 'example.com', href: 'https://example.com/sentinel/jobs/' }
    assert.equal(toSocketUrl('/sentinel/api/v1/ws/jobs', loc), 'wss://example.com/sentinel/api/v1/ws/jobs')
    assert.equal(toSocketUrl('../api/v1/ws/jobs', loc), 'wss://example.com/sentinel/api/v1/ws/jobs')
    assert.equal(toSocketUrl('http://h:1/api/v1/ws/jobs', loc), 'ws://h:1/api/v1/ws/jobs')
    assert.equal(toSocketUrl('wss://h/api/v1/ws/jobs', undefined), 'wss://h/api/v1/ws/jobs')
  })

  test('buildUrl adds filter, resume point and an encoded API key', () => {
    const key = 'a b&c=d+e/é#?'
    const url = buildUrl('wss://h/api/v1/ws/jobs?keep=1', {
      apiKey: key,
      events: ['new_job', 'scrape_completed'],
      lastEventId: 41,
    })
    const parsed = new URL(url)
    assert.equal(parsed.pathname, '/api/v1/ws/jobs')
    assert.equal(parsed.hash, '')
    assert.equal(parsed.searchParams.get('keep'), '1')
    assert.equal(parsed.searchParams.get('api_key'), key)
    assert.equal(parsed.searchParams.get('events'), 'new_job,scrape_completed')
    assert.equal(parsed.searchParams.get('last_event_id'), '41')
    assert.ok(!url.includes('é') && !url.includes('&c='), url)
  })

  test('buildUrl leaves out what is not set; 0 is a valid resume point', () => {
    assert.equal(buildUrl('ws://h/api/v1/ws/jobs'), 'ws://h/api/v1/ws/jobs')
    assert.equal(buildUrl('ws://h/x', { events: null, lastEventId: null, apiKey: '' }), 'ws://h/x')
    assert.equal(buildUrl('ws://h/x', { lastEventId: 0 }), 'ws://h/x?last_event_id=0')
  })
})

describe('parseMessage', () => {
  test('accepts a JSON object with a string type', () => {
    assert.deepEqual(parseMessage('{"type":"pong","data":{}}'), { type: 'pong', data: {} })
  })

  test('returns null for anything else, without throwing', () => {
    const bad = ['', 'not json', '{"type":', '[1,2]', 'null', '42', '"s"', '{"data":{}}', '{"type":5}',
      undefined, null, new Uint8Array([123, 125]), new ArrayBuffer(2), {}]
    for (const frame of bad) assert.equal(parseMessage(frame), null, String(frame))
  })
})
