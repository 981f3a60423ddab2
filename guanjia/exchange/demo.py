"""The exchange part of `guanjia demo-data`: two pairings, five secondments and what they brought back.

高新区 is paired with 昆山高新区 (江苏 苏州) and 经开区 with 苏州工业园区. Five cadres are seconded: gj_cadre is
posted to 昆山高新区 now, the others (gj_cadre2–5, created here as the demo creates its staff) are posted or
shadowing (跟班学习) now or came back. Each secondment has learning notes (见闻) and liaison activities; a
few sourced leads wait for the zone's promoters, one was declined and one taken into the investment
pipeline (an investment Lead with source 挂职干部 and its Target). Practices (经验做法) are at every stage:
learned only, 借鉴, 试行 and 推广.

One adoption is there to show a measured effect: 早九晚五中午不下班, put on trial by 高新区市场监督管理局 about
two quarters ago. The appeals demo covers only the last months, so the department's service history in
the quarters around the trial is replayed here through the appeals lifecycle (every deadline, event,
rating and KPI rollup as the platform writes them): slower answers and more dissatisfied first ratings
before the trial, quicker and better after it.

Rows are written straight to the tables, in the demo's transaction, keeping every rule the services
keep. The random stream is drawn from a copy of the demo's generator, so the rest of the demo stays as
it was.
"""

from __future__ import annotations

import random
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import AppealCategory, Channel, Outcome, RatingLevel, Status
from guanjia.core import audit
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays, is_workday
from guanjia.enterprises.models import Enterprise, Scale
from guanjia.enterprises.uscc import with_check_digit
from guanjia.exchange.access import today as beijing_today
from guanjia.exchange.models import (
    Adoption,
    AdoptionStage,
    LearningNote,
    LiaisonActivity,
    Pairing,
    Practice,
    Secondment,
    SecondmentKind,
    SourcedLead,
    SourcedLeadStatus,
)
from guanjia.investment.models import (
    ChainNode,
    Lead,
    LeadContact,
    LeadLog,
    LeadSource,
    LeadStatus,
    LeadTransition,
    Target,
)

BEIJING = ZoneInfo("Asia/Shanghai")
DEMO_CADRE = "gj_cadre"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰涛明超秀霞平刚英华建文辉国红晨宇浩然欣怡子轩思远佳琪志诚凯"


@dataclass(frozen=True)
class PairingSpec:
    zone: str  # zone key (guanjia.enterprises.demo.ZONES)
    partner: str
    city: str
    province: str
    started_days_ago: int
    focus: str


PAIRINGS = (
    PairingSpec(
        "gx",
        "昆山高新区",
        "苏州市",
        "江苏省",
        620,
        "产业链招商（半导体、新能源）、营商环境改革、政务服务标准化、园区运营管理",
    ),
    PairingSpec(
        "jk",
        "苏州工业园区",
        "苏州市",
        "江苏省",
        480,
        "先进制造业集群培育、企业服务“一站式”、惠企政策直达、开放型经济",
    ),
)


@dataclass(frozen=True)
class NoteSpec:
    title: str
    body: str
    day: int  # days after the secondment began


@dataclass(frozen=True)
class ActivitySpec:
    title: str
    day: int
    place: str
    participants: str
    outcome: str


@dataclass(frozen=True)
class LeadSpec:
    company: str
    region: str  # administrative division code of its USCC
    industry: str
    summary: str
    status: str
    day: int
    node: str = ""  # the chain node of the zone it would fill (a taken lead)
    reason: str = ""  # a declined lead's


@dataclass(frozen=True)
class SecondmentSpec:
    username: str
    pairing: int  # index into PAIRINGS
    unit: str  # the cadre's own unit: "" for the zone, else a department key of the zone
    host_unit: str
    post: str
    kind: str
    starts_days_ago: int
    months: int
    tasks: str
    notes: tuple[NoteSpec, ...]
    activities: tuple[ActivitySpec, ...]
    leads: tuple[LeadSpec, ...] = ()


