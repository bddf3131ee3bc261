"""Crisis care: the `crisis_posts` rule, withdrawn urgent items, coach notifications.

- `moderation_rules.crisis_posts`: `publish` (default: the person is not silenced; an
  urgent item opens and a coach may hide the post) or `hold` (the post waits as pending).
- `moderation_item.withdrawn_at` and `origin_topic`: when the author deletes a crisis post
  or erases the account, its urgent item stays open without the text (the comment row may
  go: the item keeps the topic it was in). The target check allows a withdrawn item to
  have no comment.
- `notification.item`: an `urgent` notification points at the urgent item, not at the
  post (so it names nothing, and it outlives the post's withdrawal).
- an index for the response-time stats of urgent items.
"""

from migrations.raw import raw_forwards

ID = "2026-11-29T11:03:17:000417"
VERSION = "1.38.0"
DESCRIPTION = "crisis care: crisis_posts rule, withdrawn urgent items, urgent notifications"

STATEMENTS = [
    "ALTER TABLE moderation_rules ADD COLUMN crisis_posts varchar(8) NOT NULL DEFAULT 'publish'",
    "ALTER TABLE moderation_rules ADD CONSTRAINT moderation_rules_crisis_posts_ck"
    " CHECK (crisis_posts IN ('publish', 'hold'))",
    "ALTER TABLE moderation_item ADD COLUMN withdrawn_at timestamptz",
    "ALTER TABLE moderation_item ADD COLUMN origin_topic bigint REFERENCES topic (id) ON DELETE SET NULL",
    "ALTER TABLE moderation_item DROP CONSTRAINT moderation_item_target_ck",
    "ALTER TABLE moderation_item ADD CONSTRAINT moderation_item_target_ck CHECK ("
    "(target_type = 'comment' AND (comment IS NOT NULL OR withdrawn_at IS NOT NULL))"
    " OR (target_type = 'topic' AND topic IS NOT NULL))",
    "CREATE INDEX moderation_item_urgent_decided_idx ON moderation_item (decided_at) WHERE queue = 'urgent'",
    "ALTER TABLE notification ADD COLUMN item bigint REFERENCES moderation_item (id) ON DELETE CASCADE",
    "CREATE INDEX notification_item_idx ON notification (item) WHERE item IS NOT NULL",
]


forwards = raw_forwards(ID, "moderation", DESCRIPTION, STATEMENTS)
