"""Zip bombs against `ale-sync ingest`: how soon the delivery limits refuse them, in what memory.

    python bench/bench_zip_bomb.py           # 1 GiB bombs
    python bench/bench_zip_bomb.py --gib 4   # bigger

Each bomb is a OneRoster bundle whose users.csv decompresses to GIB gibibytes: of NUL bytes; of
`,,,,` rows (the shape that once staged 60 million empty rows); and of NUL bytes again, its
sizes in the zip claiming 1 MiB (so the central directory says nothing is wrong and only the
count while reading can stop it). Each runs as its own `ale-sync ingest` process against a
scratch database; the bench prints its time, its peak RSS and its outcome, and, as the
baseline measured in the same run, the time merely to decompress the same member.
Needs DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# the repository's root, for a script run as `python bench/<name>.py`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest import drop_database, scratch_database
from models.db import get_engine
from models.migrate import upgrade
from tests.fixtures.rosters.bundles import students, write_oneroster

MIB = 1 << 20


def make_bomb(target: Path, member: bytes, gib: int, small: Path) -> Path:
    """SMALL's files zipped, users.csv replaced by its header and GIB GiB of MEMBER repeated."""
    header = (small / "users.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    chunk = member * (MIB // len(member))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in sorted(small.iterdir()):
            if item.name != "users.csv":
                archive.write(item, item.name)
        with archive.open("users.csv", "w") as users:
            users.write(header)
            for _ in range(gib * 1024):
                users.write(chunk)
    return target


def claim_one_mib(path: Path) -> Path:
    """users.csv's uncompressed size, in its local header and the central directory, set to 1 MiB."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo("users.csv").header_offset
    data[local + 22 : local + 26] = MIB.to_bytes(4, "little")
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 55] != b"users.csv":
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = MIB.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def run_ingest(bomb: Path, url: str) -> tuple[float, float, str]:
    """`ale-sync ingest BOMB` as a process of its own: seconds, its peak RSS in MB, its outcome."""
    command = ["ale-sync", "ingest", str(bomb), "--district", "17001", "--json"]
    seconds, rss, output = run_process(command, url)
    try:
        result = json.loads(output)
        outcome = f"{result['status']}: {result['reason']}"
    except (ValueError, KeyError):
        outcome = output.decode(errors="replace")[:200]
    return seconds, rss, outcome


def run_process(command: list[str], url: str) -> tuple[float, float, bytes]:
    """COMMAND's seconds, peak RSS in MB and output."""
    env = {**os.environ, "DATABASE_URL": url, "SIS_SOURCES": "[]", "LOG_FORMAT": "json"}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


def refusal_in_process(bomb: Path) -> None:
    """(a process of its own) Register and ingest BOMB; print the refusal's seconds and the RSS
    it added to the process's peak, as JSON."""
    from config.settings import SourceConfig  # noqa: PLC0415 (measured after the imports)
    from models.db import transaction  # noqa: PLC0415
    from worker.ingest import ingest_batch  # noqa: PLC0415
    from worker.pull import register_delivery  # noqa: PLC0415

    engine = get_engine()
    with engine.connect():
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with transaction(engine) as session:
        source = SourceConfig(district="17001", name="bench", inbox=bomb.parent)
        batch_id, _ = register_delivery(session, source, bomb)
    result = ingest_batch(engine, batch_id)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "added_mb": after - before, "status": str(result.status)}))


def decompress_time(bomb: Path) -> float:
    """The baseline: reading the member through to its end, discarding it."""
    started = time.perf_counter()
    with zipfile.ZipFile(bomb) as archive, archive.open("users.csv") as stream:
        while stream.read(MIB):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gib", type=int, default=1, help="decompressed size of each bomb's users.csv")
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        refusal_in_process(args.in_process)
        return
    work = Path(tempfile.mkdtemp(prefix="ale-bomb-"))
    small = write_oneroster(work / "small", students(3), district="17001")
    bombs = {
        "NUL bytes": make_bomb(work / "nul.zip", b"\0", args.gib, small),
        "empty rows ,,,,": make_bomb(work / "rows.zip", b",,,,\n", args.gib, small),
        "NUL bytes, sizes claim 1 MiB": claim_one_mib(make_bomb(work / "liar.zip", b"\0", args.gib, small)),
    }
    url = scratch_database()
    try:
        upgrade(get_engine(url))
        report(bombs, url, args.gib)
    finally:
        drop_database(url)
        shutil.rmtree(work, ignore_errors=True)


def report(bombs: dict[str, Path], url: str, gib: int) -> None:
    baseline = decompress_time(bombs["NUL bytes"])
    at_rest, at_rest_rss, _ = run_process(["ale-sync", "batches", "list", "--json"], url)
    print(f"baseline: decompressing {gib} GiB of NUL bytes: {baseline:.2f} s")
    print(
        f"baseline: `ale-sync batches list` (the CLI at rest): {at_rest:.2f} s, peak RSS {at_rest_rss:.0f} MB"
    )
    for name, bomb in bombs.items():
        print(f"{name} (zip of {bomb.stat().st_size / MIB:.1f} MB, {gib} GiB inside)")
        seconds, rss, outcome = run_ingest(bomb, url)
        print(f"  ale-sync ingest: {seconds:.2f} s, peak RSS {rss:.0f} MB -> {outcome}")
        _, _, measured = run_process([sys.executable, __file__, "--in-process", str(bomb)], url)
        inside = json.loads(measured.splitlines()[-1])
        print(
            f"  the refusal itself (register + ingest, in process): {inside['seconds']:.3f} s "
            f"({inside['seconds'] / baseline:.4f}x the decompression), "
            f"+{inside['added_mb']:.0f} MB to the peak RSS; {inside['status']}"
        )


if __name__ == "__main__":
    main()