SECONDMENTS = (
    SecondmentSpec(
        DEMO_CADRE,
        0,
        "",
        "昆山高新区管委会",
        "招商服务局副局长",
        SecondmentKind.POSTED,
        150,
        12,
        "学习产业链精准招商和项目全周期服务经验，推动两地半导体、新能源产业链对接，推荐优质项目线索。",
        (
            NoteSpec(
                "链长+链主协同招商",
                "昆山高新区每条重点产业链由一位区领导任链长、一家龙头企业任链主。链主企业每季度提出配套需求清单，"
                "招商局据此定向招引上下游企业，半年内经链主引荐落地配套项目7个。我区新能源链的电芯龙头可以试行同样做法。",
                12,
            ),
            NoteSpec(
                "项目全周期“一张表”管理",
                "签约项目从签约到投产由专班按“一张表”推进，每个节点有责任人和承诺时间，逾期自动提醒分管领导，"
                "每月通报。我区招商系统的项目节点和逾期提醒可以承担同样的作用，关键是节点承诺要真实。",
                40,
            ),
            NoteSpec(
                "标准厂房“拎包入驻”",
                "对中小制造项目提供带装修、带配套的标准厂房，企业签约后一个月内即可入驻生产，落地周期缩短一半以上。",
                75,
            ),
        ),
        (
            ActivitySpec(
                "昆山—江南新能源产业链对接会",
                30,
                "昆山市",
                "昆山高新区招商服务局、江南高新区招商服务局、12家新能源企业",
                "对接储能、负极材料项目线索5条，2家企业约定来江南考察。",
            ),
            ActivitySpec(
                "长三角半导体产业招商推介会",
                95,
                "上海市",
                "两地招商部门、长三角半导体行业协会",
                "推介江南高新区半导体产业链配套条件，收集设备和材料企业扩产信息。",
            ),
        ),
        (
            LeadSpec(
                "苏州澜锂新能源材料有限公司",
                "320583",
                "锂电池负极材料",
                "硅碳负极材料生产企业，计划新增年产2万吨负极材料产能，正在长三角比选落地园区，需标准厂房约3万平方米。",
                SourcedLeadStatus.TAKEN,
                50,
                node="负极材料",
            ),
            LeadSpec(
                "昆山芯测半导体设备有限公司",
                "320583",
                "半导体检测设备",
                "晶圆检测设备企业，现有厂房已饱和，拟在周边设立第二生产基地，关注人才公寓和设备进口通关便利。",
                SourcedLeadStatus.SUBMITTED,
                110,
            ),
        ),
    ),
    SecondmentSpec(
        "gj_cadre2",
        0,
        "centre",
        "昆山高新区政务服务中心",
        "跟班学习（综合受理科）",
        SecondmentKind.SHADOW,
        400,
        6,
        "跟班学习政务服务标准化、“一窗通办”综合受理和延时服务经验。",
        (
            NoteSpec(
                "早九晚五中午不下班",
                "政务服务中心实行工作日9:00—17:00连续服务，窗口人员错峰轮岗就餐，中午不停办；企业普遍反映办事不用再"
                "请半天假。配套做法：午间由A、B岗互为补位，高峰时段增开潮汐窗口。",
                20,
            ),
            NoteSpec(
                "“一窗通办”综合受理",
                "企业开办、变更等事项由综合窗口一次受理、后台分办，营业执照、公章、税务发票和社保登记一日办结。",
                50,
            ),
            NoteSpec(
                "诉求首问负责",
                "企业来电来访由第一位接待人员负责到底，跨部门事项由首问人员协调并告知进度，不得以“不归我管”推诿。",
                120,
            ),
        ),
        (
            ActivitySpec(
                "政务服务标准化建设交流座谈",
                60,
                "昆山高新区政务服务中心",
                "两地政务服务中心、市场监管、行政审批部门",
                "交流窗口服务规范和延时服务安排，带回服务制度汇编一册。",
            ),
        ),
    ),
    SecondmentSpec(
        "gj_cadre3",
        0,
        "commerce",
        "昆山高新区招商服务局",
        "招商一科科长助理",
        SecondmentKind.POSTED,
        560,
        6,
        "学习重大项目招引和审批服务经验。",
        (
            NoteSpec(
                "“拿地即开工”",
                "工业项目在土地出让前完成规划方案预审和施工图联审，企业取得不动产权证当天即可领取施工许可证，开工时间提前"
                "两到三个月。",
                35,
            ),
            NoteSpec(
                "亩均效益评价",
                "招商项目准入前按亩均税收、亩均投资强度评估，评价结果与用地、能耗指标挂钩。",
                90,
            ),
        ),
        (
            ActivitySpec(
                "昆山高新区重点产业项目观摩",
                70,
                "昆山高新区",
                "昆山高新区招商服务局、自然资源和规划分局",
                "实地观摩3个“拿地即开工”项目，整理审批流程图。",
            ),
            ActivitySpec(
                "精密制造企业座谈",
                140,
                "昆山市",
                "8家精密制造企业",
                "了解企业外溢扩产意向，收集项目线索1条。",
            ),
        ),
        (
            LeadSpec(
                "昆山恒锐精密铸造有限公司",
                "320583",
                "精密铸造",
                "精密铸件企业，拟外迁扩产铸造车间，年用能约1.2万吨标准煤。",
                SourcedLeadStatus.DECLINED,
                145,
                reason="铸造环节能耗高，不符合园区能耗准入要求",
            ),
        ),
    ),
    SecondmentSpec(
        "gj_cadre4",
        1,
        "",
        "苏州工业园区经济发展委员会",
        "产业发展处副处长",
        SecondmentKind.POSTED,
        90,
        12,
        "学习先进制造业集群培育和惠企政策直达经验，推动两地生物医药、高端装备产业合作。",
        (
            NoteSpec(
                "惠企政策“免申即享”",
                "园区把可以用数据判断的政策事项全部梳理为免申即享清单，由部门按条件直接生成兑现名单，企业只需确认银行账户。",
                15,
            ),
            NoteSpec(
                "产业集群“一群一策”",
                "每个产业集群制定专项政策和年度培育计划，由集群服务专班统筹，一企一档跟踪重点企业。",
                55,
            ),
        ),
        (
            ActivitySpec(
                "苏州工业园区生物医药产业集群观摩",
                25,
                "苏州工业园区",
                "苏州工业园区经济发展委员会、江南经开区考察组",
                "观摩公共技术服务平台和专业孵化器，对接生物医药企业3家。",
            ),
        ),
        (
            LeadSpec(
                "苏州瑞康生物医药科技有限公司",
                "320571",
                "生物医药",
                "创新药中试生产企业，计划建设符合GMP要求的中试基地，关注专业厂房和环评支持。",
                SourcedLeadStatus.SUBMITTED,
                60,
            ),
        ),
    ),
    SecondmentSpec(
        "gj_cadre5",
        1,
        "centre",
        "苏州工业园区一站式服务中心",
        "跟班学习（企业服务部）",
        SecondmentKind.SHADOW,
        300,
        6,
        "跟班学习企业服务“一站式”和重点企业服务专员制度。",
        (
            NoteSpec(
                "首接负责、全程代办",
                "企业诉求由首位接单人员负责到底，涉及多个部门的由服务专员全程代办，办理进度每周告知企业。",
                18,
            ),
            NoteSpec(
                "重点企业服务专员",
                "每家重点企业配一名服务专员，每月至少走访一次，走访发现的问题当天录入系统。",
                70,
            ),
        ),
        (
            ActivitySpec(
                "一站式服务中心业务交流",
                45,
                "苏州工业园区一站式服务中心",
                "苏州工业园区一站式服务中心、江南经开区企业服务中心",
                "学习诉求分级分类和代办流程，带回代办服务清单。",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class AdoptionSpec:
    unit: str  # "" for the zone, else a department key of the practice's zone
    stage: str
    referenced_days_ago: int
    trial_days_ago: int | None
    rollout_days_ago: int | None
    kpi: str
    note: str


@dataclass(frozen=True)
class PracticeSpec:
    title: str
    description: str
    zone: str
    seen_at: str
    secondment: int | None  # index into SECONDMENTS; None: learned on a study tour
    learned_by: str  # when there is no secondment
    days_ago: int
    adoptions: tuple[AdoptionSpec, ...]


# The adoption whose effect the demo shows (its department's service history is replayed around it).
EFFECT_PRACTICE = "早九晚五中午不下班"

PRACTICES = (
    PracticeSpec(
        EFFECT_PRACTICE,
        "窗口工作日9:00—17:00连续服务，工作人员错峰轮岗就餐，中午不停办；午间A、B岗互为补位，高峰时段增开潮汐窗口。",
        "gx",
        "昆山高新区政务服务中心",
        1,
        "",
        230,
        (
            AdoptionSpec(
                "market",
                AdoptionStage.TRIAL,
                215,
                190,
                None,
                "first_satisfaction",
                "登记注册和许可窗口试行工作日连续服务，窗口人员错峰就餐。",
            ),
            AdoptionSpec(
                "centre",
                AdoptionStage.REFERENCE,
                40,
                None,
                None,
                "on_time_signing",
                "企业服务中心受理窗口拟参照实行，正在测算人员排班。",
            ),
        ),
    ),
    PracticeSpec(
        "企业开办“一窗通办、一日办结”",
        "企业开办事项由综合窗口一次受理、后台分办，营业执照、公章、发票和社保登记一日办结，材料只交一次。",
        "gx",
        "昆山高新区政务服务中心",
        1,
        "",
        345,
        (
            AdoptionSpec(
                "approval",
                AdoptionStage.ROLLOUT,
                330,
                300,
                120,
                "mean_handling_days",
                "试行半年后在全部企业开办事项推广。",
            ),
        ),
    ),
    PracticeSpec(
        "工业项目“拿地即开工”",
        "土地出让前完成规划方案预审和施工图联审，取得不动产权证当天核发施工许可证。",
        "gx",
        "昆山高新区招商服务局",
        2,
        "",
        520,
        (
            AdoptionSpec(
                "planning",
                AdoptionStage.TRIAL,
                360,
                70,
                None,
                "on_time_answering",
                "在两个新签约工业项目上试行。",
            ),
        ),
    ),
    PracticeSpec(
        "产业链“链长+链主”协同招商",
        "区领导任链长、龙头企业任链主，链主每季度提出配套需求清单，招商部门据此定向招引上下游企业。",
        "gx",
        "昆山高新区管委会",
        0,
        "",
        130,
        (
            AdoptionSpec(
                "", AdoptionStage.REFERENCE, 25, None, None, "solved_rate", "拟在新能源产业链先行借鉴。"
            ),
        ),
    ),
    PracticeSpec(
        "企业诉求“首接负责、全程代办”",
        "企业诉求由首位接单人员负责到底，跨部门事项由服务专员全程代办，办理进度每周告知企业。",
        "jk",
        "苏州工业园区一站式服务中心",
        4,
        "",
        280,
        (
            AdoptionSpec(
                "market",
                AdoptionStage.TRIAL,
                110,
                95,
                None,
                "final_satisfaction",
                "市场监管窗口试行首接负责。",
            ),
            AdoptionSpec(
                "centre",
                AdoptionStage.REFERENCE,
                60,
                None,
                None,
                "on_time_signing",
                "企业服务中心借鉴代办清单。",
            ),
        ),
    ),
    PracticeSpec(
        "惠企政策“免申即享”清单制",
        "把能用数据判断的政策事项梳理为免申即享清单，部门按条件直接生成兑现名单，企业只确认银行账户。",
        "jk",
        "苏州工业园区经济发展委员会",
        3,
        "",
        70,
        (),
    ),
    PracticeSpec(
        "“企业服务日”领导接待",
        "每月固定一天由园区领导带队接待企业，现场交办诉求，一周内反馈办理结果。",
        "jk",
        "苏州工业园区",
        None,
        "经开区赴苏州工业园区考察组",
        520,
        (
            AdoptionSpec(
                "",
                AdoptionStage.ROLLOUT,
                500,
                420,
                300,
                "final_satisfaction",
                "经开区每月第二个周三为企业服务日。",
            ),
        ),
    ),
)

# The effect adoption's department: its appeals around the trial (title, body).
SERVICE_APPEALS = (
    ("营业执照经营范围变更", "公司拟增加医疗器械经营范围，想了解需要准备哪些材料、多长时间能办好。"),
    ("食品经营许可证延续", "食品经营许可证下月到期，延续申请提交后一直显示待受理，请帮助跟进。"),
    ("企业名称变更登记", "因集团统一品牌需要变更企业名称，经办人只有中午有空，窗口午休无法办理。"),
    ("计量器具检定预约", "车间的压力表和电子秤需要年度检定，希望协调检定机构上门服务。"),
    ("股权变更登记材料", "股东之间转让股权，登记时被告知材料不齐，请一次性告知完整材料清单。"),
    ("特种设备使用登记", "新购置两台叉车，需要办理特种设备使用登记，请问办理流程和时限。"),
    ("广告用语合规咨询", "产品宣传册中使用“行业领先”等用语，是否违反广告法，请给予指导。"),
    ("商标质押登记证明", "公司计划以商标质押融资，需要市场监管部门出具哪些证明材料？"),
)
SERVICE_ANSWER = "关于“{title}”，已按规定办理，所需材料和办理时限已书面告知企业经办人。"
SERVICE_REANSWER = "关于“{title}”，经再次核查，已安排专人一对一指导并办结，办理结果已告知企业。"
APPEALS_PER_QUARTER = 6


def _own_stream(rng: random.Random) -> random.Random:
    """A generator seeded from a copy of the demo's: deterministic, and draws nothing from the shared one."""
    copy = random.Random()
    copy.setstate(rng.getstate())
    return random.Random(copy.getrandbits(64) ^ 0xE8C4A76E)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 10, 20, 30, 40, 50))), BEIJING)


