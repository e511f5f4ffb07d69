"""Server defaults compared as PostgreSQL means them, for autogenerate and
`make check`; importing this module (env.py does) puts the comparison in place.

PostgreSQL gives a default back rewritten: ``'{}'::jsonb``, ``'-1'::integer``,
``'pending'::order_status``, ``'{}'::character varying[]``. The models hold it
as written: ``"pending"``, ``text("'{}'::jsonb")``, ``func.now()``, ``true()``.
Both are brought to one form here, so only a real change is a difference.
Nothing is evaluated on the server: Alembic's own comparison runs both
defaults in a SELECT, so ``gen_random_uuid()`` differs from itself every time.
"""

import json
import logging
import re
from decimal import Decimal, InvalidOperation

from alembic.autogenerate import comparators
from alembic.util import DispatchPriority, PriorityDispatchResult
from sqlalchemy import JSON, Boolean, Integer, Numeric
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import DefaultClause

log = logging.getLogger("alembic.autogenerate")

# A trailing cast as PostgreSQL writes it: ::jsonb, ::character varying[],
# ::numeric(10,2), ::"Mixed Case".
_CAST = re.compile(r'::(?:"[^"]+"|[\w .]+)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*$')
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
# Spellings of one function: PostgreSQL keeps each as written.
_SYNONYMS = {"current_timestamp": "now()", "transaction_timestamp()": "now()"}
_BOOLEANS = {"true": True, "t": True, "yes": True, "on": True, "1": True}
_BOOLEANS |= {"false": False, "f": False, "no": False, "off": False, "0": False}


# Ahead of Alembic's own server default comparisons (its user hook fails on
# identity columns with "'Identity' object has no attribute 'arg'").
@comparators.dispatch_for(
    "column", subgroup="server_default", qualifier="postgresql", priority=DispatchPriority.FIRST
)
def compare(autogen_context, alter_column_op, schema, table, name, inspected, model):
    """Sets the column's new default when the database's and the model's differ;
    identity and computed columns are left to Alembic."""
    old, new = inspected.server_default, model.server_default
    if old is None and new is None:
        return PriorityDispatchResult.CONTINUE
    if not all(isinstance(default, DefaultClause | None) for default in (old, new)):
        return PriorityDispatchResult.CONTINUE
    alter_column_op.existing_server_default = old
    if differ(old and old.arg.text, rendered(new), model.type):
        alter_column_op.modify_server_default = new
        log.info("Detected server default on column '%s.%s'", table, name)
    return PriorityDispatchResult.STOP


def rendered(default: DefaultClause | None) -> str | None:
    """The model's default as SQL: a plain string is a value, anything else SQL."""
    if default is None:
        return None
    if isinstance(default.arg, str):
        return quote(default.arg)
    return str(
        default.arg.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def differ(inspected: str | None, model: str | None, type_) -> bool:
    """Whether the database's default and the model's (both as SQL) differ on a
    column of ``type_``."""
    if model is None and (inspected or "").startswith("nextval("):
        return False  # an integer primary key's SERIAL sequence, implicit in the model
    return canonical(inspected, type_) != canonical(model, type_)


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def canonical(sql: str | None, type_) -> object:
    """One form for each way of writing the same default on a column of ``type_``."""
    if sql is None:
        return None
    sql = sql.strip()
    while True:
        bare = _CAST.sub("", sql).strip()
        if bare.startswith("(") and bare.endswith(")") and balanced(bare[1:-1]):
            bare = bare[1:-1].strip()
        if bare == sql:
            break
        sql = bare
    literal = _QUOTED.fullmatch(sql)
    value = literal[1].replace("''", "'") if literal else sql
    if isinstance(type_, Boolean) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    if isinstance(type_, Integer | Numeric):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    if isinstance(type_, JSON) and literal:
        try:
            return json.loads(value)
        except ValueError:
            pass
    if literal:
        return ("value", value)
    expression = " ".join(sql.lower().split())
    return _SYNONYMS.get(expression, expression)


def balanced(sql: str) -> bool:
    """Whether the parentheses in ``sql`` pair up: "(a) + (b)" is not one group."""
    depth = 0
    for char in sql:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
