import { parseStrictJson } from '../src/lib/strict-json.js';

describe('strict JSON parsing of untrusted bodies', () => {
  it('accepts an ordinary object, including escaped quotes in strings and keys', () => {
    expect(parseStrictJson('{"a":"x\\"y","b\\"c":[1,{"d":null}],"e":{"a":1}}')).toEqual({ a: 'x"y', 'b"c': [1, { d: null }], e: { a: 1 } });
  });
  it.each([
    ['duplicate top-level keys', '{"cpr":"1","cpr":"2"}'],
    ['duplicate nested keys', '{"a":{"b":1,"b":2}}'],
    ['a duplicate key written with an escape', '{"cpr":"1","\\u0063pr":"2"}'],
    ['__proto__', '{"__proto__":{"x":1}}'],
    ['constructor', '{"a":{"constructor":{}}}'],
    ['prototype', '{"prototype":1}'],
    ['an array at the top', '[1,2]'],
    ['a string at the top', '"x"'],
    ['malformed JSON', '{"a":'],
    ['trailing garbage', '{"a":1} x'],
  ])('refuses %s', (_name, text) => {
    expect(parseStrictJson(text)).toBeUndefined();
  });
  it('refuses nesting deeper than the limit and accepts it at the limit', () => {
    const nest = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    expect(parseStrictJson(nest(32))).toBeDefined();
    expect(parseStrictJson(nest(33))).toBeUndefined();
    expect(parseStrictJson(`{"a":${'['.repeat(40)}${']'.repeat(40)}}`)).toBeUndefined();
  });
  it('does not mistake values for keys (the same string as key and value is fine)', () => {
    expect(parseStrictJson('{"a":"a","b":["a","a"],"c":{"a":"a"}}')).toBeDefined();
  });
});
