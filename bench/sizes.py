"""The images' sizes (`docker image inspect`; MB = 10^6 bytes) against the
Python base image the Dockerfile names."""

from bench.harness import Bench, megabytes, sh
from bench.project import Project


def size(image: str) -> float:
    return int(sh("docker", "image", "inspect", "-f", "{{.Size}}", image).stdout) / 1e6


def measure(bench: Bench, project: Project) -> None:
    project.compose("--profile", "dev", "build", "migrator", "dev")
    base_image = project.python_image()
    base, migrator = size(base_image), size(project.image("migrator"))
    bench.table.row(
        "sizes",
        f"the migrator image (floor: its base, `{base_image}`)",
        migrator,
        base,
        "≤ floor + 60 MB",
        migrator <= base + 60,
        shown=megabytes,
    )
    bench.table.row("sizes", "the dev image", size(project.image("dev")), base, shown=megabytes)
