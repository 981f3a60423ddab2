"""The default category tree (DESIGN.md time limits); admins edit it afterwards."""

from django.db import migrations

DEFAULT_CATEGORIES = [
    ("land", "用地规划"),
    ("finance", "融资信贷"),
    ("talent", "用工人才"),
    ("approval", "审批许可"),
    ("utilities", "水电气网"),
    ("tax", "税费"),
    ("policy", "政策兑现"),
    ("market", "市场监管"),
    ("ip", "知识产权"),
    ("safety", "安全环保"),
    ("logistics", "物流交通"),
    ("other", "其他"),
]


def add_defaults(apps, schema_editor):
    AppealCategory = apps.get_model("appeals", "AppealCategory")
    for position, (code, name) in enumerate(DEFAULT_CATEGORIES, start=1):
        AppealCategory.objects.get_or_create(code=code, defaults={"name": name, "position": position * 10})


def remove_defaults(apps, schema_editor):
    AppealCategory = apps.get_model("appeals", "AppealCategory")
    AppealCategory.objects.filter(code__in=[code for code, _ in DEFAULT_CATEGORIES], children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_categories_and_routes")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
