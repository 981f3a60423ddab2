"""The approval checklists a signed project gets, per project type (审批代办事项模板).

Statutory days follow the usual provincial limits for each approval; promised days are the zone's
commitment (承诺时限) and can be changed by an administrator afterwards.
"""

from django.db import migrations

TEMPLATES = {
    "industrial": [
        ("企业投资项目备案", 3, 1),
        ("用地预审与选址意见书", 20, 10),
        ("建设用地规划许可证", 20, 5),
        ("环境影响评价审批", 30, 15),
        ("节能审查（能评）", 20, 10),
        ("建设工程规划许可证", 20, 5),
        ("施工图审查", 15, 7),
        ("消防设计审查", 15, 7),
        ("建筑工程施工许可证", 7, 3),
    ],
    "service": [
        ("企业投资项目备案", 3, 1),
        ("建设用地规划许可证", 20, 5),
        ("环境影响评价审批", 30, 15),
        ("建设工程规划许可证", 20, 5),
        ("消防设计审查", 15, 7),
        ("建筑工程施工许可证", 7, 3),
    ],
    "research": [
        ("企业投资项目备案", 3, 1),
        ("环境影响评价审批", 30, 15),
        ("节能审查（能评）", 20, 10),
        ("建设工程规划许可证", 20, 5),
        ("建筑工程施工许可证", 7, 3),
    ],
}


def add_templates(apps, schema_editor):
    item = apps.get_model("investment", "ApprovalTemplateItem")
    for project_type, rows in TEMPLATES.items():
        for position, (name, statutory, promised) in enumerate(rows, start=1):
            item.objects.get_or_create(
                project_type=project_type,
                name=name,
                defaults={"statutory_days": statutory, "promised_days": promised, "position": position},
            )


def remove_templates(apps, schema_editor):
    item = apps.get_model("investment", "ApprovalTemplateItem")
    for project_type, rows in TEMPLATES.items():
        item.objects.filter(project_type=project_type, name__in=[name for name, _s, _p in rows]).delete()


class Migration(migrations.Migration):
    dependencies = [("investment", "0001_initial")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
