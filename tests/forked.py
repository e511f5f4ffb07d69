"""`python -m migrator ARGS` (or any `python -m`/`-c`) as a process of its own,
forked from a server (one per test worker) that imported the libraries and the
migrator once: those imports are most of a short command's time (0.3 s of
0.4 s here), and the suite runs over a hundred commands. The server imports nothing of any
project's models or revisions, and shares no state with the tests.

relay() lets programs the tests start (make, in the hostile-argument matrix)
run the migrator the same way: tests/forked_client.py is their `python`."""

import json
import multiprocessing
import os
import runpy
import socketserver
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLIENT = Path(__file__).with_name("forked_client.py")
TIMEOUT = 120


def run(argv: list[str], cwd: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    """`python ARGV`, ARGV being `-m MODULE ARGS` or `-c CODE ARGS`: its exit
    status, its stdout and its stderr, as a subprocess would give them."""
    command = [sys.executable, *argv]
    with tempfile.TemporaryDirectory() as outputs:
        out, err = Path(outputs, "stdout"), Path(outputs, "stderr")
        for output in (out, err):
            output.touch()  # read even when the process died before writing
        process = _FORKED.Process(target=_as_python, args=(argv, cwd, environ, out, err))
        process.start()
        process.join(TIMEOUT)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(command, TIMEOUT)
        return subprocess.CompletedProcess(
            command,
            process.exitcode,
            out.read_text(encoding="utf-8"),
            err.read_text(encoding="utf-8"),
        )


_FORKED = multiprocessing.get_context("forkserver")
_FORKED.set_forkserver_preload(
    [
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


def _as_python(argv, cwd: str, environ: dict, out: Path, err: Path) -> None:
    """In the forked process: what `python ARGV` would start from."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    # Python's path: the current folder, PYTHONPATH, then the interpreter's own.
    own = [entry for entry in sys.path if entry.startswith((sys.prefix, sys.base_prefix))]
    sys.path[:] = [cwd, *filter(None, environ.get("PYTHONPATH", "").split(os.pathsep)), *own]
    # Its file descriptors 1 and 2, so sys.stdout and sys.stderr (which Alembic
    # took as its defaults when the server imported it) and the commands it
    # runs (ruff, pg_dump) write there; multiprocessing flushes both at exit.
    for fd, path in ((1, out), (2, err)):
        with open(path, "wb") as file:
            os.dup2(file.fileno(), fd)
    option, what, *args = argv
    if option == "-m":
        sys.argv = ["-m", *args]
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    elif option == "-c":
        sys.argv = ["-c", *args]
        exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})
    else:
        raise ValueError(f"python {option}: only -m and -c are forked")


class _Relay(socketserver.StreamRequestHandler):
    """One client's `python ARGV`, in its folder and environment."""

    def handle(self) -> None:
        request = json.loads(self.rfile.readline())
        done = run(request["argv"], request["cwd"], request["env"])
        reply = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        self.wfile.write(json.dumps(reply).encode())


@contextmanager
def relay(socket_path: Path) -> Iterator[list[str]]:
    """Serves run() on ``socket_path`` while open; gives the command that
    stands for `python` there: `<command> -m migrator ARGS` is forked."""
    with socketserver.ThreadingUnixStreamServer(str(socket_path), _Relay) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield [sys.executable, "-I", "-S", str(CLIENT), str(socket_path)]
        finally:
            server.shutdown()
