"""`python -m migrator ARGS` (or any `python -m`/`-c`) as a process of its own,
forked from a server (one per test worker) that imported the libraries and the
migrator once: those imports are most of a short command's time (0.3 s of
0.4 s here), and the suite runs over a hundred commands. The server imports
nothing of any project's models or revisions, and shares no state with the
tests.

relay() lets programs the tests start (make, in the hostile-argument matrix)
run the migrator the same way: tests/forked_client.py is their `python`."""

import json
import multiprocessing
import os
import runpy
import signal
import socketserver
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

CLIENT = Path(__file__).with_name("forked_client.py")
TIMEOUT = 120


def run(argv: list[str], cwd: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    """`python ARGV`, ARGV being `-m MODULE ARGS` or `-c CODE ARGS`: its exit
    status, its stdout and its stderr, as subprocess.run would give them."""
    process = Process(argv, cwd, environ)
    try:
        stdout, stderr = process.communicate()
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


_FORKED = multiprocessing.get_context("forkserver")
_FORKED.set_forkserver_preload(
    # Only what every migrator run imports anyway (env.py imports migrator.hooks
    # and through it alembic_postgresql_enum), so that no preloaded side effect
    # stands in for an import a project dropped; migrator.defaults, which only
    # env.py imports, stays out.
    [
        # This module first: each child starts in its _as_python.
        "tests.forked",
        "psycopg2",
        "sqlalchemy.orm",
        "alembic.command",
        "alembic.config",
        "alembic.autogenerate",
        "alembic_postgresql_enum",
        "migrator.commands",
        "migrator.hooks",
    ]
)


class Process:
    """`python ARGV` started in the background, with what the tests use of a
    Popen: pid, send_signal, wait, communicate. Its stdout and stderr go to
    files, read when it has ended; or both to ``log``, as it writes them (then
    communicate() gives the log as stdout)."""

    def __init__(self, argv: list[str], cwd: str, environ: dict[str, str], log: Path | None = None):
        if argv[0] not in ("-m", "-c"):
            raise ValueError(f"python {argv[0]}: only -m and -c are forked")
        self.args = [sys.executable, *argv]
        if log is None:
            self._outputs = tempfile.TemporaryDirectory()
            self._out = Path(self._outputs.name, "stdout")
            self._err = Path(self._outputs.name, "stderr")
        else:
            self._outputs = nullcontext()
            self._out = self._err = log
        for output in (self._out, self._err):
            output.touch()  # read even when the process died before writing
        self._process = _FORKED.Process(
            target=_as_python, args=(argv, cwd, environ, self._out, self._err)
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        # As Popen does: an ended process (its pid may be reused) is left alone.
        if self.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def wait(self, timeout: float = TIMEOUT) -> int:
        self._process.join(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def communicate(self, timeout: float = TIMEOUT) -> tuple[str, str]:
        self.wait(timeout)
        with self._outputs:
            stdout = self._out.read_text(encoding="utf-8")
            return stdout, "" if self._err == self._out else self._err.read_text(encoding="utf-8")


def _as_python(argv: list[str], cwd: str, environ: dict, out: Path, err: Path) -> None:
    """In the forked process: what `python ARGV` would start from."""
    # Its file descriptors 1 and 2 first, so that even a failure below shows
    # in its stderr; sys.stdout and sys.stderr (which Alembic took as its
    # defaults when the server imported it) and the commands it runs (ruff,
    # pg_dump) write there; multiprocessing flushes both at exit. One file
    # open once when both go to it, as with `2>&1`.
    files = {path: open(path, "ab") for path in {out, err}}  # noqa: SIM115
    for fd, path in ((1, out), (2, err)):
        os.dup2(files[path].fileno(), fd)
    for file in files.values():
        file.close()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    # Python's path: the current folder, PYTHONPATH, then the interpreter's own
    # (its standard library and site-packages, not what pytest added).
    libraries = tuple(
        {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    )
    own = [entry for entry in sys.path if entry.startswith(libraries)]
    sys.path[:] = [cwd, *filter(None, environ.get("PYTHONPATH", "").split(os.pathsep)), *own]
    option, what, *args = argv
    sys.argv = [option, *args]
    if option == "-m":
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    else:
        exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})


class _Relay(socketserver.StreamRequestHandler):
    """One client's `python ARGV`, in its folder and environment."""

    def handle(self) -> None:
        request = json.loads(self.rfile.readline())
        try:
            done = run(request["argv"], request["cwd"], request["env"])
            reply = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        except Exception as exc:  # the client's run fails, saying why; the relay goes on
            reply = {"returncode": 1, "stdout": "", "stderr": f"relay: {exc!r}\n"}
        self.wfile.write(json.dumps(reply).encode())


@contextmanager
def relay(socket_path: Path) -> Iterator[list[str]]:
    """Serves run() on ``socket_path`` while open; gives the command that
    stands for `python` there: `<command> -m migrator ARGS` is forked."""
    with socketserver.ThreadingUnixStreamServer(str(socket_path), _Relay) as server:
        # Polled for shutdown every 0.05 s: the default 0.5 s would be the
        # module's teardown.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield [sys.executable, "-I", "-S", str(CLIENT), str(socket_path)]
        finally:
            server.shutdown()
