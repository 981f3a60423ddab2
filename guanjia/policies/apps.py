from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "guanjia.policies"
    label = "policies"
    verbose_name = "政策直达"

    def ready(self) -> None:
        from guanjia.appeals import attachments
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built
        from guanjia.policies import home as policies_home
        from guanjia.policies.demo import add_demo_policies
        from guanjia.policies.models import PolicyAttachment

        attachments.register_key_holder(PolicyAttachment)
        home.register(policies_home.sections)
        demo_built.connect(add_demo_policies, dispatch_uid="guanjia-policies-demo")
