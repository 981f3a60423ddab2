"""The keyword rules a zone starts from, by default category code (guanjia.appeals.defaults).

Migration 0002_default_keyword_rules writes the same words (migrations import no app code); a zone's
dispatchers edit them on the routing page (rules.save_rule).
"""

from __future__ import annotations

from guanjia.appeals.defaults import ensure_default_categories
from guanjia.dispatch.models import KeywordRule

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "land": (
        "用地",
        "土地",
        "规划",
        "容积率",
        "不动产",
        "产权证",
        "出让金",
        "厂房",
        "地块",
        "红线",
        "违建",
        "报建",
        "施工许可",
        "竣工验收",
        "工程规划",
    ),
    "finance": (
        "贷款",
        "融资",
        "银行",
        "授信",
        "担保",
        "抵押",
        "利率",
        "贴息",
        "信贷",
        "续贷",
        "征信",
        "转贷",
        "资金周转",
        "上市",
        "基金",
    ),
    "talent": (
        "招工",
        "用工",
        "人才",
        "社保",
        "招聘",
        "培训",
        "员工",
        "工人",
        "劳动",
        "工资",
        "公寓",
        "落户",
        "子女入学",
        "职称",
        "稳岗",
    ),
    "approval": (
        "审批",
        "许可",
        "办证",
        "备案",
        "资质",
        "证照",
        "营业执照",
        "环评批复",
        "立项",
        "核准",
        "窗口",
        "一网通办",
        "材料",
        "变更登记",
    ),
    "utilities": (
        "用电",
        "供电",
        "停电",
        "电费",
        "变压器",
        "扩容",
        "用水",
        "供水",
        "停水",
        "燃气",
        "天然气",
        "宽带",
        "网络",
        "光纤",
        "基站",
    ),
    "tax": (
        "税",
        "退税",
        "留抵",
        "发票",
        "纳税",
        "增值税",
        "所得税",
        "加计扣除",
        "减免",
        "税务",
        "开票",
        "社保费",
        "滞纳金",
    ),
    "policy": (
        "补贴",
        "奖励",
        "兑现",
        "扶持",
        "政策",
        "申报",
        "专项资金",
        "奖补",
        "高新技术企业",
        "认定",
        "拨付",
        "资金",
        "技改",
    ),
    "market": (
        "市场监管",
        "食品",
        "经营许可",
        "质量",
        "计量",
        "检验",
        "抽检",
        "广告",
        "价格",
        "执照",
        "特种设备",
        "处罚",
        "产品",
    ),
    "ip": ("专利", "商标", "知识产权", "侵权", "版权", "著作权", "仿冒", "维权", "假冒"),
    "safety": (
        "环保",
        "环评",
        "排污",
        "废水",
        "废气",
        "危废",
        "噪音",
        "异味",
        "安全生产",
        "消防",
        "隐患",
        "应急",
        "粉尘",
        "排放",
    ),
    "logistics": (
        "物流",
        "交通",
        "道路",
        "公交",
        "货车",
        "限行",
        "停车",
        "运输",
        "通行",
        "路灯",
        "红绿灯",
        "班车",
        "快递",
        "港口",
    ),
    "other": ("其他", "咨询", "建议", "投诉", "环境卫生", "治安", "学校", "食堂", "绿化"),
}


def ensure_default_rules() -> dict[str, KeywordRule]:
    """The default categories' keyword rules by code, created where missing (never overwritten).

    Tests and the demo need this: a TransactionTestCase empties every table when it ends, rows
    written by data migrations included.
    """
    categories = ensure_default_categories()
    return {
        code: KeywordRule.objects.get_or_create(
            category=category, defaults={"words": " ".join(DEFAULT_KEYWORDS.get(code, ()))}
        )[0]
        for code, category in categories.items()
        if code in DEFAULT_KEYWORDS
    }
