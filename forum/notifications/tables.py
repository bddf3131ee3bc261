"""In-app notifications and the durable email outbox."""

from piccolo.columns import BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from forum.accounts.tables import User
from forum.comments.tables import Comment
from forum.topics.tables import Topic


class Notification(Table, tablename="notification"):
    id = BigSerial(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)  # the recipient
    kind = Varchar(length=16)  # reply | answer | accepted | moderation | urgent
    # `item` (bigint, the urgent moderation item of an `urgent` notification) is added by the
    # moderation migration 2026-11-29T11:03:17 (it references moderation_item).
    comment = ForeignKey(Comment, null=True, on_delete=OnDelete.cascade)
    topic = ForeignKey(Topic, null=True, on_delete=OnDelete.cascade)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    reason = Text(null=True, default=None)  # the moderator's reason, for `moderation`
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class EmailOutbox(Table, tablename="email_outbox"):
    id = BigSerial(primary_key=True)
    notification = ForeignKey(Notification, null=True, unique=True, on_delete=OnDelete.cascade)
    # the address is read at send time; NULL only for a `webhook` row (a CHECK says so)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=32)  # notification | password_reset | invitation | webhook
    subject = Text()
    body = Text()
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)  # gave up after the last retry
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
