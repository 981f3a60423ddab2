"""Writes and reads of industry chains (产业链图谱): chains, their nodes, the local enterprises placed on
them, and what the map tells (each node's strength, the gaps to fill (补链), the 龙头 whose supply is
thin (强链/延链)).

Strength is computed, never stored: one recursive query gathers, for every node, the distinct
enterprises placed on it and on its descendants, and scores them in the database. An enterprise placed
on a node and on one of its children counts once for the node; it counts as a 龙头 there when it is
one on any of them.

A chain's structure (its nodes and their parents) is guarded by the chain's version: every node write
bumps it with a conditional UPDATE before it reads the tree. Two moves that would together close a
cycle (A under B while B goes under A) therefore run one after the other on PostgreSQL as on SQLite,
and the second sees the first's tree, or gets a Conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise, Scale, Tier
from guanjia.investment.access import check_keeper
from guanjia.investment.models import (
    ChainNode,
    IndustryChain,
    NodePlacement,
    Segment,
    Strength,
    Target,
)

# --- how a node's strength is scored -----------------------------------------------------------------
#
# A node's score sums, over the distinct local enterprises on it and its descendants, a weight for the
# enterprise's size plus a bonus for its tier, plus a bonus when it is a 龙头. The weights say what the
# zone's promoters mean by a link "we are strong in": one 龙头 of size (large 4 + 龙头 4 = 8) already
# holds a link, as does a cluster of smaller firms (four medium 规上 firms: 4 × (2 + 1) = 12); a few
# small ordinary firms (1 each) do not. Change them here, and the map, the gaps and the API follow.
SCALE_WEIGHT: dict[str, Decimal] = {
    Scale.LARGE: Decimal("4"),
    Scale.MEDIUM: Decimal("2"),
    Scale.SMALL: Decimal("1"),
    Scale.MICRO: Decimal("0.5"),
}
TIER_BONUS: dict[str, Decimal] = {
    Tier.KEY: Decimal("2"),
    Tier.ABOVE_SCALE: Decimal("1"),
    Tier.GENERAL: Decimal("0"),
}
LEADER_BONUS = Decimal("4")
SCORE_STEP = Decimal("0.1")  # scores are multiples of 0.5; shown with one decimal place
# A node is STRONG from this score on (inclusive), WEAK below it, MISSING with no enterprise at all.
STRONG_SCORE = Decimal("8")
# A 龙头 needs local suppliers: fewer non-龙头 enterprises than this on its node (and below) is thin.
THIN_SUPPLY = 3

NAME_MAX = 50
NODE_DESCRIPTION_MAX = 200
# How many names a refusal lists before "等 N 个".
NAMES_SHOWN = 3

SEGMENT_ORDER: tuple[str, ...] = (Segment.UPSTREAM, Segment.MIDSTREAM, Segment.DOWNSTREAM)


# --- reads: strength, gaps, thin supply --------------------------------------------------------------


@dataclass(frozen=True)
class NodeStrength:
    """A node's local presence: distinct enterprises on it and its descendants, 龙头 among them, score."""

    node: ChainNode
    count: int
    leaders: int
    score: Decimal
    strength: str  # a Strength value
    direct: int  # enterprises placed on the node itself

    @property
    def suppliers(self) -> int:
        """The non-龙头 enterprises on the node and its descendants."""
        return self.count - self.leaders

    @property
    def label(self) -> str:
        return str(Strength(self.strength).label)


def classify(count: int, score: Decimal) -> str:
    if count == 0:
        return Strength.MISSING
    return Strength.STRONG if score >= STRONG_SCORE else Strength.WEAK


def _sql_case(column: str, values: dict[str, Decimal]) -> str:
    # The weights are this module's constants, not input: written into the SQL as numeric literals
    # (parameters would reach SQLite as text, which its SUM reads as 0).
    whens = " ".join(f"WHEN '{key}' THEN {value}" for key, value in values.items())
    return f"CASE {column} {whens} ELSE 0 END"


