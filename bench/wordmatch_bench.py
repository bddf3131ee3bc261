"""Word-list matching speed with large lists: `python bench/wordmatch_bench.py`.

Measured on the shared 2-core box (Nov 2026), 5,000 single words + 5,000 phrases:
see the printed numbers; a 3 KB comment is checked in well under a millisecond.
"""

from __future__ import annotations

import random
import string
import time

from moderation.wordmatch import WordMatcher, tokens


def word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12)))


def main() -> None:
    rng = random.Random(1)
    entries = [word(rng) for _ in range(5000)] + [f"{word(rng)} {word(rng)}" for _ in range(5000)]
    t0 = time.perf_counter()
    matcher = WordMatcher.build(entries)
    print(f"build 10,000 entries: {(time.perf_counter() - t0) * 1000:.1f} ms (once per rules version)")
    for n_words in (50, 400, 2000):
        text = " ".join(word(rng) for _ in range(n_words))
        runs = 500
        t0 = time.perf_counter()
        for _ in range(runs):
            matcher.find(tokens(text))
        per = (time.perf_counter() - t0) / runs
        print(f"{n_words:5d}-word text ({len(text):6d} chars): {per * 1e6:8.1f} us per check (tokenize + match)")


if __name__ == "__main__":
    main()
