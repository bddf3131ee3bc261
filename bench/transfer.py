"""Scenario 12, "moving in": a 100,000-comment WordPress import and a 1,000,000-comment export.

- `wxr_file(data_dir)`: the WordPress export (WXR 1.2), generated from a fixed seed and
  written once into the data folder under a name that carries the hash of the generator's
  source (a change to the generator makes a new file).
- `measure_import(dsn, data_dir, path)`: `forum import wordpress` as a subprocess against
  an empty database: comments/s and the child's peak RSS; then the same file again, which
  must write no row (counted before and after).
- `measure_export(dsn, data_dir)`: `forum export` of whatever site `dsn` holds, as a
  subprocess writing to a file: comments/s, peak RSS, RSS sampled during the run (flat
  memory), and the document's comment count checked against the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

SEED = 20261129
COMMENTS = 100_000
POSTS = 1_500
IMPORT_RATE = 2_000  # comments/s
IMPORT_RSS_MB = 300
EXPORT_RATE = 20_000  # comments/s
EXPORT_RSS_MB = 200
IMPORT_DB = "forum_moving_in"
ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- the WXR file

_WORDS = (
    "family", "support", "coaching", "recovery", "listen", "boundaries", "together", "hope", "conversation",
    "patience", "trust", "week", "progress", "question", "answer", "daughter", "son", "partner", "meeting",
    "step", "calm", "feel", "understand", "helpful", "thanks", "the", "and", "we", "our", "with", "about",
    "after", "it", "was", "is", "for", "when", "that", "this", "to", "of", "a", "in", "me", "my", "they",
    "talk", "school", "doctor", "night", "morning", "weekend", "relapse", "naloxone", "treatment", "group",
    "counselor", "sleep", "money", "phone", "angry", "tired", "proud", "scared", "again", "better", "worse",
)
_NAMES = ("Maria", "Sam", "Coach Anna", "Tom", "Priya", "Jo", "Lee", "Ahmed", "Grace", "Oluwaseun", "Kim",
          "Dad of three", "Worried mum", "R.", "Anonymous", "Élodie", "Łukasz", "Chidi", "María José", "Ben")
# Markup the sanitizer must remove or neutralise (each kept as text or dropped, never served).
_NASTY = (
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(2)">click here</a>',
    '<iframe src="https://evil.example/frame"></iframe>',
    "<style>body{display:none}</style>",
    '<div onclick="steal()">a div with a handler</div>',
    '<a href="https://ok.example/" onmouseover="x()">hover</a>',
    "<b>unclosed bold <i>and italic",
    "<!-- a hidden comment -->",
    '<svg><circle onload="alert(3)"/></svg>',
    '<p style="color:red">styled</p>',
    '<a href="  JaVaScRiPt:alert(4)">spaced</a>',
    "<table><tr><td>a table cell</td></tr></table>",
    "<h2>a heading</h2>",
    "5 &lt; 6 &amp;&amp; 7 &gt; 3 &#169;",
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 18))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + rng.choice((".", ".", ".", "?", "!"))


def _inline(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.12:
        return f'{text} <a href="https://example.org/{rng.randint(1, 9999)}">see this</a>'
    if r < 0.20:
        return f"{text} <em>{rng.choice(_WORDS)}</em>"
    if r < 0.25:
        return f"<strong>{text}</strong>"
    if r < 0.28:
        return f"{text} https://www.example.com/page/{rng.randint(1, 999)}"
    return text


def _comment_body(rng: random.Random) -> str:
    size = rng.choices((1, 2, 3, 5, 9), weights=(30, 30, 20, 14, 6))[0]  # sentences
    paras: list[str] = []
    para: list[str] = []
    for _ in range(size):
        para.append(_inline(rng, _sentence(rng)))
        if rng.random() < 0.35:
            paras.append(" ".join(para))
            para = []
    if para:
        paras.append(" ".join(para))
    if rng.random() < 0.06:
        paras.insert(0, f"<blockquote>{_sentence(rng)}</blockquote>")
    if rng.random() < 0.05:
        paras.append(rng.choice(_NASTY))
    if rng.random() < 0.01:
        paras = [f"<p>{p}</p>" for p in paras]  # some comments carry their own paragraphs
    return "\n\n".join(paras)


def _post_body(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(4, 10)):
        parts.append("<p>" + " ".join(_inline(rng, _sentence(rng)) for _ in range(rng.randint(2, 5))) + "</p>")
    if rng.random() < 0.3:
        parts.append('<figure><img src="https://blog.example.org/pic.jpg" alt="a photo"></figure>')
    if rng.random() < 0.1:
        parts.append(rng.choice(_NASTY))
    return "\n".join(parts)


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _comment_counts(rng: random.Random) -> list[int]:
    """Comments per post: a long tail (a few posts with thousands), summing to COMMENTS."""
    weights = [rng.paretovariate(1.2) for _ in range(POSTS)]
    total = sum(weights)
    counts = [int(w / total * COMMENTS) for w in weights]
    for i in range(COMMENTS - sum(counts)):
        counts[i % POSTS] += 1
    return counts


def _wxr_lines(rng: random.Random) -> Iterator[str]:
    yield ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"'
           ' xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
           ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
           ' xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
           ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
           "\t<title>Family Coaching Blog</title>\n\t<link>https://blog.example.org</link>\n"
           "\t<wp:wxr_version>1.2</wp:wxr_version>\n")
    for n in range(20):
        yield (f"\t<wp:author><wp:author_id>{n + 1}</wp:author_id><wp:author_login>{_cdata(f'author{n}')}"
               f"</wp:author_login><wp:author_email>{_cdata(f'author{n}@blog.example.org')}</wp:author_email>"
               "</wp:author>\n")
    start = datetime(2012, 1, 1, tzinfo=UTC)
    comment_id = 0
    post_id = 1000
    counts = _comment_counts(rng)
    for index in range(POSTS + 60):
        post_id += rng.randint(1, 5)
        if index >= POSTS:  # drafts and pages, skipped by the import
            kind, status, count = ("page", "publish", 0) if index % 2 else ("post", "draft", 0)
        else:
            kind, status, count = "post", "publish", counts[index]
        posted = start + timedelta(days=index * 2, hours=rng.randint(0, 23))
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        slug = "-".join(title.lower().split())[:60] + f"-{post_id}"
        yield (f"\t<item>\n\t\t<title>{title}</title>\n"
               f"\t\t<link>https://blog.example.org/{posted:%Y/%m}/{slug}/</link>\n"
               f"\t\t<pubDate>{posted:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n"
               f"\t\t<dc:creator>{_cdata('author1')}</dc:creator>\n"
               f'\t\t<guid isPermaLink="false">https://blog.example.org/?p={post_id}</guid>\n'
               f"\t\t<content:encoded>{_cdata(_post_body(rng))}</content:encoded>\n"
               f"\t\t<excerpt:encoded>{_cdata('')}</excerpt:encoded>\n"
               f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
               f"\t\t<wp:post_date>{_cdata(f'{posted:%Y-%m-%d %H:%M:%S}')}</wp:post_date>\n"
               f"\t\t<wp:post_date_gmt>{_cdata(f'{posted:%Y-%m-%d %H:%M:%S}')}</wp:post_date_gmt>\n"
               f"\t\t<wp:comment_status>{_cdata('open')}</wp:comment_status>\n"
               f"\t\t<wp:post_name>{_cdata(slug)}</wp:post_name>\n"
               f"\t\t<wp:status>{_cdata(status)}</wp:status>\n"
               f"\t\t<wp:post_type>{_cdata(kind)}</wp:post_type>\n"
               f"\t\t<category domain=\"category\" nicename=\"family\">{_cdata('Family')}</category>\n"
               "\t\t<wp:postmeta><wp:meta_key>_edit_last</wp:meta_key>"
               f"<wp:meta_value>{_cdata('1')}</wp:meta_value></wp:postmeta>\n")
        comments: list[str] = []
        ids: list[int] = []
        when = posted
        for _ in range(count):
            comment_id += 1
            when += timedelta(minutes=rng.randint(1, 600))
            parent = 0
            if ids and rng.random() < 0.45:  # a reply, mostly to a recent comment
                parent = ids[max(0, len(ids) - 1 - int(rng.expovariate(0.3)))]
            r = rng.random()
            ctype, approved = "comment", "1"
            if r < 0.010:
                ctype = "pingback"
            elif r < 0.030:
                approved = "spam"
            elif r < 0.035:
                approved = "trash"
            elif r < 0.065:
                approved = "0"
            name = rng.choice(_NAMES)
            body = (f"<a href=\"https://other.example/{comment_id}\">Other blog</a> [...] linked here"
                    if ctype == "pingback" else _comment_body(rng))
            comments.append(
                f"\t\t<wp:comment>\n\t\t\t<wp:comment_id>{comment_id}</wp:comment_id>\n"
                f"\t\t\t<wp:comment_author>{_cdata(name)}</wp:comment_author>\n"
                f"\t\t\t<wp:comment_author_email>{_cdata(f'reader{comment_id % 5000}@mail.example')}"
                "</wp:comment_author_email>\n"
                f"\t\t\t<wp:comment_author_url>{_cdata('')}</wp:comment_author_url>\n"
                f"\t\t\t<wp:comment_author_IP>{_cdata(f'203.0.{comment_id % 250}.{comment_id % 200}')}"
                "</wp:comment_author_IP>\n"
                f"\t\t\t<wp:comment_date>{_cdata(f'{when:%Y-%m-%d %H:%M:%S}')}</wp:comment_date>\n"
                f"\t\t\t<wp:comment_date_gmt>{_cdata(f'{when:%Y-%m-%d %H:%M:%S}')}</wp:comment_date_gmt>\n"
                f"\t\t\t<wp:comment_content>{_cdata(body)}</wp:comment_content>\n"
                f"\t\t\t<wp:comment_approved>{_cdata(approved)}</wp:comment_approved>\n"
                f"\t\t\t<wp:comment_type>{_cdata(ctype)}</wp:comment_type>\n"
                f"\t\t\t<wp:comment_parent>{parent}</wp:comment_parent>\n"
                "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
                "\t\t\t<wp:commentmeta><wp:meta_key>akismet_result</wp:meta_key>"
                f"<wp:meta_value>{_cdata('false')}</wp:meta_value></wp:commentmeta>\n"
                "\t\t</wp:comment>\n")
            ids.append(comment_id)
        # WordPress writes comments in id order; some exports (merged, re-sorted) do not:
        # move a few replies ahead of their parents.
        for _ in range(len(comments) // 50):
            i, j = rng.randrange(len(comments)), rng.randrange(len(comments))
            comments[i], comments[j] = comments[j], comments[i]
        yield from comments
        yield "\t</item>\n"
    yield "</channel>\n</rss>\n"


def generator_key() -> str:
    """The hash that names the file: the generator's source and its parameters."""
    h = hashlib.sha256(f"{SEED}:{COMMENTS}:{POSTS}".encode())
    for fn in (_sentence, _inline, _comment_body, _post_body, _cdata, _comment_counts, _wxr_lines):
        h.update(inspect.getsource(fn).encode())
    h.update(repr((_WORDS, _NAMES, _NASTY)).encode())
    return h.hexdigest()[:16]


