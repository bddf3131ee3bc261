"""Topics: blog articles (coach+) and reader discussions."""

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from forum.accounts.tables import User


class Topic(Table, tablename="topic"):
    slug = Varchar(length=200, unique=True)
    kind = Varchar(length=16)  # article | discussion
    title = Varchar(length=300)
    url = Varchar(length=2000, null=True, default=None)  # the article's page on the blog; unique when set
    body = Text(default="")
    body_html = Text(default="")
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    comments_mode = Varchar(length=16, default="open")  # open | premoderated | closed (API: `comments`)
    status = Varchar(length=16, default="published")  # published | pending | rejected | spam | deleted
    comment_count = Integer(default=0)  # comments the public sees (published)
    version = BigInt(default=1)  # bumped by every visible change: ETag and cache key
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
