from django.apps import AppConfig


class TalentConfig(AppConfig):
    name = "guanjia.talent"
    label = "talent"
    verbose_name = "人才服务"

    def ready(self) -> None:
        from guanjia.appeals import attachments
        from guanjia.core import context_processors
        from guanjia.enterprises.demo import demo_built
        from guanjia.talent.access import sees_worklist
        from guanjia.talent.demo import add_demo_talent
        from guanjia.talent.models import TalentDocument

        # Documents are stored by the appeals' file machinery: keep them from its orphan sweep.
        attachments.register_key_holder(TalentDocument)
        context_processors.register_condition("talent:index", sees_worklist)
        demo_built.connect(add_demo_talent, dispatch_uid="guanjia-talent-demo")
