"""Rebuilding the migrator image after a one-line change to the models, against
the same build with nothing changed (every layer cached)."""

from bench.harness import Bench, clock, progress
from bench.project import Project, unique


def measure(bench: Bench, project: Project) -> None:
    progress("rebuild: the migrator image after a one-line model change")
    # The module MODELS_METADATA names, a package or a file, in the copy.
    module = project.path / project.models_metadata.partition(":")[0].replace(".", "/")
    models = module / "__init__.py" if module.is_dir() else module.with_suffix(".py")

    def build() -> float:
        return clock(
            "docker", "compose", "build", "migrator", cwd=project.path, env=project.environ
        )

    def one_line_change() -> float:
        # A line never built before: the build cache is keyed by content.
        with models.open("a") as file:
            file.write(f"# {unique('bench edit ')}\n")
        return build()

    m = bench.medians(rebuild=one_line_change, cached=build)
    bench.table.row(
        "rebuild",
        f"`docker compose build migrator` after a one-line change to `{models.name}`",
        m["rebuild"],
        m["cached"],
        "≤ 5 s",
        m["rebuild"] <= 5,
    )
