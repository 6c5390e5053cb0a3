import { describe, expect, it } from 'vitest';
import { findForbiddenFields } from '../../src/server/forbidden-fields.js';

describe('findForbiddenFields', () => {
  it('finds nothing in metadata-only bodies', () => {
    expect(findForbiddenFields({ model: 'm', operation: 'o', metadata: { contains_personal_data: true, text_length: 3 } })).toEqual([]);
  });

  it('finds each forbidden name at the top level, case-insensitively', () => {
    for (const name of ['prompt', 'text', 'input', 'message', 'messages', 'content']) {
      expect(findForbiddenFields({ [name.toUpperCase()]: 'x' })).toEqual([name]);
    }
  });

  it('finds names at any depth, inside arrays too, and reports each once', () => {
    const body = { metadata: { a: [{ b: { Prompt: 1 } }, { content: null }], prompt: 2 } };
    expect(findForbiddenFields(body)).toEqual(['content', 'prompt']);
  });

  it('does not match forbidden words used as values', () => {
    expect(findForbiddenFields({ metadata: { kind: 'prompt', tags: ['content'] } })).toEqual([]);
  });

  it('walks very deep nesting without overflowing the stack', () => {
    let deep: unknown = { message: 'x' };
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findForbiddenFields(deep)).toEqual(['message']);
  });
});
