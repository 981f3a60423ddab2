from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "guanjia.knowledge"
    label = "knowledge"
    verbose_name = "知识库"

    def ready(self) -> None:
        from guanjia.enterprises.demo import demo_built
        from guanjia.knowledge.demo import add_demo_knowledge

        demo_built.connect(add_demo_knowledge, dispatch_uid="guanjia-knowledge-demo")
