"""What a carbon review team of the demo company would type into its case (R-6.2.3, Annex E.1 and E.3):
each plant's profile and the team. Plain constants, consistent with the data the demo generates
(demo.accounting: sources, monthly output about 48 000 t / 21 000 t and output value; demo.company:
people and plants), so the review text never contradicts the figures of record. A larger company's
further plants (`demo.company.sites`) are described from their kind's text (`site_profile`, `review_team`)."""

from __future__ import annotations

SITE_PROFILES = {
    "HN01": "长沙水泥厂始建于2006年，位于湖南省长沙市望城区，是湖南示范制造有限公司的水泥生产基地，"
            "主要产品为P·O 42.5普通硅酸盐水泥和P·C 42.5复合硅酸盐水泥。主要工艺为石灰石破碎、生料粉磨、"
            "1号熟料回转窑煅烧（窑尾废气经1号余热锅炉回收，天然气补燃）、水泥粉磨和包装储运，熟料部分自产、部分外购；"
            "厂内物料由柴油运输车辆转运，生产用电全部外购。年产水泥约57万吨，工业总产值约1.8亿元，在职员工约320人。",
    "HN02": "株洲冲压厂始建于2012年，位于湖南省株洲市天元区，为整车厂配套生产汽车车身冲压件及焊接总成"
            "（侧围、车门内外板、地板等），以来料加工为主。主要工艺为钢卷开卷落料、多工位压力机冲压、焊接装配和清洗脱脂；"
            "动力车间的燃煤蒸汽锅炉为零件清洗脱脂工序供汽，厂区由110kV变电站（SF6气体绝缘GIS开关柜）受电，"
            "冲压设备用电全部外购。年加工钢材约25万吨，工业总产值（加工费）约7800万元，在职员工约450人。",
}

# (username, role in the review); the carbon management lead leads both plants' reviews
REVIEW_TEAMS = {
    "HN01": [
        ("carbon.lead", "评审组长：组织评审，审定评审报告"),
        ("energy_engineer.hn01", "组员：排放源、排放设施与计量器具识别（GB 17167）"),
        ("carbon_accountant.hn01", "组员：活动数据、排放因子与核算结果核查"),
        ("process_engineer.hn01", "组员：熟料与粉磨工艺、产量数据核对"),
    ],
    "HN02": [
        ("carbon.lead", "评审组长：组织评审，审定评审报告"),
        ("energy_engineer.hn02", "组员：排放源、排放设施与计量器具识别（GB 17167）"),
        ("carbon_accountant.hn02", "组员：活动数据、排放因子与核算结果核查"),
        ("process_engineer.hn02", "组员：冲压工艺、锅炉运行与产量数据核对"),
    ],
}

# a further plant's profile, per kind (like HN01's and HN02's): its name and where it is filled in
PROFILE_BY_KIND = {
    "cement": "{name}位于湖南省{city}市，是湖南示范制造有限公司的水泥生产基地，主要产品为P·O 42.5普通硅酸盐水泥。"
              "主要工艺为石灰石破碎、生料粉磨、1号熟料回转窑煅烧（窑尾废气经1号余热锅炉回收，天然气补燃）、"
              "水泥粉磨和包装储运；厂内物料由柴油运输车辆转运，生产用电全部外购。年产水泥约57万吨。",
    "stamping": "{name}位于湖南省{city}市，为整车厂配套生产汽车车身冲压件及焊接总成，以来料加工为主。"
                "主要工艺为钢卷开卷落料、多工位压力机冲压、焊接装配和清洗脱脂；动力车间的燃煤蒸汽锅炉为清洗脱脂工序供汽，"
                "厂区由110kV变电站（SF6气体绝缘GIS开关柜）受电，冲压设备用电全部外购。年加工钢材约25万吨。",
}
ROLES = [("carbon.lead", "评审组长：组织评审，审定评审报告"),
         ("energy_engineer", "组员：排放源、排放设施与计量器具识别（GB 17167）"),
         ("carbon_accountant", "组员：活动数据、排放因子与核算结果核查"),
         ("process_engineer", "组员：{process}")]
PROCESS_BY_KIND = {"cement": "熟料与粉磨工艺、产量数据核对", "stamping": "冲压工艺、锅炉运行与产量数据核对"}


def site_profile(site: str, name: str) -> str:
    """A plant's profile: the demo company's own, or a further plant's from its kind."""
    from cms_workflows.demo.company import kind

    return SITE_PROFILES.get(site) or PROFILE_BY_KIND[kind(site)].format(name=name, city=name[:-3])


def review_team(site: str) -> list[tuple[str, str]]:
    """A plant's review team (username, role): the demo company's own, or a further plant's holders."""
    from cms_workflows.demo.company import holder, kind

    if site in REVIEW_TEAMS:
        return REVIEW_TEAMS[site]
    return [(user if "." in user else holder(user, site), role.format(process=PROCESS_BY_KIND[kind(site)]))
            for user, role in ROLES]
