"""The investment part of `guanjia demo-data`: chains, targets, leads, projects, approvals and funds.

In the first zone (gj_promoter's 江南高新区): two chains (半导体和电子信息, 新能源) with local enterprises
placed so that the chain map shows strong, weak and missing links and a 龙头 whose upstream is thin; a
library of fictional target companies across China; leads in every state from every source over the
past year; projects in all seven stages (most from converted leads, one 增资扩股 of a demo enterprise)
with milestones, signings, capital arrivals and approval checklists; two funds, financing needs, a
roadshow and its outcome. In the second zone a small chain with a few leads and projects, owned by its
own promoter, so that scoping shows.

Rows are written straight to the tables with bulk inserts, in the demo's transaction, keeping every
invariant the services keep (conversions have their project, abandoned leads a reason, reached
milestones in stage order, approvals' promised and actual working days from the work calendar).
Company names are invented combinations; any likeness to a real company is accidental. The random
stream is drawn from a copy of the demo's generator, so the rest of the demo stays as it was.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from guanjia.core import audit
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays, is_workday, workdays_between
from guanjia.enterprises.models import Enterprise, EnterpriseMembership, Scale
from guanjia.enterprises.uscc import with_check_digit
from guanjia.investment.access import today as beijing_today
from guanjia.investment.chains import LEADER_BONUS, SCALE_WEIGHT, STRONG_SCORE, THIN_SUPPLY, TIER_BONUS
from guanjia.investment.models import (
    STAGES,
    ApprovalItem,
    ApprovalTemplateItem,
    CapitalArrival,
    ChainNode,
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    FinancingOutcome,
    Fund,
    IndustryChain,
    InvestmentStage,
    Lead,
    LeadContact,
    LeadLog,
    LeadSource,
    LeadStatus,
    LeadTransition,
    NodePlacement,
    Project,
    ProjectEvent,
    ProjectKind,
    ProjectMilestone,
    ProjectSigning,
    ProjectType,
    Roadshow,
    Segment,
    Stage,
    Strength,
    Target,
)

BEIJING = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0")
DEMO_PROMOTER = "gj_promoter"
# A second promoter of the first zone, in its 商务局: owns some leads, and is the agent (代办员) of some
# signed projects' approvals.
DEMO_AGENT = ("gj_agent", "commerce")
# The second zone's promoter (like gj_dispatcher2, gj_leader2): owns that zone's investment data.
SECOND_ZONE_PROMOTER = "gj_promoter2"
DEMO_ENTERPRISE_USERS = ("gj_enterprise", "gj_enterprise2")
TARGETS_FIRST_ZONE = 110
TARGETS_SECOND_ZONE = 6
# The platform went live about a year ago: older projects were entered then, with their history.
LAUNCHED_DAYS_AGO = 360

# Strong nodes whose 龙头 keeps fewer than chains.THIN_SUPPLY local suppliers, whatever the demo's size:
# the map's "thin supply" (强链) story.
THIN_LEADERS = ("晶圆制造", "电芯")

UP, MID, DOWN = Segment.UPSTREAM, Segment.MIDSTREAM, Segment.DOWNSTREAM
STRONG, WEAK, MISSING = Strength.STRONG, Strength.WEAK, Strength.MISSING


@dataclass(frozen=True)
class NodeSpec:
    name: str
    segment: str
    # The strength the demo gives it; "" for a node with children (they carry it).
    planned: str
    divisions: tuple[str, ...] = ()  # industry divisions (GB/T 4754) of local enterprises that fit
    words: tuple[str, ...] = ()  # what a target company on this node calls itself
    parent: str = ""
    description: str = ""
    product: str = ""  # what a project on this node makes, where the node's name does not say it

    @property
    def makes(self) -> str:
        return self.product or self.name


@dataclass(frozen=True)
class ChainSpec:
    name: str
    description: str
    nodes: tuple[NodeSpec, ...]


SEMICONDUCTOR = ChainSpec(
    "半导体和电子信息",
    "以晶圆制造和功率器件为核心，向上游材料、设备补链，向下游消费电子、汽车电子和通信设备延链。",
    (
        NodeSpec("半导体材料", UP, "", description="晶圆制造所需的基础材料"),
        NodeSpec("硅片", UP, MISSING, ("39", "26"), ("半导体材料", "硅材料"), "半导体材料"),
        NodeSpec("光刻胶", UP, MISSING, ("26",), ("电子材料", "光刻材料"), "半导体材料"),
        NodeSpec("电子特气", UP, WEAK, ("26",), ("特种气体", "电子气体"), "半导体材料"),
        NodeSpec("靶材", UP, WEAK, ("33", "26"), ("靶材科技", "高纯金属材料"), "半导体材料"),
        NodeSpec("湿电子化学品", UP, MISSING, ("26",), ("电子化学品", "微电子化学"), "半导体材料"),
        NodeSpec("半导体设备", UP, "", description="前道和后道工艺设备"),
        NodeSpec("光刻设备", UP, MISSING, ("35",), ("光刻装备", "精密光学装备"), "半导体设备"),
        NodeSpec("刻蚀设备", UP, WEAK, ("35",), ("半导体装备", "微电子装备"), "半导体设备"),
        NodeSpec("薄膜沉积设备", UP, MISSING, ("35",), ("真空镀膜装备", "薄膜装备"), "半导体设备"),
        NodeSpec("检测设备", UP, WEAK, ("35", "40"), ("检测装备", "精密测量仪器"), "半导体设备"),
        NodeSpec("EDA软件", UP, MISSING, ("65",), ("集成电路设计软件", "电子设计自动化"), product="EDA工具"),
        NodeSpec("芯片设计", MID, STRONG, ("65", "39"), ("集成电路设计", "芯片科技", "微电子")),
        NodeSpec("晶圆制造", MID, STRONG, ("39",), ("集成电路制造", "半导体")),
        NodeSpec("封装测试", MID, WEAK, ("39",), ("半导体封装测试", "封测科技")),
        NodeSpec("功率器件", MID, STRONG, ("39", "38"), ("功率半导体", "电力电子器件")),
        NodeSpec("传感器", MID, WEAK, ("40", "39"), ("传感科技", "智能传感")),
        NodeSpec("被动元件", MID, WEAK, ("39",), ("电子元件", "电子元器件")),
        NodeSpec("显示面板", MID, MISSING, ("39",), ("显示科技", "光电显示")),
        NodeSpec("印制电路板", MID, STRONG, ("39",), ("电路科技", "电路板")),
        NodeSpec("消费电子", DOWN, STRONG, ("39",), ("智能终端", "消费电子")),
        NodeSpec("汽车电子", DOWN, WEAK, ("36", "39"), ("汽车电子", "车联科技")),
        NodeSpec("工业控制", DOWN, WEAK, ("40", "34", "35"), ("自动化", "工控技术")),
        NodeSpec("通信设备", DOWN, STRONG, ("39", "63"), ("通信技术", "通信设备")),
        NodeSpec(
            "数据中心与服务器", DOWN, MISSING, ("65", "64"), ("数据科技", "计算机系统"), product="服务器"
        ),
    ),
)

NEW_ENERGY = ChainSpec(
    "新能源",
    "以动力电池电芯和光伏组件为龙头，补齐锂电材料和光伏材料，发展储能、充换电和电池回收。",
    (
        NodeSpec("锂矿", UP, MISSING, (), ("锂业", "锂资源"), product="电池级锂盐"),
        NodeSpec("正极材料", UP, WEAK, ("26",), ("锂电材料", "新能源材料")),
        NodeSpec("负极材料", UP, MISSING, ("26", "30"), ("碳材料", "石墨科技")),
        NodeSpec("电解液", UP, WEAK, ("26",), ("电解液科技", "锂电化学品")),
        NodeSpec("隔膜", UP, MISSING, ("29",), ("隔膜科技", "膜材料")),
        NodeSpec("光伏材料", UP, "", description="硅料和光伏玻璃"),
        NodeSpec("多晶硅", UP, MISSING, ("26",), ("硅业", "硅材料"), "光伏材料"),
        NodeSpec("光伏玻璃", UP, WEAK, ("30",), ("光伏玻璃", "光能玻璃"), "光伏材料"),
        NodeSpec("电芯", MID, STRONG, ("38",), ("动力电池", "锂电科技", "新能源科技")),
        NodeSpec("电池管理系统", MID, WEAK, ("38", "39"), ("电池管理技术", "能源科技")),
        NodeSpec("光伏组件", MID, STRONG, ("38",), ("光伏科技", "光能科技")),
        NodeSpec("逆变器", MID, STRONG, ("38",), ("电力电子", "电源科技")),
        NodeSpec("电机电控", MID, WEAK, ("38", "36", "34"), ("电驱科技", "电机")),
        NodeSpec("储能系统", DOWN, "", description="工商业和电网侧储能"),
        NodeSpec("工商业储能", DOWN, STRONG, ("38",), ("储能科技", "储能系统"), "储能系统"),
        NodeSpec("电网侧储能", DOWN, WEAK, ("38", "44"), ("储能技术", "电网储能"), "储能系统"),
        NodeSpec("新能源汽车", DOWN, WEAK, ("36",), ("新能源汽车", "汽车科技")),
        NodeSpec("充换电设施", DOWN, WEAK, ("38", "65"), ("充电科技", "能源服务"), product="充换电"),
        NodeSpec("回收利用", DOWN, MISSING, ("77",), ("资源循环", "再生资源"), product="动力电池回收"),
    ),
)

EQUIPMENT = ChainSpec(
    "高端装备",
    "以工业机器人整机为龙头，补齐精密轴承、数控系统等核心零部件。",
    (
        NodeSpec("核心零部件", UP, "", description="精密传动与液压"),
        NodeSpec("精密轴承", UP, MISSING, ("34",), ("精密轴承", "传动科技"), "核心零部件"),
        NodeSpec("液压件", UP, WEAK, ("34",), ("液压科技", "流体传动"), "核心零部件"),
        NodeSpec("数控系统", UP, MISSING, ("40", "65"), ("数控技术", "运动控制")),
        NodeSpec("工业机器人", MID, STRONG, ("34", "35"), ("机器人", "智能装备")),
        NodeSpec("数控机床", MID, WEAK, ("34",), ("数控机床", "精密机床")),
        NodeSpec("智能工厂集成", DOWN, WEAK, ("65", "35"), ("智能制造", "工业互联")),
    ),
)

# Where target companies have their headquarters: (place, administrative division code, name prefix,
# weight). The division codes put the targets' USCCs outside the demo zones' (320591, 320592).
HEADQUARTERS: tuple[tuple[str, str, str, int], ...] = (
    ("江苏省苏州市", "320505", "苏州", 12),
    ("江苏省无锡市", "320214", "无锡", 8),
    ("江苏省常州市", "320411", "常州", 6),
    ("江苏省南京市", "320115", "南京", 5),
    ("上海市浦东新区", "310115", "上海", 12),
    ("上海市嘉定区", "310114", "上海", 4),
    ("浙江省杭州市", "330108", "杭州", 7),
    ("浙江省宁波市", "330212", "宁波", 5),
    ("安徽省合肥市", "340104", "合肥", 5),
    ("广东省深圳市", "440305", "深圳", 9),
    ("广东省广州市", "440112", "广州", 3),
    ("广东省东莞市", "441900", "东莞", 3),
    ("福建省厦门市", "350206", "厦门", 3),
    ("四川省成都市", "510107", "成都", 3),
    ("重庆市渝北区", "500112", "重庆", 2),
    ("陕西省西安市", "610113", "西安", 3),
    ("湖北省武汉市", "420111", "武汉", 3),
    ("湖南省长沙市", "430104", "长沙", 2),
    ("北京市海淀区", "110108", "北京", 4),
    ("天津市滨海新区", "120116", "天津", 2),
    ("山东省青岛市", "370212", "青岛", 2),
    ("江西省宜春市", "360902", "宜春", 1),
)
# Foreign companies have no USCC: (headquarters, how the name starts, legal form).
FOREIGN = (
    ("日本东京都", "日本", "株式会社"),
    ("韩国首尔特别市", "韩国", "株式会社"),
    ("德国巴伐利亚州慕尼黑", "德国", "有限公司"),
    ("新加坡", "新加坡", "私人有限公司"),
    ("美国加利福尼亚州圣何塞", "美国", "公司"),
    ("荷兰北布拉班特省埃因霍温", "荷兰", "有限公司"),
)
FOREIGN_TARGETS = 6
_TRADE_FIRST = "晶睿瀚亿昱宸骏铂砺钧烁璟誉峻朗澄熠沛弈湛珩翊琨岚"
_TRADE_SECOND = "澜微锐泓芯源弘晟耀川跃麟栩程曜垣衡韬舜嵘迈"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰涛明超秀霞平刚英华建文辉国红晨宇浩然欣怡子轩思远佳琪志诚凯"
_TARGET_POSITIONS = ("董事长", "总经理", "副总裁", "投资总监", "战略发展部总监", "董事会秘书", "基建总监")

# Signing ceremonies of the city, each year: (month, day, name). A project shown at several of them is
# still one project (DESIGN.md "Investment").
SIGNING_EVENTS = (
    (3, 18, "{year}年江南市一季度重大项目集中签约"),
    (5, 20, "{year}年长三角招商大会"),
    (7, 10, "{year}年江南市产业链招商推介会"),
    (9, 26, "{year}年秋季云签约"),
    (12, 8, "{year}年江南市四季度重大项目集中签约"),
)
# The pair one project is signed at.
DOUBLE_SIGNING = ((5, 20), (9, 26))

SOURCE_DETAILS = {
    LeadSource.SECONDED_CADRE: (
        "高新区赴上海浦东挂职干部在跟班学习中获悉对方扩产计划",
        "赴苏州工业园区挂职干部推荐",
    ),
    LeadSource.FUND: ("长三角集成电路产业投资基金推荐的被投企业", "江南高新区新能源产业基金被投企业"),
    LeadSource.ASSOCIATION: ("长三角半导体行业协会牵线", "江南市浙江商会推荐", "江南市新能源汽车产业联盟"),
    LeadSource.REFERRAL: ("由园区{enterprise}引荐（其主要供应商）",),
    LeadSource.AGENCY: ("江南嘉诚招商顾问有限公司提供", "长三角产业地产服务机构推介"),
    LeadSource.EXPO: ("上海国际半导体展会现场对接", "国际光伏与储能展览会现场对接"),
    LeadSource.OTHER: ("企业主动来电咨询园区政策", "园区官网在线留言"),
}
ABANDON_REASONS = (
    "对方决定将新产能布局在中西部，综合成本更低",
    "对方资金安排调整，扩产计划暂缓两年",
    "用地需求超出园区可供规模，且无法分期建设",
    "项目能耗指标不符合园区准入要求",
    "对方被并购，新股东取消投资计划",
)


def _own_stream(rng: random.Random) -> random.Random:
    """A generator seeded from a copy of the demo's: deterministic, and draws nothing from the shared one."""
    copy = random.Random()
    copy.setstate(rng.getstate())
    return random.Random(copy.getrandbits(64) ^ 0x1A7E57)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 10, 20, 30, 40, 50))), BEIJING)


