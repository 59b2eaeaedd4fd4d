from django.apps import AppConfig


class OsDslBooksConfig(AppConfig):
    name = "bench.project.osdsl_books"
    label = "osdsl_books"
