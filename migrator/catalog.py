"""The schema as PostgreSQL's catalogs describe it, one reader for all who
compare schemas: the stairway (tests/migrations), `make squash` (a squashed
revision must build what the history built) and `make review` (what a
revision dropped).

Every object of every schema but PostgreSQL's own is keyed by what a person
would call it ("column address.city", "function public.touch()", "trigger
address.touch_address"); objects in ``public`` go without their schema's name.
The value is what defines the object, as PostgreSQL writes it back: two
databases with equal descriptions have the same schema. Column order is not
part of it: a downgrade that re-adds a dropped column puts it last, and that
is no fault (schema.sql, a pg_dump, does show the order)."""

from sqlalchemy import Connection, text

# The schemas of the application: all but PostgreSQL's own. ``prefix`` is how
# an object's name starts: nothing in public, "schema." elsewhere.
_SCHEMAS = r"""
WITH ns AS (
    SELECT oid, nspname,
           CASE WHEN nspname = 'public' THEN '' ELSE nspname || '.' END AS prefix
    FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname !~ '^pg_(toast|temp_|toast_temp_)'
),
-- Objects an extension brought: CREATE EXTENSION makes them, and only it.
members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
"""

OBJECTS = (
    _SCHEMAS
    + r"""
SELECT 'schema ' || nspname, coalesce(obj_description(oid, 'pg_namespace'), '')
FROM ns WHERE nspname <> 'public'
UNION ALL
SELECT 'table ' || ns.prefix || c.relname,
       coalesce(obj_description(c.oid, 'pg_class'), '')
       || CASE WHEN c.relrowsecurity THEN ' ROW LEVEL SECURITY' ELSE '' END
       || CASE WHEN c.relforcerowsecurity THEN ' FORCED' ELSE '' END
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')
UNION ALL
SELECT 'column ' || ns.prefix || c.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE a.attidentity WHEN 'a' THEN ' IDENTITY ALWAYS' WHEN 'd' THEN ' IDENTITY' ELSE '' END
       || CASE a.attgenerated WHEN 's' THEN ' GENERATED STORED' ELSE '' END
       || coalesce(' COLLATE ' || nullif(co.collname, 'default'), '')
       || coalesce(' COMMENT ' || cd.description, '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN ns ON ns.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
-- Joined, not col_description() (a query of its own per row): the stairway
-- reads the catalog three times a revision, and columns are most of its rows.
LEFT JOIN pg_description cd
       ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || ns.prefix || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'constraint ' || ns.prefix || t.typname || '.' || k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN ns ON ns.oid = t.typnamespace
UNION ALL
SELECT 'index ' || ns.prefix || c.relname || '.' || i.relname,
       pg_get_indexdef(i.oid)
       || coalesce(' COMMENT ' || id.description, '')
       || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_description id
       ON id.objoid = i.oid AND id.classoid = 'pg_class'::regclass AND id.objsubid = 0
JOIN pg_class c ON c.oid = x.indrelid
JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'sequence ' || ns.prefix || c.relname,
       format_type(s.seqtypid, NULL) || ' ' || s.seqincrement
       || coalesce(' OWNED BY ' || o.relname || '.' || a.attname, '')
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN ns ON ns.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class o ON o.oid = d.refobjid
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
UNION ALL
SELECT 'enum type ' || ns.prefix || t.typname,
       string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN ns ON ns.oid = t.typnamespace
GROUP BY ns.prefix, t.typname
UNION ALL
SELECT 'type ' || ns.prefix || t.typname,
       t.typtype::text
       || CASE WHEN t.typtype = 'd' THEN ' ' || format_type(t.typbasetype, t.typtypmod) ELSE '' END
       || coalesce(' COMMENT ' || obj_description(t.oid, 'pg_type'), '')
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE t.typtype IN ('d', 'r', 'm')
  AND (t.oid) NOT IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
UNION ALL
SELECT 'type ' || ns.prefix || t.typname,
       'c (' || string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                           ORDER BY a.attnum) || ')'
FROM pg_type t
JOIN ns ON ns.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
GROUP BY ns.prefix, t.typname
UNION ALL
SELECT 'view ' || ns.prefix || c.relname,
       pg_get_viewdef(c.oid)
       || CASE c.relkind WHEN 'm' THEN ' MATERIALIZED' ELSE '' END
       || coalesce(' COMMENT ' || obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT 'function ' || ns.prefix || p.proname
       || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       -- The whole definition (body included) where PostgreSQL writes one back.
       CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid)
            ELSE p.prokind::text || ' ' || pg_get_function_result(p.oid) END
       || coalesce(' COMMENT ' || obj_description(p.oid, 'pg_proc'), '')
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE p.oid NOT IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
UNION ALL
SELECT 'trigger ' || ns.prefix || c.relname || '.' || g.tgname,
       pg_get_triggerdef(g.oid)
       || CASE g.tgenabled WHEN 'D' THEN ' DISABLED' WHEN 'R' THEN ' REPLICA'
                           WHEN 'A' THEN ' ALWAYS' ELSE '' END
FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN ns ON ns.oid = c.relnamespace
WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy ' || ns.prefix || c.relname || '.' || p.polname,
       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END
       || ' FOR ' || p.polcmd::text
       || ' TO ' || array_to_string(ARRAY(
              SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END
              FROM unnest(p.polroles) r ORDER BY 1), ', ')
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'extension ' || e.extname, 'in ' || x.nspname
FROM pg_extension e JOIN pg_namespace x ON x.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
"""
)


def describe(connection: Connection, leave_out: set[str] = frozenset()) -> dict[str, str]:
    """{object: definition} for the application's schemas, leaving out the
    tables in ``leave_out`` (the migrations' bookkeeping) with their columns,
    constraints, indexes, triggers and policies."""
    return {
        name: definition
        for name, definition in connection.execute(text(OBJECTS))
        if table_of(name) not in leave_out
    }


def table_of(name: str) -> str:
    """The table (or type, view...) an object name belongs to: 'column
    address.city' -> 'address', 'index other.t.ix' -> 'other.t'."""
    kind_and_path = name.split(" ")[-1]
    if name.startswith(("column ", "constraint ", "index ", "trigger ", "policy ")):
        return kind_and_path.rsplit(".", 1)[0]
    return kind_and_path


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What ``after`` has that ``before`` had not: 'left X', 'lost X', 'changed X'."""
    lines = [f"left {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"lost {name}" for name in sorted(before.keys() - after.keys())]
    lines += [
        f"changed {name} ({before[name]} -> {after[name]})"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return lines
