from django.apps import AppConfig


class DjangoesBooksConfig(AppConfig):
    name = "bench.project.djangoes_books"
    label = "djangoes_books"
