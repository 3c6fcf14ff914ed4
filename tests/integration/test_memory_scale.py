"""Memory at scale, in small: an import's peak RSS does not grow with the file, the saved index is
compact and memory-mapped, and a search process stays small. Real CLI subprocesses, real files.

The full-size figures (1,000,000 statements) are ``aishell bench memory --memory-1m``'s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aishell.engine.bench.memory import _distinct

# Runs the CLI in this process and reports its own peak RSS (VmHWM, KiB) on stderr's last line:
# not ru_maxrss, which Linux carries over from the parent at the fork (the test process, hundreds of
# MB after other tests, made every child report the same figure). Batches, the training journal
# and the embedder's caches are made small, so that the small file's import reaches their bounds
# too: what they hold is bounded by their sizes, the rest must not grow with the file.
PEAK = (
    "import runpy, sys\n"
    "from aishell.engine.memory import service\n"
    "from aishell.engine.memory import vectors\n"
    "from aishell.engine.memory import embed\n"
    "service.FIRST_BATCH, service.IMPORT_BATCH, vectors.JOURNAL_CAP = 500, 1000, 1000  # both files reach each bound\n"
    "embed.TOKEN_CACHE, embed.PART_CACHE, embed.PAIR_CACHE = 1000, 1000, 2000\n"
    "sys.argv = ['aishell', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('aishell.tui.cli', run_name='__main__')\n"
    "finally:\n"
    "    with open('/proc/self/status') as fh:\n"
    "        print('peak', next(l.split()[1] for l in fh if l.startswith('VmHWM:')), file=sys.stderr)\n"
)


def _run(home: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, AISHELL_HOME=str(home), AISHELL_MEMORY__IVF_THRESHOLD="2000")
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    peak_kib = int(proc.stderr.strip().splitlines()[-1].split()[1])
    return proc, peak_kib / 1024


def test_import_peak_rss_does_not_grow_with_the_file_and_search_reads_a_mapped_compact_index(tmp_path):
    small, large = tmp_path / "small.sql", tmp_path / "large.sql"
    texts = _distinct(12_000, seed=5)
    small.write_text("".join(t + ";\n" for t in texts[:3_000]))
    large.write_text("".join(t + ";\n" for t in texts))
    _, small_peak = _run(tmp_path / "a", "memory", "import", str(small))
    proc, large_peak = _run(tmp_path / "b", "memory", "import", str(large), "--format", "json")
    assert json.loads(proc.stdout)["recorded"] == 12_000
    # 4x the statements: the file is read a block at a time and written a batch at a time, so
    # only the compact tier grows (56 bytes a statement: 0.5 MB here). Before streaming, every
    # entry was held from the start and the difference was 17-40 MB; at 60 MB this held then.
    data = tmp_path / "b" / "data"
    index = data / "memory.faiss"
    assert index.stat().st_size < 12_000 * 100  # codes and ids, not 1,536 bytes of float32 each
    assert (data / "memory.db").stat().st_size < 12_000 * 600
    proc, _ = _run(tmp_path / "b", "memory", "stats", "--format", "json")
    stats = json.loads(proc.stdout)
    assert stats["statements"] == 12_000 and stats["index"]["kind"] == "ivf" and stats["index"]["mapped"]
    proc, search_peak = _run(tmp_path / "b", "memory", "search", texts[123], "--format", "json", "--limit", "3")
    assert json.loads(proc.stdout)["hits"][0]["text"] == texts[123] + ";"
    assert large_peak - small_peak < 30, (small_peak, large_peak)  # bounded caches (parses, shapes) filling: 15 MB
    # an import holds its batches and the training of the compact tier beyond what one search holds
    assert large_peak < search_peak + 90, (large_peak, search_peak)
    assert search_peak < large_peak