def _aggregates(chain_ids: Sequence[int]) -> dict[int, tuple[int, int, int, Decimal]]:
    """{node id: (count, leaders, direct, score)} for every node of the chains that has an enterprise.

    One query. UNION (not UNION ALL) in the recursive part ends even on a cyclic tree, which the
    services never write but which must not hang a page if someone did.
    """
    if not chain_ids:
        return {}
    q = connection.ops.quote_name
    node_table = q(ChainNode._meta.db_table)
    placement_table = q(NodePlacement._meta.db_table)
    enterprise_table = q(Enterprise._meta.db_table)
    marks = ", ".join(["%s"] * len(chain_ids))
    score = (
        f"{_sql_case('e.scale', SCALE_WEIGHT)} + {_sql_case('e.tier', TIER_BONUS)}"
        f" + held.is_leader * {LEADER_BONUS}"
    )
    sql = f"""
        WITH RECURSIVE subtree(ancestor_id, node_id) AS (
            SELECT id, id FROM {node_table} WHERE chain_id IN ({marks})
            UNION
            SELECT subtree.ancestor_id, child.id
            FROM {node_table} child JOIN subtree ON child.parent_id = subtree.node_id
        ),
        held(node_id, enterprise_id, is_leader, direct) AS (
            SELECT subtree.ancestor_id, p.enterprise_id,
                   MAX(CASE WHEN p.is_leader THEN 1 ELSE 0 END),
                   MAX(CASE WHEN p.node_id = subtree.ancestor_id THEN 1 ELSE 0 END)
            FROM subtree JOIN {placement_table} p ON p.node_id = subtree.node_id
            GROUP BY subtree.ancestor_id, p.enterprise_id
        )
        SELECT held.node_id, COUNT(*), SUM(held.is_leader), SUM(held.direct), SUM({score})
        FROM held JOIN {enterprise_table} e ON e.id = held.enterprise_id
        GROUP BY held.node_id
    """  # noqa: S608 - table names from the models, weights from the constants above
    with connection.cursor() as cursor:
        cursor.execute(sql, list(chain_ids))
        rows = cursor.fetchall()
    # SQLite sums the 0.5 of a micro enterprise as a float: every score is a multiple of 0.5, exact.
    return {
        node_id: (int(count), int(leaders), int(direct), Decimal(str(total)).quantize(SCORE_STEP))
        for node_id, count, leaders, direct, total in rows
    }


def _strengths(
    nodes: Iterable[ChainNode], figures: dict[int, tuple[int, int, int, Decimal]]
) -> dict[int, NodeStrength]:
    strengths = {}
    for node in nodes:
        count, leaders, direct, score = figures.get(node.pk, (0, 0, 0, Decimal("0.0")))
        strengths[node.pk] = NodeStrength(
            node=node,
            count=count,
            leaders=leaders,
            score=score,
            strength=classify(count, score),
            direct=direct,
        )
    return strengths


def node_strengths(chain: IndustryChain) -> dict[int, NodeStrength]:
    """Every node of the chain with its strength, in the chain's order. Two queries."""
    nodes = list(chain.nodes.order_by("position", "pk"))  # each node's .chain is `chain`, no query
    return _strengths(nodes, _aggregates([chain.pk]))


def strengths_by_chain(chains: Sequence[IndustryChain]) -> dict[int, dict[int, NodeStrength]]:
    """node_strengths for several chains at once, in two queries however many there are."""
    ids = [chain.pk for chain in chains]
    by_chain: dict[int, list[ChainNode]] = {pk: [] for pk in ids}
    for node in ChainNode.objects.filter(chain_id__in=ids).order_by("chain_id", "position", "pk"):
        by_chain[node.chain_id].append(node)
    figures = _aggregates(ids)
    return {pk: _strengths(nodes, figures) for pk, nodes in by_chain.items()}


@dataclass(frozen=True)
class ChainSummary:
    """A chain's line on the list: its nodes by strength."""

    chain: IndustryChain
    nodes: int
    strong: int
    weak: int
    missing: int


def chain_summaries(chains: Sequence[IndustryChain]) -> list[ChainSummary]:
    strengths = strengths_by_chain(chains)
    summaries = []
    for chain in chains:
        values = [s.strength for s in strengths[chain.pk].values()]
        summaries.append(
            ChainSummary(
                chain=chain,
                nodes=len(values),
                strong=values.count(Strength.STRONG),
                weak=values.count(Strength.WEAK),
                missing=values.count(Strength.MISSING),
            )
        )
    return summaries


