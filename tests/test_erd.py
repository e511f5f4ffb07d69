"""The ER diagram: the README's Mermaid block and erd.svg are current with the
models, and `make erd` rewrites the README between its markers only."""

from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

import models
from migrator import MigratorError, erd
from migrator.settings import PROJECT_ROOT
from tests.conftest import run_migrator

STALE = "run `make erd` and commit README.md and erd.svg"


def test_the_readme_diagram_is_current():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert erd.embedded(readme) == erd.readme_block(models.Base.metadata), STALE


def test_the_svg_is_drawn_from_the_current_models():
    svg = (PROJECT_ROOT / "erd.svg").read_text()
    assert erd.stamp(erd.dot(models.Base.metadata)) in svg, STALE
    for table in models.Base.metadata.tables:
        assert f"<title>{table}</title>" in svg


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
    assert erd.stamp(source) != erd.stamp(erd.dot(models.Base.metadata))


def test_make_erd_rewrites_the_readme_between_its_markers_only(project):
    before, after = "# Title\n\nText before.\n\n", "\n\nText after.\n"
    (project / "README.md").write_text(f"{before}{erd.START}\nstale\n{erd.END}{after}")

    result = run_migrator("erd", cwd=project)

    assert result.returncode == 0, result.stderr
    expected = erd.readme_block(models.Base.metadata)
    assert (project / "README.md").read_text() == f"{before}{expected}{after}"
    svg = (project / "erd.svg").read_text()
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    assert erd.stamp(erd.dot(models.Base.metadata)) in svg


def test_make_erd_without_markers_says_so_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("README.md").write_text("# A README without the markers\n")

    with pytest.raises(MigratorError, match=f"README.md has no {erd.START} ... {erd.END}"):
        erd.write()

    assert Path("README.md").read_text() == "# A README without the markers\n"
    assert not Path("erd.svg").exists()
