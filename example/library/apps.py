from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Python standard library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from djangoes.sync import sync_related
        from library.models import Module

        # an entry's document shows its module's name and package: re-index the
        # entries of a module when the module is edited
        sync_related(Module, lambda module: module.entries.all())
