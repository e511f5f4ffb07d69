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

import re

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
# For the other readers of the catalog (migrator/trace.py): the same schemas, named the same way.
SCHEMAS = _SCHEMAS

OBJECTS = (
    _SCHEMAS
    + r"""
SELECT 'schema ' || ns.nspname, coalesce(obj_description(ns.oid, 'pg_namespace'), '')
       || GRANTED(n.nspacl, 'n', n.nspowner)
FROM ns JOIN pg_namespace n ON n.oid = ns.oid WHERE ns.nspname <> 'public'
UNION ALL
SELECT 'table ' || ns.prefix || c.relname,
       coalesce(obj_description(c.oid, 'pg_class'), '')
       || CASE WHEN c.relrowsecurity THEN ' ROW LEVEL SECURITY' ELSE '' END
       || CASE WHEN c.relforcerowsecurity THEN ' FORCED' ELSE '' END
       || CASE WHEN c.relpersistence = 'u' THEN ' UNLOGGED' ELSE '' END
       || GRANTED(c.relacl, 'r', c.relowner)
       || coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '')
       || coalesce(' PARTITION BY ' || pg_get_partkeydef(c.oid), '')
       || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '')
       || coalesce(' INHERITS (' || (
              SELECT string_agg(parent.relname, ', ' ORDER BY i.inhseqno)
              FROM pg_inherits i JOIN pg_class parent ON parent.oid = i.inhparent
              WHERE i.inhrelid = c.oid) || ')', '')
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
SELECT 'constraint ' || ns.prefix || c.relname || '.' || k.conname,
       pg_get_constraintdef(k.oid)
       || coalesce(' COMMENT ' || obj_description(k.oid, 'pg_constraint'), '')
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
       || ' FROM ' || s.seqstart || ' IN ' || s.seqmin || '..' || s.seqmax
       || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END
       || coalesce(' OWNED BY ' || o.relname || '.' || a.attname, '')
       || coalesce(' COMMENT ' || obj_description(c.oid, 'pg_class'), '')
       || GRANTED(c.relacl, 's', c.relowner)
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
       || coalesce(' COMMENT ' || obj_description(t.oid, 'pg_type'), '')
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN ns ON ns.oid = t.typnamespace
GROUP BY ns.prefix, t.typname, t.oid
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
       || coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '')
       || coalesce(' COMMENT ' || obj_description(c.oid, 'pg_class'), '')
       || GRANTED(c.relacl, 'r', c.relowner)
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT 'function ' || ns.prefix || p.proname
       || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       -- The whole definition (body included) where PostgreSQL writes one back.
       CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid)
            ELSE p.prokind::text || ' ' || pg_get_function_result(p.oid) END
       || coalesce(' COMMENT ' || obj_description(p.oid, 'pg_proc'), '')
       || GRANTED(p.proacl, 'f', p.proowner)
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE p.oid NOT IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
UNION ALL
SELECT 'trigger ' || ns.prefix || c.relname || '.' || g.tgname,
       pg_get_triggerdef(g.oid)
       || CASE g.tgenabled WHEN 'D' THEN ' DISABLED' WHEN 'R' THEN ' REPLICA'
                           WHEN 'A' THEN ' ALWAYS' ELSE '' END
       || coalesce(' COMMENT ' || obj_description(g.oid, 'pg_trigger'), '')
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
SELECT 'extension ' || e.extname, 'in ' || x.nspname || ' version ' || e.extversion
FROM pg_extension e JOIN pg_namespace x ON x.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
"""
)

# GRANTED(acl, kind, owner) above: the privileges granted beyond the object's
# defaults (its owner's, and PUBLIC's on functions), as PostgreSQL lists them;
# an ACL put back to the defaults by hand is no difference.
OBJECTS = re.sub(
    r"GRANTED\((\S+), '(\w)', (\S+)\)",
    r"CASE WHEN \1 IS NULL OR \1 = acldefault('\2', \3) THEN '' "
    r"ELSE ' GRANTED ' || array_to_string(\1, ' ') END",
    OBJECTS,
)
# obj_description(oid, catalog) above: the object's comment. The function is
# one of SQL that PostgreSQL cannot inline, so it would run a query of its own
# for every row; the same lookup as a subquery is planned once with the rest.
OBJECTS = re.sub(
    r"obj_description\(([\w.]+), '(\w+)'\)",
    r"(SELECT description FROM pg_description"
    r" WHERE objoid = \1 AND classoid = '\2'::regclass AND objsubid = 0)",
    OBJECTS,
)
# Prepared once per session: planning this query is a fifth of a read, and the
# stairway reads three times a revision on one connection. (A pooler that
# moves a session between server connections, as pgbouncer's transaction mode
# does, would lose it: the readers here connect to PostgreSQL itself.)
_PREPARED = "migrator_catalog_objects"


def describe(connection: Connection, leave_out: set[str] = frozenset()) -> dict[str, str]:
    """{object: definition} for the application's schemas, leaving out the
    tables in ``leave_out`` (the migrations' bookkeeping) with their columns,
    constraints, indexes, triggers and policies."""
    if not connection.info.get(_PREPARED):
        connection.execute(text(f"PREPARE {_PREPARED} AS {OBJECTS}"))
        connection.info[_PREPARED] = True
    return {
        name: definition
        for name, definition in connection.execute(text(f"EXECUTE {_PREPARED}"))
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


# The tables and materialized views (their rows) and sequences (their values) of
# the application's schemas.
_HOLDERS = (
    _SCHEMAS
    + r"""
SELECT c.relkind, ns.prefix || c.relname, quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       c.relispopulated
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'S')
ORDER BY 2
"""
)


# A table's rows: how many, and a digest of them in an order of their own.
_ROWS = (
    "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
    " FROM {table} t"
)


def contents(connection: Connection, leave_out: set[str] = frozenset()) -> dict[str, str]:
    """{holder: what it holds} for what describe() does not see: the rows of
    each table and materialized view (their count and a digest of them, in any
    order) and each sequence's value, leaving out the tables in ``leave_out``."""
    found = {}
    for kind, name, qualified, populated in connection.execute(text(_HOLDERS)):
        if kind == "S":
            value = connection.execute(text(f"SELECT last_value, is_called FROM {qualified}"))
            last, called = value.one()
            found[f"value of sequence {name}"] = f"{last}{'' if called else ' (not yet used)'}"
        elif name in leave_out:
            continue
        elif not populated:  # a materialized view WITH NO DATA cannot be read
            found[f"rows of materialized view {name}"] = "not populated"
        else:
            count, digest = connection.execute(text(_ROWS.format(table=qualified))).one()
            holder = "materialized view" if kind == "m" else "table"
            found[f"rows of {holder} {name}"] = f"{count} row(s), md5 {digest}"
    return found
