"""API fuzz positives of the knowledge app: entries (the demo's 市场监管局 handler keeps them; its
enterprise user searches them and says whether they solved its question)."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry
from guanjia.tests_fuzz.world import Positive

ENTRIES = "/api/knowledge/entries/"
SEARCH = "/api/knowledge/search/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    handler = users["handler"]

    def fresh(question: str, *, published: bool = True) -> Entry:
        # An entry of its own for each versioned write, so that no positive case stales another's version.
        entry = entries.create_entry(
            by=handler, question=question, answer="模糊测试解答：请到政务服务窗口办理。"
        )
        if published:
            entries.publish(entry, by=handler, version=entry.version)
        return entry

    read = fresh("模糊测试条目（读）")
    patched = fresh("模糊测试条目（改）")
    draft = fresh("模糊测试条目（草稿）", published=False)
    archived = fresh("模糊测试条目（停用）")
    answered = fresh("模糊测试条目（反馈）")
    return [
        Positive(f"GET {ENTRIES}", "steward", query={"q": "模糊测试 条目"}),
        Positive(
            f"POST {ENTRIES}",
            "handler",
            body={"question": "模糊测试新条目", "answer": "模糊测试解答。", "keywords": "模糊 测试"},
        ),
        Positive(f"GET {ENTRIES}{{id}}/", "enterprise_user", {"id": read.pk}),
        Positive(
            f"PATCH {ENTRIES}{{id}}/",
            "handler",
            {"id": patched.pk},
            body={"keywords": "模糊 测试", "version": patched.version},
        ),
        Positive(
            f"POST {ENTRIES}{{id}}/publish/", "handler", {"id": draft.pk}, body={"version": draft.version}
        ),
        Positive(
            f"POST {ENTRIES}{{id}}/archive/",
            "handler",
            {"id": archived.pk},
            body={"version": archived.version},
        ),
        Positive(
            f"POST {ENTRIES}{{id}}/feedback/",
            "enterprise_user",
            {"id": answered.pk},
            body={"resolved": True, "query": "模糊测试"},
        ),
        Positive(f"GET {SEARCH}", "dispatcher", query={"q": "模糊测试 条目", "limit": 5}),
    ]
