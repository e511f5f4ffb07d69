"""The entity-relationship diagram of the models: Mermaid text in docs/erd.md
(GitHub draws it) and an SVG drawn by Graphviz, both from the MODELS_METADATA.

The files themselves say which models they show (the Mermaid text, and the
SVG's stamp of its DOT source), so a refresh compares them with the models and
rewrites nothing, and runs no Graphviz, while the models are unchanged."""

import hashlib
import re
import subprocess
from html import escape
from pathlib import Path

from sqlalchemy import Column, ForeignKeyConstraint, Index, MetaData, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

from migrator import MigratorError, files

DIAGRAM = Path("docs/erd.md")
SVG = Path("docs/erd.svg")
START, END = "<!-- erd:start -->", "<!-- erd:end -->"


def type_name(column: Column) -> str:
    return column.type.compile(dialect=postgresql.dialect()).lower()


def unique_columns(table: Table) -> set[str]:
    singles = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    singles += [i for i in table.indexes if isinstance(i, Index) and i.unique]
    return {c.columns[0].name for c in singles if len(c.columns) == 1}


def keys(column: Column, unique: set[str]) -> list[str]:
    found = ["PK"] if column.primary_key else []
    if column.foreign_keys:
        found.append("FK")
    if column.name in unique:
        found.append("UK")
    return found


def relationships(metadata: MetaData):
    """(child, columns, parent, referred columns, optional, one_to_one) for each
    foreign key, in a stable order."""
    for table in tables(metadata):
        unique = unique_columns(table)
        for fk in sorted(
            (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)),
            key=lambda c: c.column_keys,
        ):
            columns = [c.name for c in fk.columns]
            referred = [e.column.name for e in fk.elements]
            optional = any(c.nullable for c in fk.columns)
            one_to_one = len(columns) == 1 and columns[0] in unique
            yield table.name, columns, fk.referred_table.name, referred, optional, one_to_one


def tables(metadata: MetaData) -> list[Table]:
    return sorted(metadata.tables.values(), key=lambda t: t.name)


def mermaid(metadata: MetaData) -> str:
    lines = ["erDiagram"]
    for table in tables(metadata):
        unique = unique_columns(table)
        lines.append(f"    {table.name} {{")
        for column in table.columns:
            # Mermaid's attribute types are one word: "timestamp without time zone" too.
            kind = re.sub(r"[^\w()\[\]-]+", "_", type_name(column))
            attribute = " ".join([kind, column.name, ", ".join(keys(column, unique))]).rstrip()
            null = "" if column.nullable or column.primary_key else ' "not null"'
            lines.append(f"        {attribute}{null}")
        lines.append("    }")
    for child, columns, parent, _, optional, one_to_one in relationships(metadata):
        ends = ("|o" if optional else "||") + "--" + ("o|" if one_to_one else "o{")
        lines.append(f'    {parent} {ends} {child} : "{", ".join(columns)}"')
    return "\n".join(lines) + "\n"


def dot(metadata: MetaData) -> str:
    lines = [
        "digraph erd {",
        '    graph [rankdir=LR, fontname="Helvetica"];',
        '    node [shape=plain, fontname="Helvetica", fontsize=11];',
        # Crow's feet at the referencing (many) end, a bar at the referenced (one) end.
        '    edge [dir=both, arrowtail=crow, arrowhead=tee, fontname="Helvetica", fontsize=9];',
    ]
    for table in tables(metadata):
        unique = unique_columns(table)
        rows = [f'<tr><td colspan="3" bgcolor="#dde5ee"><b>{escape(table.name)}</b></td></tr>']
        for column in table.columns:
            name = escape(column.name) if column.nullable else f"<b>{escape(column.name)}</b>"
            rows.append(
                # References leave a row on its right and arrive on its left.
                f'<tr><td align="left" port="in_{escape(column.name)}">{name}</td>'
                f'<td align="left">{escape(type_name(column))}</td>'
                f'<td align="left" port="out_{escape(column.name)}">'
                f"{' '.join(keys(column, unique))}</td></tr>"
            )
        table_html = "".join(rows)
        lines.append(
            f'    "{table.name}" [label=<<table border="0" cellborder="1" cellspacing="0" '
            f'cellpadding="4">{table_html}</table>>];'
        )
    for child, columns, parent, referred, optional, one_to_one in relationships(metadata):
        style = ", style=dashed" if optional else ""  # dashed: the reference may be NULL
        tail = ", arrowtail=tee" if one_to_one else ""
        lines.append(
            f'    "{child}":"out_{columns[0]}":e -> "{parent}":"in_{referred[0]}":w '
            f'[label="{", ".join(columns)}"{style}{tail}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def stamp(dot_source: str) -> str:
    """The comment an SVG carries to say which DOT source it was drawn from."""
    digest = hashlib.sha256(dot_source.encode()).hexdigest()
    return f"<!-- erd: drawn by `make erd` from DOT source sha256 {digest} -->"


def svg(metadata: MetaData) -> str:
    source = dot(metadata)
    try:
        done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True)
    except FileNotFoundError:
        raise MigratorError("Graphviz's dot not found: make erd runs in the dev image") from None
    if done.returncode != 0:
        raise MigratorError(f"dot failed: {' '.join(done.stderr.split())}")
    # Graphviz's version comment would change the file with every Graphviz upgrade.
    drawn = re.sub(r"<!-- Generated by graphviz .*?-->\n", "", done.stdout, flags=re.DOTALL)
    return drawn.replace("<svg", f"{stamp(source)}\n<svg", 1)


def readme_block(metadata: MetaData) -> str:
    return f"{START}\n```mermaid\n{mermaid(metadata)}```\n{END}"


def embedded(readme: str) -> str:
    """The ER diagram block of the README text, markers included."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise MigratorError(f"{DIAGRAM} has no {START} ... {END} markers for the ER diagram")
    return readme[start : end + len(END)]


def current(metadata: MetaData) -> bool:
    """Whether both diagrams already show ``metadata``: no Graphviz run needed to tell."""
    page = DIAGRAM.read_text()
    drawn = SVG.read_text() if SVG.exists() else ""
    return embedded(page) == readme_block(metadata) and stamp(dot(metadata)) in drawn


def write(metadata: MetaData) -> None:
    page = DIAGRAM.read_text()
    block, drawn = embedded(page), svg(metadata)  # both, before either file changes
    files.write_text(DIAGRAM, page.replace(block, readme_block(metadata), 1))
    files.write_text(SVG, drawn)
    print(f"{DIAGRAM} (between the erd markers) and {SVG}: the ER diagram of the models")


def refresh(metadata: MetaData) -> bool:
    """Redraw the diagrams only if the models changed; whether they were redrawn."""
    if current(metadata):
        return False
    write(metadata)
    return True
