"""What every item shares: running commands, timing them against their floors
round by round, and the table the figures go into."""

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class BenchError(Exception):
    """A command the benchmark needs failed: the figure cannot be measured."""


def sh(*args: str, ok: tuple[int, ...] = (0,), **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode not in ok:
        # pytest's summary is at the end of stdout, Compose's noise on stderr.
        said = [" ".join(stream.split())[-600:] for stream in (done.stdout, done.stderr)]
        raise BenchError(
            f"`{' '.join(args)[:80]}` exited {done.returncode}: {' / '.join(filter(None, said))}"
        )
    return done


def clock(*args: str, **kwargs) -> float:
    start = time.perf_counter()
    sh(*args, **kwargs)
    return time.perf_counter() - start


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def megabytes(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} MB"


@dataclass
class Table:
    """The Markdown table `make bench` prints: one row per figure."""

    rows: list[tuple[str, ...]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def row(
        self,
        item: str,
        what: str,
        value: float,
        floor: float | None = None,
        target: str = "",
        met: bool | None = None,
        shown: Callable[[float | None], str] = seconds,
    ) -> None:
        ratio = f"{value / floor:.2f}x" if floor else ""
        verdict = "" if met is None else ("met" if met else "**not met**")
        self.rows.append((item, what, shown(value), shown(floor), ratio, target, verdict))

    def failed(self, item: str, exc: Exception) -> None:
        self.failures.append(f"{item}: {exc}")
        self.rows.append((item, "(failed: see the error below the table)", "", "", "", "", ""))

    def markdown(self) -> str:
        header = ("item", "measure", "median", "floor", "ratio", "target", "")
        lines = [header, ("---",) * len(header), *self.rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)


@dataclass
class Bench:
    """The run: how many rounds each figure takes, and the table it fills."""

    runs: int
    table: Table = field(default_factory=Table)

    def medians(self, **subjects: Callable[[], float | dict[str, float]]) -> dict[str, float]:
        """One warm-up, then `runs` rounds; within a round the subjects run one
        after the other, so a noisy neighbour slows subject and floor alike. A
        subject gives one figure, or several by name."""
        for subject in subjects.values():
            subject()
        samples: dict[str, list[float]] = {}
        for round_ in range(self.runs):
            for name, subject in subjects.items():
                figures = subject()
                if not isinstance(figures, dict):
                    figures = {name: figures}
                for key, value in figures.items():
                    samples.setdefault(key, []).append(value)
            progress(
                f"    round {round_ + 1}/{self.runs}: "
                + ", ".join(f"{k} {v[-1]:.2f}" for k, v in samples.items())
            )
        return {key: statistics.median(values) for key, values in samples.items()}
