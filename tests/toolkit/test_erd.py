"""The ER diagram: drawn from a metadata, and `make erd` rewrites docs/erd.md
between its markers only, and a refresh only when the models changed (that
yours are current: tests/migrations/)."""

from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from migrator import MigratorError, erd
from tests.helpers import run_migrator
from tests.toolkit.conftest import FIXTURE


def people() -> MetaData:
    metadata = MetaData()
    Table("address", metadata, Column("id", Integer, primary_key=True))
    Table(
        "person",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("address_id", ForeignKey("address.id"), nullable=False),
        Column("twin_id", ForeignKey("person.id"), unique=True),
    )
    return metadata


def test_a_model_change_changes_both_diagrams():
    assert erd.mermaid(people()) == (
        "erDiagram\n"
        "    address {\n"
        "        integer id PK\n"
        "    }\n"
        "    person {\n"
        "        integer id PK\n"
        '        varchar(50) name "not null"\n'
        '        integer address_id FK "not null"\n'
        "        integer twin_id FK, UK\n"
        "    }\n"
        '    address ||--o{ person : "address_id"\n'
        '    person |o--o| person : "twin_id"\n'
    )
    source = erd.dot(people())
    assert '"person":"out_address_id":e -> "address":"in_id":w [label="address_id"];' in source
    fewer = people()
    fewer.remove(fewer.tables["address"])
    assert erd.stamp(source) != erd.stamp(erd.dot(fewer))


def test_make_erd_rewrites_the_page_between_its_markers_only(project):
    before, after = "# Title\n\nText before.\n\n", "\n\nText after.\n"
    (project / "docs").mkdir()
    (project / "docs" / "erd.md").write_text(f"{before}{erd.START}\nstale\n{erd.END}{after}")

    result = run_migrator("erd", cwd=project)

    assert result.returncode == 0, result.stderr
    # The fixture's own diagram, committed as `make erd` drew it.
    drawn = (FIXTURE / "docs" / "erd.md").read_text()
    assert (project / "docs" / "erd.md").read_text() == f"{before}{erd.embedded(drawn)}{after}"
    svg = (project / "docs" / "erd.svg").read_text()
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    assert svg == (FIXTURE / "docs" / "erd.svg").read_text()


def test_make_erd_without_markers_says_so_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("docs").mkdir()
    Path("docs/erd.md").write_text("# A page without the markers\n")

    with pytest.raises(MigratorError, match=f"docs/erd.md has no {erd.START} ... {erd.END}"):
        erd.write(people())

    assert Path("docs/erd.md").read_text() == "# A page without the markers\n"
    assert not Path("docs/erd.svg").exists()


def test_a_refresh_redraws_only_when_the_models_changed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("docs").mkdir()
    Path("docs/erd.md").write_text(f"# ER diagram\n\n{erd.START}\n{erd.END}\n")
    erd.write(people())
    drawn = {path: path.stat().st_mtime_ns for path in (erd.DIAGRAM, erd.SVG)}

    assert erd.refresh(people()) is False
    assert {path: path.stat().st_mtime_ns for path in drawn} == drawn

    fewer = people()
    fewer.remove(fewer.tables["address"])
    assert erd.refresh(fewer) is True
    assert "address {" not in erd.DIAGRAM.read_text()
    assert erd.stamp(erd.dot(fewer)) in erd.SVG.read_text()
    assert erd.refresh(fewer) is False