def _person(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _mobile(rng: random.Random) -> str:
    return "139" + f"{rng.randrange(10**8):08d}"


def _uscc(rng: random.Random, region: str) -> str:
    """A valid USCC (GB 32100) of a company registered since 2015 in `region`."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
    values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return with_check_digit("91" + region + body + {10: "X", 11: "0"}.get(check, str(check)))


def _months_later(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _shift_quarter(start: date, quarters: int) -> date:
    index = start.year * 4 + (start.month - 1) // 3 + quarters
    return date(index // 4, 3 * (index % 4) + 1, 1)


class _ExchangeDemo:
    def __init__(self, rng: random.Random, today: date, units: dict[str, OrgUnit], city: OrgUnit) -> None:
        self.rng = rng
        self.today = today
        self.units = units
        self.city = city
        self.zones = {
            unit.code.rsplit("-", 1)[-1]: unit
            for unit in units.values()
            if unit.kind == OrgUnit.Kind.ZONE and unit.parent_id == city.pk
        }
        self.supervisors = {
            key: User.objects.with_role(Role.SUPERVISOR)
            .filter(unit__parent=zone)
            .order_by("username")
            .first()
            for key, zone in self.zones.items()
        }

    def unit(self, zone: str, key: str) -> OrgUnit:
        found = self.zones[zone]
        return self.units.get(f"{found.code}-{key}", found) if key else found

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    # --- pairings, secondments and what the cadres wrote -------------------------------------------

    def build_programme(self, like: User) -> tuple[list[Secondment], list[SourcedLead]]:
        rng = self.rng
        specs = [spec for spec in PAIRINGS if spec.zone in self.zones and self.supervisors.get(spec.zone)]
        pairings = Pairing.objects.bulk_create(
            Pairing(
                zone=self.zones[spec.zone],
                local_unit=self.zones[spec.zone],
                partner_unit=spec.partner,
                partner_city=spec.city,
                partner_province=spec.province,
                started_on=self.ago(spec.started_days_ago),
                focus=spec.focus,
                created_by=self.supervisors[spec.zone],
                created_at=_at(self.ago(spec.started_days_ago), rng),
            )
            for spec in specs
        )
        by_spec = {PAIRINGS.index(spec): pairing for spec, pairing in zip(specs, pairings, strict=True)}
        secondments: list[Secondment] = []
        chosen: list[SecondmentSpec] = []
        for spec in SECONDMENTS:
            pairing = by_spec.get(spec.pairing)
            if pairing is None:
                continue
            zone_key = PAIRINGS[spec.pairing].zone
            cadre = self._cadre(spec.username, self.unit(zone_key, spec.unit), like)
            starts = self.ago(spec.starts_days_ago)
            secondments.append(
                Secondment(
                    pairing=pairing,
                    cadre=cadre,
                    host_unit=spec.host_unit,
                    post=spec.post,
                    kind=spec.kind,
                    starts_on=starts,
                    ends_on=_months_later(starts, spec.months) - timedelta(days=1),
                    tasks=spec.tasks,
                    created_by=self.supervisors[zone_key],
                    created_at=_at(starts - timedelta(days=rng.randint(7, 20)), rng),
                )
            )
            chosen.append(spec)
        Secondment.objects.bulk_create(secondments)
        notes, activities, leads = [], [], []
        for secondment, spec in zip(secondments, chosen, strict=True):
            for note in spec.notes:
                day = self._within(secondment, note.day)
                notes.append(
                    LearningNote(
                        secondment=secondment,
                        title=note.title,
                        body=note.body,
                        observed_on=day,
                        created_at=_at(day, rng),
                    )
                )
            for activity in spec.activities:
                day = self._within(secondment, activity.day)
                activities.append(
                    LiaisonActivity(
                        secondment=secondment,
                        title=activity.title,
                        held_on=day,
                        place=activity.place,
                        participants=activity.participants,
                        outcome=activity.outcome,
                        created_at=_at(day, rng),
                    )
                )
            for lead in spec.leads:
                day = self._within(secondment, lead.day)
                leads.append(
                    SourcedLead(
                        secondment=secondment,
                        company_name=lead.company,
                        uscc=_uscc(rng, lead.region),
                        industry=lead.industry,
                        summary=lead.summary,
                        contact_name=_person(rng),
                        contact_phone=_mobile(rng),
                        status=lead.status,
                        decline_reason=lead.reason,
                        created_at=_at(day, rng),
                    )
                )
        LearningNote.objects.bulk_create(notes)
        LiaisonActivity.objects.bulk_create(activities)
        SourcedLead.objects.bulk_create(leads)
        return secondments, leads

    def _within(self, secondment: Secondment, days: int) -> date:
        """`days` into the secondment, and never after its end or today."""
        return min(secondment.starts_on + timedelta(days=days), secondment.ends_on, self.ago(1))

    def _cadre(self, username: str, unit: OrgUnit, like: User) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                password=like.password,
                full_name=_person(self.rng),
                unit=unit,
                phone=_mobile(self.rng),
            )
        RoleGrant.objects.get_or_create(user=user, role=Role.SECONDED_CADRE)
        return user

    def decide_leads(self, leads: list[SourcedLead]) -> None:
        """The zone's promoter decides the leads that are no longer waiting; a taken one becomes an
        investment lead (source 挂职干部) on a new target of the zone's library."""
        rng = self.rng
        for sourced in leads:
            if sourced.status == SourcedLeadStatus.SUBMITTED:
                continue
            zone = sourced.secondment.pairing.zone
            promoter = User.objects.with_role(Role.PROMOTER).filter(unit=zone).order_by("username").first()
            if promoter is None:
                continue
            decided = sourced.created_at + timedelta(days=rng.randint(3, 10))
            if decided >= timezone.now():
                decided = sourced.created_at + timedelta(hours=2)
            lead = None
            if sourced.status == SourcedLeadStatus.TAKEN:
                spec = next(
                    s for spec in SECONDMENTS for s in spec.leads if s.company == sourced.company_name
                )
                lead = self._investment_lead(sourced, spec, promoter, decided)
            SourcedLead.objects.filter(pk=sourced.pk).update(
                lead=lead, decided_by=promoter, decided_at=decided, version=2
            )

    def _investment_lead(
        self, sourced: SourcedLead, spec: LeadSpec, promoter: User, decided: datetime
    ) -> Lead:
        rng, zone = self.rng, sourced.secondment.pairing.zone
        cadre, host = sourced.secondment.cadre, sourced.secondment.host_unit
        node = (
            ChainNode.objects.filter(chain__zone=zone, name=spec.node).order_by("pk").first()
            if spec.node
            else None
        )
        target = Target.objects.filter(zone=zone, name=sourced.company_name).first()
        if target is None:
            target = Target.objects.create(
                zone=zone,
                name=sourced.company_name,
                uscc=sourced.uscc,
                headquarters="江苏省苏州市",
                scale=Scale.MEDIUM,
                notes=f"挂职干部推荐：{sourced.industry}",
                created_by=promoter,
                created_at=decided,
            )
        if node is not None:
            target.nodes.add(node)
        contacted = min(decided + timedelta(days=rng.randint(2, 6)), _at(self.ago(1), rng))
        if contacted <= decided:
            contacted = decided + timedelta(hours=1)
        lead = Lead.objects.create(
            zone=zone,
            target=target,
            node=node,
            source=LeadSource.SECONDED_CADRE,
            source_detail=f"挂职干部{cadre.full_name}在{host}挂职期间推荐",
            owner=promoter,
            status=LeadStatus.CONTACTING,
            summary=sourced.summary,
            created_by=promoter,
            created_at=decided,
            status_changed_at=contacted,
        )
        LeadTransition.objects.create(
            lead=lead, from_status=LeadStatus.NEW, to_status=LeadStatus.CONTACTING, at=contacted, by=promoter
        )
        LeadLog.objects.create(
            lead=lead,
            happened_on=contacted.astimezone(BEIJING).date(),
            mode=LeadLog.Mode.PHONE,
            summary="电话联系对方投资负责人，介绍园区产业基础、标准厂房和配套政策，邀请来园区考察。",
            by=promoter,
            created_at=contacted,
        )
        LeadContact.objects.create(
            lead=lead, name=sourced.contact_name, position="投资总监", phone=sourced.contact_phone
        )
        return lead

    # --- practices and adoptions -------------------------------------------------------------------

    def build_practices(self, secondments: list[Secondment]) -> list[Adoption]:
        rng = self.rng
        by_username = {s.cadre.username: s for s in secondments}
        practices, plans = [], []
        for spec in PRACTICES:
            if spec.zone not in self.zones or self.supervisors.get(spec.zone) is None:
                continue
            secondment = (
                by_username.get(SECONDMENTS[spec.secondment].username)
                if spec.secondment is not None
                else None
            )
            if spec.secondment is not None and secondment is None:
                continue
            learned = self.ago(spec.days_ago)
            practices.append(
                Practice(
                    zone=self.zones[spec.zone],
                    title=spec.title,
                    description=spec.description,
                    seen_at=spec.seen_at,
                    learned_by=secondment.cadre.full_name if secondment else spec.learned_by,
                    secondment=secondment,
                    created_by=secondment.cadre if secondment else self.supervisors[spec.zone],
                    created_at=_at(learned, rng),
                )
            )
            plans.append(spec)
        Practice.objects.bulk_create(practices)
        adoptions = [
            Adoption(
                practice=practice,
                unit=self.unit(spec.zone, adoption.unit),
                stage=adoption.stage,
                referenced_on=self.ago(adoption.referenced_days_ago),
                trial_on=self.ago(adoption.trial_days_ago) if adoption.trial_days_ago is not None else None,
                rollout_on=self.ago(adoption.rollout_days_ago)
                if adoption.rollout_days_ago is not None
                else None,
                kpi=adoption.kpi,
                note=adoption.note,
                created_by=self.supervisors[spec.zone],
                created_at=_at(self.ago(adoption.referenced_days_ago), rng),
                version=1 + (adoption.trial_days_ago is not None) + (adoption.rollout_days_ago is not None),
            )
            for practice, spec in zip(practices, plans, strict=True)
            for adoption in spec.adoptions
        ]
        return Adoption.objects.bulk_create(adoptions)

    # --- the effect adoption's service history -----------------------------------------------------

    def replay_service_history(self, adoption: Adoption) -> int:
        """Appeals of the adopting department in the two quarters before the trial's quarter and the one
        after it: before, slower answers and some dissatisfied first ratings; after, quick and satisfied."""
        department, trial = adoption.unit, adoption.trial_on
        if trial is None or department.kind != OrgUnit.Kind.DEPARTMENT:
            return 0
        zone = department.parent
        dispatcher = (
            User.objects.with_role(Role.DISPATCHER).filter(unit__parent=zone).order_by("username").first()
        )
        handler = User.objects.with_role(Role.HANDLER).filter(unit=department).order_by("username").first()
        category = AppealCategory.objects.filter(code="market").first()
        enterprises = list(
            Enterprise.objects.filter(zone=zone, steward__isnull=False)
            .select_related("steward")
            .order_by("pk")
        )
        if dispatcher is None or handler is None or not enterprises:
            return 0
        middle = _quarter_start(trial)
        count = 0
        for shift, before in ((-2, True), (-1, True), (1, False)):
            start = _shift_quarter(middle, shift)
            # Submitted early enough to be closed inside the quarter, and well before today.
            last = min(_shift_quarter(start, 1) - timedelta(days=35), self.ago(30))
            workdays = [
                day
                for day in (start + timedelta(days=n) for n in range((last - start).days + 1))
                if is_workday(day)
            ]
            if not workdays:
                continue
            # Before the trial a third of the first answers left the enterprise dissatisfied.
            dissatisfied = set(self.rng.sample(range(APPEALS_PER_QUARTER), 2)) if before else set()
            for number, day in enumerate(sorted(self.rng.choices(workdays, k=APPEALS_PER_QUARTER))):
                self._replay(
                    self.rng.choice(enterprises),
                    category,
                    dispatcher,
                    handler,
                    department,
                    day,
                    slow=before,
                    first_dissatisfied=number in dissatisfied,
                )
                count += 1
        return count

    def _replay(
        self,
        enterprise: Enterprise,
        category: AppealCategory | None,
        dispatcher: User,
        handler: User,
        department: OrgUnit,
        day: date,
        *,
        slow: bool,
        first_dissatisfied: bool,
    ) -> None:
        rng = self.rng
        steward = enterprise.steward
        assert steward is not None
        title, body = rng.choice(SERVICE_APPEALS)
        moment = _at(day, rng)
        appeal = lifecycle.submit_appeal(
            enterprise,
            title=title,
            body=body,
            channel=Channel.STEWARD,
            by=steward,
            category=category,
            at=moment,
        )
        moment += timedelta(hours=rng.uniform(1, 5))
        lifecycle.dispatch_appeal(appeal, to=department, by=dispatcher, at=moment)
        # Before the trial the window closed at noon: signing waited for the afternoon or the next day.
        moment += timedelta(hours=rng.uniform(18, 30) if slow else rng.uniform(0.5, 3))
        lifecycle.sign_appeal(appeal, by=handler, at=moment)
        answered_day = add_workdays(
            moment.astimezone(BEIJING).date(), rng.randint(4, 7) if slow else rng.randint(1, 3)
        )
        moment = _at(answered_day, rng)
        lifecycle.answer_appeal(
            appeal, answer=SERVICE_ANSWER.format(title=title), outcome=Outcome.SOLVED, by=handler, at=moment
        )
        moment += timedelta(hours=rng.uniform(20, 40))
        if first_dissatisfied:
            lifecycle.rate_appeal(
                appeal,
                level=RatingLevel.DISSATISFIED,
                solved=False,
                comment="窗口中午不办理，跑了两趟才办成。",
                by=steward,
                on_behalf=True,
                at=moment,
            )
            moment = _at(add_workdays(moment.astimezone(BEIJING).date(), rng.randint(1, 3)), rng)
            lifecycle.answer_appeal(
                appeal,
                answer=SERVICE_REANSWER.format(title=title),
                outcome=Outcome.SOLVED,
                by=handler,
                at=moment,
            )
            moment += timedelta(hours=rng.uniform(20, 40))
        if slow:
            level = rng.choice((RatingLevel.FAIRLY_SATISFIED, RatingLevel.SATISFIED, RatingLevel.SATISFIED))
        else:
            level = rng.choice(
                (RatingLevel.VERY_SATISFIED, RatingLevel.VERY_SATISFIED, RatingLevel.SATISFIED)
            )
        lifecycle.rate_appeal(appeal, level=level, solved=True, by=steward, on_behalf=True, at=moment)
        assert appeal.status == Status.CLOSED, appeal.status


def _city(units: dict[str, OrgUnit]) -> OrgUnit | None:
    return next((unit for unit in units.values() if unit.kind == OrgUnit.Kind.CITY), None)


def add_demo_exchange(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: pairings, secondments, notes and practices, in the demo's transaction."""
    city = _city(units)
    like = User.objects.filter(username=DEMO_CADRE).first()
    if city is None or like is None:
        return
    demo = _ExchangeDemo(_own_stream(rng), beijing_today(), units, city)
    secondments, leads = demo.build_programme(like)
    demo.decide_leads(leads)
    adoptions = demo.build_practices(secondments)
    effect = next(
        (a for a in adoptions if a.practice.title == EFFECT_PRACTICE and a.trial_on is not None), None
    )
    replayed = demo.replay_service_history(effect) if effect is not None else 0
    audit.record(
        None,
        "exchange.demo_load",
        summary=f"装入挂职结对演示数据：{len(secondments)} 名挂职干部、{len(adoptions)} 项经验采纳",
        detail={"secondments": len(secondments), "adoptions": len(adoptions), "appeals": replayed},
    )
