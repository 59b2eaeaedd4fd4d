from django.apps import AppConfig


class ModelsearchBooksConfig(AppConfig):
    name = "bench.project.modelsearch_books"
    label = "modelsearch_books"
