import { describe, expect, it } from 'vitest';
import { shannonEntropy } from '../../src/scan/entropy.js';
import { isPlaceholder } from '../../src/scan/placeholders.js';

describe('shannonEntropy', () => {
  it('is 0 for empty and one-symbol strings', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('a')).toBe(0);
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
  });

  it('is log2(n) for n equally frequent symbols', () => {
    expect(shannonEntropy('ab')).toBeCloseTo(1, 10);
    expect(shannonEntropy('abcd')).toBeCloseTo(2, 10);
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4, 10);
    expect(shannonEntropy('aabb')).toBeCloseTo(1, 10);
  });

  it('weights symbols by frequency', () => {
    // p = 3/4, 1/4
    expect(shannonEntropy('aaab')).toBeCloseTo(-(0.75 * Math.log2(0.75) + 0.25 * Math.log2(0.25)), 10);
  });

  it('counts non-ASCII code units too', () => {
    expect(shannonEntropy('日本日本')).toBeCloseTo(1, 10);
    expect(shannonEntropy('a日')).toBeCloseTo(1, 10);
  });

  it('scores random-looking values above words', () => {
    expect(shannonEntropy('k9Xq2LmZ7vB4nT8wR1pY')).toBeGreaterThan(4);
    expect(shannonEntropy('password')).toBeLessThan(3);
  });
});

describe('isPlaceholder', () => {
  const strictPlaceholders = [
    '${DB_PASSWORD}',
    '{{ api_key }}',
    '{% secret %}',
    '$(cat /run/secret)',
    '%s',
    '%(password)s',
    '#{token}',
    '<your-api-key>',
    '$API_TOKEN',
    '%APPDATA%',
    '__SECRET__',
    '{password}',
    'EXAMPLE_KEY_123',
    'my-sample-token-1',
    'dummy-secret',
    'placeholder',
    'changeme',
    'change_me_now',
    'REDACTED',
    'your_api_key',
    'your-token-here',
    'xxxxxxxx',
    'XXXXXXXXXXXX',
    '********',
    '••••••',
    'test1234',
    'Test123!',
    'fake-key-99',
    'mockToken42',
    '00000000',
    'aaaaaaaaaa',
    '123456789',
    'abcdefgh',
    'qwertyuiop',
    'abababab',
    'password1!',
    'null',
    'none',
    'pass',
    '...',
  ];
  it.each(strictPlaceholders)('strict rejects %s', (value) => {
    expect(isPlaceholder(value, 'strict')).toBe(true);
  });

  const realLooking = ['k9Xq2LmZ7vB4nT8wR1pY', 'Zq8!vL2#pW9@', 'a3f9c2e81b7d4605e2c9', 'Tr0ub4dor&3xyz', 'hJ7_kP2-qR9.mN4~'];
  it.each(realLooking)('strict keeps %s', (value) => {
    expect(isPlaceholder(value, 'strict')).toBe(false);
  });

  it('lenient rejects obvious placeholders in real-format tokens', () => {
    for (const value of [
      'AKIAIOSF0DNN7EXAMPLE',
      'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      'sk_live_********************',
      'xoxb-${SLACK_TOKEN}',
      'glpat-<your-token-here>',
      'ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'shpat_0123456789abcdef0123456789abcdef',
      'ghs_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ',
      'hf_yourtokenhere1234567890',
      'npm_dummyTokenValue12345678901234567890',
      'sk-proj-REDACTED',
      'ghp_abababababababababababababababababab',
    ]) {
      expect(isPlaceholder(value, 'lenient'), value).toBe(true);
    }
  });

  it('lenient keeps random tokens even when they contain short words', () => {
    for (const value of [
      'ghp_9dK2testLq8ZTest0pV7mN3xR5wY1bC4aF6e',
      'ghp_Mock4kP9q2LdemoX7vB1nT8wR3pY5zA6sD0f',
      'xoxb-73019462853-5820473916402-Zq8vL2pW9kR4mN7tX1bC3yD5',
      'sk_test_4Kq9Lm2Xv7Bn1Tw8Rp3Yz6Ad',
      'AKIA4Q7ZK2MXP3JD6WVT',
    ]) {
      expect(isPlaceholder(value, 'lenient'), value).toBe(false);
    }
  });

  it('off never rejects', () => {
    expect(isPlaceholder('changeme', 'off')).toBe(false);
    expect(isPlaceholder('admin', 'off')).toBe(false);
  });

  it('defaults to strict', () => {
    expect(isPlaceholder('test-secret-value')).toBe(true);
  });
});
