"""Coach Q&A: leases on questions (status lives on the question comment)."""

from piccolo.columns import ForeignKey, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from forum.accounts.tables import User
from forum.comments.tables import Comment


class QuestionClaim(Table, tablename="question_claim"):
    question = ForeignKey(Comment, unique=True, on_delete=OnDelete.cascade)
    coach = ForeignKey(User, on_delete=OnDelete.cascade)
    claimed_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