def _children_of(nodes: Iterable[ChainNode]) -> dict[int | None, list[ChainNode]]:
    children: dict[int | None, list[ChainNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    return children


@dataclass(frozen=True)
class Gap:
    """A leaf node with no or weak local presence (补链), and how many library targets could fill it."""

    node: ChainNode
    strength: NodeStrength
    targets: int


def target_counts(node_ids: Iterable[int]) -> dict[int, int]:
    """{node id: targets in the library covering it}. One query."""
    through = Target.nodes.through
    rows = (
        through.objects.filter(chainnode_id__in=list(node_ids))
        .values("chainnode_id")
        .annotate(n=Count("target_id", distinct=True))
    )
    return {row["chainnode_id"]: row["n"] for row in rows}


def gaps(chain: IndustryChain, strengths: dict[int, NodeStrength] | None = None) -> list[Gap]:
    """The leaf nodes that are MISSING or WEAK, missing first, then by score."""
    strengths = node_strengths(chain) if strengths is None else strengths
    parents = {s.node.parent_id for s in strengths.values()}
    weak = [
        s
        for s in strengths.values()
        if s.node.pk not in parents and s.strength in (Strength.MISSING, Strength.WEAK)
    ]
    counts = target_counts(s.node.pk for s in weak) if weak else {}
    order = {pk: index for index, pk in enumerate(strengths)}
    weak.sort(key=lambda s: (s.strength != Strength.MISSING, s.score, order[s.node.pk]))
    return [Gap(node=s.node, strength=s, targets=counts.get(s.node.pk, 0)) for s in weak]


@dataclass(frozen=True)
class ThinLink:
    """A node with a 龙头 whose local supply is thin: too few suppliers (强链), or a child missing (延链)."""

    node: ChainNode
    strength: NodeStrength
    few_suppliers: bool
    missing_children: list[ChainNode] = field(default_factory=list)


def thin_supply(chain: IndustryChain, strengths: dict[int, NodeStrength] | None = None) -> list[ThinLink]:
    """Nodes with at least one 龙头 on them or below, and fewer than THIN_SUPPLY non-龙头 enterprises
    there, or (for a node with children) a child that is MISSING."""
    strengths = node_strengths(chain) if strengths is None else strengths
    children = _children_of(s.node for s in strengths.values())
    links = []
    for s in strengths.values():
        if s.leaders == 0:
            continue
        missing = [
            child for child in children.get(s.node.pk, []) if strengths[child.pk].strength == Strength.MISSING
        ]
        few = s.suppliers < THIN_SUPPLY
        if few or missing:
            links.append(ThinLink(node=s.node, strength=s, few_suppliers=few, missing_children=missing))
    return links


@dataclass(frozen=True)
class MapRow:
    """A node in the map's reading order (segment, then depth first by position), with its depth."""

    strength: NodeStrength
    depth: int
    is_leaf: bool

    @property
    def node(self) -> ChainNode:
        return self.strength.node

    @property
    def indent(self) -> int:
        """The table's indentation step (Bootstrap's ps-0 … ps-5) for the node's depth."""
        return min(self.depth * 2, 5)


@dataclass(frozen=True)
class ChainMap:
    """Everything the chain page and the map API show. Three queries."""

    chain: IndustryChain
    rows: list[MapRow]
    strengths: dict[int, NodeStrength]
    gaps: list[Gap]
    thin: list[ThinLink]

    def segments(self) -> list[tuple[str, str, list[MapRow]]]:
        """(segment, label, rows) in up-, mid-, downstream order."""
        return [
            (segment, str(Segment(segment).label), [r for r in self.rows if r.node.segment == segment])
            for segment in SEGMENT_ORDER
        ]


def ordered_rows(strengths: dict[int, NodeStrength]) -> list[MapRow]:
    """Depth first from each segment's top nodes. A node whose parent is missing from the chain (never
    written by the services) is shown at the top of its segment rather than dropped."""
    children = _children_of(s.node for s in strengths.values())
    rows: list[MapRow] = []
    seen: set[int] = set()

    def walk(node: ChainNode, depth: int) -> None:
        if node.pk in seen:
            return
        seen.add(node.pk)
        kids = children.get(node.pk, [])
        rows.append(MapRow(strength=strengths[node.pk], depth=depth, is_leaf=not kids))
        for child in kids:
            walk(child, depth + 1)

    tops = [
        s.node for s in strengths.values() if s.node.parent_id is None or s.node.parent_id not in strengths
    ]
    for segment in SEGMENT_ORDER:
        for node in tops:
            if node.segment == segment:
                walk(node, 0)
    for s in strengths.values():  # whatever a cycle kept out of reach
        walk(s.node, 0)
    return rows


def chain_map(chain: IndustryChain) -> ChainMap:
    strengths = node_strengths(chain)
    return ChainMap(
        chain=chain,
        rows=ordered_rows(strengths),
        strengths=strengths,
        gaps=gaps(chain, strengths),
        thin=thin_supply(chain, strengths),
    )


def descendants_of(node: ChainNode, nodes: Iterable[ChainNode]) -> set[int]:
    """The ids of a node's descendants among `nodes` (the chain's)."""
    children = _children_of(nodes)
    found: set[int] = set()
    stack = [node.pk]
    while stack:
        for child in children.get(stack.pop(), []):
            if child.pk not in found:
                found.add(child.pk)
                stack.append(child.pk)
    return found


# --- writes: chains ----------------------------------------------------------------------------------


def _clean_name(value: str, label: str, limit: int = NAME_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(value) > limit:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": limit})
    return value


def create_chain(*, zone: OrgUnit, name: str, by: User, description: str = "") -> IndustryChain:
    """A promoter maps a leading industry of its zone as a new chain."""
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("所属园区：“%(zone)s”不是园区或县区") % {"zone": zone})
    check_keeper(by, zone.pk)
    name = _clean_name(name, _("产业链名称"))
    with transaction.atomic():
        if IndustryChain.objects.filter(zone=zone, name=name).exists():
            raise ServiceError(_("产业链名称：本园区已有“%(name)s”") % {"name": name})
        try:
            with transaction.atomic():
                chain = IndustryChain.objects.create(
                    zone=zone, name=name, description=(description or "").strip(), created_by=by
                )
        except IntegrityError as exc:  # created by someone else since the check
            raise ServiceError(_("产业链名称：本园区已有“%(name)s”") % {"name": name}) from exc
        audit.record(
            by,
            "investment.chain_create",
            chain,
            summary=f"新建产业链：{name}（{zone.name}）",
            detail={"zone": zone.pk, "name": name},
        )
    return chain


def update_chain(
    chain: IndustryChain,
    *,
    by: User,
    version: int,
    name: str | None = None,
    description: str | None = None,
) -> IndustryChain:
    """Rename a chain or change its description; `version` is the one the editor read."""
    check_keeper(by, chain.zone_id)
    new_name = chain.name if name is None else _clean_name(name, _("产业链名称"))
    new_description = chain.description if description is None else description.strip()
    with transaction.atomic():
        if IndustryChain.objects.filter(zone_id=chain.zone_id, name=new_name).exclude(pk=chain.pk).exists():
            raise ServiceError(_("产业链名称：本园区已有“%(name)s”") % {"name": new_name})
        try:
            with transaction.atomic():
                moved = IndustryChain.objects.filter(pk=chain.pk, version=version).update(
                    name=new_name, description=new_description, version=version + 1
                )
        except IntegrityError as exc:
            raise ServiceError(_("产业链名称：本园区已有“%(name)s”") % {"name": new_name}) from exc
        if moved != 1:
            raise Conflict(_("产业链“%(name)s”刚被他人修改，请刷新后重试") % {"name": chain.name})
        audit.record(
            by,
            "investment.chain_update",
            chain,
            summary=f"修改产业链：{chain.name} → {new_name}"
            if new_name != chain.name
            else f"修改产业链：{new_name}",
            detail={"name": new_name, "old_name": chain.name},
        )
    chain.name, chain.description, chain.version = new_name, new_description, version + 1
    return chain


# --- writes: nodes -----------------------------------------------------------------------------------


def _claim_structure(chain: IndustryChain, version: int | None) -> int:
    """Bump the chain's version (the structure's guard, see the module docstring); returns the new one.

    `version` is the one the editor read; None takes the current one (the write is then guarded
    against concurrent writes, not against a stale form).
    """
    if version is None:
        current = IndustryChain.objects.filter(pk=chain.pk).values_list("version", flat=True).first()
        if current is None:
            raise Conflict(_("产业链已被删除"))
        version = current
    moved = IndustryChain.objects.filter(pk=chain.pk, version=version).update(version=F("version") + 1)
    if moved != 1:
        raise Conflict(_("产业链“%(name)s”刚被他人修改，请刷新后重试") % {"name": chain.name})
    chain.version = version + 1
    return chain.version


def _check_segment(segment: str | None, parent: ChainNode | None) -> str:
    if parent is not None:
        if segment and segment != parent.segment:
            raise ServiceError(
                _("链段：须与上级环节“%(parent)s”一致（%(segment)s）")
                % {"parent": parent.name, "segment": parent.get_segment_display()}
            )
        return parent.segment
    if not segment:
        raise ServiceError(_("链段：请选择上游、中游或下游"))
    if segment not in Segment.values:
        raise ServiceError(_("链段：“%(value)s”不是上游、中游或下游") % {"value": segment})
    return segment


def _check_unique_name(chain: IndustryChain, name: str, exclude: int | None = None) -> None:
    clash = ChainNode.objects.filter(chain=chain, name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ServiceError(_("环节名称：本产业链已有“%(name)s”") % {"name": name})


def _check_parent(chain: IndustryChain, parent: ChainNode | None) -> ChainNode | None:
    if parent is None:
        return None
    fresh = ChainNode.objects.filter(pk=parent.pk).first()
    if fresh is None or fresh.chain_id != chain.pk:
        raise ServiceError(_("上级环节：“%(node)s”不属于本产业链") % {"node": parent.name})
    return fresh


def _check_position(position: int | None) -> None:
    if position is not None and position < 0:
        raise ServiceError(_("排序：不能为负数"))


def add_node(
    chain: IndustryChain,
    *,
    name: str,
    by: User,
    segment: str | None = None,
    parent: ChainNode | None = None,
    position: int | None = None,
    description: str = "",
    version: int | None = None,
) -> ChainNode:
    """Add a link to a chain, at the top of a segment or under a parent (whose segment it shares).

    Without a position it goes last.
    """
    check_keeper(by, chain.zone_id)
    name = _clean_name(name, _("环节名称"))
    description = (description or "").strip()
    if len(description) > NODE_DESCRIPTION_MAX:
        raise ServiceError(_("说明：不能超过 %(max)d 个字") % {"max": NODE_DESCRIPTION_MAX})
    _check_position(position)
    with transaction.atomic():
        _claim_structure(chain, version)
        parent = _check_parent(chain, parent)
        segment = _check_segment(segment, parent)
        _check_unique_name(chain, name)
        if position is None:
            last = (
                ChainNode.objects.filter(chain=chain).order_by("-position").values_list("position", flat=True)
            )
            position = (last.first() or 0) + 1
        try:
            with transaction.atomic():
                node = ChainNode.objects.create(
                    chain=chain,
                    parent=parent,
                    name=name,
                    segment=segment,
                    position=position,
                    description=description,
                )
        except IntegrityError as exc:
            raise ServiceError(_("环节名称：本产业链已有“%(name)s”") % {"name": name}) from exc
        audit.record(
            by,
            "investment.node_create",
            node,
            summary=f"产业链“{chain.name}”新增环节：{name}（{node.get_segment_display()}）",
            detail={
                "chain": chain.pk,
                "name": name,
                "segment": segment,
                "parent": parent.pk if parent else None,
            },
        )
    return node


KEEP: Any = object()  # update_node's "leave the parent as it is"


def update_node(
    node: ChainNode,
    *,
    by: User,
    name: str | None = None,
    segment: str | None = None,
    parent: ChainNode | None = KEEP,
    position: int | None = None,
    description: str | None = None,
    version: int | None = None,
) -> ChainNode:
    """Rename, move or reorder a node. `parent=None` moves it to the top of its segment; a parent may not
    be the node itself or one of its descendants. A node's segment is its parent's; a top node that
    changes segment takes its descendants with it."""
    chain = node.chain
    check_keeper(by, chain.zone_id)
    new_name = node.name if name is None else _clean_name(name, _("环节名称"))
    new_description = node.description if description is None else description.strip()
    if len(new_description) > NODE_DESCRIPTION_MAX:
        raise ServiceError(_("说明：不能超过 %(max)d 个字") % {"max": NODE_DESCRIPTION_MAX})
    _check_position(position)
    with transaction.atomic():
        _claim_structure(chain, version)
        nodes = list(ChainNode.objects.filter(chain=chain))
        current = next((n for n in nodes if n.pk == node.pk), None)
        if current is None:
            raise Conflict(_("环节“%(name)s”已被删除") % {"name": node.name})
        new_parent = current.parent if parent is KEEP else _check_parent(chain, parent)
        if new_parent is not None and (
            new_parent.pk == node.pk or new_parent.pk in descendants_of(current, nodes)
        ):
            raise ServiceError(
                _("上级环节：“%(parent)s”是本环节或其下级环节，不能作为上级") % {"parent": new_parent.name}
            )
        new_segment = _check_segment(segment or (None if new_parent else current.segment), new_parent)
        _check_unique_name(chain, new_name, exclude=node.pk)
        values = {
            "name": new_name,
            "segment": new_segment,
            "parent": new_parent,
            "position": current.position if position is None else position,
            "description": new_description,
        }
        try:
            with transaction.atomic():
                ChainNode.objects.filter(pk=node.pk).update(**values)
                if new_segment != current.segment:
                    ChainNode.objects.filter(pk__in=descendants_of(current, nodes)).update(
                        segment=new_segment
                    )
        except IntegrityError as exc:
            raise ServiceError(_("环节名称：本产业链已有“%(name)s”") % {"name": new_name}) from exc
        audit.record(
            by,
            "investment.node_update",
            node,
            summary=f"产业链“{chain.name}”修改环节：{new_name}",
            detail={
                "name": new_name,
                "old_name": current.name,
                "segment": new_segment,
                "parent": new_parent.pk if new_parent else None,
                "old_parent": current.parent_id,
                "position": values["position"],
            },
        )
    for key, value in values.items():
        setattr(node, key, value)
    return node


def _named(label: str, names: list[str], total: int) -> str:
    shown = "、".join(names[:NAMES_SHOWN])
    if total > NAMES_SHOWN:
        return _("%(label)s %(names)s 等 %(n)d 个") % {"label": label, "names": shown, "n": total}
    return f"{label} {shown}"


def holdings(node: ChainNode) -> list[str]:
    """What hangs on a node and would be lost or orphaned with it, as phrases naming it (empty: none)."""
    found = []
    checks: list[tuple[str, Any, str]] = [
        (_("下级环节"), ChainNode.objects.filter(parent=node).order_by("position", "pk"), "name"),
        (
            _("链上企业"),
            NodePlacement.objects.filter(node=node).order_by("enterprise__name"),
            "enterprise__name",
        ),
        (_("招商线索"), node.leads.order_by("-created_at", "-pk"), "target__name"),
        (_("招商项目"), node.projects.order_by("-created_at", "-pk"), "name"),
        (_("目标企业"), node.targets.order_by("name", "pk"), "name"),
        (_("关注该环节的基金"), node.funds.order_by("name", "pk"), "name"),
    ]
    for label, rows, attribute in checks:
        total = rows.count()
        if total:
            names = [str(v) for v in rows.values_list(attribute, flat=True)[:NAMES_SHOWN]]
            found.append(_named(label, names, total))
    return found


def remove_node(node: ChainNode, *, by: User, version: int | None = None) -> None:
    """Remove a node that holds nothing: one with children, placed enterprises, leads, projects, targets or
    funds is refused with a message naming them (they are not removed behind the promoter's back)."""
    chain = node.chain
    check_keeper(by, chain.zone_id)
    with transaction.atomic():
        _claim_structure(chain, version)
        # The lock makes a placement being written on PostgreSQL either finish first (and be seen
        # below) or wait and then fail on the missing node, instead of being deleted with it.
        if not ChainNode.objects.select_for_update().filter(pk=node.pk).exists():
            raise Conflict(_("环节“%(name)s”已被删除") % {"name": node.name})
        held = holdings(node)
        if held:
            raise ServiceError(
                _("不能删除环节“%(name)s”：有%(held)s。请先移除或改挂后再删除")
                % {"name": node.name, "held": "；".join(held)}
            )
        audit.record(
            by,
            "investment.node_delete",
            node,
            summary=f"产业链“{chain.name}”删除环节：{node.name}",
            detail={"chain": chain.pk, "name": node.name, "segment": node.segment},
        )
        ChainNode.objects.filter(pk=node.pk).delete()


# --- writes: placements -------------------------------------------------------------------------------


def place_enterprise(
    node: ChainNode, enterprise: Enterprise, *, by: User, is_leader: bool = False
) -> NodePlacement:
    """Place a local enterprise of the chain's zone on a node (as a 龙头 when it is one)."""
    chain = node.chain
    check_keeper(by, chain.zone_id)
    if enterprise.zone_id != chain.zone_id:
        raise ServiceError(_("企业：不属于本产业链所在园区"))
    already = _("企业：“%(enterprise)s”已在环节“%(node)s”上") % {
        "enterprise": enterprise.name,
        "node": node.name,
    }
    with transaction.atomic():
        # Lock the node: a removal running at the same time either finishes first (and the node is gone
        # here) or waits and then sees this placement. Foreign keys are checked only at commit (SQLite,
        # and Django's deferred constraints on PostgreSQL), too late for a clear message.
        if not ChainNode.objects.select_for_update().filter(pk=node.pk).exists():
            raise Conflict(_("环节“%(name)s”已被删除") % {"name": node.name})
        if NodePlacement.objects.filter(node=node, enterprise=enterprise).exists():
            raise ServiceError(already)
        try:
            with transaction.atomic():
                placement = NodePlacement.objects.create(
                    node=node, enterprise=enterprise, is_leader=is_leader, placed_by=by
                )
        except IntegrityError as exc:  # the same placement written at the same moment
            raise ServiceError(already) from exc
        audit.record(
            by,
            "investment.placement_create",
            placement,
            summary=f"“{enterprise.name}”列入产业链“{chain.name}”环节“{node.name}”"
            + ("（龙头）" if is_leader else ""),
            detail={"node": node.pk, "enterprise": enterprise.pk, "is_leader": is_leader},
        )
    return placement


def set_leader(placement: NodePlacement, *, is_leader: bool, by: User) -> NodePlacement:
    """Mark a placed enterprise as 龙头 of its node, or no longer."""
    node = placement.node
    check_keeper(by, node.chain.zone_id)
    if placement.is_leader == is_leader:
        return placement
    with transaction.atomic():
        moved = NodePlacement.objects.filter(pk=placement.pk, is_leader=placement.is_leader).update(
            is_leader=is_leader
        )
        if moved != 1:
            raise Conflict(_("该链上企业刚被他人修改或移除，请刷新后重试"))
        audit.record(
            by,
            "investment.placement_leader",
            placement,
            summary=f"“{placement.enterprise.name}”在环节“{node.name}”"
            + ("设为龙头" if is_leader else "取消龙头"),
            detail={"node": node.pk, "enterprise": placement.enterprise_id, "is_leader": is_leader},
        )
    placement.is_leader = is_leader
    return placement


def unplace(placement: NodePlacement, *, by: User) -> None:
    """Take an enterprise off a node."""
    node = placement.node
    check_keeper(by, node.chain.zone_id)
    with transaction.atomic():
        audit.record(
            by,
            "investment.placement_delete",
            placement,
            summary=f"“{placement.enterprise.name}”移出产业链“{node.chain.name}”环节“{node.name}”",
            detail={"node": node.pk, "enterprise": placement.enterprise_id},
        )
        removed, _rows = NodePlacement.objects.filter(pk=placement.pk).delete()
        if removed != 1:
            raise Conflict(_("该链上企业已被他人移除"))
