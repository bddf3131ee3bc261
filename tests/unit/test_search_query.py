from forum.search.services import MAX_QUERY_CHARS, MAX_QUERY_WORDS, bound_query


def test_runs_of_negations_collapse_to_one() -> None:
    # websearch_to_tsquery nests one NOT per '-': 33 of them overflowed PostgreSQL's stack (a 500)
    assert bound_query("-" * 40 + "help") == "-help"
    assert bound_query("- - - - help").count("-") == 1
    assert bound_query("well-known a--b") == "well-known a-b"


def test_query_is_bounded_and_cleaned() -> None:
    assert bound_query(None) == "" and bound_query("   ") == ""
    assert "\x00" not in bound_query("a\x00b")
    assert len(bound_query("w " * 100_000).split()) == MAX_QUERY_WORDS
    assert len(bound_query("x" * 100_000)) <= MAX_QUERY_CHARS
