from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "guanjia.campaigns"
    label = "campaigns"
    verbose_name = "专项行动"

    def ready(self) -> None:
        from guanjia.campaigns import home as campaigns_home
        from guanjia.campaigns.demo import add_demo_campaign
        from guanjia.campaigns.services import follow_steward_change
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built
        from guanjia.enterprises.signals import steward_changed

        home.register(campaigns_home.sections)
        steward_changed.connect(follow_steward_change, dispatch_uid="guanjia-campaigns-follow-steward")
        # After the visits' demo hook (apps are ready in INSTALLED_APPS order, campaigns after visits).
        demo_built.connect(add_demo_campaign, dispatch_uid="guanjia-campaigns-demo")
