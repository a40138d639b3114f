import { describe, expect, it } from 'vitest';
import { porterStem } from './stem';
import { matchedWords, tokenize } from './tokenize';

describe('porterStem', () => {
  // Examples from Porter's paper, "An algorithm for suffix stripping" (1980).
  it.each([
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['cats', 'cat'],
    ['feed', 'feed'],
    ['agreed', 'agre'],
    ['plastered', 'plaster'],
    ['motoring', 'motor'],
    ['sing', 'sing'],
    ['conflated', 'conflat'],
    ['hopping', 'hop'],
    ['falling', 'fall'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['digitizer', 'digit'],
    ['vietnamization', 'vietnam'],
    ['hopefulness', 'hope'],
    ['sensibiliti', 'sensibl'],
    ['triplicate', 'triplic'],
    ['electrical', 'electr'],
    ['goodness', 'good'],
    ['allowance', 'allow'],
    ['adjustment', 'adjust'],
    ['adoption', 'adopt'],
    ['effective', 'effect'],
    ['probate', 'probat'],
    ['controll', 'control'],
    ['generalizations', 'gener'],
    ['connections', 'connect'],
    ['connecting', 'connect'],
  ])('%s → %s', (word, stem) => {
    expect(porterStem(word)).toBe(stem);
  });
});

describe('tokenize', () => {
  it('folds case and accents, splits on punctuation, drops stop words and apostrophes, and stems', () => {
    expect(tokenize("Hi! I'm at Zoë's CAFÉ — don't e-mail; it's 3.14 Travels!!")).toEqual([
      'hi',
      'im',
      'zoe',
      'cafe',
      'dont',
      'e',
      'mail',
      '3',
      '14',
      'travel',
    ]);
  });

  it('gives a query and a message the same terms for different inflections', () => {
    expect(tokenize('Renewing passports')).toEqual(tokenize('the renewal of a passport'));
  });

  it('keeps non-Latin words whole', () => {
    expect(tokenize('東京 Москва')).toEqual(['東京', 'москва']);
  });
});

describe('matchedWords', () => {
  it('finds the words a search matches by: any case, accents (composed or not), inflections; never stop words', () => {
    const text = 'Brewing TEA: the teas we brewed at the Cafe\u0301, and a café brew.';
    const words = (query: string) => matchedWords(text, query).map(([start, end]) => text.slice(start, end));
    expect(words('brew tea')).toEqual(['Brewing', 'TEA', 'teas', 'brewed', 'brew']);
    expect(words('CAFÉ')).toEqual(['Cafe\u0301', 'café']);
    expect(words('the and')).toEqual([]);
    expect(words('coffee')).toEqual([]);
  });
});
