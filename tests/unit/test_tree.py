import random

import pytest

from forum.comments.tree import MAX_PATH, PathTooDeep, child_path, ids_of, segment


def test_segments_sort_like_ids() -> None:
    ids = sorted(random.Random(7).sample(range(1, 10**12), 2000))
    assert sorted(segment(i) for i in ids) == [segment(i) for i in ids]


def test_depth_first_order_by_path() -> None:
    # 1 -> (2 -> 5), 3 ; ids chosen so that a naive string sort of decimals would fail
    p1 = child_path(None, 1)
    p2 = child_path(p1, 2)
    p5 = child_path(p2, 100)
    p3 = child_path(p1, 62)
    assert sorted([p3, p5, p1, p2]) == [p1, p2, p5, p3]
    assert ids_of(p5) == [1, 2, 100]


def test_too_deep_is_refused() -> None:
    path = ""
    with pytest.raises(PathTooDeep):
        for i in range(1, MAX_PATH):
            path = child_path(path, 10**6 + i)
