import { describe, expect, it } from 'vitest'
import { splitStatements } from './split.ts'

describe('splitStatements', () => {
  it('splits on semicolons, trims, drops empty statements and keeps leading comments', () => {
    expect(splitStatements('-- a\ncreate schema a;\n\n ; select 1 ;')).toEqual([
      '-- a\ncreate schema a',
      'select 1',
    ])
  })

  it('ignores semicolons in strings, identifiers, dollar quotes and comments', () => {
    const script = [
      "select 'a;''b', \"c;d\";",
      "select E'\\';';",
      'create function f() returns int language plpgsql as $fn$ begin return 1; end; $fn$;',
      '/* x; /* nested; */ y; */ select $$;$$;',
      '-- trailing; comment',
    ].join('\n')
    expect(splitStatements(script)).toEqual([
      "select 'a;''b', \"c;d\"",
      "select E'\\';'",
      'create function f() returns int language plpgsql as $fn$ begin return 1; end; $fn$',
      '/* x; /* nested; */ y; */ select $$;$$',
      '-- trailing; comment',
    ])
  })

  it('keeps BEGIN ATOMIC bodies and parenthesised lists whole', () => {
    const script =
      'create function g(x int) returns int language sql begin atomic select case when x > 0 then 1 else 0 end; select 2; end;\n' +
      'create rule r as on insert to t do also (insert into a values (1); insert into b values (2));\n' +
      'select $1::int;'
    expect(splitStatements(script)).toEqual([
      'create function g(x int) returns int language sql begin atomic select case when x > 0 then 1 else 0 end; select 2; end',
      'create rule r as on insert to t do also (insert into a values (1); insert into b values (2))',
      'select $1::int',
    ])
  })

  it('returns nothing for an empty script', () => {
    expect(splitStatements('  \n')).toEqual([])
  })
})
