const FORBIDDEN = new Set(['prompt', 'text', 'input', 'message', 'messages', 'content']);

/**
 * The forbidden content field names found anywhere in a JSON value (any depth, inside arrays
 * too, case-insensitive), lower-cased and sorted. Iterative, so deep nesting cannot
 * overflow the stack.
 */
export function findForbiddenFields(body: unknown): string[] {
  const found = new Set<string>();
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === 'object') stack.push(item);
      continue;
    }
    for (const key of Object.keys(value)) {
      const lower = key.toLowerCase();
      if (FORBIDDEN.has(lower)) found.add(lower);
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return [...found].sort();
}
