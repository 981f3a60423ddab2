"""The role-aware home page is assembled from sections that domain apps register.

core knows no domain app (STYLE.md §14): an app calls `register` in its
AppConfig.ready(), and the home page asks each registered provider what it has
for this user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from guanjia.core.models import User


@dataclass
class HomeSection:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


def counts_section(
    title: str, cards: list[tuple[str, int, bool]], link: str, label: str, order: int
) -> HomeSection:
    """A row of counts and one button to where they are acted on. cards: (label, count, urgent);
    an urgent count is shown in red when it is not zero."""
    return HomeSection(
        title,
        "core/home_counts.html",
        {
            "cards": [{"label": c, "count": n, "urgent": u and n > 0} for c, n, u in cards],
            "link": link,
            "label": label,
        },
        order=order,
    )


SectionProvider = Callable[[User], list[HomeSection]]
_providers: list[SectionProvider] = []


def register(provider: SectionProvider) -> SectionProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def home_sections(user: User) -> list[HomeSection]:
    sections: list[HomeSection] = []
    for provider in _providers:
        sections.extend(provider(user))
    return sorted(sections, key=lambda s: s.order)
