"""`forum demo`: a small, realistic site to click through.

An article by a coach about supporting a family member who drinks or uses drugs, a
discussion several levels deep between a few readers, a reader's question answered by a
coach, and a guest comment waiting in the moderation queue. Running it twice changes
nothing (the article's slug marks the demo as loaded). Demo users get random passwords
(argon2-hashed) that nobody knows: they exist to be read, not to log in.
"""

from __future__ import annotations

import secrets
from typing import Any

from forum import sql
from forum.accounts.services import user_id_by_handle
from forum.comments import tree, visibility
from forum.markup import render_markdown
from moderation import policy

ARTICLE_SLUG = "when-someone-you-love-drinks-or-uses"

ARTICLE = """\
When someone in your family drinks too much or uses drugs, it is natural to want to
*fix it* fast. What helps more often is slower: staying connected, keeping yourself
safe, and noticing the moments when change becomes possible.

A few things families tell us helped them:

- **Talk when things are calm**, not in the middle of a crisis or while they are using.
- Describe what you see and how you feel ("I was scared when you drove home last night"),
  rather than labels.
- Notice and name the good days. Positive moments are not a reward for using; they are
  what makes change feel worth it.
- Look after yourself too: sleep, friends, your own support.

> You did not cause this, and you cannot control it, but you can influence it.

If you are worried about immediate danger, call your local emergency number.
More on this approach: https://en.wikipedia.org/wiki/Community_reinforcement_approach_and_family_training
"""

# (key, author key or None for the guest, parent key, body, kind, status)
THREAD: list[tuple[str, str | None, str | None, str, str, str]] = [
    ("r1", "maria", None,
     "Thank you for this. My son is 24 and I always end up shouting when he comes home late. "
     "The part about talking when things are calm hit home.", "comment", "published"),
    ("r1a", "tom", "r1",
     "Same here with my brother. What helped me was agreeing on a time to talk the next "
     "morning instead of that night.", "comment", "published"),
    ("r1a1", "maria", "r1a",
     "Did he actually show up for the talk the next morning?", "comment", "published"),
    ("r1a1a", "tom", "r1a1",
     "Not the first time. The second time he did, and it was the first calm conversation "
     "we had in months.", "comment", "published"),
    ("r1a1a1", "aisha", "r1a1a",
     "This gives me hope. Small steps, I keep telling myself.", "comment", "published"),
    ("r1b", "coach", "r1",
     "Shouting after a frightening night is very human. One idea: write down the two or "
     "three things you most want him to hear, and keep them for the calm moment.",
     "comment", "published"),
    ("q1", "aisha", None,
     "How do I know whether I'm helping or enabling? I still pay my daughter's phone bill.",
     "question", "published"),
    ("q1a", "coach", "q1",
     "Good question. A useful test: does this help her stay safe and connected (a phone so she "
     "can call you) or does it mainly cushion the consequences of using? Keeping a lifeline "
     "open is usually *helping*.", "comment", "published"),
    ("g1", None, "r1",
     "I'm new here. My husband drinks every evening and I don't know where to start.",
     "comment", "pending"),
]

USERS = {
    "coach": ("coach_lena", "coach"),
    "maria": ("maria_k", "reader"),
    "tom": ("tom_r", "reader"),
    "aisha": ("aisha_m", "reader"),
}


async def _user(handle: str, role: str) -> int:
    existing = await user_id_by_handle(handle)
    if existing is not None:
        return int(existing)
    from forum.accounts.passwords import hash_password

    password_hash = await hash_password(secrets.token_urlsafe(24))
    return int(await sql.fetchval(
        "INSERT INTO forum_user (handle, email, password_hash, role, status, notify_email, created_at)"
        " VALUES ($1, NULL, $2, $3, 'active', false, now()) RETURNING id", handle, password_hash, role))


async def load_demo() -> str:
    async with sql.transaction():
        # one demo at a time: a concurrent second run waits here, then finds the article
        await sql.execute("SELECT pg_advisory_xact_lock(hashtext('forum-demo'))")
        if await sql.fetchval("SELECT 1 FROM topic WHERE slug = $1", ARTICLE_SLUG):
            return "The demo is already loaded."
        users = {key: await _user(handle, role) for key, (handle, role) in USERS.items()}
        roles = {key: role for key, (_, role) in USERS.items()}
        topic_id = await sql.fetchval(
            "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status,"
            " comment_count, version, created_at, updated_at)"
            " VALUES ($1, 'article', $2, NULL, $3, $4, $5, 'open', 'published', 0, 1, now(), now()) RETURNING id",
            ARTICLE_SLUG, "When someone you love drinks or uses drugs", ARTICLE, render_markdown(ARTICLE),
            users["coach"])
        made: dict[str, Any] = {}
        for key, author, parent_key, body, kind, status in THREAD:
            parent = made.get(parent_key) if parent_key else None
            cid = await sql.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
            row = await sql.fetchrow(
                "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, author,"
                " guest_name, author_badge, body, body_html, score, reply_count, accepted, question_status,"
                " urgent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, false, $8, $9, $10, $11, $12, $13,"
                " 0, 0, false, $14, false, clock_timestamp()) RETURNING *",
                cid, topic_id, parent["id"] if parent else None, parent["root_id"] if parent else cid,
                tree.child_path(parent["path"] if parent else None, cid), parent["depth"] + 1 if parent else 0,
                kind, status, users[author] if author else None, None if author else "Worried wife",
                roles[author] if author and roles[author] != "reader" else None, body, render_markdown(body),
                "unanswered" if kind == "question" else None)
            if row is None:  # INSERT ... RETURNING always answers a row
                raise RuntimeError("inserting a demo comment returned no row")
            made[key] = dict(row)
            if status == "pending":
                await policy.record(policy.Verdict(status="pending", reasons=["guest"]), comment_id=cid)
            await visibility.settle(row, was_public=False)
        helpful = made["q1a"]["id"]
        for voter in ("maria", "tom", "aisha"):
            await sql.execute('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())',
                              helpful, users[voter])
        await sql.execute("UPDATE comment SET score = 3 WHERE id = $1", helpful)
    published = sum(1 for entry in THREAD if entry[5] == "published")
    return (f"Demo loaded: article /api/topics/{ARTICLE_SLUG} with {published} published comments "
            f"(one question answered by a coach) and 1 guest comment waiting in the moderation queue.")
