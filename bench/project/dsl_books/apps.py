from django.apps import AppConfig


class DslBooksConfig(AppConfig):
    name = "bench.project.dsl_books"
    label = "dsl_books"