def _last_workday(on_or_before: date) -> date:
    day = on_or_before
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def _spread(rng: random.Random, start: date, end: date, count: int) -> list[date]:
    """`count` ascending dates in (start, end], distinct while there is room."""
    span = max((end - start).days, 1)
    if count <= span:
        offsets = sorted(rng.sample(range(1, span + 1), count))
    else:
        offsets = sorted(rng.randint(1, span) for _ in range(count))
    return [start + timedelta(days=offset) for offset in offsets]


def _round(value: float, step: int = 10) -> Decimal:
    return Decimal(max(step, int(round(value / step)) * step))


def _weight(enterprise: Enterprise) -> Decimal:
    """The enterprise's part of a node's score (guanjia.investment.chains), 龙头 bonus aside."""
    return SCALE_WEIGHT.get(enterprise.scale, ZERO) + TIER_BONUS.get(enterprise.tier, ZERO)


def _short_name(name: str) -> str:
    """A company's name without its legal form and place, as people say it: 苏州晶澜半导体 → 晶澜半导体."""
    for form in ("股份有限公司", "私人有限公司", "有限公司", "株式会社", "公司"):
        if name.endswith(form):
            name = name[: -len(form)]
            break
    name = name.replace("（江南）", "")
    for prefix in ("江南市", "江南"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _uscc(rng: random.Random, region: str, taken: set[str]) -> str:
    """A valid USCC (GB 32100) of a company registered since 2015 in `region`: "91", the region, an
    organisation code "MA…" with its own check character (GB 11714), the check digit."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
        values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in body]
        check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        code = with_check_digit("91" + region + body + {10: "X", 11: "0"}.get(check, str(check)))
        if code not in taken:
            taken.add(code)
            return code


def _stock_code(rng: random.Random) -> str:
    board = rng.choice(("688", "603", "601", "002", "300", "301", "83"))
    digits = 6 - len(board)
    code = board + f"{rng.randrange(10**digits):0{digits}d}"
    return code + (".SH" if board.startswith("6") else ".BJ" if board == "83" else ".SZ")


def _person(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _mobile(rng: random.Random) -> str:
    return "139" + f"{rng.randrange(10**8):08d}"


def _signing_events(today: date) -> list[tuple[date, str]]:
    """The city's signing ceremonies of the last few years that are at least a week past."""
    events = []
    for year in range(today.year - 5, today.year + 1):
        for month, day, name in SIGNING_EVENTS:
            held = date(year, month, day)
            if held <= today - timedelta(days=7):
                events.append((held, name.format(year=year)))
    return events


def _event_name(held: date) -> str:
    for month, day, name in SIGNING_EVENTS:
        if (month, day) == (held.month, held.day):
            return name.format(year=held.year)
    raise ValueError(held)


# --- the plan of a project ---------------------------------------------------------------------------

LEAD, DIRECT, INCREASE = "lead", "direct", "increase"

PROJECTS_FIRST_ZONE: tuple[tuple[str, str], ...] = (
    (Stage.PLANNING, LEAD),
    (Stage.PLANNING, LEAD),
    (Stage.PLANNING, DIRECT),
    (Stage.NEGOTIATING, LEAD),
    (Stage.NEGOTIATING, LEAD),
    (Stage.NEGOTIATING, LEAD),
    (Stage.NEGOTIATING, DIRECT),
    (Stage.STARTED, LEAD),  # first: it may be the one signed at two events
    (Stage.STARTED, LEAD),
    (Stage.STARTED, LEAD),
    (Stage.BUILDING, DIRECT),
    (Stage.SIGNED, LEAD),
    (Stage.SIGNED, LEAD),
    (Stage.SIGNED, LEAD),
    (Stage.SIGNED, LEAD),
    (Stage.BUILDING, LEAD),
    (Stage.BUILDING, LEAD),
    (Stage.BUILDING, INCREASE),
    (Stage.PRODUCING, DIRECT),
    (Stage.PRODUCING, DIRECT),
    (Stage.PRODUCING, DIRECT),
    (Stage.AT_CAPACITY, DIRECT),
    (Stage.AT_CAPACITY, DIRECT),
)
# Leads that did not (yet) become projects, by state; converted ones come from the projects above.
OPEN_LEADS_FIRST_ZONE: dict[str, int] = {
    LeadStatus.NEW: 8,
    LeadStatus.CONTACTING: 8,
    LeadStatus.NEGOTIATING: 7,
    LeadStatus.ABANDONED: 5,
}
PROJECTS_SECOND_ZONE: tuple[tuple[str, str], ...] = ((Stage.NEGOTIATING, LEAD), (Stage.BUILDING, DIRECT))
OPEN_LEADS_SECOND_ZONE: dict[str, int] = {
    LeadStatus.NEW: 1,
    LeadStatus.CONTACTING: 1,
    LeadStatus.ABANDONED: 1,
}

# Days before the signing that the earlier stages were reached, and the gaps after it (min, max): 开工
# needs the approvals first; 投产 follows a year of building, 达产 a ramp-up.
GAPS_AFTER_SIGNING: dict[str, tuple[int, int]] = {
    Stage.STARTED: (50, 110),
    Stage.BUILDING: (20, 60),
    Stage.PRODUCING: (240, 420),
    Stage.AT_CAPACITY: (180, 360),
}
# How long ago a project of each stage was signed (days), aimed at; the nearest ceremony is taken.
SIGNED_DAYS_AGO: dict[str, tuple[int, int]] = {
    Stage.SIGNED: (20, 160),
    Stage.STARTED: (110, 220),
    Stage.BUILDING: (170, 230),
    Stage.PRODUCING: (560, 800),
    Stage.AT_CAPACITY: (850, 1200),
}
ARRIVED_SHARE: dict[str, tuple[float, float]] = {
    Stage.SIGNED: (0.0, 0.1),
    Stage.STARTED: (0.1, 0.25),
    Stage.BUILDING: (0.25, 0.6),
    Stage.PRODUCING: (0.6, 0.9),
    Stage.AT_CAPACITY: (0.9, 1.0),
}


@dataclass
class _ProjectPlan:
    stage: str
    origin: str
    reached: list[date] = field(default_factory=list)  # per stage, from 谋划 to `stage`
    entered: int = 0  # the stage index the project was entered at
    created: date | None = None
    signings: list[tuple[date, str]] = field(default_factory=list)
    target: Target | None = None
    node: ChainNode | None = None
    enterprise: Enterprise | None = None
    lead: Lead | None = None

    @property
    def index(self) -> int:
        return STAGES.index(self.stage)


class _ZoneDemo:
    """The investment demo of one zone, written with bulk inserts."""

    def __init__(
        self,
        rng: random.Random,
        today: date,
        zone: OrgUnit,
        owners: Sequence[User],
        region_codes_taken: set[str],
    ) -> None:
        self.rng = rng
        self.today = today
        self.zone = zone
        self.owner = owners[0]
        self.owners = list(owners)
        self.taken = region_codes_taken
        self.enterprises = list(Enterprise.objects.filter(zone=zone).prefetch_related("tags").order_by("pk"))
        self.nodes: dict[str, ChainNode] = {}
        self.specs: dict[str, NodeSpec] = {}
        self.chains: dict[str, IndustryChain] = {}
        self.targets: list[Target] = []
        self.target_nodes: dict[int, list[ChainNode]] = {}
        self.trade_names: dict[int, str] = {}  # target id → its 字号, which project names use
        self.placed_on: dict[int, list[ChainNode]] = {}  # enterprise id → nodes

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    # --- chains and placements ----------------------------------------------------------------------

    def build_chains(self, specs: Iterable[ChainSpec]) -> None:
        created = _at(self.today - timedelta(days=LAUNCHED_DAYS_AGO + 5), self.rng)
        for spec in specs:
            chain = IndustryChain.objects.create(
                zone=self.zone,
                name=spec.name,
                description=spec.description,
                created_by=self.owner,
                created_at=created,
            )
            self.chains[spec.name] = chain
            positions = {node.name: position for position, node in enumerate(spec.nodes, start=1)}
            for parents_pass in (True, False):
                batch = [
                    ChainNode(
                        chain=chain,
                        parent=self.nodes[node.parent] if node.parent else None,
                        name=node.name,
                        segment=node.segment,
                        position=positions[node.name],
                        description=node.description,
                    )
                    for node in spec.nodes
                    if (not node.parent) == parents_pass
                ]
                for row in ChainNode.objects.bulk_create(batch):
                    self.nodes[row.name] = row
            self.specs.update((node.name, node) for node in spec.nodes)

    def place_enterprises(self) -> None:
        """Put local enterprises on the nodes so that each shows its planned strength."""
        uses: dict[int, int] = {}
        placements: list[NodePlacement] = []
        placed_at = _at(self.today - timedelta(days=LAUNCHED_DAYS_AGO), self.rng)

        def ranked(spec: NodeSpec, *, heavy: bool) -> list[Enterprise]:
            def key(e: Enterprise) -> tuple[Any, ...]:
                fits = e.industry_division in spec.divisions
                manufacturing = e.industry_section == "C"
                # A strong node's first pick is its 龙头: an enterprise tagged so where there is one.
                leader_tag = any(tag.name == "龙头" for tag in e.tags.all())
                if heavy:
                    return (uses.get(e.pk, 0), not fits, not manufacturing, not leader_tag, -_weight(e), e.pk)
                return (uses.get(e.pk, 0), not fits, not manufacturing, leader_tag, _weight(e), e.pk)

            return sorted(self.enterprises, key=key)

        def place(node: ChainNode, enterprise: Enterprise, *, leader: bool = False) -> None:
            uses[enterprise.pk] = uses.get(enterprise.pk, 0) + 1
            self.placed_on.setdefault(enterprise.pk, []).append(node)
            placements.append(
                NodePlacement(
                    node=node,
                    enterprise=enterprise,
                    is_leader=leader,
                    placed_by=self.owner,
                    placed_at=placed_at,
                )
            )

        if not self.enterprises:
            return
        big = len(self.enterprises) > 60
        # Strong nodes first, so that they get the heaviest enterprises; weak ones the lightest.
        order = sorted(self.specs.values(), key=lambda s: (s.planned != STRONG, s.planned != WEAK))
        for spec in order:
            node = self.nodes[spec.name]
            if spec.planned == STRONG:
                candidates = ranked(spec, heavy=True)
                leader, rest = candidates[0], candidates[1:]
                place(node, leader, leader=True)
                score = _weight(leader) + LEADER_BONUS
                # Suppliers and peers until the node is strong; where the zone is big, a few more of the
                # node's own industry, except on the nodes whose 龙头 is to show thin supply.
                extra = 0
                if big and spec.name not in THIN_LEADERS:
                    extra = self.rng.randint(THIN_SUPPLY - 1, THIN_SUPPLY + 2)
                for enterprise in rest:
                    if score >= STRONG_SCORE:
                        if extra == 0 or enterprise.industry_division not in spec.divisions:
                            break
                        extra -= 1
                    place(node, enterprise)
                    score += _weight(enterprise)
            elif spec.planned == WEAK:
                # A few small firms of the node's industry: present, but short of strong.
                pool = ranked(spec, heavy=False)[:6]
                self.rng.shuffle(pool)
                wanted = self.rng.randint(1, 3) if big else self.rng.choice((1, 1, 2))
                score = ZERO
                for enterprise in pool[:wanted]:
                    if score + _weight(enterprise) < STRONG_SCORE:
                        place(node, enterprise)
                        score += _weight(enterprise)
        NodePlacement.objects.bulk_create(placements)

    # --- targets ------------------------------------------------------------------------------------

    def build_targets(self, count: int, *, foreign: int) -> None:
        leaves = [spec for spec in self.specs.values() if spec.planned]
        share: dict[str, int] = {MISSING: 4, WEAK: 2, STRONG: 1}
        weights = [share[spec.planned] for spec in leaves]
        names: set[str] = set()
        rows: list[tuple[Target, list[ChainNode], str]] = []
        for number in range(count):
            spec = self.rng.choices(leaves, weights=weights)[0]
            nodes = [self.nodes[spec.name]]
            if self.rng.random() < 0.35:
                # A company often covers the neighbouring link of the same chain too.
                chain_id = nodes[0].chain_id
                near = [
                    n
                    for n in self.nodes.values()
                    if n.chain_id == chain_id
                    and n.pk != nodes[0].pk
                    and self.specs[n.name].planned
                    and abs(n.position - nodes[0].position) <= 2
                ]
                if near:
                    nodes.append(self.rng.choice(near))
            is_foreign = number >= count - foreign
            scale = self.rng.choices((Scale.LARGE, Scale.MEDIUM, Scale.SMALL), weights=(35, 45, 20))[0]
            listed = self.rng.random() < {Scale.LARGE: 0.6, Scale.MEDIUM: 0.25}.get(scale, 0.05)
            word = self.rng.choice(spec.words)
            region = ""
            while True:
                trade = self.rng.choice(_TRADE_FIRST) + self.rng.choice(_TRADE_SECOND)
                if is_foreign:
                    headquarters, country, form = FOREIGN[number % len(FOREIGN)]
                    name = f"{country}{trade}{word}{form}"
                else:
                    headquarters, region, prefix, _share = self.rng.choices(
                        HEADQUARTERS, weights=[h[3] for h in HEADQUARTERS]
                    )[0]
                    joint_stock = listed or (scale == Scale.LARGE and self.rng.random() < 0.3)
                    name = f"{prefix}{trade}{word}{'股份有限公司' if joint_stock else '有限公司'}"
                if name not in names:
                    names.add(name)
                    break
            target = Target(
                zone=self.zone,
                name=name,
                # Foreign companies have no USCC.
                uscc=_uscc(self.rng, region, self.taken) if region else "",
                headquarters=headquarters,
                scale=scale,
                listed=listed and not is_foreign,
                stock_code=_stock_code(self.rng) if listed and not is_foreign else "",
                notes=self._target_note(spec, scale),
                created_by=self.owners[number % len(self.owners)],
                created_at=_at(self.days_ago(30, LAUNCHED_DAYS_AGO + 60), self.rng),
            )
            rows.append((target, nodes, trade))
        self.targets = Target.objects.bulk_create(row[0] for row in rows)
        Through = Target.nodes.through
        Through.objects.bulk_create(
            Through(target_id=target.pk, chainnode_id=node.pk)
            for target, (_row, nodes, _trade) in zip(self.targets, rows, strict=True)
            for node in nodes
        )
        for target, (_row, nodes, trade) in zip(self.targets, rows, strict=True):
            self.target_nodes[target.pk] = nodes
            self.trade_names[target.pk] = trade

    def _target_note(self, spec: NodeSpec, scale: str) -> str:
        rank = "头部" if scale == Scale.LARGE else "成长型"
        notes = (
            f"{spec.name}领域{rank}企业，正在长三角寻找新生产基地。",
            f"主营{spec.name}，主要客户与园区链主企业有配套关系。",
            "近两年营收保持较快增长，计划在华东新建产能。",
            "",
        )
        return self.rng.choice(notes)

    # --- projects: the plan first, since the converted leads' dates follow from it ---------------------

    def plan_projects(self, plan: Sequence[tuple[str, str]], *, double_signing: bool) -> list[_ProjectPlan]:
        events = _signing_events(self.today)
        pair = self._double_signing_pair() if double_signing else None
        plans = []
        free = sorted(self.targets, key=lambda t: (t.uscc == "", t.pk))  # foreign ones last
        self.rng.shuffle(free)
        for stage, origin in plan:
            project = _ProjectPlan(stage=stage, origin=origin)
            if pair is not None and project.index >= 3 and self._signing_fits(project, pair[0][0]):
                project.signings = list(pair)
                pair = None
            self._plan_dates(project, events)
            if origin == INCREASE:
                project.enterprise = self._increase_enterprise()
                nodes = self.placed_on.get(project.enterprise.pk, []) if project.enterprise else []
                project.node = nodes[0] if nodes else None
            elif origin == DIRECT and project.index == 0:
                project.node = None  # a zone's own idea, looking for an investor
            else:
                project.target = free.pop()
                project.node = self.target_nodes[project.target.pk][0]
            plans.append(project)
        return plans

    def _double_signing_pair(self) -> list[tuple[date, str]]:
        (m1, d1), (m2, d2) = DOUBLE_SIGNING
        year = self.today.year
        while date(year, m2, d2) > self.today - timedelta(days=7):
            year -= 1
        first, second = date(year, m1, d1), date(year, m2, d2)
        return [(first, _event_name(first)), (second, _event_name(second))]

    def _latest_signing(self, project: _ProjectPlan) -> date:
        after = sum(GAPS_AFTER_SIGNING[stage][0] for stage in STAGES[3 : project.index + 1])
        return self.today - timedelta(days=20 + after)

    def _earliest_signing(self, project: _ProjectPlan) -> date:
        # A converted lead's whole history (created, contacted, negotiated, signed) fits in the past year.
        return self.today - timedelta(days=270) if project.origin == LEAD else date.min

    def _signing_fits(self, project: _ProjectPlan, day: date) -> bool:
        return self._earliest_signing(project) <= day <= self._latest_signing(project)

    def _plan_dates(self, project: _ProjectPlan, events: list[tuple[date, str]]) -> None:
        k, rng = project.index, self.rng
        if k == 0:
            project.reached = [self.days_ago(5, 60) if project.origin == LEAD else self.days_ago(10, 90)]
        elif k == 1:
            created = self.days_ago(45, 160)
            project.reached = [
                created,
                created + timedelta(days=rng.randint(10, (self.today - created).days - 2)),
            ]
        else:
            if not project.signings:
                low, high = SIGNED_DAYS_AGO[project.stage]
                aim = self.days_ago(low, high)
                fitting = [event for event in events if self._signing_fits(project, event[0])]
                candidates = fitting or [e for e in events if e[0] <= self._latest_signing(project)]
                project.signings = [min(candidates, key=lambda event: abs((event[0] - aim).days))]
            signed = project.signings[0][0]
            negotiating = signed - timedelta(days=rng.randint(20, 75))
            planning = negotiating - timedelta(days=rng.randint(15, 60))
            after = self._after_signing(signed, k)
            project.reached = [planning, negotiating, signed, *after]
        # When the project was entered: a converted lead's at 洽谈 where it got that far (it was
        # negotiated as a lead); a direct project at 谋划, or at the platform's launch with its history.
        launch = self.today - timedelta(days=LAUNCHED_DAYS_AGO)
        if project.origin == LEAD:
            if k >= 1:
                project.entered = 1
                project.reached[0] = project.reached[1]
            project.created = project.reached[project.entered]
        elif project.reached[0] >= launch:
            project.created = project.reached[0]
        else:
            project.entered = max(i for i, day in enumerate(project.reached) if day <= launch)
            project.created = launch

    def _after_signing(self, signed: date, k: int) -> list[date]:
        stages = STAGES[3 : k + 1]
        if not stages:
            return []
        low = [GAPS_AFTER_SIGNING[stage][0] for stage in stages]
        raw = [self.rng.randint(*GAPS_AFTER_SIGNING[stage]) for stage in stages]
        room = (self.today - timedelta(days=3) - signed).days
        if sum(raw) > room:
            share = max(room - sum(low), 0) / max(sum(raw) - sum(low), 1)
            raw = [lo + int((r - lo) * share) for lo, r in zip(low, raw, strict=True)]
        dates, day = [], signed
        for gap in raw:
            day += timedelta(days=max(gap, 1))
            dates.append(day)
        return dates

    def _increase_enterprise(self) -> Enterprise | None:
        """A demo enterprise already here that invests more: a heavy one on a chain node."""
        placed = [e for e in self.enterprises if e.pk in self.placed_on]
        placed.sort(key=lambda e: (e.industry_division not in ("38", "39"), -_weight(e), e.pk))
        return placed[0] if placed else (self.enterprises[0] if self.enterprises else None)

    # --- leads --------------------------------------------------------------------------------------

    def build_leads(self, projects: Sequence[_ProjectPlan], open_leads: dict[str, int]) -> None:
        rng = self.rng
        converted = [p for p in projects if p.origin == LEAD]
        used = {p.target.pk for p in projects if p.target is not None}
        spare = [t for t in self.targets if t.pk not in used]
        # Gaps first: leads aim at the missing and weak links.
        gap_first: dict[str, int] = {MISSING: 0, WEAK: 1}
        spare.sort(key=lambda t: (gap_first.get(self._planned_of(t), 2), t.pk))
        states = [state for state, number in open_leads.items() for _ in range(number)]
        sources = list(LeadSource.values)
        rng.shuffle(sources)
        leads: list[Lead] = []
        histories: list[list[tuple[str, datetime]]] = []
        for number, state in enumerate([LeadStatus.CONVERTED] * len(converted) + states):
            project = converted[number] if number < len(converted) else None
            target = project.target if project is not None else spare.pop(0 if rng.random() < 0.7 else -1)
            assert target is not None
            owner = self.owners[0] if number % 5 or len(self.owners) == 1 else self.owners[1]
            history = self._lead_history(state, project)
            source = sources[number % len(sources)]
            lead = Lead(
                zone=self.zone,
                target=target,
                node=self.target_nodes[target.pk][0],
                source=source,
                source_detail=self._source_detail(source),
                owner=owner,
                status=history[-1][0],
                abandon_reason=rng.choice(ABANDON_REASONS) if state == LeadStatus.ABANDONED else "",
                summary=self._lead_summary(target),
                created_by=owner,
                created_at=history[0][1],
                status_changed_at=history[-1][1],
            )
            leads.append(lead)
            histories.append(history)
            if project is not None:
                project.lead = lead
        Lead.objects.bulk_create(leads)
        transitions, logs, contacts = [], [], []
        for lead, history in zip(leads, histories, strict=True):
            for (before, _at_before), (after, at) in zip(history, history[1:], strict=False):
                note = ""
                if after == LeadStatus.ABANDONED:
                    note = lead.abandon_reason
                elif after == LeadStatus.CONVERTED:
                    note = "双方就投资意向达成一致，转入项目库推进"
                transitions.append(
                    LeadTransition(
                        lead=lead, from_status=before, to_status=after, at=at, by=lead.owner, note=note
                    )
                )
            logs += self._lead_logs(lead, history)
            for position in rng.sample(_TARGET_POSITIONS, rng.randint(1, 2)):
                contacts.append(
                    LeadContact(lead=lead, name=_person(rng), position=position, phone=_mobile(rng))
                )
        LeadTransition.objects.bulk_create(transitions)
        LeadLog.objects.bulk_create(logs)
        LeadContact.objects.bulk_create(contacts)

    def _planned_of(self, target: Target) -> str:
        return self.specs[self.target_nodes[target.pk][0].name].planned

    def _lead_history(self, state: str, project: _ProjectPlan | None) -> list[tuple[str, datetime]]:
        """(status, since) from creation to the current state, over the past year."""
        rng, year_ago = self.rng, self.today - timedelta(days=362)
        new, contacting, negotiating = LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.NEGOTIATING
        if project is not None:
            assert project.created is not None
            converted = project.created
            created = max(year_ago, converted - timedelta(days=rng.randint(30, 120)))
            created = min(created, converted - timedelta(days=10))
            steps = [new, contacting, negotiating] if rng.random() < 0.8 else [new, contacting]
            end, final = converted, LeadStatus.CONVERTED
        elif state == new:
            return [(new, _at(self.days_ago(1, 45), rng))]
        elif state == contacting:
            created, steps, end, final = self.days_ago(20, 200), [new], self.today, contacting
        elif state == negotiating:
            created, steps, end, final = self.days_ago(60, 330), [new, contacting], self.today, negotiating
        else:
            created, end, final = self.days_ago(60, 360), self.today, LeadStatus.ABANDONED
            steps = rng.choice(([new], [new, contacting], [new, contacting, negotiating]))
        days = [created, *_spread(rng, created, end - timedelta(days=1), len(steps))]
        if project is not None:
            days[-1] = end
        history: list[tuple[str, datetime]] = [
            (status, _at(day, rng)) for status, day in zip([*steps, final], days, strict=True)
        ]
        return self._ascending(history)

    @staticmethod
    def _ascending(history: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
        for i in range(1, len(history)):
            if history[i][1] <= history[i - 1][1]:
                history[i] = (history[i][0], history[i - 1][1] + timedelta(hours=1))
        return history

    def _source_detail(self, source: str) -> str:
        detail = self.rng.choice(SOURCE_DETAILS[LeadSource(source)])
        if "{enterprise}" in detail:
            local = self.rng.choice(self.enterprises).name if self.enterprises else "企业"
            detail = detail.format(enterprise=local)
        return detail

    def _lead_summary(self, target: Target) -> str:
        node = self.target_nodes[target.pk][0]
        return self.rng.choice(
            (
                f"{_short_name(target.name)}计划新建{node.name}生产基地，正在长三角比选落地园区。",
                f"对方有意在华东布局{node.name}产能，可补齐园区{node.name}环节。",
                f"{_short_name(target.name)}拟设立区域总部和{node.name}研发中心。",
            )
        )

    def _lead_logs(self, lead: Lead, history: list[tuple[str, datetime]]) -> list[LeadLog]:
        rng, short = self.rng, _short_name(lead.target.name)
        node = lead.node.name if lead.node else "相关"
        texts: dict[str, tuple[tuple[str, str], ...]] = {
            LeadStatus.CONTACTING: (
                (LeadLog.Mode.PHONE, f"电话联系{short}投资负责人，介绍园区{node}产业基础和配套政策。"),
                (LeadLog.Mode.VISIT, f"赴{short}总部拜访，了解其扩产计划，邀请来园区考察。"),
                (LeadLog.Mode.VIDEO, "视频沟通项目初步需求：用地、厂房、人才和能耗指标。"),
            ),
            LeadStatus.NEGOTIATING: (
                (LeadLog.Mode.MEETING, f"{short}团队来园区考察，参观标准厂房和{node}上下游企业。"),
                (LeadLog.Mode.VIDEO, "视频会议讨论投资协议主要条款：用地规模、固定资产投资、达产时间。"),
                (LeadLog.Mode.EVENT, f"在招商推介活动上与{short}高层对接，对方确认进入投资决策。"),
                (LeadLog.Mode.VISIT, "带队赴对方总部洽谈，商定政策支持和项目推进时间表。"),
            ),
        }
        logs = []
        ends = [at.date() for _status, at in history[1:]] + [self.today]
        for (status, since), end in zip(history, ends, strict=True):
            if status not in texts or end <= since.date():
                continue
            count = rng.randint(1, 2)
            days = _spread(rng, since.date() - timedelta(days=1), end, count)
            for day, (mode, summary) in zip(days, rng.sample(texts[status], count), strict=True):
                day = min(max(day, since.date()), self.today)
                logs.append(
                    LeadLog(
                        lead=lead,
                        happened_on=day,
                        mode=mode,
                        summary=summary,
                        by=lead.owner,
                        created_at=_at(day, rng),
                    )
                )
        if lead.status == LeadStatus.ABANDONED:
            day = history[-1][1].date()
            logs.append(
                LeadLog(
                    lead=lead,
                    happened_on=day,
                    mode=LeadLog.Mode.PHONE,
                    summary=f"经沟通确认放弃：{lead.abandon_reason}。线索暂停跟进，保持联系。",
                    by=lead.owner,
                    created_at=history[-1][1],
                )
            )
        return logs

    # --- projects -----------------------------------------------------------------------------------

    def build_projects(self, plans: Sequence[_ProjectPlan], agents: Sequence[User]) -> list[Project]:
        rng = self.rng
        projects = []
        for number, plan in enumerate(plans):
            node = plan.node
            project_type = ProjectType.INDUSTRIAL
            if plan.origin == INCREASE:
                pass  # more lines in the enterprise's own plant
            elif node is not None and node.name in ("芯片设计", "EDA软件") or rng.random() < 0.1:
                project_type = ProjectType.RESEARCH
            elif node is not None and node.name in ("充换电设施", "智能工厂集成", "数据中心与服务器"):
                project_type = ProjectType.SERVICE
            planned, base, land, output, tax = self._amounts(plan, project_type)
            assert plan.created is not None
            lead = plan.lead
            created_at = lead.status_changed_at if lead is not None else _at(plan.created, rng)
            # Entered at its current stage (a lead converted at 洽谈): in that stage since it was entered.
            stage_changed_at = created_at if plan.reached[-1] == plan.created else _at(plan.reached[-1], rng)
            projects.append(
                Project(
                    zone=self.zone,
                    name=self._project_name(plan, project_type),
                    lead=lead,
                    target=plan.target,
                    chain=node.chain if node is not None else self.chains[next(iter(self.chains))],
                    node=node,
                    source=lead.source if lead is not None else LeadSource.OTHER,
                    kind=ProjectKind.CAPITAL_INCREASE if plan.origin == INCREASE else ProjectKind.NEW,
                    project_type=project_type,
                    enterprise=plan.enterprise,
                    stage=plan.stage,
                    stage_changed_at=stage_changed_at,
                    investment_planned=planned,
                    investment_base=base,
                    land_mu=land,
                    expected_output=output,
                    expected_tax=tax,
                    owner=lead.owner if lead is not None else self.owner,
                    agent=agents[number % len(agents)] if plan.index >= 2 else None,
                    description=self._project_description(plan, project_type),
                    created_by=lead.owner if lead is not None else self.owner,
                    created_at=created_at,
                )
            )
        Project.objects.bulk_create(projects)
        self._write_history(plans, projects)
        return projects

    def _amounts(
        self, plan: _ProjectPlan, project_type: str
    ) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        rng = self.rng
        if project_type == ProjectType.INDUSTRIAL:
            low, high = rng.choices(((8000, 50000), (50000, 150000), (150000, 300000)), weights=(6, 3, 1))[0]
            planned = rng.randint(low, high)
            land = planned / rng.randint(300, 800)
            output = planned * rng.uniform(1.2, 2.5)
        elif project_type == ProjectType.RESEARCH:
            planned = rng.randint(3000, 30000)
            land = rng.choice((0, rng.randint(10, 40)))
            output = planned * rng.uniform(0.3, 0.8)
        else:
            planned = rng.randint(5000, 50000)
            land = rng.randint(0, 30)
            output = planned * rng.uniform(0.5, 1.5)
        base = 0
        if plan.origin == INCREASE:
            # Only the increment counts: the enterprise has invested `base` before.
            base = rng.randint(10000, 40000)
            planned = base + rng.randint(8000, 30000)
            land = rng.randint(0, 30)
        tax = output * rng.uniform(0.04, 0.08)
        return (
            _round(planned, 100),
            Decimal(base // 100 * 100),
            Decimal(round(land)),
            _round(output, 100),
            _round(tax, 10),
        )

    def _project_name(self, plan: _ProjectPlan, project_type: str) -> str:
        node = self.specs[plan.node.name].makes if plan.node else ""
        if plan.origin == INCREASE and plan.enterprise is not None:
            return f"{_short_name(plan.enterprise.name)}增资扩产项目"
        if plan.target is None:
            chain = next(iter(self.chains))
            return f"{self.zone.name}{chain}产业园（二期）项目"
        short = self.trade_names[plan.target.pk]
        if project_type == ProjectType.RESEARCH:
            return f"{short}{node}研发中心项目"
        if project_type == ProjectType.SERVICE:
            return f"{short}华东区域总部及{node}运营中心项目"
        return self.rng.choice((f"{short}{node}生产基地项目", f"{short}{node}研发及产业化项目"))

    def _project_description(self, plan: _ProjectPlan, project_type: str) -> str:
        if plan.origin == INCREASE:
            return "存量企业增资扩股，新增产线和研发中心，只计增量投资。"
        if plan.target is None:
            return "园区谋划的产业载体项目，建设标准厂房和中试平台，面向半导体材料企业招商。"
        node = plan.node.name if plan.node else ""
        makes = self.specs[node].makes if node else ""
        if project_type == ProjectType.RESEARCH:
            return f"设立{makes}研发中心，引进研发团队，开展关键技术攻关和中试验证。"
        if project_type == ProjectType.SERVICE:
            return f"设立华东区域总部及{makes}运营中心，承担销售结算和运营服务。"
        return f"建设{makes}生产线及配套研发、仓储设施，补齐园区{node}环节。"

    def _write_history(self, plans: Sequence[_ProjectPlan], projects: Sequence[Project]) -> None:
        """Milestones, events, signings, arrivals and approval checklists of the projects."""
        rng = self.rng
        milestones, events, signings, arrivals, approvals = [], [], [], [], []
        templates: dict[str, list[ApprovalTemplateItem]] = {}
        for item in ApprovalTemplateItem.objects.order_by("project_type", "position", "pk"):
            templates.setdefault(item.project_type, []).append(item)
        overdue_every = 3  # one project in three has its next milestone promised in the past
        for number, (plan, project) in enumerate(zip(plans, projects, strict=True)):
            k, by = plan.index, project.owner
            for index, reached in enumerate(plan.reached):
                promised = None
                if index >= 3 and rng.random() < 0.6:
                    # The agreement promised this stage; reached a little earlier or later.
                    promised = reached + timedelta(days=rng.randint(-20, 30))
                milestones.append(
                    ProjectMilestone(
                        project=project, stage=STAGES[index], reached_on=reached, promised_on=promised
                    )
                )
            if 1 <= k < len(STAGES) - 1:
                next_on = (
                    self.days_ago(5, 60)
                    if number % overdue_every == 0
                    else self.today + timedelta(days=rng.randint(10, 180))
                )
                milestones.append(ProjectMilestone(project=project, stage=STAGES[k + 1], promised_on=next_on))
                if k + 2 < len(STAGES):
                    later = max(next_on, self.today) + timedelta(days=rng.randint(60, 240))
                    milestones.append(
                        ProjectMilestone(project=project, stage=STAGES[k + 2], promised_on=later)
                    )
            entered_at = project.created_at
            note = "由招商线索转为项目" if plan.origin == LEAD else "录入项目库"
            events.append(
                ProjectEvent(
                    project=project,
                    kind=ProjectEvent.Kind.CREATE,
                    to_stage=STAGES[plan.entered],
                    on=plan.reached[plan.entered] if plan.created is None else plan.created,
                    note=note,
                    by=by,
                    at=entered_at,
                )
            )
            for index in range(plan.entered + 1, k + 1):
                on = plan.reached[index]
                events.append(
                    ProjectEvent(
                        project=project,
                        kind=ProjectEvent.Kind.ADVANCE,
                        from_stage=STAGES[index - 1],
                        to_stage=STAGES[index],
                        on=on,
                        note=f"在{plan.signings[0][1]}签约" if STAGES[index] == Stage.SIGNED else "",
                        by=by,
                        at=max(_at(on, rng), entered_at + timedelta(minutes=index)),
                    )
                )
            if k < 2:
                continue
            signed = plan.reached[2]
            for held, event in plan.signings:
                signings.append(
                    ProjectSigning(
                        project=project, event=event, signed_on=held, by=by, created_at=_at(held, rng)
                    )
                )
            arrivals += self._arrivals(plan, project, signed)
            approvals += self._approvals(plan, project, templates.get(project.project_type, []))
        ProjectMilestone.objects.bulk_create(milestones)
        ProjectEvent.objects.bulk_create(events)
        ProjectSigning.objects.bulk_create(signings)
        CapitalArrival.objects.bulk_create(arrivals)
        ApprovalItem.objects.bulk_create(approvals)

    def _arrivals(self, plan: _ProjectPlan, project: Project, signed: date) -> list[CapitalArrival]:
        rng = self.rng
        low, high = ARRIVED_SHARE[plan.stage]
        total = float(project.investment_counted) * rng.uniform(low, high)
        if total < 100 or plan.stage == Stage.SIGNED and rng.random() < 0.5:
            return []
        count = rng.randint(1, min(4, plan.index - 1))
        days = _spread(rng, signed, self.today - timedelta(days=1), count)
        cuts = sorted(rng.uniform(0.15, 0.85) for _ in range(count - 1))
        shares = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
        notes = ("注册资本金到位", "设备购置款", "土建工程款", "增资款到位", "流动资金")
        # Rounded down to 10 万元, so that the arrivals never add up to more than the investment.
        amounts = [Decimal(int(total * share) // 10 * 10) for share in shares]
        return [
            CapitalArrival(
                project=project,
                arrived_on=day,
                amount=amount,
                note=rng.choice(notes),
                by=project.owner,
                created_at=_at(day, rng),
            )
            for day, amount in zip(days, amounts, strict=True)
            if amount > 0
        ]

    def _approvals(
        self, plan: _ProjectPlan, project: Project, template: Sequence[ApprovalTemplateItem]
    ) -> list[ApprovalItem]:
        """The checklist copied from the project type's template. Before 开工 every item is finished; a
        project still at 签约 has some finished, one or two in progress, the rest not started."""
        rng, signed = self.rng, plan.reached[2]
        started_works = plan.reached[3] if plan.index >= 3 else None
        finished_count = len(template) if started_works else rng.randint(1, max(1, len(template) - 3))
        running_count = 0 if started_works else rng.randint(1, 2)
        latest = _last_workday(self.today if started_works is None else started_works - timedelta(days=1))
        items, offset = [], 1
        for number, template_item in enumerate(template):
            item = ApprovalItem(
                project=project,
                name=template_item.name,
                statutory_days=template_item.statutory_days,
                promised_days=template_item.promised_days,
                position=template_item.position,
            )
            items.append(item)
            if number >= finished_count + running_count:
                continue  # not started yet
            started = min(add_workdays(signed, offset), latest)
            offset += rng.randint(1, 2)
            item.started_on = started
            item.promised_by = add_workdays(started, template_item.promised_days)
            if number >= finished_count:
                continue  # in progress
            promised = template_item.promised_days
            actual = rng.randint(max(1, promised // 3), promised)
            if rng.random() < 0.15:
                actual = min(promised + rng.randint(1, 3), template_item.statutory_days)
                item.note = "企业补正材料后办结"
            finished = min(add_workdays(started, actual), latest)
            if finished <= started:
                started = _last_workday(finished - timedelta(days=1))
                item.started_on, item.promised_by = started, add_workdays(started, promised)
            item.finished_on = finished
            item.actual_days = workdays_between(started, finished)
        return items


# --- users, funds and financing ----------------------------------------------------------------------


def _promoter(username: str, unit: OrgUnit, like: User, rng: random.Random) -> User:
    """A promoter account of the demo (its password the demo password, copied from `like`)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(
            username=username, password=like.password, full_name=_person(rng), unit=unit, phone=_mobile(rng)
        )
    RoleGrant.objects.get_or_create(user=user, role=Role.PROMOTER)
    return user


def _build_funds(
    demo: _ZoneDemo, promoter: User, enterprise_user: User | None
) -> tuple[list[Fund], list[FinancingNeed]]:
    rng, today = demo.rng, demo.today
    created = _at(today - timedelta(days=300), rng)
    chains = demo.chains
    specs = (
        (
            "江南高新区新能源产业基金",
            "江南高新创业投资管理有限公司",
            200000,
            NEW_ENERGY.name,
            ("电芯", "正极材料", "负极材料", "工商业储能", "回收利用"),
            [InvestmentStage.EARLY, InvestmentStage.GROWTH],
            (1000, 20000),
        ),
        (
            "长三角集成电路产业投资基金",
            "长三角芯远私募基金管理有限公司",
            500000,
            SEMICONDUCTOR.name,
            ("晶圆制造", "芯片设计", "硅片", "光刻胶", "刻蚀设备"),
            [InvestmentStage.GROWTH, InvestmentStage.PRE_IPO],
            (3000, 50000),
        ),
    )
    funds = Fund.objects.bulk_create(
        Fund(
            zone=demo.zone,
            name=name,
            manager=manager,
            size=Decimal(size),
            stages=[str(stage) for stage in stages],
            kinds=[str(FinancingKind.EQUITY)],
            ticket_min=Decimal(low),
            ticket_max=Decimal(high),
            contact_name=_person(rng),
            contact_phone=_mobile(rng),
            created_by=promoter,
            created_at=created,
        )
        for name, manager, size, _chain, _nodes, stages, (low, high) in specs
    )
    Fund.focus_chains.through.objects.bulk_create(
        Fund.focus_chains.through(fund_id=fund.pk, industrychain_id=chains[spec[3]].pk)
        for fund, spec in zip(funds, specs, strict=True)
    )
    Fund.focus_nodes.through.objects.bulk_create(
        Fund.focus_nodes.through(fund_id=fund.pk, chainnode_id=demo.nodes[name].pk)
        for fund, spec in zip(funds, specs, strict=True)
        for name in spec[4]
    )

    # Financing needs: the demo enterprise user's own enterprise first (an open one), then others.
    own = (
        EnterpriseMembership.objects.filter(user=enterprise_user, is_active=True)
        .select_related("enterprise")
        .first()
        if enterprise_user is not None
        else None
    )
    others = [e for e in demo.enterprises if own is None or e.pk != own.enterprise_id]
    others.sort(key=lambda e: (e.industry_division not in ("38", "39", "65", "35"), e.pk))
    held_on = today - timedelta(days=rng.randint(35, 50))
    rows: list[tuple[Enterprise, str, str, int, str, date, str, User, date]] = []
    if own is not None:
        rows.append(
            (
                own.enterprise,
                FinancingKind.EQUITY,
                InvestmentStage.GROWTH,
                5000,
                "扩建自动化产线及研发投入",
                today + timedelta(days=120),
                FinancingNeedStatus.OPEN,
                enterprise_user or promoter,
                held_on - timedelta(days=25),
            )
        )
    plans = (
        (
            FinancingKind.EQUITY,
            InvestmentStage.EARLY,
            3000,
            "新产品量产及市场拓展",
            90,
            FinancingNeedStatus.FULFILLED,
        ),
        (FinancingKind.LOAN, "", 1000, "原材料采购流动资金", 45, FinancingNeedStatus.OPEN),
        (FinancingKind.DEBT, "", 2000, "购置标准厂房", 60, FinancingNeedStatus.WITHDRAWN),
        (
            FinancingKind.EQUITY,
            InvestmentStage.ANGEL,
            800,
            "研发团队扩充及样机开发",
            150,
            FinancingNeedStatus.OPEN,
        ),
    )
    for enterprise, (kind, stage, amount, purpose, within, status) in zip(others, plans, strict=False):
        posted = held_on - timedelta(days=rng.randint(20, 80))
        rows.append(
            (
                enterprise,
                kind,
                stage,
                amount,
                purpose,
                # An open need is needed ahead; a closed one was needed by a date that may have passed.
                (today if status == FinancingNeedStatus.OPEN else posted) + timedelta(days=within),
                status,
                promoter,
                posted,
            )
        )
    needs = FinancingNeed.objects.bulk_create(
        FinancingNeed(
            enterprise=enterprise,
            amount=Decimal(amount),
            kind=kind,
            stage=stage,
            purpose=purpose,
            needed_by=needed_by,
            status=status,
            created_by=by,
            created_at=_at(posted, rng),
            updated_at=_at(posted, rng),
        )
        for enterprise, kind, stage, amount, purpose, needed_by, status, by, posted in rows
    )
    roadshow = Roadshow.objects.create(
        zone=demo.zone,
        title="江南高新区企业融资路演（新能源与集成电路专场）",
        held_on=held_on,
        location="高新区企业服务中心路演厅",
        created_by=promoter,
        created_at=_at(held_on - timedelta(days=14), rng),
    )
    roadshow.funds.set(funds)
    roadshow.needs.set([need for need in needs if need.kind == FinancingKind.EQUITY])
    fulfilled = next((need for need in needs if need.status == FinancingNeedStatus.FULFILLED), None)
    if fulfilled is not None:
        fund = funds[0] if fulfilled.enterprise.industry_division == "38" else funds[1]
        invested_on = min(held_on + timedelta(days=rng.randint(15, 30)), today - timedelta(days=1))
        FinancingOutcome.objects.create(
            need=fulfilled,
            fund=fund,
            roadshow=roadshow,
            amount=fulfilled.amount,
            invested_on=invested_on,
            by=promoter,
            created_at=_at(invested_on, rng),
        )
        FinancingNeed.objects.filter(pk=fulfilled.pk).update(updated_at=_at(invested_on, rng))
    return funds, needs


def _second_zone_need(demo: _ZoneDemo, promoter: User) -> None:
    """The second zone's enterprise user's enterprise asks for a loan: the first zone does not see it."""
    member = (
        EnterpriseMembership.objects.filter(user__username=DEMO_ENTERPRISE_USERS[1], is_active=True)
        .select_related("enterprise", "user")
        .first()
    )
    if member is None:
        return
    posted = demo.days_ago(10, 40)
    FinancingNeed.objects.create(
        enterprise=member.enterprise,
        amount=Decimal(1500),
        kind=FinancingKind.LOAN,
        purpose="新增数控加工设备",
        needed_by=demo.today + timedelta(days=60),
        created_by=member.user,
        created_at=_at(posted, demo.rng),
        updated_at=_at(posted, demo.rng),
    )


def add_demo_investment(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: the investment demo of both zones, in the demo's transaction."""
    promoter = User.objects.filter(username=DEMO_PROMOTER).first()
    if promoter is None or not promoter.zone_ids():
        return
    stream = _own_stream(rng)
    today = beijing_today()
    zone = OrgUnit.objects.get(pk=promoter.zone_ids()[0])
    username, department = DEMO_AGENT
    agent = _promoter(username, units.get(f"{zone.code}-{department}", zone), promoter, stream)
    taken: set[str] = set()

    first = _ZoneDemo(stream, today, zone, [promoter, agent], taken)
    first.build_chains((SEMICONDUCTOR, NEW_ENERGY))
    first.place_enterprises()
    first.build_targets(TARGETS_FIRST_ZONE, foreign=FOREIGN_TARGETS)
    plans = first.plan_projects(PROJECTS_FIRST_ZONE, double_signing=True)
    first.build_leads(plans, OPEN_LEADS_FIRST_ZONE)
    first.build_projects(plans, [promoter, agent])
    enterprise_user = User.objects.filter(username=DEMO_ENTERPRISE_USERS[0]).first()
    _build_funds(first, promoter, enterprise_user)

    second_zone = (
        OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE, parent_id=zone.parent_id)
        .exclude(pk=zone.pk)
        .order_by("code")
        .first()
    )
    if second_zone is not None:
        promoter_b = _promoter(SECOND_ZONE_PROMOTER, second_zone, promoter, stream)
        second = _ZoneDemo(stream, today, second_zone, [promoter_b], taken)
        second.build_chains((EQUIPMENT,))
        second.place_enterprises()
        second.build_targets(TARGETS_SECOND_ZONE, foreign=0)
        plans_b = second.plan_projects(PROJECTS_SECOND_ZONE, double_signing=False)
        second.build_leads(plans_b, OPEN_LEADS_SECOND_ZONE)
        second.build_projects(plans_b, [promoter_b])
        _second_zone_need(second, promoter_b)
    audit.record(
        None,
        "investment.demo_load",
        summary=f"装入招商演示数据：{zone.name}两条产业链、{TARGETS_FIRST_ZONE} 家目标企业",
        detail={"zone": zone.code, "targets": TARGETS_FIRST_ZONE, "projects": len(PROJECTS_FIRST_ZONE)},
    )
