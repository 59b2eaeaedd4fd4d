from django.apps import AppConfig


class EsDjangoBooksConfig(AppConfig):
    name = "bench.project.esdjango_books"
    label = "esdjango_books"
