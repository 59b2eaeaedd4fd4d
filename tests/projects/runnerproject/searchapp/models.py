from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.title

    def to_document(self) -> dict[str, str]:
        return {"title": self.title, "author": self.author}