def wxr_file(data_dir: Path) -> Path:
    """The 100,000-comment WXR file, generated once per generator version."""
    path = data_dir / f"wordpress-{COMMENTS}-{generator_key()}.xml"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        rng = random.Random(SEED)
        with tmp.open("w", encoding="utf-8") as out:
            for line in _wxr_lines(rng):
                out.write(line)
        tmp.rename(path)
    return path


# ---------------------------------------------------------------- running forum commands


def _forum_env(dsn: str, data_dir: Path, secret: str) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=dsn, FORUM_DATA_DIR=str(data_dir), FORUM_SECRET_KEY=secret,
                FORUM_LOG_LEVEL="WARNING")


def _run_measured(args: list[str], env: dict[str, str], stdout: Any) -> dict[str, Any]:
    """Run `python -m forum ARGS`: wall time, the peak RSS of its main process (VmHWM,
    read while it runs) and of the whole process tree (its cleaning workers included),
    and the RSS samples (every 0.2 s) to see whether memory stays flat."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "forum", *args], env=env, cwd=str(ROOT),
                            stdout=stdout, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    hwm = tree_peak = 0
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss
            tree = rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            status = Path(f"/proc/{proc.pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]) * 1024)
            hwm = max(hwm, rss)
            tree_peak = max(tree_peak, tree)
            samples.append((time.perf_counter() - started, rss))
        except (psutil.Error, OSError):
            pass
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"forum {' '.join(args)} failed ({proc.returncode}): {stderr[-500:]}")
    return {"seconds": elapsed, "peak_rss": hwm, "tree_peak_rss": tree_peak, "samples": samples}


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def _fresh_database(dsn: str, name: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM topic) AS topics, (SELECT count(*) FROM comment) AS comments,"
            " (SELECT count(*) FROM import_source) AS mappings, (SELECT count(*) FROM moderation_item) AS items")
        return dict(row)
    finally:
        await conn.close()


def _mb(n: float) -> float:
    return n / 1024 / 1024


# ---------------------------------------------------------------- the measurements


def measure_import(dsn: str, data_dir: Path, secret: str) -> dict[str, Any]:
    """`forum import wordpress` of the 100,000-comment file into a new, migrated database
    of the same cluster, then the same file again (which must write nothing)."""
    path = wxr_file(data_dir)
    target = _with_database(dsn, IMPORT_DB)
    asyncio.run(_fresh_database(dsn, IMPORT_DB))
    env = _forum_env(target, data_dir, secret)
    subprocess.run([sys.executable, "-m", "forum", "migrate"], env=env, cwd=str(ROOT), check=True,
                   capture_output=True)
    first = _run_measured(["import", "wordpress", str(path)], env, subprocess.DEVNULL)
    after_first = asyncio.run(_counts(target))
    again = _run_measured(["import", "wordpress", str(path)], env, subprocess.DEVNULL)
    after_again = asyncio.run(_counts(target))
    return {"file": path, "file_mb": _mb(path.stat().st_size), "comments": COMMENTS, "first": first,
            "again": again, "after_first": after_first, "after_again": after_again, "dsn": target}


def measure_export(dsn: str, data_dir: Path) -> dict[str, Any]:
    """`forum export` of the site in `dsn` to a file: comments/s, peak RSS, RSS over the run."""
    secret = secrets.token_urlsafe(32)  # the export signs nothing; the command wants a key
    comments = asyncio.run(_counts(dsn))["comments"]
    out_path = data_dir / "export.json"
    try:
        with out_path.open("wb") as out:
            run = _run_measured(["export"], _forum_env(dsn, data_dir, secret), out)
        written = 0
        tail = b""
        with out_path.open("rb") as f:  # every comment object has "topic_id" (and nothing else does)
            while chunk := f.read(1 << 24):
                written += (tail + chunk).count(b'"topic_id":')
                tail = chunk[-16:]
        size = out_path.stat().st_size
    finally:
        out_path.unlink(missing_ok=True)
    samples = [rss for _, rss in run["samples"]]
    half = len(samples) // 2
    early, late = max(samples[:half] or [0]), max(samples[half:] or [0])
    return {**run, "comments": comments, "written": written, "bytes": size,
            "early_rss": early, "late_rss": late, "flat": late <= early * 1.15 + 16 * 1024 * 1024}


def scenario(dsn: str, data_dir: Path, secret: str,
             big_site: Callable[[], AbstractContextManager[str]]) -> list[dict[str, Any]]:
    """Scenario 12's rows (fields of bench.run.Row); `big_site`: the 1,000,000-comment site of
    scenario 11 running (bench/bigseed.py `running`), its DSN."""
    rows: list[dict[str, Any]] = []
    imp = measure_import(dsn, data_dir, secret)
    first, again = imp["first"], imp["again"]
    rate = imp["comments"] / first["seconds"]
    created = imp["after_first"]["comments"]
    rows.append({"scenario": "12 import WordPress (100k comments)", "rps": rate,
                 "ratio": f"{first['seconds']:.1f} s", "target": f">={IMPORT_RATE:,} comments/s",
                 "passed": rate >= IMPORT_RATE,
                 "note": f"{imp['file_mb']:.0f} MiB WXR, {created:,} comments and {imp['after_first']['topics']:,}"
                         " topics written, sanitizing included; comments/s = comments in the file / wall time"})
    rows.append({"scenario": "12 import peak RSS", "target": f"<{IMPORT_RSS_MB} MB",
                 "ratio": f"{_mb(first['peak_rss']):.0f} MB", "passed": _mb(first["peak_rss"]) < IMPORT_RSS_MB,
                 "note": f"main process (VmHWM); with its cleaning workers {_mb(first['tree_peak_rss']):.0f} MB"})
    same = imp["after_again"] == imp["after_first"]
    rows.append({"scenario": "12 re-import writes nothing", "target": "0 new rows", "passed": same,
                 "ratio": f"{again['seconds']:.1f} s",
                 "note": ", ".join(f"{k} {imp['after_first'][k]:,} -> {imp['after_again'][k]:,}"
                                   for k in imp["after_first"])})
    with big_site() as big:
        exp = measure_export(big, data_dir)
    rate = exp["comments"] / exp["seconds"]
    complete = exp["written"] == exp["comments"]
    rows.append({"scenario": "12 export (1M comments)", "rps": rate, "ratio": f"{exp['seconds']:.1f} s",
                 "target": f">={EXPORT_RATE:,} comments/s", "passed": rate >= EXPORT_RATE and complete,
                 "note": f"{exp['written']:,} of {exp['comments']:,} comments written, {_mb(exp['bytes']):,.0f} MB"})
    peak = _mb(exp["peak_rss"])
    rows.append({"scenario": "12 export peak RSS", "target": f"<{EXPORT_RSS_MB} MB, flat",
                 "ratio": f"{peak:.0f} MB", "passed": peak < EXPORT_RSS_MB and exp["flat"],
                 "note": f"max RSS first half {_mb(exp['early_rss']):.0f} MB, second half"
                         f" {_mb(exp['late_rss']):.0f} MB ({len(exp['samples'])} samples)"})
    return rows


if __name__ == "__main__":
    t0 = time.perf_counter()
    p = wxr_file(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp"))
    print(p, p.stat().st_size, f"{time.perf_counter() - t0:.1f}s")
