from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "guanjia.knowledge"
    label = "knowledge"
    verbose_name = "知识库"
