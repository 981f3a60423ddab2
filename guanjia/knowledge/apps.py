from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "guanjia.knowledge"
    label = "knowledge"
    verbose_name = "知识库"

    def ready(self) -> None:
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built
        from guanjia.knowledge import home as knowledge_home
        from guanjia.knowledge.demo import add_demo_knowledge

        home.register(knowledge_home.sections)
        demo_built.connect(add_demo_knowledge, dispatch_uid="guanjia-knowledge-demo")
