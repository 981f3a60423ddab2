"""Finding entries for a user: the shared Chinese search (guanjia.core.search) within what the user may
read, with the entries fetched in one query and kept in the search's order.

Enterprise users and stewards find published entries only (what the portal and the appeal form show);
the keepers and the zone's overseers may include drafts and archived entries on the management list.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from guanjia.core import search
from guanjia.core.models import User
from guanjia.knowledge.models import KNOWLEDGE_KEEPERS, KNOWLEDGE_OVERSEERS, SEARCH_KIND, Entry, EntryStatus


@dataclass(frozen=True)
class Found:
    """One entry found, with the search's hit (its score and highlighted title and snippet)."""

    entry: Entry
    hit: search.Hit


def sees_drafts(user: User) -> bool:
    """A keeper or an overseer of the knowledge base: its searches may include drafts."""
    return user.is_authenticated and user.has_any_role(KNOWLEDGE_KEEPERS | KNOWLEDGE_OVERSEERS)


def find(
    user: User,
    query: str,
    *,
    limit: int = 10,
    published_only: bool | None = None,
    within: QuerySet[Entry] | None = None,
) -> list[Found]:
    """The entries `user` may read that match `query`, best first. `within` narrows the search (a
    list's filters) and must itself come from Entry.objects.visible_to(user); published_only defaults
    to True for everyone but the keepers and overseers."""
    scope: QuerySet[Entry] = within if within is not None else Entry.objects.visible_to(user)
    if published_only is None:
        published_only = not sees_drafts(user)
    if published_only:
        scope = scope.filter(status=EntryStatus.PUBLISHED)
    hits = search.search(SEARCH_KIND, query, within=scope, limit=limit)
    if not hits:
        return []
    entries = Entry.objects.select_related("department", "category").in_bulk([hit.object_id for hit in hits])
    return [Found(entries[hit.object_id], hit) for hit in hits if hit.object_id in entries]
