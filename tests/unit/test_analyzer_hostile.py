"""The analyzer on hostile input: every pathological shape of engine.analyzer.hostile analyzed
in bounded time (and time that grows linearly), findings capped with a count, deep nesting
reported per statement, statements too large skipped with the rest of the script still
analyzed, the windowed tokenizer splitting exactly like the whole text, and `aishell analyze`
on a multi-megabyte file in a real subprocess with its peak memory bounded.

Sizes here are small (the bench runs the shapes at 1 MB); time bounds are CPU seconds with a
wide margin, and the growth test compares a size with four times it, so a loaded machine does
not make them flaky.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aishell.engine.analyzer import analyze, analyze_stream, clear_cache, pipeline, split_statements
from aishell.engine.analyzer.hostile import SHAPES, hostile, write_script

TPCH = [p.read_text() for p in sorted((Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tpch").glob("q*.sql"))]


def cpu_seconds(fn) -> float:
    """Best of two CPU times of ``fn()`` (process time: other processes do not count)."""
    best = float("inf")
    for _ in range(2):
        clear_cache()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def text_of(shape: str, size: int) -> str:
    data = hostile(shape, size)
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_is_analyzed_quickly_and_findings_stay_in_the_text(shape):
    sql = text_of(shape, 20_000)
    seconds = cpu_seconds(lambda: analyze(sql))
    assert seconds < 1.0, f"{shape}: {seconds:.2f} s of CPU for 20 KB"  # about 0.05 s; the AND of ORs took 40 s
    analysis = analyze(sql)
    lines = sql.split("\n")
    for finding in analysis.findings:
        assert 1 <= finding.line <= len(lines)
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1
        assert len(finding.message) < 500 and len(finding.suggestion or "") < 5_000
    per_rule: dict[tuple[int, str], int] = {}
    for finding in analysis.findings:
        per_rule[finding.statement, finding.code] = per_rule.get((finding.statement, finding.code), 0) + 1
    assert max(per_rule.values(), default=0) <= pipeline.MAX_FINDINGS + 1


# The shapes some rule used to handle in quadratic time (or worse); four times the input must
# cost about four times the time, not sixteen.
GREW_QUADRATICALLY = ["and_of_ors", "wide_or", "many_likes", "many_functions", "many_comma_tables", "many_subqueries", "many_unions", "same_column_ors", "not_in_list"]


@pytest.mark.parametrize("shape", GREW_QUADRATICALLY)
def test_time_grows_linearly(shape):
    small, large = text_of(shape, 10_000), text_of(shape, 40_000)
    t_small = cpu_seconds(lambda: analyze(small))
    t_large = cpu_seconds(lambda: analyze(large))
    assert t_large < 9 * max(t_small, 0.004), f"{shape}: {t_small * 1000:.0f} ms at 10 KB, {t_large * 1000:.0f} ms at 40 KB"


def test_the_and_of_ors_from_the_issue():
    sql = "SELECT id FROM t WHERE " + " AND ".join(f"(a{i} = {i} OR b = {i})" for i in range(1, 1001))
    seconds = cpu_seconds(lambda: analyze(sql))
    assert seconds < 2.0  # over 60 s before; about 0.15 s now
    found = analyze(sql).findings
    listed = [f for f in found if not f.message.startswith("…")]
    (more,) = [f for f in found if f.message.startswith("…")]
    assert len(listed) == pipeline.MAX_FINDINGS and {f.code for f in found} == {"AS006"}
    assert more.message == "… and 975 more AS006 findings in this statement (not listed)"
    assert more.severity == "info" and more.line == 1


def test_counted_findings_keep_their_worst_severity():
    sql = "SELECT id FROM t WHERE " + " AND ".join(f"c{i} = NULL" for i in range(40))
    found = analyze(sql).findings
    assert len(found) == pipeline.MAX_FINDINGS + 1
    assert found[-1].code == "AS012" and found[-1].severity == "error" and "15 more" in found[-1].message


@pytest.mark.parametrize("shape", ["deep_not", "deep_case", "deep_unary_minus", "deep_arrays", "deep_parens", "deep_subqueries"])
def test_deep_nesting_is_one_finding_and_the_script_goes_on(shape):
    sql = text_of(shape, 30_000) + ";\nSELECT * FROM t"
    found = analyze(sql).findings
    assert [(f.code, f.statement) for f in found] == [("AS000", 0), ("AS001", 1)]
    assert "deep" in found[0].message and found[1].line == 2


def test_a_statement_too_large_is_skipped_and_the_rest_is_analyzed(monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_STATEMENT_TOKENS", 5_000)
    monkeypatch.setattr(pipeline, "WINDOW", 4_096)
    big = text_of("wide_and", 60_000)
    sql = "SELECT 1;\n" + big + ";\nSELECT * FROM t;\nDELETE FROM t"
    found = analyze(sql).findings
    assert [(f.code, f.statement, f.line) for f in found] == [("AS000", 1, 2), ("AS001", 2, 3), ("AS002", 3, 4)]
    assert "too large to analyze" in found[0].message and f"{len(big):,} characters" in found[0].message
    assert [s.text for s in split_statements(sql)][1:] == ["", "SELECT * FROM t", "DELETE FROM t"]


def test_a_string_never_closed_ends_the_analysis_without_reading_everything(monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_TOKEN_CHARS", 50_000)
    monkeypatch.setattr(pipeline, "WINDOW", 4_096)
    read = []

    def blocks():
        yield "SELECT * FROM t;\nSELECT 'never closed"
        for _ in range(1_000):
            read.append(1)
            yield "x" * 1_000

    out = list(analyze_stream(blocks()))
    codes = [[f.code for f in found] for _, found in out]
    assert codes[0] == ["AS001"] and codes[-1] == ["AS000"]
    assert "never closed" in out[-1][1][0].message and out[-1][1][0].line == 2
    assert len(read) < 200  # stopped reading long before the end


def test_windows_and_blocks_split_exactly_like_the_whole_text(monkeypatch):
    """Any window size and any cut of the input give the same statements and findings as one
    pass over the whole text (the windows re-read two-word keywords and unfinished tokens)."""
    rng = random.Random(12)
    words = ["SELECT", "*", "FROM", "t", "WHERE", "x", "=", "NULL", "ORDER", "BY", "GROUP", "'a;b'", "/* ; */", "--c\n", ";", "\n", "$$;$$", "(", ")", "LIKE", "'%x'"]
    cases = [";\n".join(rng.sample(TPCH, 3)) for _ in range(6)] if TPCH else []
    cases += [" ".join(rng.choice(words) for _ in range(120)) for _ in range(30)]
    for sql in cases:
        monkeypatch.setattr(pipeline, "WINDOW", 1 << 17)
        clear_cache()
        whole = analyze(sql)
        statements = [(s.index, s.text, s.offset, s.line, s.column) for s in split_statements(sql)]
        monkeypatch.setattr(pipeline, "WINDOW", rng.randint(1, 120))
        clear_cache()
        cuts = sorted(rng.sample(range(1, len(sql)), min(20, len(sql) - 1)))
        blocks = [sql[a:b] for a, b in zip([0] + cuts, cuts + [len(sql)])]
        streamed = list(analyze_stream(blocks))
        assert [f for _, found in streamed for f in found] == whole.findings
        assert len(streamed) == whole.statements
        assert [(s.index, s.text, s.offset, s.line, s.column) for s in split_statements(sql)] == statements


def test_the_caches_are_bounded_by_what_they_hold_not_only_by_entries():
    from aishell.engine.analyzer import cache_stats

    clear_cache()
    for i in range(100):  # 100 texts of 90 KB: 9 MB, each under the per-text limit
        analyze(f"SELECT {i} /* " + "x" * 90_000 + " */")
    stats = cache_stats()
    assert stats["text_weight"] <= 8_000_000 and stats["texts"] < 90
    assert stats["shape_weight"] <= 16_000_000
    assert analyze("SELECT 99 /* " + "x" * 90_000 + " */").statements == 1  # the newest is still served
    assert cache_stats()["text_hits"] == stats["text_hits"] + 1


def test_invalid_utf8_and_nul_bytes():
    assert [f.code for f in analyze(hostile("invalid_utf8", 5_000)).findings] == []  # type: ignore[arg-type]
    assert analyze(text_of("nul_bytes", 5_000)).statements == 1


def peak_rss_mb(argv: list[str]) -> tuple[int, float, bytes]:
    """Run ``argv`` and poll its peak resident memory (VmHWM) until it exits: (exit code, MB, stdout)."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        peak = 0
        import threading

        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))
        reader.start()
        while proc.poll() is None:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        reader.join()
    return proc.returncode, peak / 1024, b"".join(chunks)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
@pytest.mark.skipif(not TPCH, reason="the TPC-H queries (../shared/data/tpch) are not beside this checkout")
def test_cli_memory_does_not_grow_with_the_file(tmp_path):
    """`aishell analyze` holds one window of the file, not the file: a 3 MB script of TPC-H
    queries and hostile shapes peaks within 300 MB and within 40 MB of a 0.5 MB one (before:
    about 95 MB more per MB of input, 1.96 GB for 20 MB)."""
    import json

    peaks = {}
    for size in (500_000, 3_000_000):
        path = tmp_path / f"script_{size}.sql"
        write_script(path, size, TPCH)
        code, peak, out = peak_rss_mb([sys.executable, "-m", "aishell.tui.cli", "analyze", str(path), "--format", "json"])
        assert code == 1  # error-level findings (AS000, AS002) are in the script
        data = json.loads(out)
        assert data["stats"]["statements"] > 100 and len(data["findings"]) > 100
        peaks[size] = peak
    assert peaks[3_000_000] < 300, peaks
    assert peaks[3_000_000] - peaks[500_000] < 40, peaks
