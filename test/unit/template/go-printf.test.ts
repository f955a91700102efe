import { expect } from 'chai';
import { goSprintf } from '../../../src/template/go-printf.js';
import { goStruct } from '../../../src/template/go-struct.js';

describe('goSprintf (Go fmt.Sprintf)', () => {
  const cases: [format: string, args: unknown[], expected: string][] = [
    ['/nested/%s/*', ['app'], '/nested/app/*'],
    ['%d-%d', [1, -2], '1--2'],
    ['%v %v %v', ['s', 42, true], 's 42 true'],
    ['%v', [1.5], '1.5'],
    ['%v', [1234567.5], '1.2345675e+06'],
    ['%v', [0.00001], '1e-05'],
    ['%v', [['a', 'b']], '[a b]'],
    ['%v', [{ b: 1, a: 'x' }], 'map[a:x b:1]'],
    ['%v', [goStruct({ Key: '/k', Value: 'v' })], '{/k v}'],
    ['%+v', [goStruct({ Key: '/k', Value: 'v' })], '{Key:/k Value:v}'],
    ['%v', [undefined], '<nil>'],
    ['%q', ['say "hi"\n'], '"say \\"hi\\"\\n"'],
    ['%q', ['tab\there\u0001é'], '"tab\\there\\x01é"'],
    ['%q', [['a', 'b']], '["a" "b"]'],
    ['%q', [65], "'A'"],
    ['100%%', [], '100%'],
    ['%5d|%-5d|%05d', [42, 42, 42], '   42|42   |00042'],
    ['%+d % d', [5, 5], '+5  5'],
    ['%05d', [-42], '-0042'],
    ['%.3d', [7], '007'],
    ['%6s|%-6s|', ['ab', 'ab'], '    ab|ab    |'],
    ['%.2s', ['héllo'], 'hé'],
    ['%5s', ['é'], '    é'],
    ['%x %X %o %b', [255, 255, 8, 5], 'ff FF 10 101'],
    ['%#x %#o', [255, 8], '0xff 010'],
    ['%#08x', [255], '0x000000ff'],
    ['%x', ['hi'], '6869'],
    ['%c %U', [0x263a, 0x263a], '☺ U+263A'],
    ['%t', [false], 'false'],
    ['%f %.2f %8.3f', [3.14159, 3.14159, -3.14159], '3.141590 3.14   -3.142'],
    ['%e', [123456.789], '1.234568e+05'],
    ['%g %g', [100000000, 2.5], '1e+08 2.5'],
    ['%d', ['12'], '%!d(string=12)'],
    ['%d', [1.5], '%!d(float64=1.5)'],
    ['%s', [12], '%!s(int=12)'],
    ['%s', [undefined], '%!s(<nil>)'],
    ['%s %s', ['a'], 'a %!s(MISSING)'],
    ['%s', ['a', 'b', 3], 'a%!(EXTRA string=b, int=3)'],
    ['trailing %', [], 'trailing %!(NOVERB)'],
    ['%z', ['x'], '%!z(string=x)'],
    ['unicode ✓ %s', ['ü'], 'unicode ✓ ü'],
  ];

  for (const [format, args, expected] of cases) {
    it(`${JSON.stringify(format)} ${JSON.stringify(args)} -> ${JSON.stringify(expected)}`, () => {
      expect(goSprintf(format, args)).to.equal(expected);
    });
  }
});
