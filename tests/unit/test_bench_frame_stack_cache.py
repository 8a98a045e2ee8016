"""`make bench` measures with the interpreter Lambda runs (issue 16): where the bench's
Python 3.13 lacks CPython's fix of gh-142183 (3.13.13), every process it starts gets
bench/frame_stack_cache.c, which does what that fix does. See docs/cold-start.md,
"The frame-stack chunks"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import lambda_env  # noqa: E402

# A loop of calls whose frames end past the first 16 KiB frame-stack chunk (about 100
# frames in): with 3.13.0's stack, every call maps a fresh chunk and unmaps it on
# return, touching new pages each time (minor faults); with the fix, none.
CALLS_ACROSS_A_CHUNK_END = """
import json, resource
def down(n):
    return down(n - 1) if n else 0
faults = {}
for depth in range(100, 300, 25):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(1000):
        down(depth)
    faults[depth] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps(faults))
"""

# mmap and munmap through libc, as CPython calls them (so through the preloaded library).
LIBC = """
import ctypes, errno, json, mmap, resource, tempfile
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
size, rw = 16384, mmap.PROT_READ | mmap.PROT_WRITE
anonymous = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
"""

# One 16 KiB chunk written, unmapped, mapped again.
CHUNK_MAPPED_AGAIN = (
    LIBC
    + """
first = libc.mmap(None, size, rw, anonymous, -1, 0)
ctypes.memset(first, 0xAB, size)
assert libc.munmap(first, size) == 0
second = libc.mmap(None, size, rw, anonymous, -1, 0)
zeroed = ctypes.string_at(second, size) == bytes(size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
ctypes.memset(second, 0xCD, size)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"fresh pages": faults, "zeroed": zeroed}))
"""
)


# What is not a whole chunk of the library's own goes to the kernel as it is: two chunks
# unmapped by one call, then a file mapped where they were (the kernel reuses the
# address) and unmapped; the next chunk must be fresh memory, and the file untouched.
# And a failed call fails as the kernel says.
NOT_ITS_OWN = (
    LIBC
    + """
for _ in range(10):  # two neighbours (a chunk the interpreter freed may come first)
    chunks = sorted(libc.mmap(None, size, rw, anonymous, -1, 0) for _ in range(2))
    if chunks[1] - chunks[0] == size:
        break
else:
    raise SystemExit("no two neighbouring chunks: the case cannot be played")
assert libc.munmap(chunks[0], 2 * size) == 0
with tempfile.TemporaryFile() as file:
    file.write(b"X" * size); file.flush()
    mapped = libc.mmap(None, size, rw, mmap.MAP_SHARED, file.fileno(), 0)
    reused = mapped in chunks
    assert libc.munmap(mapped, size) == 0
    chunk = libc.mmap(None, size, rw, anonymous, -1, 0)
    fresh = ctypes.string_at(chunk, size) == bytes(size)
    ctypes.memset(chunk, 1, size)
    file.seek(0)
    untouched = file.read() == b"X" * size
failures = {}
for name, call in {"mmap": lambda: libc.mmap(None, 0, rw, anonymous, -1, 0),
                   "munmap": lambda: libc.munmap(1, 4096)}.items():
    call()
    failures[name] = errno.errorcode[ctypes.get_errno()]
print(json.dumps({"address reused": reused, "fresh": fresh, "file untouched": untouched,
                  "failures": failures}))
"""
)


def _run(code: str, preload: Path | None) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run(
        [lambda_env.python313(), "-I", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _library() -> Path:
    return lambda_env.compiled(lambda_env.FRAME_STACK_CACHE, lambda_env.FRAME_STACK_CACHE_LIBRARY)


def test_with_the_fix_calls_across_a_chunk_end_map_no_fresh_memory() -> None:
    python = lambda_env.python313()
    with_fix = _run(CALLS_ACROSS_A_CHUNK_END, _library())
    assert max(int(f) for f in with_fix.values()) < 50, with_fix
    if lambda_env.interpreter_version(python) < lambda_env.FRAME_STACK_FIX:
        # what the bench's interpreter does on its own: a page or more per call
        as_is = _run(CALLS_ACROSS_A_CHUNK_END, None)
        assert max(int(f) for f in as_is.values()) >= 1000, as_is


def test_a_chunk_mapped_again_is_the_one_kept_and_reads_as_fresh_memory() -> None:
    assert _run(CHUNK_MAPPED_AGAIN, _library()) == {"fresh pages": 0, "zeroed": True}
    assert _run(CHUNK_MAPPED_AGAIN, None) == {"fresh pages": 4, "zeroed": True}  # the kernel's


def test_what_is_not_a_whole_chunk_of_its_own_goes_to_the_kernel_as_it_is() -> None:
    seen = _run(NOT_ITS_OWN, _library())
    assert seen["address reused"], "the file landed elsewhere: the case was not played"
    assert seen == {
        "address reused": True,
        "fresh": True,
        "file untouched": True,
        "failures": {"mmap": "EINVAL", "munmap": "EINVAL"},
    }


@pytest.mark.parametrize(
    ("version", "preloaded"),
    [
        ((3, 13, 0), True),
        ((3, 13, 12), True),
        ((3, 13, 13), False),
        ((3, 13, 20), False),
        ((3, 12, 1), False),
        ((3, 14, 0), False),
    ],
)
def test_the_bench_preloads_the_fix_into_every_probe_only_on_a_313_without_it(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int], preloaded: bool
) -> None:
    library = _library()  # compiled before subprocess.run is stood in for
    monkeypatch.setattr(lambda_env, "stand_in_for_missing_fixes", True)
    monkeypatch.setattr(lambda_env, "interpreter_version", lambda python: version)
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **kw: seen.append(kw["env"]))
    handler = lambda_env.functions()[0]
    lambda_env.run_python("import boto3", None)  # the yardstick
    lambda_env.run_python(f"import {handler.module}", handler)
    expected = [str(library)] * 2 if preloaded else [None, None]
    assert [env.get("LD_PRELOAD") for env in seen] == expected


def test_interpreter_as_is_measures_without_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import run  # bench/run.py

    monkeypatch.setattr(lambda_env, "stand_in_for_missing_fixes", True)
    monkeypatch.setattr(lambda_env, "interpreter_version", lambda python: (3, 13, 0))
    monkeypatch.setattr(run, "web_client", lambda budgets, report: None)
    assert run.main(["--only", "web", "--interpreter-as-is"]) == 0
    assert lambda_env.frame_stack_cache() is None
    monkeypatch.setattr(lambda_env, "stand_in_for_missing_fixes", True)
    assert run.main(["--only", "web"]) == 0
    assert lambda_env.frame_stack_cache() == lambda_env.FRAME_STACK_CACHE_LIBRARY
