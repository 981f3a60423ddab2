from django.apps import AppConfig


class CockpitConfig(AppConfig):
    name = "guanjia.cockpit"
    label = "cockpit"
    verbose_name = "驾驶舱"

    def ready(self) -> None:
        from guanjia.appeals import attachments
        from guanjia.cockpit.models import BriefingFile
        from guanjia.core import backup

        # Briefing files are stored with the appeals' attachments: kept by their orphan sweep, and in backups.
        attachments.register_key_holder(BriefingFile)
        backup.register_file_column(
            BriefingFile,
            "storage_key",
            area="attachments",
            relative_path=lambda key: (
                attachments.stored_path(key).relative_to(attachments.storage_root()).as_posix()
            ),
        )
