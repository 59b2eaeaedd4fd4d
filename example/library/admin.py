"""The admin: entries are edited here, and each save reaches the index after the commit."""

from django.contrib import admin

from library.models import Entry, Module


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["name", "package"]
    search_fields = ["name"]


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["qualname", "kind", "module"]
    list_filter = ["kind"]
    list_select_related = ["module"]
    search_fields = ["qualname"]
    raw_id_fields = ["module"]  # a select of every module would be long
