from django.urls import path

from library import views

app_name = "library"
urlpatterns = [
    path("", views.search, name="search"),
    path("entry/<int:pk>/", views.entry, name="entry"),
    path("suggest/", views.suggest, name="suggest"),
]
